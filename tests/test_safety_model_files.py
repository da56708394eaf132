"""Issue 19, items 1, 2 and 8 (models): model files that would run code or write files.

Every hostile file here is built in the test around a working classifier, so a file that got past
the inspection would also pass every check: the marker file it would create is the evidence, and
it must never appear, whether the file goes through `models check`, `models add`, `explain` or
`load_model`. A first test proves each file really is hostile when torch loads it unguarded.
"""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import hostile_models
import model_zoo
import pytest
import torch

from sketchstudio.cli import main as cli_main
from sketchstudio.errors import UserError
from sketchstudio.models import archive, builtin_models_dir, detect_format, load_model, safety
from sketchstudio.sketch import Sketch
from sketchstudio.sketch.formats import Document
from sketchstudio.sketch.io import save_document

PROJECT = Path(__file__).resolve().parents[1]
HOSTILE = list(hostile_models.BUILDERS)

pytestmark = pytest.mark.slow  # hostile models loaded in subprocesses


@pytest.fixture(autouse=True)
def isolated_store(tmp_path, monkeypatch):
    monkeypatch.setenv("SKETCHSTUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SKETCHSTUDIO_BUILTIN_MODELS", str(tmp_path / "no-builtins"))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """name -> (card, marker that must never exist)."""
    root = tmp_path_factory.mktemp("hostile")
    built = {}
    for name, (build, _) in hostile_models.BUILDERS.items():
        slug = name.replace(" ", "-")
        marker = root / "markers" / f"{slug}.written"
        marker.parent.mkdir(exist_ok=True)
        built[name] = (build(root / slug, marker), marker)
    return built


@pytest.fixture(scope="module")
def drawing(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("drawing") / "house.json"
    save_document(path, Document(Sketch.from_arrays([[[60, 200], [62, 130], [190, 122]],
                                                     [[55, 125], [126, 58], [197, 124]]])))
    return path


def _unguarded_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TORCH_FORCE")}
    env["PYTHONWARNINGS"] = "ignore"
    return env


_PLAIN_TORCH = """
import sys, torch

path = sys.argv[1]
try:
    if path.endswith(".pt2"):
        torch.export.load(path).module()(torch.zeros(1, 1, 28, 28))
    else:
        torch.jit.load(path)(torch.zeros(1, 1, 28, 28))
except Exception:
    pass
"""


@pytest.mark.parametrize("name", ["setstate writes", "forward maps a file", "submodule writes",
                                  "aliased torch.save", "second program in pt2",
                                  "pickled sample inputs", "sympy expression"])
def test_each_hostile_file_really_writes_when_torch_loads_it_unguarded(name, tmp_path):
    build, _ = hostile_models.BUILDERS[name]
    marker = tmp_path / "written"
    card = build(tmp_path / "m", marker)
    model_file = next(p for p in card.parent.iterdir() if p.suffix in (".pt", ".pt2"))
    subprocess.run([sys.executable, "-c", _PLAIN_TORCH, str(model_file)], env=_unguarded_env(),
                   capture_output=True, timeout=300, check=True)
    assert marker.exists(), "the hostile file is harmless even to plain torch: the test is void"


def _one_line(err: str, command: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith(f"sketchstudio {command}: error:"), err
    return lines[0]


@pytest.mark.parametrize("name", HOSTILE)
def test_models_check_refuses_and_nothing_is_written(name, hostile, capsys):
    card, marker = hostile[name]
    code = cli_main(["--device", "cpu", "models", "check", str(card)])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    failed = [ln for ln in out.splitlines() if ln.startswith("FAIL")]
    assert len(failed) == 1 and failed[0].startswith("FAIL  loads:"), out
    assert hostile_models.BUILDERS[name][1] in failed[0]
    assert not marker.exists()


@pytest.mark.parametrize("name", HOSTILE)
def test_models_add_refuses_in_one_line_and_nothing_is_written(name, hostile, capsys):
    card, marker = hostile[name]
    assert cli_main(["--device", "cpu", "models", "add", str(card)]) == 2
    line = _one_line(capsys.readouterr().err, "models")
    assert hostile_models.BUILDERS[name][1] in line
    assert cli_main(["models", "list"]) == 0 and "no models" in capsys.readouterr().out
    assert not marker.exists()


@pytest.mark.parametrize("name", HOSTILE)
def test_explain_and_load_model_refuse_and_nothing_is_written(name, hostile, drawing, capsys):
    card, marker = hostile[name]
    code = cli_main(["--device", "cpu", "explain", str(drawing), "--model", str(card),
                     "--method", "sla-grad"])
    assert code == 2
    assert hostile_models.BUILDERS[name][1] in _one_line(capsys.readouterr().err, "explain")
    with pytest.raises(UserError) as caught:
        load_model(card, device="cpu")
    assert "\n" not in str(caught.value)
    assert not marker.exists()


# --- the second walls -----------------------------------------------------------------------------
def test_importing_sketchstudio_forces_weights_only_before_torch_loads():
    script = ("import os, sys; os.environ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] = '1'; "
              "import sketchstudio; "
              "print('torch' in sys.modules, os.environ.get('TORCH_FORCE_WEIGHTS_ONLY_LOAD'), "
              "os.environ.get('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'))")
    out = subprocess.run([sys.executable, "-c", script], env=_unguarded_env(), cwd=PROJECT,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.split() == ["False", "1", "None"]


def test_torch_export_load_cannot_unpickle_once_sketchstudio_is_imported(tmp_path):
    """Bypass the inspection entirely: torch's own weights_only=False retry is refused too."""
    marker = tmp_path / "written"
    card = hostile_models.second_program(tmp_path / "m", marker)
    script = ("import sys, torch, sketchstudio\n"
              "try:\n    torch.export.load(sys.argv[1])\nexcept Exception as e:\n"
              "    print(type(e).__name__)\n")
    out = subprocess.run([sys.executable, "-c", script, str(card.parent / "model.pt2")],
                         env=_unguarded_env(), cwd=PROJECT, capture_output=True, text=True,
                         timeout=300).stdout
    assert "UnpicklingError" in out
    assert not marker.exists()


def test_guard_code_from_the_file_is_never_executed(tmp_path):
    """ExportedProgram.module() would exec the file's guards_code; the loader never asks it to."""
    marker = tmp_path / "written"
    card = hostile_models.guard_code(tmp_path / "m", marker)
    model = load_model(card, device="cpu")
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 2)
    assert not marker.exists()
    subprocess.run([sys.executable, "-c", _PLAIN_TORCH, str(card.parent / "model.pt2")],
                   env=_unguarded_env(), capture_output=True, timeout=300, check=True)
    assert marker.exists()    # and plain torch would have run it


def test_graph_walk_names_the_operator_and_method_of_a_loaded_module():
    scripted = torch.jit.script(hostile_models.SubmoduleWrites("/nonexistent/never-written"))
    with pytest.raises(UserError, match=r"method writer\.forward uses aten::save"):
        safety.check_torchscript_module(scripted, Path("m.pt"))
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    graph.call_function(torch.ops.aten.from_file.default, ("/nonexistent", True, 4))
    graph.output(x)
    with pytest.raises(UserError, match="aten::from_file"):
        safety.check_export_module(torch.fx.GraphModule(torch.nn.Module(), graph), Path("m.pt2"))


def test_the_allow_list_is_derived_from_torchs_own_schemas():
    assert safety.operator_allowed("aten::conv2d") and safety.operator_allowed("prim::Loop")
    assert safety.operator_allowed("prim::Print")              # printing reaches only stdout
    for op in ("aten::save", "aten::from_file", "prim::rpc_async", "c10d::send",
               "profiler::_record_function_enter", "aten::"):
        assert not safety.operator_allowed(op), op


@pytest.mark.parametrize("text,ok", [
    ("Symbol('s77', positive=True, integer=True)", True), ("s77*784 + Mod(s0, 2)", True),
    ("s0**2", True), ("__import__('os')", False), ("s0.__class__", False),
    ("9**9**9**9", False), ("lambdify(s0, 's0')", False), ("open('x', 'w')", False)])
def test_symbolic_shapes_must_be_plain_formulas(text, ok):
    assert (safety.sym_expr_problem(text) is None) == ok


# --- the allow-list is not too narrow -------------------------------------------------------------
@pytest.mark.parametrize("behaviour", sorted(model_zoo.BEHAVIOURS))
def test_every_zoo_torchscript_model_passes_the_inspection(behaviour, tmp_path):
    card = model_zoo.make_model(tmp_path, behaviour=behaviour)
    assert detect_format(card.parent / "model.pt") == "torchscript"


@pytest.mark.parametrize("dynamic_batch", [True, False])
def test_exported_models_pass_the_inspection_and_load(dynamic_batch, tmp_path):
    card = model_zoo.make_model(tmp_path, fmt="export", dynamic_batch=dynamic_batch)
    assert load_model(card, device="cpu")(torch.zeros(1, 1, 28, 28)).shape == (1, 2)


def test_the_shipped_models_pass_the_inspection_and_load(monkeypatch):
    monkeypatch.delenv("SKETCHSTUDIO_BUILTIN_MODELS")
    cards = sorted(builtin_models_dir().glob("*/card.toml"))
    if not cards:
        pytest.skip("no built-in models in resources/models")
    for card in cards:
        assert load_model(card, device="cpu").module is not None, card


# --- sizes (item 8, models) -----------------------------------------------------------------------
def test_the_archive_size_cap_counts_uncompressed_bytes(tmp_path, monkeypatch, capsys, drawing):
    card = model_zoo.make_model(tmp_path)
    monkeypatch.setattr(archive, "MAX_MODEL_BYTES", 1000)
    assert cli_main(["--device", "cpu", "explain", str(drawing), "--model", str(card)]) == 2
    assert "uncompressed (the limit for one model file)" in _one_line(capsys.readouterr().err,
                                                                        "explain")


def test_too_many_members_are_refused_before_reading_any(tmp_path, monkeypatch):
    card = model_zoo.make_model(tmp_path)
    monkeypatch.setattr(archive, "MAX_MEMBERS", 5)
    with pytest.raises(UserError, match="members"):
        load_model(card, device="cpu")


def test_a_real_model_is_stored_uncompressed(tmp_path):
    """Why MAX_EXPANSION can be strict: torch writes every member as it is (ratio 1)."""
    card = model_zoo.make_model(tmp_path, fmt="export")
    with zipfile.ZipFile(card.parent / "model.pt2") as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
