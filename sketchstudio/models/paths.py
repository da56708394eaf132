"""Where SketchStudio keeps things: the user's data directory and the shipped resources."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "SketchStudio"
# Tests and portable installs point the whole store elsewhere without touching the real one.
DATA_DIR_ENV = "SKETCHSTUDIO_DATA_DIR"
CACHE_ENV = "SKETCHSTUDIO_CACHE_DIR"   # tests and portable installs point the cache elsewhere


def cache_root() -> Path:
    """Caches (gallery embeddings, model costs): $SKETCHSTUDIO_CACHE_DIR, else <data dir
    override>/cache when $SKETCHSTUDIO_DATA_DIR is set, else the user cache dir."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser() / "cache"
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """The per-user data directory (XDG_DATA_HOME on Linux, via platformdirs), or the override."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    # appauthor=False: otherwise Windows nests "SketchStudio\SketchStudio".
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resources_dir() -> Path:
    """The `resources/` folder: beside the package in a source tree, in sys._MEIPASS when frozen."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def builtin_models_dir() -> Path:
    """resources/models, or $SKETCHSTUDIO_BUILTIN_MODELS (tests and packagers point it
    elsewhere)."""
    override = os.environ.get("SKETCHSTUDIO_BUILTIN_MODELS")
    return Path(override) if override else resources_dir() / "models"
