"""`sketchstudio train classifier|embed|fill|completion`: train the default models on real Quick,
Draw! drawings."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

DATA_HELP = ("folder of Quick, Draw! simplified .ndjson files "
             "(default: $SKETCHSTUDIO_DATA or ../shared/data)")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("train", help="train the project's models on real drawings")
    sub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    c = sub.add_parser(
        "classifier", help="train a small CNN classifier and write its card.toml + model.pt",
        description="Pretrain on every Quick, Draw! category, fine-tune on the chosen ones, "
                    "then measure top-1/top-3 on the held-out drawings (5 per category).")
    _add_training_arguments(c, "resources/models/default",
                            epochs_help="fine-tuning epochs on the chosen categories",
                            categories_help="categories to classify (default: the built-in "
                                            "list of 40)")
    c.add_argument("--pretrain-epochs", type=int,
                   help="epochs of the all-category pretraining (0: none)")
    c.add_argument("--validation", type=int, default=0, metavar="N",
                   help="per category, keep N more training drawings apart and report accuracy "
                        "on them (for tuning; the held-out drawings stay untouched)")
    c.add_argument("--workers", type=int,
                   help="render worker processes (default 1; 0: render inline)")
    c.set_defaults(run=run)
    e = sub.add_parser(
        "embed", help="derive an embedding model (task embed) from a classifier's features",
        description="The classifier's pooled penultimate features, centred on the mean of its "
                    "training drawings and L2-normalised, written as a TorchScript embed model.")
    e.add_argument("--from", dest="source", default="resources/models/default",
                   help="classifier card or folder (default: resources/models/default)")
    e.add_argument("--out", default="resources/models/default-embed", help="model folder to write")
    e.add_argument("--data", help="for the centre: " + DATA_HELP)
    e.add_argument("--no-center", dest="center", action="store_false",
                   help="keep the raw features (no data needed)")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(run=run_embed)
    f = sub.add_parser(
        "fill", help="train the default generator (sketch to filled figure, U-Net)",
        description="Learn the filled figure of real drawings (the ink plus every region it "
                    "encloses, by flood fill from the border), then measure its IoU on the "
                    "held-out drawings against the trivial baselines.")
    _add_generator_arguments(f, "resources/models/default-generate", run_fill)
    g = sub.add_parser(
        "completion", help="train a sketch-completion U-Net (the former default generator)",
        description="Remove strokes from real drawings, learn to draw the full drawing back, then "
                    "measure pixel IoU on the held-out drawings against output = input.")
    # No default: the shipped default-generate is the fill model, which this must not overwrite.
    _add_generator_arguments(g, None, run_completion)


def _add_training_arguments(p: argparse.ArgumentParser, out: str | None, epochs_help: str | None,
                            categories_help: str) -> None:
    """The arguments every trainer takes (`out` None: --out is required)."""
    p.add_argument("--data", help=DATA_HELP)
    if out is None:
        p.add_argument("--out", required=True, help="model folder to write")
    else:
        p.add_argument("--out", default=out, help="model folder to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, help=epochs_help)
    p.add_argument("--categories", nargs="+", metavar="NAME", help=categories_help)
    p.add_argument("--threads", type=int, help="torch threads for training (default 1)")
    p.add_argument("--quiet", action="store_true")


def _add_generator_arguments(p: argparse.ArgumentParser, out: str | None, run: Any) -> None:
    _add_training_arguments(p, out, epochs_help=None, categories_help="default: every category")
    p.add_argument("--limit", type=int, help="training drawings per category (smoke runs)")
    p.set_defaults(run=run)


def _config(config_type: Any, args: argparse.Namespace, **more: Any) -> Any:
    """`config_type` with the given arguments (those left out keep the config's defaults)."""
    given = {"data": args.data, "out": args.out, "seed": args.seed, "epochs": args.epochs,
             "threads": args.threads,
             "categories": tuple(args.categories) if args.categories else None, **more}
    return config_type(**{k: v for k, v in given.items() if v is not None})


def _log(args: argparse.Namespace) -> Any:
    """The progress log on stderr (None with --quiet)."""
    if args.quiet:
        return None
    return lambda line: print(line, file=sys.stderr, flush=True)


def _train(args: argparse.Namespace, train: Any, config: Any,
           summary: Callable[[dict[str, Any]], str]) -> int:
    """Run `train(config)` with the command's log; print the summary of its held-out measure and
    the card written."""
    from ..progress import TaskState

    result = train(config, log=_log(args), state=TaskState())
    print(f"{summary(result.heldout)}  -> {result.card_path}")
    return 0


def run(args: argparse.Namespace) -> int:
    from ..training import TrainConfig, train_classifier

    config = _config(TrainConfig, args, pretrain_epochs=args.pretrain_epochs,
                     validation=args.validation, workers=args.workers)
    return _train(args, train_classifier, config, lambda h: (
        f"held-out top-1 {h['top1']:.3f}  top-3 {h['top3']:.3f}  ({h['heldout']} drawings, "
        f"{len(h['per_category'])} categories)"))


def run_completion(args: argparse.Namespace) -> int:
    from ..training.completion import CompletionConfig, train_completion

    config = _config(CompletionConfig, args, limit_per_category=args.limit)
    return _train(args, train_completion, config, lambda h: (
        f"held-out pixel IoU {h['iou_model']:.3f} vs output=input {h['iou_baseline']:.3f} "
        f"({h['drawings']} drawings, {100 * h['fraction_strokes_removed']:.0f}% of strokes "
        "removed)"))


def run_fill(args: argparse.Namespace) -> int:
    from ..training.fill import FillConfig, train_fill

    # FillConfig checks --epochs (at least 1) before it reads any data.
    config = _config(FillConfig, args, limit_per_category=args.limit)
    return _train(args, train_fill, config, lambda h: (
        f"held-out {h['metric']} {h['model']:.3f} (best baseline {h['best_baseline']} "
        f"{h['baselines'][h['best_baseline']]:.3f}; {h['drawings']} drawings)"))


def run_embed(args: argparse.Namespace) -> int:
    from ..progress import TaskState
    from ..training.embed import derive_embedding

    result = derive_embedding(args.source, args.out, data=args.data, center=args.center,
                              log=_log(args), state=TaskState())
    print(f"{result.dim}-d embedding model -> {result.card_path}")
    return 0
