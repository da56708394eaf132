"""Where the real drawings live (Quick, Draw!, Omniglot): the one resolver, one variable.

`$SKETCHSTUDIO_DATA` names the folder that holds `quickdraw/` (and `omniglot/`); when it is not
set, the `shared/data` folder beside the project (or beside the working directory) is used.
Training, evaluation, benchmarks and tests all ask here. (The user's own models and settings are
elsewhere: `sketchstudio.models.paths.data_dir()`.)
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import UserError

DATA_ENV = "SKETCHSTUDIO_DATA"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def candidates() -> list[Path]:
    """Where the data folder is looked for, in order: only $SKETCHSTUDIO_DATA when it is set (a
    folder named on purpose is never silently replaced by another)."""
    if os.environ.get(DATA_ENV):
        return [Path(os.environ[DATA_ENV]).expanduser()]
    return [PROJECT_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]


def shared_data_dir(required: bool = True) -> Path | None:
    """The data folder (the first candidate that holds quickdraw/); None or one error line."""
    for path in candidates():
        if (path / "quickdraw").is_dir():
            return path
    if required:
        raise UserError(f"the shared drawings are not here: set {DATA_ENV} to the folder that "
                        "holds quickdraw/ (looked in "
                        + ", ".join(str(c) for c in candidates()) + ")")
    return None


def data_root() -> Path:
    """The data folder if found, else where it is expected first (for messages and skips)."""
    found = shared_data_dir(required=False)
    return found if found is not None else candidates()[0]


def quickdraw_dir(kind: str = "simplified") -> Path:
    """quickdraw/<kind> in the data folder ("simplified" or "raw")."""
    root = shared_data_dir()
    assert root is not None   # required=True raises instead
    return root / "quickdraw" / kind
