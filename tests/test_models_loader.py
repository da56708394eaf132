"""Loading models: TorchScript and torch.export load frozen on a device; pickles never load."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
import torch
from model_zoo import TinyClassifier, make_model, save_raw_pickle

from sketchstudio.errors import UserError
from sketchstudio.models import EXPORT, TORCHSCRIPT, LoadedModel, detect_format, load_model
from sketchstudio.models.loader import one_line


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    return make_model(tmp_path_factory.mktemp("scripted"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return make_model(tmp_path_factory.mktemp("exported"), fmt="export")


def _input(n=1):
    return torch.linspace(-1, 1, n * 28 * 28).reshape(n, 1, 28, 28)


def test_torchscript_loads_frozen(scripted):
    model = load_model(scripted.parent)
    assert isinstance(model, LoadedModel)
    assert model.format == TORCHSCRIPT and model.task == "classify"
    assert model.labels == ("apple", "book") and model.spec.size == 28
    assert model.id == scripted.parent.name and model.card.path == scripted
    assert model.device == torch.device("cpu")
    assert not model.module.training
    assert all(not p.requires_grad for p in model.module.parameters())
    expected = TinyClassifier()(_input())
    assert torch.allclose(model(_input()), expected, atol=1e-6)


def test_export_loads_and_agrees_with_torchscript(scripted, exported):
    a, b = load_model(scripted), load_model(exported)
    assert b.format == EXPORT and detect_format(b.card.file) == EXPORT
    assert all(not p.requires_grad for p in b.module.parameters())
    assert torch.allclose(a(_input(3)), b(_input(3)), atol=1e-6)


def test_gradient_reaches_the_input_not_the_weights(scripted):
    model = load_model(scripted)
    x = _input().requires_grad_(True)
    model(x)[0, 0].backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_load_by_store_id(scripted, tmp_path, monkeypatch):
    monkeypatch.setenv("SKETCHSTUDIO_DATA_DIR", str(tmp_path))
    from sketchstudio.models import ModelStore

    model_id = ModelStore(builtin_dir=tmp_path / "none").add(scripted, check=False)
    model = load_model(model_id, store=ModelStore(builtin_dir=tmp_path / "none"))
    assert model.id == model_id and model.card.path.parent == tmp_path / "models" / model_id


def test_unknown_id_lists_known(tmp_path):
    from sketchstudio.models import ModelStore

    with pytest.raises(UserError, match="no model 'nope'"):
        load_model("nope", store=ModelStore(tmp_path, builtin_dir=tmp_path / "none"))


def _load_error(card) -> str:
    with pytest.raises(UserError) as info:
        load_model(card)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_torch_save_pickle_renamed_pt_is_refused(tmp_path):
    message = _load_error(make_model(tmp_path, fmt="pickle"))
    assert "torch.save pickle" in message and "never unpickles" in message


def test_raw_pickle_renamed_pt_is_refused(tmp_path):
    card = make_model(tmp_path)
    save_raw_pickle({"weights": [1, 2, 3]}, tmp_path / "model.pt")
    assert "Python pickle" in _load_error(card)


def test_garbage_file_is_refused(tmp_path):
    card = make_model(tmp_path)
    (tmp_path / "model.pt").write_bytes(b"GIF89a not a model at all")
    assert "not a zip archive" in _load_error(card)


def test_unrelated_zip_is_refused(tmp_path):
    card = make_model(tmp_path)
    with zipfile.ZipFile(tmp_path / "model.pt", "w") as z:
        z.writestr("photos/cat.jpg", b"meow")
    assert "unexpected zip layout" in _load_error(card)


def test_truncated_file_is_refused(tmp_path):
    card = make_model(tmp_path)
    data = (tmp_path / "model.pt").read_bytes()
    (tmp_path / "model.pt").write_bytes(data[: len(data) // 2])
    assert str(tmp_path / "model.pt") in _load_error(card)


def test_corrupted_member_is_refused(tmp_path):
    card = make_model(tmp_path)
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    code = next(n for n, data in members.items()
                if "/code/" in n and n.endswith(".py") and b"def forward" in data)
    members[code] = b"def forward(self, x):\n  return garbled(((\n"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    message = _load_error(card)
    assert "cannot load torchscript model" in message


UNPICKLED = []


def _mark_unpickled():
    UNPICKLED.append(True)
    return "pwned"


class _Evil:
    def __reduce__(self):
        return (_mark_unpickled, ())


def _rewrite_pt2(path, change):
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    change(members)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_pt2_with_a_code_carrying_pickle_is_refused_unexecuted(tmp_path):
    card = make_model(tmp_path, fmt="export")
    buf = io.BytesIO()
    torch.save(_Evil(), buf)

    def swap_sample_inputs(members):
        name = next(n for n in members if n.endswith("data/sample_inputs/model.pt"))
        members[name] = buf.getvalue()

    _rewrite_pt2(tmp_path / "model.pt2", swap_sample_inputs)
    message = _load_error(card)
    assert "needs unpickling" in message and "_mark_unpickled" in message
    assert not UNPICKLED


def test_pt2_with_pickled_weights_is_refused(tmp_path):
    card = make_model(tmp_path, fmt="export")

    def mark_weights_pickled(members):
        name = next(n for n in members if n.endswith("model_weights_config.json"))
        config = json.loads(members[name])
        for meta in config["config"].values():
            meta["use_pickle"] = True
        members[name] = json.dumps(config).encode()

    _rewrite_pt2(tmp_path / "model.pt2", mark_weights_pickled)
    assert "pickled tensor" in _load_error(card)


def test_forward_error_is_one_line(tmp_path):
    model = load_model(make_model(tmp_path, behaviour="raises"))
    with pytest.raises(UserError) as info:
        model(_input())
    assert str(info.value) == f"model {model.id!r} failed: this model always fails"


def test_wrong_channels_error_is_one_line(tmp_path):
    model = load_model(make_model(tmp_path, model_channels=3))
    with pytest.raises(UserError) as info:
        model(_input())
    assert "\n" not in str(info.value) and "channels" in str(info.value)


@pytest.mark.parametrize("text, expected", [
    ("plain message", "plain message"),
    ("first line\nsecond line", "first line"),
    ("The following operation failed in the TorchScript interpreter.\nTraceback...\n"
     "  code\nbuiltins.RuntimeError: expected 1 channel\n", "expected 1 channel"),
    ("The following operation failed in the TorchScript interpreter.\n"
     "builtins.ValueError: bad value\n", "ValueError: bad value"),
    ("", "RuntimeError"),
])
def test_one_line(text, expected):
    assert one_line(RuntimeError(text)) == expected
