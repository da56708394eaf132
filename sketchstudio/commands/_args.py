"""Arguments every sketch-in command spells the same way: the file, which drawing, which model."""
from __future__ import annotations


def add_sketch_arguments(p, default_model: str, what: str = "a sketch file",
                         model_help: str = "model store id or path to a model card") -> None:
    p.add_argument("file", help=f"{what} (.ndjson, .npz, .svg, .json)")
    p.add_argument("--index", type=int, default=0, help="drawing index in the file (default 0)")
    p.add_argument("--model", default=default_model, help=f"{model_help} (default {default_model})")


def add_sketch_command(subparsers, name: str, default_model: str, run, *, help: str,
                       description: str, **sketch_arguments: str):
    """A sub-command that runs a model on one drawing: its parser, with the arguments above, set
    to call `run(args)`. The caller adds the command's own arguments to the parser returned."""
    p = subparsers.add_parser(name, help=help, description=description)
    add_sketch_arguments(p, default_model, **sketch_arguments)
    p.set_defaults(run=run)
    return p


def add_method_arguments(p, for_what: str = "") -> None:
    """--method (any registered attribution method) and --steps."""
    from ..explain.registry import all_methods, method_names

    p.add_argument("--method", default="sla", choices=method_names(),
                   help=f"attribution method{for_what} (default: sla)")
    p.add_argument("--steps", type=int, help="integration steps for the methods that integrate "
                   f"({', '.join(m.name for m in all_methods() if m.uses_steps)})")
