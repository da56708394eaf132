"""Stroke-level (SLA) and partial-stroke (P-SLA) attribution, reference methods, faithfulness.

Calling this package is calling `explain_sketch`, the README's `sketchstudio.explain(...)`: Python
binds a loaded sub-package to its parent's attribute of the same name, so once anything has
imported `sketchstudio.explain`, `from sketchstudio import explain` returns this module, and it
must do what the documented function does.

Importing the package does not import torch (the studio reads `Attribution` and the method
registry while its window opens): the names in the `lazy_package` table are imported on first use.
"""
import sys
import types
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_package
from . import methods as _methods  # noqa: F401  (registers the built-in methods; torch-free)
from .registry import AttributionMethod, get_method, method_label, method_names, register_method
from .result import Attribution

if TYPE_CHECKING:
    from .api import explain
    from .entry import explain_sketch
    from .objectives import ClassLogit, ClassProbability, resolve_target
    from .problem import DEFAULT_STEPS, Problem

    METHODS: tuple[str, ...]   # read from the registry when asked for (`__getattr__`)

__all__ = ["Attribution", "AttributionMethod", "ClassLogit", "ClassProbability", "DEFAULT_STEPS",
           "METHODS", "Problem", "explain", "explain_sketch", "get_method", "method_label",
           "method_names",
           "register_method", "resolve_target"]

_LAZY, _lazy_getattr, _lazy_dir = lazy_package(globals(), {
    ".api": ("explain",),
    ".entry": ("explain_sketch",),
    ".problem": ("DEFAULT_STEPS", "Problem"),
    ".objectives": ("ClassLogit", "ClassProbability", "resolve_target"),
})


def __getattr__(name: str) -> object:
    # The registry's names at the time of asking (a method registered later is in it).
    if name == "METHODS":
        return method_names()
    return _lazy_getattr(name)


def __dir__() -> list[str]:
    return sorted({*_lazy_dir(), "METHODS"})


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Attribution:
        from .entry import explain_sketch

        return explain_sketch(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
