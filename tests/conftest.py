"""Shared test helpers: where the shared data folder lives (never copied into the project)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _data_root() -> Path:
    env = os.environ.get("SKETCHSTUDIO_DATA")
    return Path(env) if env else PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """`shared_data("quickdraw", "raw")` -> that path in the data folder, or skip when it is absent.

    The folder is ../shared/data beside the project, or $SKETCHSTUDIO_DATA.
    """
    def find(*parts: str) -> Path:
        path = _data_root().joinpath(*parts)
        if not path.exists():
            pytest.skip(f"shared data not found: {path} (set SKETCHSTUDIO_DATA to the data folder)")
        return path
    return find


@pytest.fixture(scope="session")
def default_model():
    """The built-in default classifier on the CPU; skips where it is not installed."""
    from sketchstudio.models import builtin_models_dir, load_model

    if not (builtin_models_dir() / "default" / "card.toml").is_file():
        pytest.skip("the built-in default model is not in resources/models/default")
    return load_model("default", device="cpu")
