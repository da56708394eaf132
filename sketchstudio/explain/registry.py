"""The attribution-method registry: every list of methods (the studio's combo and help, the CLI's
choices, `bench`, `eval faithfulness`) is read from here.

A method is a small object: a name (what `explain(..., method=name)` and `--method` take), a label
and a help text (what the studio shows), whether it is cheap enough to rerun after every stroke,
and one `attribute(problem, state)` that returns a `RawAttribution`. The built-in methods are
listed, in the order the studio offers them, in `explain/methods.py`; anyone else registers one
with `register_method` (docs/extending.md).
"""
from __future__ import annotations

import functools
import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from ..errors import UserError

if TYPE_CHECKING:   # the registry itself stays cheap to import; methods bring torch
    from ..progress import TaskState
    from .problem import Problem, RawAttribution


@dataclass(frozen=True)
class AttributionMethod(ABC):
    """One way of attributing a score to strokes, interchangeable with the others by name."""

    name: str
    label: str
    help: str
    live_capable: bool = True   # cheap enough to rerun after every stroke on small models
    complete: bool = False      # the values add up to score(full) - score(blank)
    uses_steps: bool = False    # `--steps` / `Problem.steps` mean something to it

    @abstractmethod
    def attribute(self, problem: Problem, state: TaskState) -> RawAttribution:
        """Per-stroke values for `problem`; check `state` between batches, report progress."""


@dataclass(frozen=True)
class DeferredMethod(AttributionMethod):
    """A method described here, whose code is imported when it first runs: `implementation` is
    "module:Class", a module of this package. Listing the methods (the studio's combo while its
    window opens, `--method` choices) then does not import torch."""

    implementation: str = ""

    def attribute(self, problem: Problem, state: TaskState) -> RawAttribution:
        return _resolve(self).attribute(problem, state)


@functools.cache
def _resolve(deferred: DeferredMethod) -> AttributionMethod:
    module, _, name = deferred.implementation.partition(":")
    kind = getattr(importlib.import_module(f".{module}", __package__), name)
    # The same description, now with the code: every field an AttributionMethod declares.
    method = kind(**{field.name: getattr(deferred, field.name)
                     for field in fields(AttributionMethod)})
    if not isinstance(method, AttributionMethod):
        raise TypeError(f"{deferred.implementation} is not an AttributionMethod")
    return method


_METHODS: dict[str, AttributionMethod] = {}


def register_method(method: AttributionMethod, *, replace: bool = False) -> AttributionMethod:
    """Add `method` after the others (a name can be registered once unless `replace`)."""
    if not method.name or method.name.startswith("live:") or ":" in method.name:
        raise ValueError(f"invalid method name {method.name!r}")
    if method.name in _METHODS and not replace:
        raise ValueError(f"an attribution method named {method.name!r} is already registered")
    _METHODS[method.name] = method
    return method


def unregister_method(name: str) -> None:
    _METHODS.pop(name, None)


def all_methods() -> tuple[AttributionMethod, ...]:
    # The built-ins are registered by `explain/methods.py` (torch-free: `DeferredMethod`s), which
    # the package's __init__ imports before anything can reach this module.
    return tuple(_METHODS.values())


def method_names() -> tuple[str, ...]:
    """Every registered name, in the order the studio offers them."""
    return tuple(method.name for method in all_methods())


def get_method(name: str) -> AttributionMethod:
    method = _METHODS.get(name)
    if method is None:
        raise UserError(f"unknown method {name!r}; choose one of {', '.join(method_names())}")
    return method


def method_label(name: str) -> str:
    """The name shown for what produced the values: "live:occlusion" -> "Live: Occlusion"."""
    if name.startswith("live:"):
        inner = name.removeprefix("live:")
        return f"Live: {_short_label(inner)}"
    return _short_label(name)


def _short_label(name: str) -> str:
    method = _METHODS.get(name)
    return method.label if method is not None else name


def is_complete(name: str) -> bool:
    """Whether `name`'s values (or the method a "live:" name ran) add up to the score change."""
    method = _METHODS.get(name.removeprefix("live:"))
    return method is not None and method.complete
