"""Fuzzing model files (issue 19, items 1, 2, 8): mutated TorchScript code, torch.export programs
and archive members, mixed with the operators and payloads that would write a file.

Whatever the mutation, the file is either refused with one line (UserError) or loads and runs
without writing the marker; nothing else (no traceback, no other exception). `make fuzz` runs it
with SKETCHSTUDIO_FUZZ_EXAMPLES=10000; a plain test run tries a few examples of each.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import model_zoo
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sketchstudio.errors import UserError
from sketchstudio.models import load_model

pytestmark = pytest.mark.slow  # thousands of mutated model files

EXAMPLES = int(os.environ.get("SKETCHSTUDIO_FUZZ_EXAMPLES", "15"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MARKER = "MARKER"   # replaced by the example's marker path

# Lines that would write a file if they ran, in every spelling TorchScript could accept, and some
# harmless ones, so that a mutation that loads is common too.
CODE_LINES = [
    "torch.save(x, MARKER)", "ops.aten.save(x, MARKER)", "_0 = torch.from_file(MARKER, True, 4)",
    "_t = torch\n    _t.save(x, MARKER)", "getattr(torch, 'save')(x, MARKER)",
    "torch.ops.aten.save(x, MARKER)", "_s = ops.aten\n    _s.save(x, MARKER)",
    "_f = torch.save\n    _f(x, MARKER)", "rpc_async('w', torch.save, (x, MARKER))",
    "print('model says hi')", "x = torch.add(x, 0)", "_1 = torch.zeros([2])",
    "# torch.save(x, MARKER)", "_2 = 'torch.save(x, MARKER)'",
]
TARGETS = [
    "torch.save", "torch.os.system", "builtins.exec", "torch.ops.aten.save.default",
    "torch.ops.aten.from_file.default", "torch.ops.higher_order.with_effects",
    "torch.ops.aten.tanh.default", "torch.ops.aten.relu.default", "_operator.getitem",
    "torch.serialization.load", "#custom.op", "math.floor",
]
PAYLOADS = [
    "__import__('os').system('touch MARKER')", "open('MARKER', 'w')",
    "Symbol('s77', positive=True, integer=True)", "s77*2", "9**9**9", "x\n__import__('os')",
    "x=open('MARKER','w')", "s77\r# comment",
]


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fuzz-originals")
    return {"torchscript": model_zoo.make_model(root / "ts").parent,
            "export": model_zoo.make_model(root / "pt2", fmt="export").parent}


def _members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def _write(path: Path, members: list[tuple[str, bytes]]) -> None:
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as z:
        warnings.simplefilter("ignore", UserWarning)   # duplicate names are part of the fuzz
        for name, data in members:
            z.writestr(name, data)


def _harmless_or_refused(folder: Path, marker: Path) -> None:
    """The property: one-line refusal, or a load and a forward pass that write nothing."""
    try:
        model = load_model(folder / "card.toml", device="cpu")
        model(torch.zeros(2, 1, 28, 28))
    except UserError as exc:
        assert "\n" not in str(exc)
    assert not marker.exists(), f"a mutated model wrote {marker}"


Members = list[tuple[str, bytes]]


def _check_mutation(original: Path, file_name: str,
                    mutate: Callable[[Members, Path], Members]) -> None:
    """A copy of the model folder `original` whose archive `file_name` is rewritten as
    mutate(members, marker) is refused in one line, or loads and runs without writing `marker`."""
    tmp = Path(tempfile.mkdtemp(prefix="model-fuzz-"))
    try:
        folder, marker = tmp / "m", tmp / "written"
        shutil.copytree(original, folder)
        path = folder / file_name
        _write(path, mutate(_members(path), marker))
        _harmless_or_refused(folder, marker)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@FUZZ
@given(data=st.data())
def test_fuzz_torchscript_code(originals, data):
    def mutate(members: Members, marker: Path) -> Members:
        lines = data.draw(st.lists(st.one_of(st.sampled_from(CODE_LINES),
                                             st.text(max_size=30)), min_size=1, max_size=4))
        injected = "".join(f"    {line.replace('MARKER', repr(str(marker)))}\n" for line in lines)
        name = next(n for n, d in members if b"def forward" in d and b"head = self.head" in d)
        return [(n, d.decode().replace("    head = self.head\n", injected
                                       + "    head = self.head\n", 1).encode("utf-8",
                                                                             "surrogatepass")
                 if n == name else d) for n, d in members]

    _check_mutation(originals["torchscript"], "model.pt", mutate)


def _mutate_strings(value, pick):
    if isinstance(value, dict):
        return {k: _mutate_strings(v, pick) for k, v in value.items()}
    if isinstance(value, list):
        return [_mutate_strings(v, pick) for v in value]
    if isinstance(value, str):
        return pick(value)
    return value


@FUZZ
@given(data=st.data())
def test_fuzz_export_program(originals, data):
    def mutate(members: Members, marker: Path) -> Members:
        replacement = st.one_of(st.sampled_from(TARGETS), st.sampled_from(PAYLOADS),
                                st.text(max_size=20))
        rate = data.draw(st.sampled_from([0.02, 0.1, 0.3]))

        def pick(text: str) -> str:
            if data.draw(st.floats(0, 1)) >= rate:
                return text
            return data.draw(replacement).replace("MARKER", str(marker))

        return [(n, json.dumps(_mutate_strings(json.loads(d), pick)).encode()
                 if n.endswith("models/model.json") else d) for n, d in members]

    _check_mutation(originals["export"], "model.pt2", mutate)


@FUZZ
@given(data=st.data())
def test_fuzz_archive_members(originals, data):
    fmt = data.draw(st.sampled_from(["torchscript", "export"]))

    def mutate(members: Members, marker: Path) -> Members:
        root = members[0][0].split("/", 1)[0]
        names = [n.split("/", 1)[1] for n, _ in members]
        new_name = st.one_of(
            st.sampled_from(names).map(lambda n: n.upper() if data.draw(st.booleans()) else n),
            st.sampled_from(["models/", "data/sample_inputs/", "data/weights/", "code/",
                             "data/constants/", "extra/", ""]).flatmap(
                lambda prefix: st.text("abcXYZ._/-0123456789", min_size=1, max_size=12).map(
                    lambda rest: prefix + rest)))
        for _ in range(data.draw(st.integers(1, 3))):
            action = data.draw(st.sampled_from(["add", "drop", "garble"]))
            if action == "add":
                members.append((f"{root}/{data.draw(new_name)}", data.draw(st.binary(max_size=64))))
            elif action == "drop" and len(members) > 1:
                members.pop(data.draw(st.integers(0, len(members) - 1)))
            else:
                i = data.draw(st.integers(0, len(members) - 1))
                members[i] = (members[i][0], data.draw(st.binary(max_size=256)))
        return members

    _check_mutation(originals[fmt], "model.pt" if fmt == "torchscript" else "model.pt2", mutate)
