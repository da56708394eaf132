"""The small public Python API: load a sketch, load a model, explain, render."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .explain import Attribution
from .explain.entry import explain_sketch as explain
from .render import RenderSpec, render
from .sketch import Sketch


def load_sketch(path: str | Path, index: int = 0) -> Sketch:
    """One drawing from any supported file (.ndjson, .npz, .svg, native .json)."""
    from .sketch.io import load_sketch as _load

    return _load(path, index=index)


def load_model(name_or_path: str | Path = "default", device: Any = None):
    """A store id ("default") or a path to a model card -> a loaded model (`.card`, `.spec`)."""
    from .models import load_model as _load

    return _load(name_or_path, device=device)


__all__ = ["Attribution", "RenderSpec", "Sketch", "explain", "load_model", "load_sketch", "render"]
