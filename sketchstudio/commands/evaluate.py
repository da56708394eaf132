"""`sketchstudio eval WHAT ...`: evaluation commands, one module each
(sketchstudio/commands/eval_<what>.py)."""
from __future__ import annotations

import importlib

EVALUATIONS = ("faithfulness", "classifier", "tools", "retrieval", "generation")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("eval",
                                   help="measure models, explanations and tools on real drawings")
    sub = parser.add_subparsers(dest="evaluation", metavar="WHAT", required=True)
    for name in EVALUATIONS:
        # Every evaluation ships with the package: a missing one is a packaging error.
        importlib.import_module(f"sketchstudio.commands.eval_{name}").add_parser(sub)
