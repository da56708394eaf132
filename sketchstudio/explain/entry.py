"""The documented entry point, `sketchstudio.explain(sketch, model, method=..., target=...)`: the
engine's `explain`, where `model` may also be a store id or a card path (loaded here)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..models import LoadedModel, load_model
from ..sketch import Sketch
from .api import explain
from .result import Attribution


def explain_sketch(sketch: Sketch, model: LoadedModel | str | Path = "default",
                   method: str = "sla", target: str | int | None = None,
                   **options: Any) -> Attribution:
    """Attribute `model`'s decision on `sketch` to its strokes. `model`: a loaded model, a store id
    ("default") or a card path. The options are `sketchstudio.explain.api.explain`'s."""
    if isinstance(model, (str, Path)):
        model = load_model(model)
    return explain(sketch, model, method=method, target=target, **options)
