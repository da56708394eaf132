"""Lazy package attributes (PEP 562), so that importing a package does not import torch.

The studio imports `Attribution`, `RenderSpec`, `ModelTask`, ... while its window opens; the
packages that define them also offer torch functions (`explain`, `render`, `load_model`). A package
`__init__` names those in one table (`lazy_package`), and the first use of one imports the module
that defines it: `from sketchstudio.explain import explain` works exactly as before, only later.
Type checkers see the same names through `if TYPE_CHECKING:` imports in each `__init__`.
"""
from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterable, Mapping


def lazy_getattr(package: str, table: Mapping[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` for `package`: `table` maps a name to the submodule that defines it
    (relative, ".api"). The value is kept in the package afterwards, so each name is looked up
    once."""

    def __getattr__(name: str) -> object:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            value = getattr(importlib.import_module(module, package), name)
        except AttributeError as exc:
            # Raised while importing the module, not "no such name": `from package import name`
            # would turn it into a bare "cannot import name" and hide what went wrong.
            raise ImportError(f"cannot import {name!r} from {package}{module}: {exc}") from exc
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__


def lazy_dir(namespace: Mapping[str, object], lazy: Iterable[str]) -> Callable[[], list[str]]:
    """A module `__dir__` (pass the package's `globals()`): the `lazy` names with the loaded ones,
    for completion and `help`."""
    names = frozenset(lazy)
    return lambda: sorted(names.union(namespace))


def lazy_package(namespace: Mapping[str, object], modules: Mapping[str, Iterable[str]]
                 ) -> tuple[dict[str, str], Callable[[str], object], Callable[[], list[str]]]:
    """The lazy names of the package whose `globals()` is `namespace`, in one table: `modules`
    maps each submodule (relative, ".loader") to the names it defines, so a module is written
    once, as in the package's `if TYPE_CHECKING:` imports. Returns (name -> submodule, the
    package's `__getattr__`, its `__dir__`)."""
    table = {name: module for module, names in modules.items() for name in names}
    package = str(namespace["__name__"])
    return table, lazy_getattr(package, table), lazy_dir(namespace, table)


class _NamesOverSubmodules(types.ModuleType):
    """A package where a name is both a submodule and that submodule's function (`refine.refine`):
    the import system binds a submodule to its package when it loads, which would replace the
    function; the package keeps the function, as an eager `from .refine import refine` did."""

    _shadowing: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: object) -> None:
        if (name in self._shadowing and isinstance(value, types.ModuleType)
                and value.__name__ == f"{self.__name__}.{name}"):
            value = getattr(value, name)
        super().__setattr__(name, value)


def names_over_submodules(package: str, names: Iterable[str]) -> None:
    """In `package`, each of `names` stays the function of the submodule of the same name."""
    module = sys.modules[package]
    module.__class__ = _NamesOverSubmodules
    module._shadowing = frozenset(names)   # type: ignore[attr-defined]
