"""Where the real drawings live: $SKETCHSTUDIO_DATA, or ../shared/data beside the project."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir(required: bool = True) -> Path | None:
    candidates = []
    if os.environ.get("SKETCHSTUDIO_DATA"):
        candidates.append(Path(os.environ["SKETCHSTUDIO_DATA"]))
    candidates += [PROJECT_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for path in candidates:
        if (path / "quickdraw").is_dir():
            return path
    if required:
        raise UserError("the shared drawings are not here: set SKETCHSTUDIO_DATA to the folder that "
                        "holds quickdraw/ (looked in " + ", ".join(str(c) for c in candidates) + ")")
    return None
