"""Studio isolation cannot be forgotten: a test module that uses the studio is isolated by
tests/conftest.py without asking for any fixture."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

from sketchstudio.models import paths


def test_a_studio_test_module_is_isolated_without_asking(tmp_path: Path) -> None:
    assert paths.data_dir() == tmp_path / "data"
    assert os.environ["SKETCHSTUDIO_BUILTIN_MODELS"] == str(tmp_path / "no-builtins")
    settings = QSettings("SketchStudio", "SketchStudio")
    assert Path(settings.fileName()).is_relative_to(tmp_path / "config"), settings.fileName()
