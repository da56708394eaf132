"""Stroke-level (SLA) and partial-stroke (P-SLA) attribution, reference methods, faithfulness.

Calling this package is calling `explain_sketch`, the README's `sketchstudio.explain(...)`: Python
binds a loaded sub-package to its parent's attribute of the same name, so once anything has
imported `sketchstudio.explain`, `from sketchstudio import explain` returns this module, and it
must do what the documented function does.
"""
import sys
import types
from typing import Any

from .api import explain
from .entry import explain_sketch
from .methods import DEFAULT_STEPS, Problem
from .objectives import ClassLogit, ClassProbability, resolve_target
from .registry import AttributionMethod, get_method, method_label, method_names, register_method
from .result import Attribution

__all__ = ["Attribution", "AttributionMethod", "ClassLogit", "ClassProbability", "DEFAULT_STEPS",
           "METHODS", "Problem", "explain", "explain_sketch", "get_method", "method_label",
           "method_names",
           "register_method", "resolve_target"]


def __getattr__(name: str) -> tuple[str, ...]:
    # The registry's names at the time of asking (a method registered later is in it).
    if name == "METHODS":
        return method_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Attribution:
        return explain_sketch(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
