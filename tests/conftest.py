"""Fixtures for the whole suite, by area. Test modules never import fixtures by name.

- data: `shared_data` (the real drawings, never copied into the project), `default_model`.
- studio: `isolated_studio` runs around every test that touches the studio (its module uses Qt or
  `sketchstudio.studio`, or the test asks for `qtbot`), so isolation cannot be forgotten: the model
  store, QSettings and caches live in the test's tmp_path, and no test reads or changes the user's
  models or choices. `make_window`, `tiny_card`, `wide_card` build on it.
- speed: `slow` marks what `make test-fast` leaves out: every test that opens a window with a
  model (by rule, below), and modules slow for other reasons (`pytestmark = pytest.mark.slow`:
  subprocesses, training, fuzzing, real models).
"""
from __future__ import annotations

import os
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# A test module that imported anything from these is a studio test module.
STUDIO_MODULES = ("PySide6", "pyqtgraph", "shiboken6", "sketchstudio.studio", "qt_helpers")
MODEL_WAIT_MS = 20000


# --- speed ---
# A window with a model and its worker thread costs seconds per test: every test that asks for
# one is slow by rule, so a new window test never slows `make test-fast` down by accident.
SLOW_FIXTURES = frozenset({"make_window"})


@pytest.hookimpl(tryfirst=True)   # before `-m "not slow"` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# --- data ---
@pytest.fixture(scope="session")
def shared_data() -> Callable[..., Path]:
    """`shared_data("quickdraw", "raw")` -> that path in the data folder, or skip when it is absent.

    The folder is $SKETCHSTUDIO_DATA, else ../shared/data beside the project (shared_data.py).
    """
    from sketchstudio.shared_data import DATA_ENV, data_root

    def find(*parts: str) -> Path:
        path = data_root().joinpath(*parts)
        if not path.exists():
            pytest.skip(f"shared data not found: {path} (set {DATA_ENV} to the data folder)")
        return path
    return find


@pytest.fixture(scope="session")
def default_model() -> Any:
    """The built-in default classifier on the CPU; skips where it is not installed."""
    from sketchstudio.models import builtin_models_dir, load_model

    if not (builtin_models_dir() / "default" / "card.toml").is_file():
        pytest.skip("the built-in default model is not in resources/models/default")
    return load_model("default", device="cpu")


# --- studio ---
_studio_modules: dict[str, bool] = {}


def _origin(value: object) -> str:
    if isinstance(value, types.ModuleType):
        return value.__name__
    return str(getattr(value, "__module__", "") or "")


def is_studio_test(request: pytest.FixtureRequest) -> bool:
    """The test's module uses Qt or the studio (by what it imported), or the test uses qtbot."""
    if {"qtbot", "make_window", "isolated_studio"} & set(request.fixturenames):
        return True
    module = request.module
    name = module.__name__
    if name not in _studio_modules:
        _studio_modules[name] = any(_origin(v).startswith(STUDIO_MODULES)
                                    for v in vars(module).values())
    return _studio_modules[name]


@pytest.fixture(autouse=True)
def _studio_isolation(request: pytest.FixtureRequest) -> None:
    """Every studio test is isolated, whether or not it asks for `isolated_studio`."""
    if is_studio_test(request):
        request.getfixturevalue("isolated_studio")


@pytest.fixture
def isolated_studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Store, settings and caches in tmp_path; the unsaved-changes prompt answers 'discard'."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setenv("SKETCHSTUDIO_DATA_DIR", str(tmp_path / "data"))
    # Only the models a test adds: the shipped ones would change what the store lists.
    monkeypatch.setenv("SKETCHSTUDIO_BUILTIN_MODELS", str(tmp_path / "no-builtins"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("SKETCHSTUDIO_DEVICE", raising=False)
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "config"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "config"))
    from sketchstudio.studio.file_controller import FileController

    monkeypatch.setattr(FileController, "ask_unsaved", lambda self: "discard")
    yield tmp_path


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Gradient loops of tiny steps run fastest on one thread (and do not fight other work)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good TorchScript classifier (2 classes, 28x28) from tests/model_zoo.py."""
    import model_zoo

    return model_zoo.make_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def wide_card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 5-class variant, so that the target combo has something to choose."""
    import model_zoo

    return model_zoo.make_model(tmp_path_factory.mktemp("wide-model"), name="Five classes",
                                labels=("apple", "book", "cat", "dog", "eye"))


@pytest.fixture
def make_window(qtbot: Any, isolated_studio: Path) -> Iterator[Callable[..., Any]]:
    """make_window(model=card, persist=False) -> a shown MainWindow with its model loaded."""
    from sketchstudio.studio.main_window import MainWindow

    windows = []

    def make(model: Path | str | None = None, persist: bool = False, wait: bool = True,
             open_path: Any = None, index: int | None = None) -> MainWindow:
        window = MainWindow(device="cpu", persist=persist)
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        if model is not None:
            if wait:
                with qtbot.waitSignal(window.explanationShown, timeout=MODEL_WAIT_MS):
                    window.start(model=str(model), open_path=open_path, index=index)
            else:
                window.start(model=str(model), open_path=open_path, index=index)
        return window

    yield make
    for window in windows:
        window.shutdown()
        assert not window.worker.isRunning()


# --- registries ---
@pytest.fixture
def restore_registries() -> Iterator[None]:
    """Whatever a test registers (methods, formats) is gone after it."""
    from sketchstudio.explain import registry as methods
    from sketchstudio.sketch.formats import registry as formats

    methods.all_methods()   # the built-ins, registered before the snapshot
    saved_methods = dict(methods._METHODS)
    saved_formats = dict(formats._FORMATS)
    yield
    methods._METHODS.clear()
    methods._METHODS.update(saved_methods)
    formats._FORMATS.clear()
    formats._FORMATS.update(saved_formats)


# --- command line ---
@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's model store in tmp_path/data and its built-in models in tmp_path/builtin (none
    unless the test puts some there): no test reads or changes the user's models."""
    from sketchstudio.models import paths

    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.setattr(paths, "builtin_models_dir", lambda: tmp_path / "builtin")
    return tmp_path


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """`run_cli("models", "list")` -> (exit status, stdout, stderr) of the CLI, in this process."""
    from sketchstudio import cli

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err
    return run
