"""Stroke-level (SLA) and partial-stroke (P-SLA) attribution, reference methods, faithfulness."""
from .._callable import make_callable
from .api import explain
from .methods import DEFAULT_STEPS, METHODS, Problem
from .objectives import ClassLogit, ClassProbability, resolve_target
from .result import Attribution

__all__ = ["Attribution", "ClassLogit", "ClassProbability", "DEFAULT_STEPS", "METHODS", "Problem",
           "explain", "resolve_target"]


def _public_explain():
    from ..api import explain as public

    return public


make_callable(__name__, _public_explain)
