"""Arguments every sketch-in command spells the same way: the file, which drawing, which model."""
from __future__ import annotations


def add_sketch_arguments(p, default_model: str, what: str = "a sketch file",
                         model_help: str = "model store id or path to a model card") -> None:
    p.add_argument("file", help=f"{what} (.ndjson, .npz, .svg, .json)")
    p.add_argument("--index", type=int, default=0, help="drawing index in the file (default 0)")
    p.add_argument("--model", default=default_model, help=f"{model_help} (default {default_model})")
