"""The built-in attribution methods, in the order the studio offers them.

Each is one object of `explain/registry.py`; this list is the only place that names them, and
every other list (the studio's combo and help, the CLI's `--method` choices, `bench`,
`eval faithfulness`) is read from the registry. A new method is one module with an
`AttributionMethod` subclass plus one line here (docs/extending.md).
"""
from __future__ import annotations

from typing import Any

from ..progress import CancelledFn, ProgressFn, TaskState
from .gradients import Psla, Sla, SlaGrad
from .live import LiveMethod
from .occlusion import Occlusion
from .problem import DEFAULT_STEPS, MAX_BATCH_VALUES, Problem, RawAttribution, check_steps  # noqa: F401
from .quadrature import DEFAULT_QUADRATURE
from .registry import get_method, method_label, method_names, register_method

__all__ = ["BUILTIN_METHODS", "DEFAULT_QUADRATURE", "DEFAULT_STEPS", "Problem", "RawAttribution",
           "check_method", "method_label", "run_method"]

BUILTIN_METHODS = (
    LiveMethod(
        "live", "Live (auto)",
        "Exact occlusion when the model is small enough to run it after every stroke, else "
        "few-step SLA: as faithful as occlusion at the lowest cost. The result names the method "
        "that ran.", uses_steps=True),
    Sla("sla", "SLA",
        "Integrated gradients over stroke presence: the values add up to the score change from "
        "a blank canvas.", complete=True, uses_steps=True),
    Psla("psla", "P-SLA",
         "One value per segment: the colour varies along each stroke (integrated gradients per "
         "segment, plus the gradient at every point).", live_capable=False, complete=True,
         uses_steps=True),
    Occlusion("occlusion", "Occlusion",
              "Leave one stroke out at a time (N+1 passes): the exact, model-agnostic reference."),
    SlaGrad("sla-grad", "SLA-grad",
            "One gradient pass: the first-order effect of removing each stroke. The cheapest, "
            "but on ReLU networks it can give a decisive stroke the wrong sign."),
)

for _method in BUILTIN_METHODS:
    register_method(_method, replace=True)


def __getattr__(name: str) -> Any:
    # METHODS is read from the registry when asked for, so a method registered later is in it.
    if name == "METHODS":
        return method_names()
    raise AttributeError(name)


def check_method(method: str, steps: int | None) -> None:
    get_method(method)
    check_steps(steps)


def run_method(problem: Problem, method: str, steps: int | None = None,
               rule: str = DEFAULT_QUADRATURE, progress: ProgressFn = None,
               cancelled: CancelledFn = None, state: TaskState | None = None) -> RawAttribution:
    """`get_method(method).attribute(problem, state)`, with the options set on the problem."""
    check_method(method, steps)
    problem.steps, problem.quadrature = steps, rule
    if state is None:
        state = TaskState.from_callables(progress, cancelled)
    return get_method(method).attribute(problem, state)
