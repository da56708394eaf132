"""Imports only point downwards: Qt only in studio/, and sketch/ stays numpy-only (no torch)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sketchstudio"
QT = {"PySide6", "pyqtgraph", "shiboken6"}
TORCH = {"torch", "torchvision"}
# What sketch/ may import from its own project: itself and the plain-Python error and progress
# (cancellation) types.
SKETCH_MAY_USE = {"sketchstudio.sketch", "sketchstudio.errors", "sketchstudio.progress",
                  "sketchstudio.fsutil"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Absolute names of every module `source` imports, including importlib/__import__ calls."""
    package = module if is_package else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            names.add(prefix)
            names.update(f"{prefix}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module",
                                                                                   "__import__")):
            names.add(node.args[0].value)
    return names


def _top(name: str) -> str:
    return name.split(".")[0]


def _violations(path: Path) -> list[str]:
    module = _module_name(path)
    imports = imported_modules(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
    found = []
    if not module.startswith("sketchstudio.studio"):
        found += [f"{module} imports {n} (Qt belongs in sketchstudio/studio/)"
                  for n in imports if _top(n) in QT]
    if module.startswith("sketchstudio.sketch"):
        found += [f"{module} imports {n} (sketch/ is numpy-only)"
                  for n in imports if _top(n) in TORCH]
        found += [f"{module} imports {n} (sketch/ may not depend on upper layers)" for n in imports
                  if _top(n) == "sketchstudio"
                  and not any(n == ok or n.startswith(ok + ".") for ok in SKETCH_MAY_USE)]
    return found


def test_detector_sees_every_import_form():
    source = ("import PySide6.QtCore\nfrom pyqtgraph import PlotWidget\nfrom ..render import x\n"
              "import importlib\nimportlib.import_module('torch')\n")
    names = imported_modules(source, "sketchstudio.sketch.io")
    assert {"PySide6.QtCore", "pyqtgraph", "sketchstudio.render", "sketchstudio.render.x",
            "torch"} <= names


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layers(path):
    assert not _violations(path)


def test_sketch_layer_loads_without_torch_or_qt():
    # The static walk misses what third-party packages pull in; the interpreter does not.
    code = ("import sys, sketchstudio.sketch, sketchstudio.sketch.io, sketchstudio.commands.info, "
            "sketchstudio.commands.convert\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{sorted(QT | TORCH)!r})\nprint(','.join(bad))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
