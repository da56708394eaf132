"""The built-in attribution methods, in the order the studio offers them.

Each is one object of `explain/registry.py`; this list is the only place that names them, and
every other list (the studio's combo and help, the CLI's `--method` choices, `bench`,
`eval faithfulness`) is read from the registry. A new method is one module with an
`AttributionMethod` subclass plus one line here (docs/extending.md).

This module does not import torch: each built-in is a `DeferredMethod` (its description here, its
code imported when it first runs), so the studio lists the methods while its window opens.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..progress import CancelledFn, ProgressFn, TaskState
from .quadrature import DEFAULT_QUADRATURE
from .registry import DeferredMethod, get_method, method_label, method_names, register_method

if TYPE_CHECKING:
    from .problem import DEFAULT_STEPS, MAX_BATCH_VALUES, Problem, RawAttribution  # noqa: F401

__all__ = ["BUILTIN_METHODS", "DEFAULT_QUADRATURE", "DEFAULT_STEPS", "Problem", "RawAttribution",
           "check_method", "method_label", "run_method"]

BUILTIN_METHODS = (
    DeferredMethod(
        "live", "Live (auto)",
        "Exact occlusion when the model is small enough to run it after every stroke, else "
        "few-step SLA: as faithful as occlusion at the lowest cost. The result names the method "
        "that ran.", uses_steps=True, implementation="live:LiveMethod"),
    DeferredMethod(
        "sla", "SLA",
        "Integrated gradients over stroke presence: the values add up to the score change from "
        "a blank canvas.", complete=True, uses_steps=True, implementation="gradients:Sla"),
    DeferredMethod(
        "psla", "P-SLA",
        "One value per segment: the colour varies along each stroke (integrated gradients per "
        "segment, plus the gradient at every point).", live_capable=False, complete=True,
        uses_steps=True, implementation="gradients:Psla"),
    DeferredMethod(
        "occlusion", "Occlusion",
        "Leave one stroke out at a time (N+1 passes): the exact, model-agnostic reference.",
        implementation="occlusion:Occlusion"),
    DeferredMethod(
        "sla-grad", "SLA-grad",
        "One gradient pass: the first-order effect of removing each stroke. The cheapest, "
        "but on ReLU networks it can give a decisive stroke the wrong sign.",
        implementation="gradients:SlaGrad"),
)

# Names of `problem` (torch) offered here as before, imported when first asked for.
_FROM_PROBLEM = ("DEFAULT_STEPS", "MAX_BATCH_VALUES", "Problem", "RawAttribution")

for _method in BUILTIN_METHODS:
    register_method(_method, replace=True)


def __getattr__(name: str) -> Any:
    # METHODS is read from the registry when asked for, so a method registered later is in it.
    if name == "METHODS":
        return method_names()
    if name in _FROM_PROBLEM:
        from . import problem

        return getattr(problem, name)
    raise AttributeError(name)


def check_method(method: str, steps: int | None) -> None:
    from .problem import check_steps

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
