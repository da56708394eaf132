"""`sketchstudio train classifier`: train the default classifier on real Quick, Draw! drawings."""
from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train the project's models on real drawings")
    sub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    c = sub.add_parser(
        "classifier", help="train a small CNN classifier and write its card.toml + model.pt",
        description="Pretrain on every Quick, Draw! category, fine-tune on the chosen ones, "
                    "then measure top-1/top-3 on the held-out drawings (5 per category).")
    c.add_argument("--data", help="folder of Quick, Draw! simplified .ndjson files "
                                  "(default: $SKETCHSTUDIO_DATA or ../shared/data)")
    c.add_argument("--out", default="resources/models/default", help="model folder to write")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--epochs", type=int, help="fine-tuning epochs on the chosen categories")
    c.add_argument("--pretrain-epochs", type=int,
                   help="epochs of the all-category pretraining (0: none)")
    c.add_argument("--categories", nargs="+", metavar="NAME",
                   help="categories to classify (default: the built-in list of 40)")
    c.add_argument("--validation", type=int, default=0, metavar="N",
                   help="per category, keep N more training drawings apart and report accuracy "
                        "on them (for tuning; the held-out drawings stay untouched)")
    c.add_argument("--threads", type=int, help="torch threads for training (default 1)")
    c.add_argument("--workers", type=int,
                   help="render worker processes (default 1; 0: render inline)")
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..training import TrainConfig, train_classifier

    changes = {k: v for k, v in {
        "data": args.data, "out": args.out, "seed": args.seed, "epochs": args.epochs,
        "pretrain_epochs": args.pretrain_epochs, "validation": args.validation,
        "threads": args.threads, "workers": args.workers,
        "categories": tuple(args.categories) if args.categories else None}.items() if v is not None}
    config = TrainConfig(**changes)

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    result = train_classifier(config, log=log)
    h = result.heldout
    print(f"held-out top-1 {h['top1']:.3f}  top-3 {h['top3']:.3f}  ({h['heldout']} drawings, "
          f"{len(h['per_category'])} categories)  -> {result.card_path}")
    return 0
