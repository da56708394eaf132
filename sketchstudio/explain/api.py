"""`explain(sketch, model, method=..., target=...)`: one entry point for every method and task."""
from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..errors import UserError
from ..models.tasks import ModelTask
from ..progress import CancelledFn, ProgressFn, TaskState
from ..render import render_ink, to_model_input
from ..sketch import Sketch
from .objectives import CLASSIFY_OBJECTIVES, check_logits, resolve_target
from .problem import Problem, check_steps
from .quadrature import DEFAULT_QUADRATURE
from .registry import get_method
from .result import Attribution

TOP_K = 5

# The blank canvas renders to the same input for every sketch: its output is computed once per
# model.
_blank_outputs: weakref.WeakKeyDictionary[Any, torch.Tensor] = weakref.WeakKeyDictionary()


def _blank_output(model: Any) -> torch.Tensor:
    try:
        cached = _blank_outputs.get(model)
    except TypeError:
        cached = None
    if cached is None:
        with torch.no_grad():
            ink = render_ink(Sketch(), model.spec, model.device).unsqueeze(0)
            cached = model(to_model_input(ink, model.spec)).detach()
        try:
            _blank_outputs[model] = cached
        except TypeError:
            pass
    return cached


class _PredictedLogit:
    """Logit of each row's own top class: equals the predicted-class objective at full presence."""

    name = "logit"

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        return output.gather(1, output.detach().argmax(1, keepdim=True))[:, 0]


def _top_k(output: torch.Tensor, labels: tuple[str, ...]) -> list[tuple[str, float]]:
    probs = torch.softmax(output.detach().float(), dim=1)[0]
    k = min(TOP_K, probs.numel())
    values, indices = probs.topk(k)
    return [(labels[i] if i < len(labels) else str(i), float(v))
            for v, i in zip(values, indices.tolist(), strict=True)]


def explain(sketch: Sketch, model: Any, method: str = "sla", target: str | int | None = None,
            steps: int | None = None,
            objective: str | Callable[[torch.Tensor], torch.Tensor] | None = None,
            quadrature: str = DEFAULT_QUADRATURE, progress: ProgressFn = None,
            cancelled: CancelledFn = None, batch_size: int = 0,
            state: TaskState | None = None) -> Attribution:
    """Attribute the model's score to every stroke (and, for psla, every segment and point).

    `model` is a loaded model (see `sketchstudio.load_model`). For a classifier the score is the
    target class's logit (default) or probability; the default target is the predicted class. Other
    tasks pass an objective object (`sketchstudio.tasks`), which maps the model output to (B,)
    scores.
    `method` is any name of the method registry (`sketchstudio.explain.registry.method_names()`).

    Long work takes `state` (`sketchstudio.progress.TaskState`): progress, and `Cancelled` once
    `state.cancel()` was called. `progress`/`cancelled` are the older two-callable form of the same.
    """
    attribution_method = get_method(method)   # before any model work
    check_steps(steps)
    _check_size(sketch)
    if state is None:
        state = TaskState.from_callables(progress, cancelled)
    elif progress is not None or cancelled is not None:
        raise TypeError("pass either state or progress/cancelled, not both")
    started = time.perf_counter()
    device = getattr(model, "device", torch.device("cpu"))
    task = getattr(model, "task", ModelTask.CLASSIFY)
    labels = tuple(getattr(model, "labels", ()))
    problem = Problem(sketch, model.spec, model, objective=None, device=device,
                      batch_size=batch_size, blank_output=_blank_output(model), steps=steps,
                      quadrature=quadrature)
    target_index = None
    prediction: list[tuple[str, float]] = []
    objective_name: str
    if objective is not None and not isinstance(objective, str):
        problem.objective = objective
        objective_name = getattr(objective, "name", type(objective).__name__)
    elif task == ModelTask.CLASSIFY:
        objective_name = objective or "logit"
        if objective_name not in CLASSIFY_OBJECTIVES:
            raise UserError(f"unknown objective {objective_name!r}; choose one of "
                            f"{', '.join(CLASSIFY_OBJECTIVES)}")
        if method == "sla-grad" and target is None and objective_name == "logit":
            # Live colouring: the gradient pass itself tells the prediction; no extra forward.
            problem.objective = _PredictedLogit()
        else:
            with torch.no_grad():
                full = model(to_model_input(problem.geometry().composite(), model.spec))
            check_logits(full, labels)
            problem.full_output = full
            target_index = resolve_target(target, labels, int(full[0].argmax()))
            problem.objective = CLASSIFY_OBJECTIVES[objective_name](target_index)
            prediction = _top_k(full, labels)
    else:
        raise UserError(f"a {task!r} model needs an objective (see sketchstudio.tasks)")

    try:
        raw = attribution_method.attribute(problem, state)
    except RuntimeError as exc:
        if "does not require grad" not in str(exc):
            raise
        # autograd's own words mean nothing to the person who brought the model
        raise UserError("the model's output does not depend differentiably on its input (argmax, "
                        "rounding, detach or no_grad inside the model?), so it cannot be "
                        "attributed to strokes") from None

    if task == ModelTask.CLASSIFY and target_index is None and problem.full_output is not None:
        check_logits(problem.full_output, labels)
        target_index = int(problem.full_output[0].argmax())
        prediction = _top_k(problem.full_output, labels)
        # The blank canvas is scored for the sketch's class, not for the blank's own top class.
        if problem.blank_output is not None:
            raw.score_blank = float(problem.blank_output[0, target_index])
    notes = _sanity_notes(raw.strokes, raw.score_full, raw.score_blank, sketch)
    return Attribution(
        method=raw.ran or method, strokes=raw.strokes,
        score_full=raw.score_full, score_blank=raw.score_blank,
        target=None if target_index is None else labels[target_index], target_index=target_index,
        objective=objective_name, prediction=prediction, segments=raw.segments,
        point_grads=raw.point_grads, params=dict(raw.params),
        elapsed_ms=(time.perf_counter() - started) * 1000.0, notes=notes,
        model=getattr(model, "id", None), task=task)


def _check_size(sketch: Sketch) -> None:
    """Refuse drawings past the documented limits before any work (a drawing built in code is
    not bounded by the file readers): memory is bounded per batch, but time grows with size."""
    from ..sketch.limits import TooLarge, check_drawing_size

    try:
        check_drawing_size(len(sketch), sketch.num_points)
    except TooLarge as exc:
        raise UserError(f"cannot explain it: {exc} (docs/reliability.md)") from None


def _sanity_notes(strokes: np.ndarray, full: float, blank: float, sketch: Sketch) -> list[str]:
    if not (np.isfinite(strokes).all() and math.isfinite(full) and math.isfinite(blank)):
        raise UserError("the model produced NaN or infinite values while explaining; "
                        "its attributions would be meaningless")
    notes = []
    if len(sketch) == 0:
        notes.append("the sketch is empty: nothing to attribute")
    elif not strokes.any() and full == blank:
        notes.append("the model's output does not depend on the strokes: all attributions are zero")
    return notes
