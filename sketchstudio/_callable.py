"""Let a sub-package be called like the function it is named after.

`from sketchstudio import explain` must give something you can call (the documented API), yet
`sketchstudio.explain` is also a sub-package, and Python binds the sub-package to that name as soon
as it is imported. Giving the package module a __call__ makes both spellings work.
"""
from __future__ import annotations

import sys
import types
from typing import Callable


def make_callable(module_name: str, target: Callable[[], Callable]) -> None:
    """`target()` returns the function to call (resolved lazily, at call time)."""

    class CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return target()(*args, **kwargs)

    sys.modules[module_name].__class__ = CallableModule
