"""Quick, Draw! training data: the categories, the fixed held-out split, and where the data lives.

The held-out split depends on nothing but the drawings themselves (sha256 of each drawing's
key_id), so `train` and `eval classifier` agree on it without sharing any state, whatever the seed
or the order of the file.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..render.spec import RenderSpec
from ..shared_data import DATA_ENV, data_root
from ..sketch import Sketch

CREDIT = "Quick, Draw! dataset by Google, CC BY 4.0"

# The default model's input, fixed: the studio explains it on exactly these pixels.
# Pure Gaussian profile (width 0) said explicitly, so a changed RenderSpec default cannot move it.
RENDER_SPEC = RenderSpec(size=64, channels=1, ink="light-on-dark", sigma=1.0, width=0.0,
                         fit="center", margin=0.08, mean=(0.0,), std=(1.0,))

# Chosen a priori (before any training or evaluation) for shapes a person can tell apart at a
# glance, and never re-chosen by held-out accuracy: everyday objects with one iconic outline,
# avoiding near-duplicates in the 344 (cup/mug/coffee cup, clock/alarm clock, cat/dog/...).
DEFAULT_CATEGORIES = (
    "airplane", "alarm clock", "apple", "banana", "bicycle", "butterfly", "cactus", "camera",
    "car", "cloud", "crown", "donut", "envelope", "eyeglasses", "fish", "flower", "guitar",
    "hammer", "headphones", "hourglass", "house", "key", "ladder", "light bulb", "lightning",
    "moon", "mushroom", "pants", "rainbow", "scissors", "smiley face", "snowman", "spider",
    "star", "sun", "sword", "t-shirt", "tree", "umbrella", "wine glass",
)

HELDOUT_PER_CATEGORY = 5


def default_data_dir() -> Path:
    """quickdraw/simplified in the shared data folder (sketchstudio/shared_data.py)."""
    return data_root() / "quickdraw" / "simplified"


def resolve_data_dir(path: str | Path | None) -> Path:
    """A folder of <category>.ndjson files; the data root (holding quickdraw/simplified) works
    too."""
    folder = Path(path).expanduser() if path else default_data_dir()
    if (folder / "quickdraw" / "simplified").is_dir():
        folder = folder / "quickdraw" / "simplified"
    if not folder.is_dir():
        raise UserError(f"{folder}: no such data folder (expected Quick, Draw! simplified "
                        f".ndjson files; set --data or ${DATA_ENV})")
    if not any(folder.glob("*.ndjson")):
        raise UserError(f"{folder}: no .ndjson files")
    return folder


def available_categories(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.ndjson"))


def load_category(folder: Path, category: str) -> list[Sketch]:
    from ..sketch.io import SketchFileError, iter_sketches

    path = folder / f"{category}.ndjson"
    if not path.is_file():
        raise UserError(f"{path}: category {category!r} not found in the data folder")
    try:
        return [s for s in iter_sketches(path) if len(s)]
    except SketchFileError as exc:
        raise UserError(str(exc)) from None


def split_key(sketch: Sketch) -> str:
    """Stable, order-free sort key of a drawing: sha256 of its key_id (of its points without
    one)."""
    key = sketch.metadata.get("key_id")
    if key is None:
        key = json.dumps([s.points.tolist() for s in sketch.strokes])
    return hashlib.sha256(str(key).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Split:
    train: tuple[Sketch, ...]
    validation: tuple[Sketch, ...]   # carved from the training share, for tuning; usually empty
    heldout: tuple[Sketch, ...]


def split(sketches: list[Sketch], heldout: int = HELDOUT_PER_CATEGORY,
          validation: int = 0) -> Split:
    """Held-out: the `heldout` drawings with the smallest split_key; validation: the next ones."""
    ordered = sorted(sketches, key=split_key)
    if len(ordered) < heldout + validation + 1:
        raise UserError(f"a category needs more than {heldout + validation} drawings, "
                        f"got {len(ordered)}")
    return Split(train=tuple(ordered[heldout + validation:]),
                 validation=tuple(ordered[heldout:heldout + validation]),
                 heldout=tuple(ordered[:heldout]))


def heldout_sketches(folder: Path, categories: Sequence[str]) -> dict[str, tuple[Sketch, ...]]:
    return {c: split(load_category(folder, c)).heldout for c in categories}
