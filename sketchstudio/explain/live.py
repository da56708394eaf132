"""`live`: the method that colours strokes while the user draws, chosen per model and drawing.

Live colours must be as faithful as exact occlusion, because an artist reads them as the truth
("this stroke made the model see a house"). Measured on 200 held-out drawings each (README,
"Faithfulness"): the one-pass gradient (`sla-grad`) gave strong strokes the sign of exact
leave-one-out only 67% (default classifier) and 27% (handtex) of the time; integrated gradients
(`sla`) 96% and 94%, and exact Shapley values no better (a stroke that hurts alone but helps in
context is split between the two). Only leave-one-out itself answers "what does this stroke do in
this drawing". Occlusion costs N + 1 forward passes, batched, no backward: on small models that is
cheaper than a handful of integration steps for every drawing a person makes.

So `live` runs occlusion whenever its predicted cost fits the live budget, and otherwise few-step
integrated gradients sized to the same budget (large models, huge drawings). The prediction is the
model's forward cost in floating-point operations, counted once per model file (not timed) and
cached, so the same model and drawing always give the same choice: in the studio, the CLI and the
API alike.
"""
from __future__ import annotations

import json
import logging
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..progress import TaskState
from .problem import Problem, RawAttribution
from .registry import AttributionMethod, get_method

log = logging.getLogger(__name__)

# 0.15-0.4 s of batched forward passes on two CPU cores (measured: 301 forwards of the 62 MFLOP
# default classifier in 0.13 s on one day's machine, 0.36 s on another's); far less on a GPU.
LIVE_BUDGET_FLOPS = 2.0e10
# Integrated gradients when occlusion is over budget: a backward pass costs about two forwards.
BACKWARD_FACTOR = 3.0
MIN_STEPS, MAX_STEPS = 2, 8
# When a model's operations cannot be counted: assume a ResNet-like cost per input value.
FALLBACK_FLOPS_PER_VALUE = 25_000.0

COST_CACHE = "model-flops.json"
MAX_CACHE_ENTRIES = 200
MAX_CACHE_BYTES = 1 << 20

_flops: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class LiveChoice:
    method: str            # "occlusion" or "sla"
    steps: int | None      # integration steps for "sla"
    forward_flops: float   # the model's forward cost per input, as counted
    reason: str

    @property
    def label(self) -> str:
        """What ran, as reported everywhere (JSON `method`, status bar, legend)."""
        return f"live:{self.method}"


def forward_flops(model: Any) -> float:
    """Floating-point operations of one forward pass at batch 1: counted once per model file.

    Counting runs the model under a dispatch mode, whose first use in a process imports
    torch._dynamo (about 3 s), so a model loaded from a file keeps its count in the cache folder,
    keyed by the file's path, size and modification time and the input size."""
    try:
        cached = _flops.get(model)
    except TypeError:
        cached = None
    if cached is not None:
        return cached
    key = _file_key(model)
    entries = _read_cache() if key else {}
    flops = entries.get(key) if key else None
    if not isinstance(flops, (int, float)) or flops <= 0:
        flops = _count_flops(model)
        if key:
            _write_cache(entries, key, flops)
    try:
        _flops[model] = float(flops)
    except TypeError:
        pass
    return float(flops)


def _count_flops(model: Any) -> float:
    spec = model.spec
    x = torch.zeros(1, spec.channels, spec.size, spec.size, device=getattr(model, "device", None))
    try:
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(x)
        flops = float(counter.get_total_flops())
    except Exception as exc:  # noqa: BLE001 - any failure only means "estimate instead"
        log.info("could not count the model's operations (%s); estimating from its input size", exc)
        flops = 0.0
    if flops <= 0.0:
        flops = FALLBACK_FLOPS_PER_VALUE * spec.channels * spec.size * spec.size
    return flops


def _file_key(model: Any) -> str | None:
    path = getattr(getattr(model, "card", None), "file", None)
    if path is None:
        return None
    try:
        path = Path(path).resolve()
        stat = path.stat()
    except OSError:
        return None
    spec = model.spec
    return f"{path}|{stat.st_size}|{stat.st_mtime_ns}|{spec.channels}x{spec.size}"


def _cache_file() -> Path:
    from ..models.paths import cache_root

    return cache_root() / COST_CACHE


def _read_cache() -> dict[str, Any]:
    try:
        path = _cache_file()
        if path.is_file() and path.stat().st_size <= MAX_CACHE_BYTES:
            data = json.loads(path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
    except (OSError, ValueError, RecursionError) as exc:
        log.info("model cost cache unreadable (%s); counting again", exc)
    return {}


def _write_cache(entries: dict[str, Any], key: str, flops: float) -> None:
    """Best effort: a cache that cannot be written only costs the count again next time."""
    from ..fsutil import write_atomically

    entries = dict(entries)
    entries.pop(key, None)
    entries[key] = flops
    entries = dict(list(entries.items())[-MAX_CACHE_ENTRIES:])   # the most recent models
    try:
        path = _cache_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(entries, allow_nan=False).encode("utf-8")
        write_atomically(path, lambda f: f.write(text))
    except (OSError, ValueError) as exc:
        log.info("could not cache the model's cost (%s)", exc)


def choose(num_strokes: int, flops: float, budget: float | None = None) -> LiveChoice:
    """Occlusion when N + 1 forward passes fit the budget, else integrated gradients that do."""
    budget = LIVE_BUDGET_FLOPS if budget is None else budget
    occlusion_cost = (num_strokes + 1) * flops
    if occlusion_cost <= budget:
        return LiveChoice("occlusion", None, flops,
                          f"exact occlusion: {num_strokes + 1} forward passes fit the live budget")
    steps = int(max(MIN_STEPS, min(MAX_STEPS, budget // (BACKWARD_FACTOR * flops))))
    return LiveChoice("sla", steps, flops,
                      f"{num_strokes + 1} forward passes are over the live budget: "
                      f"integrated gradients, {steps} steps")


def choose_for(model: Any, num_strokes: int) -> LiveChoice:
    return choose(num_strokes, forward_flops(model))


@dataclass(frozen=True)
class LiveMethod(AttributionMethod):
    """Resolves to occlusion or few-step `sla` for this model and drawing, then runs it.

    Resolved once, inside the method, so the studio, the CLI and the API run the same method for
    the same model and drawing; the result names what ran ("live:occlusion")."""

    def attribute(self, problem: Problem, state: TaskState) -> RawAttribution:
        model = problem.forward if hasattr(problem.forward, "spec") else _Model(problem)
        choice = choose_for(model, len(problem.sketch))
        requested_steps = problem.steps
        if problem.steps is None:
            problem.steps = choice.steps
        try:
            raw = get_method(choice.method).attribute(problem, state)
        finally:
            problem.steps = requested_steps
        raw.ran = choice.label
        raw.params["live"] = {"method": choice.method, "reason": choice.reason,
                              "forward_flops": choice.forward_flops}
        return raw


class _Model:
    """A plain forward function seen as a model (spec, device), so its cost can be counted."""

    def __init__(self, problem: Problem) -> None:
        self.spec = problem.spec
        self.device = problem.device
        self._forward = problem.forward

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(x)
