"""A window in a second: the studio's window is shown before torch is imported (issue #16).

The engine packages import torch lazily (PEP 562 attributes in their `__init__`s, methods described
without their code), so the studio can name `Attribution`, `RenderSpec`, `ModelTask`, the method
list and the model store while its window opens; the model loads in the worker afterwards. Each
check runs in a fresh interpreter: in this one, other tests have imported torch long ago.
"""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "torchvision")


def _loaded_after(code: str) -> list[str]:
    """Which of HEAVY are in sys.modules after `code` runs in a fresh, offscreen interpreter."""
    probe = (f"{code}\nimport sys\n"
             f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return [name for name in result.stdout.strip().split(",") if name]


def test_the_probe_sees_torch():
    # The probe itself can fail: a module that does import torch is reported.
    assert _loaded_after("import sketchstudio.render.pipeline") == ["torch"]


def test_what_the_studio_names_at_import_needs_no_torch():
    code = """
from sketchstudio.explain import Attribution, method_label, method_names
from sketchstudio.explain.registry import all_methods, is_complete
from sketchstudio.explain.colormap import heat_rgb
from sketchstudio.render import RenderSpec, ink_to_gray
from sketchstudio.models import ModelStore, ModelTask, TASKS, load_card
from sketchstudio.models.tasks import ModelTask
from sketchstudio.sketch import Sketch
from sketchstudio.sketch.formats import FORMATS, Document, format_for
from sketchstudio.tasks.retrieve import THUMB, Gallery, Match
import sketchstudio.studio.app
# What the window reads while it is built: the method list with labels, the store's entries.
assert method_names()[:2] == ("live", "sla"), method_names()
assert [m.label for m in all_methods()][:2] == ["Live (auto)", "SLA"]
assert is_complete("sla") and not is_complete("occlusion")
assert method_label("live:occlusion") == "Live: Occlusion"
store = ModelStore()
[entry.card() for entry in store.entries()]
store.default_id()
"""
    assert _loaded_after(code) == []


def test_the_studio_window_modules_need_no_torch():
    assert _loaded_after("import sketchstudio.studio.main_window, sketchstudio.studio.app") == []


@pytest.mark.parametrize("package", ["sketchstudio.explain", "sketchstudio.render",
                                     "sketchstudio.models", "sketchstudio.tasks.retrieve"])
def test_every_public_name_is_still_importable(package):
    module = importlib.import_module(package)
    lazy = module._LAZY
    assert set(lazy) <= set(module.__all__)
    for name in module.__all__:
        value = getattr(module, name)
        if name in lazy:   # the very object its defining module holds
            defining = importlib.import_module(lazy[name], package)
            assert value is getattr(defining, name), name
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018


def test_a_lazy_name_whose_module_fails_says_why(tmp_path, monkeypatch):
    # An AttributeError inside the module's import must not read "cannot import name" alone.
    package = tmp_path / "lazypkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from sketchstudio._lazy import lazy_getattr\n"
        "__getattr__ = lazy_getattr(__name__, {'thing': '.broken', 'other': '.fine'})\n")
    (package / "broken.py").write_text("import os\nos.no_such_function()\nthing = 1\n")
    (package / "fine.py").write_text("other = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    lazypkg = importlib.import_module("lazypkg")
    with pytest.raises(ImportError, match="no_such_function"):
        from lazypkg import thing  # noqa: F401
    assert lazypkg.other == 2 and "other" in vars(lazypkg)   # looked up once, then kept
    with pytest.raises(AttributeError):
        lazypkg.unknown  # noqa: B018
    monkeypatch.delitem(sys.modules, "lazypkg")
    monkeypatch.delitem(sys.modules, "lazypkg.fine")


def test_a_deferred_method_runs_the_code_it_names():
    from sketchstudio.explain import registry
    from sketchstudio.explain.gradients import Sla
    from sketchstudio.explain.live import LiveMethod

    sla = registry.get_method("sla")
    assert isinstance(sla, registry.DeferredMethod)
    resolved = registry._resolve(sla)
    assert type(resolved) is Sla
    assert (resolved.name, resolved.label, resolved.help, resolved.complete, resolved.uses_steps,
            resolved.live_capable) == (sla.name, sla.label, sla.help, True, True, True)
    assert type(registry._resolve(registry.get_method("live"))) is LiveMethod


def test_the_callable_packages_still_call():
    import numpy as np

    import sketchstudio.render as render
    from sketchstudio.render import RenderSpec
    from sketchstudio.sketch import Sketch

    sketch = Sketch.from_arrays([[[0, 0], [10, 10]]])
    image = render(sketch, RenderSpec(size=16))
    assert tuple(image.shape)[-2:] == (16, 16)
    assert float(np.asarray(image).max()) > 0


# --- start-up order: the window first, then torch and the model ----------------------------------
@pytest.mark.slow
def test_the_window_is_shown_before_the_model_loads(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SKETCHSTUDIO_STARTUP_TRACE="exit",
               SKETCHSTUDIO_DATA_DIR=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("SKETCHSTUDIO_DEVICE", None)
    launched = time.monotonic()
    # Waits for the studio to end by itself after the first colour (the trace's "exit" mode).
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from sketchstudio.cli import main; sys.exit(main())",
         "--open", str(ROOT / "resources" / "demo" / "house.json")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    marks, details = {}, {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("window-shown", "model-ready", "first-colour"):
            marks[words[0]], details[words[0]] = float(words[1]), words[2:]
    assert list(marks) == ["window-shown", "model-ready", "first-colour"], result.stdout
    assert launched < marks["window-shown"] < marks["model-ready"] < marks["first-colour"]
    # Painted before torch was imported: the engine loads in the worker afterwards.
    assert details["window-shown"] == ["torch=0"], result.stdout
