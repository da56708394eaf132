"""Hostile model files, built in the tests, that would write a marker file if anything ran them.

Each builder takes the folder to build in and the marker path, and returns the card path. The
model around the attack is model_zoo's tiny classifier, so a file that got past the inspection
would pass every `models check` as well: the marker file is the only evidence.

    card = hostile_models.BUILDERS["setstate writes"](tmp_path / "m", tmp_path / "marker")
"""
from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import model_zoo
import torch
from torch import nn

LOOPING = "endless loop model: looping now"


# --- TorchScript ---------------------------------------------------------------------------------
class SetstateWrites(model_zoo.TinyClassifier):
    """torch.jit.load runs a scripted __setstate__: this one saves a tensor to the marker path."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    @torch.jit.export
    def __getstate__(self) -> tuple[str, bool]:
        return (self.marker, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[str, bool]) -> None:
        torch.save(torch.zeros(1), state[0])
        self.marker = state[0]
        self.training = state[1]


class ForwardMapsFile(model_zoo.TinyClassifier):
    """torch.from_file(path, shared=True, size=n) creates (or overwrites) the file in place."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.from_file(self.marker, True, 16)
        return self.head(self.features(x)) + y.sum() * 0.0


class Writer(nn.Module):
    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        torch.save(x, self.marker)
        return x


class SubmoduleWrites(model_zoo.TinyClassifier):
    """The write hides in a submodule's forward, called from the top-level one."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.writer = Writer(marker)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(self.writer(x)))


class EndlessLoop(model_zoo.TinyClassifier):
    """Never returns: a loop inside TorchScript's interpreter, which never checks for signals."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        print("endless loop model: looping now")   # the readiness signal tests wait for
        i = 0
        while i >= 0:
            i = (i + 1) % 7
        return self.head(self.features(x))


def setstate_writes(folder: Path, marker: Path) -> Path:
    model_zoo.save_torchscript(SetstateWrites(str(marker)), folder / "model.pt")
    return model_zoo.write_card(folder)


def forward_maps_file(folder: Path, marker: Path) -> Path:
    model_zoo.save_torchscript(ForwardMapsFile(str(marker)), folder / "model.pt")
    return model_zoo.write_card(folder)


def submodule_writes(folder: Path, marker: Path) -> Path:
    model_zoo.save_torchscript(SubmoduleWrites(str(marker)), folder / "model.pt")
    return model_zoo.write_card(folder)


def aliased_save(folder: Path, marker: Path) -> Path:
    """The code text edited after saving: torch.save reached through an alias of `torch`."""
    return _with_code_in_forward(
        folder, f"    _t = torch\n    _s = _t.save\n    _s(x, {str(marker)!r})\n")


def hidden_by_control_characters(folder: Path, marker: Path) -> Path:
    """A carriage return: one tokenizer may end a comment there while another does not."""
    return _with_code_in_forward(folder, f"    # note\r    torch.save(x, {str(marker)!r})\n")


def endless_loop(folder: Path, marker: Path | None = None) -> Path:
    model_zoo.save_torchscript(EndlessLoop(), folder / "model.pt")
    return model_zoo.write_card(folder)


def _with_code_in_forward(folder: Path, lines: str) -> Path:
    """A good model whose saved forward() code text runs `lines` first (before `head = ...`)."""
    card = model_zoo.make_model(folder)
    anchor = "    head = self.head\n"
    _edit_code(folder / "model.pt", lambda code: code.replace(anchor, lines + anchor, 1))
    return card


def _edit_code(path: Path, edit: Callable[[str], str]) -> None:
    members = _members(path)
    name = next(n for n, data in members if n.endswith(".py") and b"def forward" in data
                and b"head = self.head" in data)
    _rewrite(path, [(n, edit(d.decode()).encode() if n == name else d) for n, d in members])


# --- torch.export ---------------------------------------------------------------------------------
class _OpensMarker:
    """Unpickling this opens the marker for writing (creating it): any code at all could run."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _evil_pickle(marker: Path) -> bytes:
    buffer = io.BytesIO()
    torch.save({"inputs": (_OpensMarker(marker),)}, buffer)
    return buffer.getvalue()


def second_program(folder: Path, marker: Path) -> Path:
    """Issue 19's archive: `models/evilXjson` is a second program "evil", whose sample inputs are
    a pickle that torch.export.load retries with weights_only=False when the safe load fails."""
    card = model_zoo.make_model(folder, fmt="export")
    path = folder / "model.pt2"
    members = _members(path)
    data = dict(members)
    root = members[0][0].split("/", 1)[0]
    extra = [(f"{root}/models/evilXjson", data[f"{root}/models/model.json"]),
             (f"{root}/data/weights/evil_weights_config.json",
              data[f"{root}/data/weights/model_weights_config.json"]),
             (f"{root}/data/constants/evil_constants_config.json",
              data[f"{root}/data/constants/model_constants_config.json"]),
             (f"{root}/data/sample_inputs/evil.pt", _evil_pickle(marker))]
    _rewrite(path, members + extra)
    return card


def pickled_sample_inputs(folder: Path, marker: Path) -> Path:
    card = model_zoo.make_model(folder, fmt="export")
    _replace(folder / "model.pt2", "data/sample_inputs/model.pt", _evil_pickle(marker))
    return card


def sample_inputs_by_case(folder: Path, marker: Path) -> Path:
    """torch's zip reader finds members case-insensitively: a second, differently cased copy."""
    card = model_zoo.make_model(folder, fmt="export")
    path = folder / "model.pt2"
    members = _members(path)
    root = members[0][0].split("/", 1)[0]
    _rewrite(path, members + [(f"{root}/data/Sample_Inputs/model.pt", _evil_pickle(marker))])
    return card


def sympy_expression(folder: Path, marker: Path) -> Path:
    """Symbolic shapes are parsed with sympy.sympify, which evaluates Python."""
    card = model_zoo.make_model(folder, fmt="export")
    payload = f"Symbol('s77', positive=True, integer=True) + 0*len(open({str(marker)!r}, 'w').name)"
    _edit_program(folder / "model.pt2", lambda text: text.replace(
        "Symbol('s77', positive=True, integer=True)", payload))
    return card


def file_operator_target(folder: Path, marker: Path) -> Path:
    card = model_zoo.make_model(folder, fmt="export")
    _edit_program(folder / "model.pt2", lambda text: text.replace(
        "torch.ops.aten.tanh.default", "torch.ops.aten.save.default"))
    return card


def python_callable_target(folder: Path, marker: Path) -> Path:
    card = model_zoo.make_model(folder, fmt="export")
    _edit_program(folder / "model.pt2", lambda text: text.replace(
        "torch.ops.aten.tanh.default", "torch.os.system"))
    return card


def guard_code(folder: Path, marker: Path) -> Path:
    """`guards_code` is Python source that ExportedProgram.module() would exec."""
    card = model_zoo.make_model(folder, fmt="export")

    def edit(text: str) -> str:
        program = json.loads(text)
        program["guards_code"] = [f"open({str(marker)!r}, 'w') is not None"]
        return json.dumps(program)
    _edit_program(folder / "model.pt2", edit)
    return card


def _edit_program(path: Path, edit: Callable[[str], str]) -> None:
    members = _members(path)
    name = next(n for n, _ in members if n.endswith("/models/model.json"))
    _rewrite(path, [(n, edit(d.decode()).encode() if n == name else d) for n, d in members])


def _replace(path: Path, member: str, data: bytes) -> None:
    members = _members(path)
    _rewrite(path, [(n, data if n.split("/", 1)[1] == member else d) for n, d in members])


# --- zip plumbing ---------------------------------------------------------------------------------
def _members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def _rewrite(path: Path, members: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members:
            z.writestr(name, data)


def duplicate_member(folder: Path, marker: Path) -> Path:
    """Two members with one name: which one a reader takes depends on the reader."""
    card = model_zoo.make_model(folder)
    path = folder / "model.pt"
    members = _members(path)
    name, data = next((n, d) for n, d in members if n.endswith(".py") and b"def forward" in d)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # zipfile: "Duplicate name"
        _rewrite(path, members + [(name, data)])
    return card


def deflate_bomb(folder: Path, marker: Path, size: int = 64 << 20) -> Path:
    """A record of `size` zero bytes, deflated to a few kilobytes."""
    card = model_zoo.make_model(folder)
    path = folder / "model.pt"
    members = _members(path)
    root = members[0][0].split("/", 1)[0]
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members:
            z.writestr(name, data)
        z.writestr(f"{root}/extra/padding", bytes(size), compress_type=zipfile.ZIP_DEFLATED)
    return card


def foreign_pickle_global(folder: Path, marker: Path) -> Path:
    """data.pkl naming a Python function: TorchScript's C++ unpickler would refuse it too, but
    the inspection must not depend on that."""
    card = model_zoo.make_model(folder)
    path = folder / "model.pt"
    members = _members(path)
    _rewrite(path, [(n, d.replace(b"collections\nOrderedDict\n", b"os\nsystem\n")
                     if n.endswith("/data.pkl") else d) for n, d in members])
    return card


# name -> (builder, text in the refusal)
BUILDERS: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "setstate writes": (setstate_writes, "aten::save"),
    "forward maps a file": (forward_maps_file, "aten::from_file"),
    "submodule writes": (submodule_writes, "aten::save"),
    "aliased torch.save": (aliased_save, "alias of the namespace"),
    "carriage return in code": (hidden_by_control_characters, "characters torch.jit.save never"),
    "second program in pt2": (second_program, "models/evilXjson"),
    "pickled sample inputs": (pickled_sample_inputs, "needs unpickling"),
    "sample inputs by case": (sample_inputs_by_case, "twice"),
    "sympy expression": (sympy_expression, "symbolic shape"),
    "file operator in pt2": (file_operator_target, "aten.save"),
    "python callable in pt2": (python_callable_target, "torch.os.system"),
    "duplicate member": (duplicate_member, "twice"),
    "deflate bomb": (deflate_bomb, "zip bomb"),
    "foreign global in data.pkl": (foreign_pickle_global, "refers to os.system"),
}
