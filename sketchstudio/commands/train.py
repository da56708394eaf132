"""`sketchstudio train classifier|embed|fill|completion`: train the default models on real Quick,
Draw! drawings."""
from __future__ import annotations

import argparse
import sys

from ..errors import UserError


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
    e = sub.add_parser(
        "embed", help="derive an embedding model (task embed) from a classifier's features",
        description="The classifier's pooled penultimate features, centred on the mean of its "
                    "training drawings and L2-normalised, written as a TorchScript embed model.")
    e.add_argument("--from", dest="source", default="resources/models/default",
                   help="classifier card or folder (default: resources/models/default)")
    e.add_argument("--out", default="resources/models/default-embed", help="model folder to write")
    e.add_argument("--data", help="folder of Quick, Draw! simplified .ndjson files for the centre "
                                  "(default: $SKETCHSTUDIO_DATA or ../shared/data)")
    e.add_argument("--no-center", dest="center", action="store_false",
                   help="keep the raw features (no data needed)")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(run=run_embed)
    _add_fill(sub)
    _add_completion(sub)


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


def _add_completion(sub) -> None:
    g = sub.add_parser(
        "completion", help="train a sketch-completion U-Net (the former default generator)",
        description="Remove strokes from real drawings, learn to draw the full drawing back, then "
                    "measure pixel IoU on the held-out drawings against output = input.")
    g.add_argument("--data", help="folder of Quick, Draw! simplified .ndjson files "
                                  "(default: $SKETCHSTUDIO_DATA or ../shared/data)")
    # No default: the shipped default-generate is the fill model, which this must not overwrite.
    g.add_argument("--out", required=True, help="model folder to write")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--epochs", type=int)
    g.add_argument("--limit", type=int, help="training drawings per category (smoke runs)")
    g.add_argument("--categories", nargs="+", metavar="NAME", help="default: every category")
    g.add_argument("--threads", type=int, help="torch threads for training (default 1)")
    g.add_argument("--quiet", action="store_true")
    g.set_defaults(run=run_completion)


def run_completion(args: argparse.Namespace) -> int:
    from ..training.completion import CompletionConfig, train_completion

    changes = {k: v for k, v in {
        "data": args.data, "out": args.out, "seed": args.seed, "epochs": args.epochs,
        "limit_per_category": args.limit, "threads": args.threads,
        "categories": tuple(args.categories) if args.categories else None}.items() if v is not None}
    result = train_completion(CompletionConfig(**changes), log=(
        None if args.quiet else lambda line: print(line, file=sys.stderr, flush=True)))
    h = result.heldout
    print(f"held-out pixel IoU {h['iou_model']:.3f} vs output=input {h['iou_baseline']:.3f} "
          f"({h['drawings']} drawings, {100 * h['fraction_strokes_removed']:.0f}% of strokes "
          f"removed)  -> {result.card_path}")
    return 0


def _add_fill(sub) -> None:
    f = sub.add_parser(
        "fill", help="train the default generator (sketch to filled figure, U-Net)",
        description="Learn the filled figure of real drawings (the ink plus every region it "
                    "encloses, by flood fill from the border), then measure its IoU on the "
                    "held-out drawings against the trivial baselines.")
    f.add_argument("--data", help="folder of Quick, Draw! simplified .ndjson files "
                                  "(default: $SKETCHSTUDIO_DATA or ../shared/data)")
    f.add_argument("--out", default="resources/models/default-generate",
                   help="model folder to write")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--epochs", type=int)
    f.add_argument("--limit", type=int, help="training drawings per category (smoke runs)")
    f.add_argument("--categories", nargs="+", metavar="NAME", help="default: every category")
    f.add_argument("--threads", type=int, help="torch threads for training (default 1)")
    f.add_argument("--quiet", action="store_true")
    f.set_defaults(run=run_fill)


def run_fill(args: argparse.Namespace) -> int:
    from ..progress import TaskState
    from ..training.fill import FillConfig, train_fill

    if args.epochs is not None and args.epochs < 1:
        raise UserError(f"--epochs must be at least 1, got {args.epochs}")
    changes = {k: v for k, v in {
        "data": args.data, "out": args.out, "seed": args.seed, "epochs": args.epochs,
        "limit_per_category": args.limit, "threads": args.threads,
        "categories": tuple(args.categories) if args.categories else None}.items() if v is not None}
    result = train_fill(FillConfig(**changes), log=(
        None if args.quiet else lambda line: print(line, file=sys.stderr, flush=True)),
        state=TaskState())
    h = result.heldout
    print(f"held-out {h['metric']} {h['model']:.3f} (best baseline {h['best_baseline']} "
          f"{h['baselines'][h['best_baseline']]:.3f}; {h['drawings']} drawings)  -> "
          f"{result.card_path}")
    return 0


def run_embed(args: argparse.Namespace) -> int:
    from ..training.embed import derive_embedding

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    result = derive_embedding(args.source, args.out, data=args.data, center=args.center, log=log)
    print(f"{result.dim}-d embedding model -> {result.card_path}")
    return 0
