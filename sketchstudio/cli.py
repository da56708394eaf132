"""`sketchstudio`: the studio by default, sub-commands for headless work.

Each sub-command lives in `sketchstudio/commands/<name>.py` with `add_parser(subparsers)` and
`run(args) -> int`; they are imported lazily so `sketchstudio info` never pays for torch or Qt.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from .errors import UserError
from .stdout_guard import model_output_to_stderr
from .stoppable import TimeLimitExceeded, run_stoppable, time_limit_type
from .textsafe import printable

# sub-command name -> module under sketchstudio.commands
COMMANDS = {
    "info": "info",
    "convert": "convert",
    "models": "models",
    "explain": "explain",
    "eval": "evaluate",
    "bench": "bench",
    "train": "train",
    "assist": "assist",
    "attack": "attack",
    "retrieve": "retrieve",
    "generate": "generate",
    "audit": "audit",
}


def _available_commands() -> dict[str, ModuleType]:
    # Every command ships with the package: a missing one is a packaging error, and says so.
    return {name: importlib.import_module(f"sketchstudio.commands.{module}")
            for name, module in COMMANDS.items()}


def build_parser(modules: dict[str, ModuleType]) -> argparse.ArgumentParser:
    from .explain.registry import method_names

    parser = argparse.ArgumentParser(
        prog="sketchstudio",
        description="See, stroke by stroke, why a sketch model decides what it decides.",
        epilog="With no command, the studio opens: sketchstudio [--open FILE] [--index N] "
               f"[--model ID|CARD] [--method {'|'.join(method_names())}] "
               "[--screenshot OUT.png] [--restore | --no-restore] [--self-test]")
    parser.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: the best available)")
    parser.add_argument("-V", "--version", action="store_true",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in modules.values():
        module.add_parser(sub)
    _add_time_limit(sub)
    return parser


# Commands that run models (untrusted code, as far as time goes): they run on a worker thread so
# that Ctrl+C and --time-limit stop them even inside a model's endless loop (see stoppable.py).
_STOPPABLE = ("models", "explain", "eval", "assist", "attack", "retrieve", "generate",
              "audit")


def _run_command(args: argparse.Namespace) -> int:
    if args.command not in _STOPPABLE:
        return args.run(args)
    limit = getattr(args, "time_limit", None)
    return run_stoppable(lambda: args.run(args), time_limit=limit,
                         name=f"sketchstudio {args.command}")


def _add_time_limit(sub) -> None:
    """--time-limit for the commands that run models but do not define one themselves."""
    for name in _STOPPABLE:
        command = sub.choices.get(name)
        if command is None or name == "models":   # models check/add define their own default
            continue
        try:
            command.add_argument("--time-limit", type=time_limit_type, default=None,
                                 metavar="SECONDS",
                                 help="stop with one error line after this many seconds "
                                      "(default: no limit; Ctrl+C always stops)")
        except argparse.ArgumentError:
            pass   # the command has its own


def _run_studio(argv: list[str]) -> int:
    from .studio.app import main as studio_main

    return studio_main(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (["--version"], ["-V"]):
        from ._version import __version__

        print(f"sketchstudio {__version__}")
        return 0
    # No sub-command (or only studio options like --open): launch the studio, before any command
    # module is imported (several import torch; the studio's window comes before torch).
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")
                    and not (argv[0] == "--device" and len(argv) > 2 and argv[2] in COMMANDS)):
        return _run_studio(argv)
    modules = _available_commands()
    parser = build_parser(modules)
    args = parser.parse_args(argv)
    if args.command is None:
        return _run_studio(argv)
    try:
        # A model's own printing (TorchScript print goes to descriptor 1) must not corrupt output.
        with model_output_to_stderr():
            return int(_run_command(args) or 0)
    except TimeLimitExceeded as exc:
        print(f"sketchstudio {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except UserError as exc:
        # Messages quote files and models: escape control characters before the terminal sees them.
        print(f"sketchstudio {args.command}: error: {printable(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sketchstudio {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
