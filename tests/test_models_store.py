"""The model store and `sketchstudio models ...`: add/list/show/remove survive a restart."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from model_zoo import make_model

from sketchstudio.errors import UserError
from sketchstudio.models import ModelStore, load_model, paths, slugify


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A good TorchScript card and a good torch.export card (built once: export takes a second)."""
    root = tmp_path_factory.mktemp("zoo")
    return {"torchscript": make_model(root / "ts", name="Quick, Draw! CNN"),
            "export": make_model(root / "ex", fmt="export", name="Quick, Draw! CNN")}


@pytest.fixture
def store(tmp_path):
    return ModelStore(tmp_path / "data", builtin_dir=tmp_path / "builtin")


@pytest.fixture
def builtin(tmp_path):
    """A built-in model folder `default` in a private resources dir."""
    return make_model(tmp_path / "builtin" / "default", name="Built-in CNN")


def test_empty_store(store):
    assert store.entries() == [] and store.default_id() is None
    with pytest.raises(UserError, match="no models in the store"):
        store.resolve(None)


def test_add_torchscript_and_export_then_restart(store, good):
    a = store.add(good["torchscript"])
    b = store.add(good["export"])
    assert (a, b) == ("quick-draw-cnn", "quick-draw-cnn-2")
    assert (store.models_dir / a / "model.pt").is_file()
    assert (store.models_dir / b / "model.pt2").is_file()
    assert (store.models_dir / a / "card.toml").read_bytes() == good["torchscript"].read_bytes()

    fresh = ModelStore(store.data_dir, builtin_dir=store.builtin_dir)  # "restart"
    assert fresh.ids() == [a, b]
    assert [e.builtin for e in fresh.entries()] == [False, False]
    for model_id, fmt in ((a, "torchscript"), (b, "torch.export")):
        model = load_model(model_id, store=fresh)
        assert model.format == fmt and model.id == model_id
    assert not list(store.models_dir.glob(".adding-*"))

    fresh.remove(a)
    assert ModelStore(store.data_dir, builtin_dir=store.builtin_dir).ids() == [b]
    assert not (store.models_dir / a).exists()


def test_add_refuses_a_failing_model_and_leaves_nothing(store, tmp_path):
    with pytest.raises(UserError, match="check 'finite' failed"):
        store.add(make_model(tmp_path / "nan", behaviour="nan"))
    assert store.ids() == []
    assert not store.models_dir.exists() or not any(store.models_dir.iterdir())


def test_add_without_checks(store, tmp_path):
    model_id = store.add(make_model(tmp_path / "nan", behaviour="nan"), check=False)
    assert store.ids() == [model_id]


def test_add_copies_a_model_in_a_subfolder(store, tmp_path):
    model_id = store.add(make_model(tmp_path / "m", file="weights/net.pt"))
    assert (store.models_dir / model_id / "weights" / "net.pt").is_file()
    assert load_model(model_id, store=store).card.file.parent.name == "weights"


def test_add_invalid_card(store, tmp_path):
    (tmp_path / "card.toml").write_text("name = [", encoding="utf-8")
    with pytest.raises(UserError, match="not valid TOML"):
        store.add(tmp_path)


def test_builtins_listed_in_place_and_not_removable(store, builtin, good):
    user = store.add(good["torchscript"])
    entries = store.entries()
    assert [(e.id, e.builtin) for e in entries] == [("default", True), (user, False)]
    assert entries[0].card_path == builtin
    assert not (store.models_dir / "default").exists()  # never copied
    assert store.default_id() == "default"
    with pytest.raises(UserError, match="built-in model and cannot be removed"):
        store.remove("default")
    assert load_model("default", store=store).card.name == "Built-in CNN"


def test_missing_builtins_are_not_listed(tmp_path):
    (tmp_path / "builtin" / "default-embed").mkdir(parents=True)  # a folder without a card
    assert ModelStore(tmp_path / "data", builtin_dir=tmp_path / "builtin").ids() == []
    assert ModelStore(tmp_path / "data", builtin_dir=tmp_path / "nowhere").ids() == []


def test_user_model_cannot_take_a_builtin_id(store, builtin, tmp_path):
    model_id = store.add(make_model(tmp_path / "m", name="Default"))
    assert model_id == "default-2"


def test_set_default_persists_and_follows_removal(store, builtin, good):
    user = store.add(good["torchscript"])
    store.set_default(user)
    assert ModelStore(store.data_dir, builtin_dir=store.builtin_dir).default_id() == user
    assert store.resolve(None) == (user, store.models_dir / user / "card.toml")
    store.remove(user)
    assert store.default_id() == "default"
    with pytest.raises(UserError, match="no model 'nope'"):
        store.set_default("nope")


def test_settings_keep_other_keys(store, good):
    store.data_dir.mkdir(parents=True)
    (store.data_dir / "settings.toml").write_text('theme = "dark"\n', encoding="utf-8")
    store.set_default(store.add(good["torchscript"]))
    text = (store.data_dir / "settings.toml").read_text(encoding="utf-8")
    assert 'theme = "dark"' in text and "default_model" in text


def test_ids_cannot_reach_outside_the_store(store, good):
    store.add(good["torchscript"])
    for bad in ("../data", "..", "/tmp", "quick-draw-cnn/../x"):
        with pytest.raises(UserError):
            store.remove(bad)


def test_resolve_paths_and_ids(store, good):
    model_id = store.add(good["torchscript"])
    assert store.resolve(model_id)[0] == model_id
    assert store.resolve(str(good["torchscript"]))[1] == good["torchscript"]
    assert store.resolve(good["torchscript"].parent)[1] == good["torchscript"]
    with pytest.raises(UserError, match="model card not found"):
        store.resolve("/no/such/folder")


@pytest.mark.parametrize("name, slug", [
    ("Quick, Draw! CNN", "quick-draw-cnn"), ("  Été   über ", "ete-uber"), ("!!!", "model"),
    ("x" * 80, "x" * 48)])
def test_slugify(name, slug):
    assert slugify(name) == slug


def test_data_dir_honours_env_and_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("SKETCHSTUDIO_DATA_DIR", str(tmp_path / "override"))
    assert paths.data_dir() == tmp_path / "override"
    monkeypatch.delenv("SKETCHSTUDIO_DATA_DIR")
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        assert paths.data_dir() == tmp_path / "xdg" / "SketchStudio"


def test_resources_dir_source_tree_and_frozen(tmp_path, monkeypatch):
    assert (paths.resources_dir().parent / "sketchstudio").is_dir()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resources_dir() == tmp_path / "resources"


# --- the CLI -----------------------------------------------------------------------------------
@pytest.fixture
def cli_env(cli_env, builtin):
    """conftest's private CLI store, with the built-in `default` of this module."""
    return cli_env


def test_cli_add_list_show_remove(cli_env, run_cli, good):
    code, out, _ = run_cli("models", "add", str(good["torchscript"]))
    assert code == 0 and out.strip() == "quick-draw-cnn"
    code, out, _ = run_cli("models", "add", str(good["export"].parent))
    assert code == 0 and out.strip() == "quick-draw-cnn-2"

    code, out, _ = run_cli("models", "list", "--json")
    rows = json.loads(out)
    assert [(r["id"], r["builtin"], r["default"]) for r in rows] == [
        ("default", True, True), ("quick-draw-cnn", False, False),
        ("quick-draw-cnn-2", False, False)]
    assert rows[1]["name"] == "Quick, Draw! CNN" and rows[1]["labels"] == 2
    code, out, _ = run_cli("models", "list")
    assert code == 0 and "* default" in out and "quick-draw-cnn-2" in out

    code, out, _ = run_cli("models", "show", "quick-draw-cnn", "--json")
    shown = json.loads(out)
    assert shown["labels"] == ["apple", "book"] and shown["input"]["size"] == 28
    assert shown["task"] == "classify" and shown["id"] == "quick-draw-cnn"
    code, out, _ = run_cli("models", "show", "quick-draw-cnn")
    assert "labels (2): apple, book" in out and "size=28" in out

    code, out, _ = run_cli("models", "remove", "quick-draw-cnn")
    assert code == 0
    code, out, _ = run_cli("models", "list", "--json")
    assert [r["id"] for r in json.loads(out)] == ["default", "quick-draw-cnn-2"]


def test_cli_errors_are_one_line(cli_env, run_cli, tmp_path):
    code, _, err = run_cli("models", "remove", "default")
    assert code == 2
    assert err == ("sketchstudio models: error: "
                   "'default' is a built-in model and cannot be removed\n")
    code, _, err = run_cli("models", "show", "nope")
    assert code == 2 and err.count("\n") == 1 and "no model 'nope'" in err
    code, _, err = run_cli("models", "add", str(make_model(tmp_path / "nan", behaviour="nan")))
    assert code == 2 and err.count("\n") == 1 and "finite" in err
    code, _, err = run_cli("--device", "tpu", "models", "check", "default")
    assert code == 2 and ("unknown device" in err or "unsupported device" in err)


def test_cli_check(cli_env, run_cli, tmp_path):
    code, out, _ = run_cli("models", "check", "default")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 9 and all(ln.startswith("ok") for ln in lines)
    argmax = make_model(tmp_path / "am", behaviour="argmax")
    code, out, _ = run_cli("models", "check", str(argmax))
    assert code == 1 and any(ln.startswith("FAIL  gradient") for ln in out.splitlines())


def test_cli_default(cli_env, run_cli, good):
    run_cli("models", "add", str(good["torchscript"]))
    code, out, _ = run_cli("models", "default", "quick-draw-cnn")
    assert code == 0 and out.strip() == "quick-draw-cnn"
    code, out, _ = run_cli("models", "default")
    assert out.strip() == "quick-draw-cnn"


def test_cli_lists_a_broken_model_without_failing(cli_env, run_cli, good):
    run_cli("models", "add", str(good["torchscript"]))
    card = cli_env / "data" / "models" / "quick-draw-cnn" / "card.toml"
    card.write_text("garbage = [", encoding="utf-8")
    code, out, _ = run_cli("models", "list")
    assert code == 0 and "BROKEN" in out and "not valid TOML" in out


@pytest.mark.slow
def test_store_survives_a_new_process(tmp_path, good):
    env = {**os.environ, "SKETCHSTUDIO_DATA_DIR": str(tmp_path / "data")}
    store = ModelStore(tmp_path / "data")
    model_id = store.add(good["export"])

    def sketchstudio(*argv):
        return subprocess.run([sys.executable, "-m", "sketchstudio.cli", *argv], env=env,
                              capture_output=True, text=True, timeout=120)

    listed = sketchstudio("models", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert model_id in [r["id"] for r in json.loads(listed.stdout) if not r["builtin"]]
    removed = sketchstudio("models", "remove", model_id)
    assert removed.returncode == 0, removed.stderr
    assert model_id not in ModelStore(tmp_path / "data").ids()
