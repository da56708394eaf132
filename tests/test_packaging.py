"""The installable app: `--self-test` (from the source tree, and frozen once `make package` has
built dist/SketchStudio), the PyInstaller spec, the desktop entry and the demo sketches."""
from __future__ import annotations

import ast
import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sketchstudio import selftest
from sketchstudio.sketch.io import load_sketch

pytestmark = pytest.mark.slow  # builds and inspects the app

PROJECT = Path(__file__).resolve().parents[1]
PACKAGING = PROJECT / "packaging"
SPEC = PACKAGING / "sketchstudio.spec"
FROZEN = PROJECT / "dist" / "SketchStudio" / ("SketchStudio.exe" if os.name == "nt"
                                               else "SketchStudio")
PASSED = re.compile(r"^sketchstudio: self-test passed \((the source tree|the frozen app)\): .*"
                    r"screenshot (\d+)x(\d+) at (.+\.png)$")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               SKETCHSTUDIO_DATA_DIR=str(tmp_path / "data"), TMPDIR=str(tmp_path), **extra)
    for name in ("SKETCHSTUDIO_DEVICE", "PYTHONPATH") + (
            () if "SKETCHSTUDIO_BUILTIN_MODELS" in extra else ("SKETCHSTUDIO_BUILTIN_MODELS",)):
        env.pop(name, None)
    return env


def _passed(result: subprocess.CompletedProcess, where: str) -> Path:
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    match = PASSED.match(lines[0])
    assert match, lines[0]
    assert match.group(1) == where
    assert int(match.group(2)) >= 1000 and int(match.group(3)) >= 650
    shot = Path(match.group(4))
    assert selftest.check_screenshot(shot) == (int(match.group(2)), int(match.group(3)))
    return shot


def _default_model_or_skip() -> None:
    if not (PROJECT / "resources" / "models" / "default" / "card.toml").is_file():
        pytest.skip("the built-in default model is not in resources/models/default")


# --- the self-test ------------------------------------------------------------------------------
def test_self_test_from_the_source_tree(tmp_path):
    _default_model_or_skip()
    result = subprocess.run([sys.executable, "-m", "sketchstudio.cli", "--self-test"],
                            capture_output=True, text=True, timeout=180, env=_env(tmp_path),
                            cwd=tmp_path)
    shot = _passed(result, "the source tree")
    # The picture lies in a fresh temporary folder, and the throw-away model store is gone.
    assert shot.parent.parent == tmp_path and shot.parent.name.startswith("sketchstudio-self-test-")
    assert not (shot.parent / "data").exists()
    assert not (tmp_path / "data").exists()    # the user's data directory was not touched


def test_self_test_without_the_default_model_fails_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "sketchstudio.cli", "--self-test"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env=_env(tmp_path, SKETCHSTUDIO_BUILTIN_MODELS=str(tmp_path / "none")))
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sketchstudio: self-test failed: the default model is missing")
    assert "Traceback" not in result.stderr


def test_png_size_refuses_what_is_not_a_png(tmp_path):
    bad = tmp_path / "x.png"
    bad.write_bytes(b"GIF89a" + bytes(40))
    with pytest.raises(selftest.SelfTestError, match="not a PNG"):
        selftest.png_size(bad)
    with pytest.raises(selftest.SelfTestError, match="no screenshot"):
        selftest.png_size(tmp_path / "missing.png")


@pytest.mark.slow
@pytest.mark.skipif(not FROZEN.is_file(), reason=f"no frozen app at {FROZEN.relative_to(PROJECT)}: "
                    "build it with `make package`")
def test_frozen_self_test(tmp_path):
    result = subprocess.run([str(FROZEN), "--self-test"], capture_output=True, text=True,
                            timeout=300, env=_env(tmp_path), cwd=tmp_path)
    _passed(result, "the frozen app")


@pytest.mark.skipif(not FROZEN.is_file(), reason=f"no frozen app at {FROZEN.relative_to(PROJECT)}: "
                    "build it with `make package`")
def test_frozen_app_ships_its_resources_and_no_test_or_cuda_files():
    bundle = FROZEN.parent / "_internal"
    assert (bundle / "resources" / "models" / "default" / "card.toml").is_file()
    assert sorted(p.name for p in (bundle / "resources" / "demo").glob("*.json")) == sorted(
        p.name for p in selftest_demo_dir().glob("*.json"))
    names = [p.relative_to(bundle).as_posix() for p in bundle.rglob("*")]
    assert not [n for n in names if n.startswith(("tests/", "torch/test/", "torch/include/"))]
    assert not [n for n in names if re.search(r"lib(cudnn|cublas|nccl|torch_cuda)", n)]
    assert not [n for n in names if n.split("/")[0] in ("PyQt5", "PyQt6", "PySide2")]
    assert not [n for n in names if re.search(r"Qt6?(WebEngine|Quick|Qml|3D)", n)]


def selftest_demo_dir() -> Path:
    return PROJECT / "resources" / "demo"


# --- the spec, the desktop entry, the build command ----------------------------------------------
def _spec_tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"))


def _call(tree: ast.Module, name: str) -> ast.Call:
    calls = [n for n in ast.walk(tree)
             if isinstance(n, ast.Call) and getattr(n.func, "id", "") == name]
    assert len(calls) == 1, f"the spec should call {name} once"
    return calls[0]


def _keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    raise AssertionError(f"{getattr(call.func, 'id', '?')}() has no {name}=")


def _excludes(tree: ast.Module) -> set[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "excludes" \
                and isinstance(node.value, ast.List):
            return {e.value for e in ast.walk(node.value) if isinstance(e, ast.Constant)
                    and isinstance(e.value, str)}
    raise AssertionError("the spec has no excludes list")


def test_spec_builds_one_folder_named_sketchstudio():
    tree = _spec_tree()
    exe = _call(tree, "EXE")
    assert ast.literal_eval(_keyword(exe, "exclude_binaries")) is True   # binaries go to COLLECT
    assert ast.literal_eval(_keyword(exe, "name")) == "SketchStudio"
    assert ast.literal_eval(_keyword(_call(tree, "COLLECT"), "name")) == "SketchStudio"
    assert "PYZ" in SPEC.read_text()


def test_spec_files_exist_and_resources_are_bundled_where_resources_dir_looks():
    text = SPEC.read_text()
    for name in re.findall(r'HERE / "([^"]+)"', text):
        assert (PACKAGING / name).is_file(), name
    for target in ("resources/models", "resources/demo"):
        assert f'"{target}")' in text, target
    assert (PROJECT / "resources" / "models" / "default" / "card.toml").is_file()


def test_spec_keeps_one_qt_binding_and_what_pyqtgraph_imports():
    excludes = _excludes(_spec_tree())
    assert {"PyQt5", "PyQt6", "PySide2", "tests", "pytest"} <= excludes
    assert {"PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtWebEngineCore"} <= excludes
    # Needed at run time: the studio's modules, and what pyqtgraph imports when it starts.
    needed = {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtOpenGL",
              "PySide6.QtOpenGLWidgets", "PySide6.QtSvg", "pyqtgraph", "torch",
              "torch.testing._internal"}
    assert not needed & excludes


def test_desktop_entry():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(PACKAGING / "sketchstudio.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Name"] == "SketchStudio"
    assert section["Exec"].split()[0].endswith("SketchStudio")
    assert section["Icon"] == "sketchstudio"
    assert section["Categories"].endswith(";")
    assert (PACKAGING / "sketchstudio.png").is_file() and (PACKAGING / "sketchstudio.svg").is_file()


def test_build_command_and_ignored_outputs():
    makefile = (PROJECT / "Makefile").read_text()
    assert re.search(r"^package:", makefile, re.MULTILINE)
    assert "packaging/build.sh" in makefile
    assert "pyinstaller" in (PROJECT / "pyproject.toml").read_text().lower()
    ignored = (PROJECT / ".gitignore").read_text().split()
    assert "dist/" in ignored and "build/" in ignored
    assert os.access(PACKAGING / "build.sh", os.X_OK)


# --- the demo sketches --------------------------------------------------------------------------
def test_demo_sketches_are_ours_and_load():
    demos = sorted(selftest_demo_dir().glob("*.json"))
    assert len(demos) >= 2 and selftest.DEMO in [p.name for p in demos]
    for path in demos:
        sketch = load_sketch(path)
        assert len(sketch.strokes) >= 2
        assert sketch.metadata["word"] == path.stem
        assert "SketchStudio demo" in sketch.metadata["source"]


def test_demo_sketches_are_recognised_by_the_default_model():
    _default_model_or_skip()
    from sketchstudio.api import explain, load_model

    model = load_model(PROJECT / "resources" / "models" / "default" / "card.toml", device="cpu")
    for path in sorted(selftest_demo_dir().glob("*.json")):
        result = explain(load_sketch(path), model, method="sla-grad")
        assert result.target == path.stem, f"{path.name} is seen as {result.target!r}"


@pytest.fixture(autouse=True)
def _no_leftover_self_test_folders(tmp_path):
    yield
    for folder in tmp_path.glob("sketchstudio-self-test-*"):
        shutil.rmtree(folder, ignore_errors=True)


def test_a_failure_message_is_one_line():
    exc = ImportError("\nImporting the numpy C-extensions failed.\n\n"
                      "    Original error was: x.so\n")
    line = selftest.one_line(exc)
    assert "\n" not in line and line.startswith("ImportError: Importing the numpy")
    assert len(selftest.one_line(RuntimeError("x" * 1000))) == 400
