"""The frozen app's entry point: `SketchStudio` is `sketchstudio` (the studio, or a sub-command)."""
from __future__ import annotations

import multiprocessing
import sys


def main() -> int:
    # Worker processes of a frozen app start this executable again; let them run their task.
    multiprocessing.freeze_support()
    try:
        from sketchstudio.cli import main as cli_main

        return int(cli_main() or 0)
    except Exception as exc:
        # A self-test (an installer, CI) gets one line, not a traceback from inside the bundle.
        if "--self-test" not in sys.argv[1:]:
            raise
        text = " ".join(f"{type(exc).__name__}: {exc}".split())
        print(f"sketchstudio: self-test failed: {text[:400]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
