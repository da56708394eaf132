"""Which kind of model file this is, and whether it is safe to hand to torch — decided from the
archive alone, before torch loads anything, never by unpickling.

TorchScript (`torch.jit.save`) and torch.export (`torch.export.save`, ".pt2") files are both zip
archives with one root folder, listed and read here exactly as torch's loaders will
(`archive.ModelArchive`: same reader, sizes capped).

TorchScript holds `code/` and `constants.pkl`; its pickles are read by TorchScript's own C++
unpickler, which only builds TorchScript types, but `torch.jit.load` compiles the `code/` sources
and runs a scripted `__setstate__`, so every source is scanned for operators outside the
allow-list of `safety.py` first.

A PT2 archive is refused unless it holds exactly the members `torch.export.save` writes for one
program named "model": `torch.export.load` treats every member under `models/` as a program (a
member `models/evilXjson` is a program "evil") and, for each, loads sample inputs, weights and
constants, some through Python's unpickler with a `weights_only=False` retry. So: no pickled
weights or constants, no custom or opaque objects, no AOTInductor native code, sample inputs
that `torch.load(weights_only=True)` reads and whose pickle names only tensor-rebuilding
functions, and a program whose operators, symbolic shapes and names pass `safety.py`.
(SketchStudio also sets TORCH_FORCE_WEIGHTS_ONLY_LOAD=1 for the whole process: a second wall.)

A `torch.save` file (a zip with only `data.pkl`, or an old raw pickle) is refused outright.
"""
from __future__ import annotations

import io
import json
import pickletools
import re
import zipfile
from pathlib import Path
from typing import Any

from ..errors import UserError
from . import safety
from .archive import ModelArchive

TORCHSCRIPT = "torchscript"
EXPORT = "torch.export"

_HOW_TO_SAVE = ("save the model with torch.jit.save(torch.jit.script(model), ...) "
                "or torch.export.save(torch.export.export(model, (example,)), ...)")

# Globals a plain tensor pickle (torch.save of tensors, tuples, dicts) needs, and nothing else.
_SAFE_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_parameter"),
    ("collections", "OrderedDict"),
    ("torch", "Size"),
}

# Every member torch.export.save writes for the one program "model" (torch 2.x PT2 layout).
_PT2_FIXED = {"archive_format", "archive_version", "byteorder", ".data/version",
              ".data/serialization_id", "version", "models/model.json",
              "data/sample_inputs/model.pt", "data/weights/model_weights_config.json",
              "data/constants/model_constants_config.json"}
_PT2_PAYLOAD = re.compile(r"data/weights/weight_\d{1,9}|data/constants/tensor_\d{1,9}"
                          r"|extra/[A-Za-z0-9_.-]{1,200}")
_MAX_JSON_BYTES = 256 << 20


def detect_format(path: str | Path) -> str:
    """TORCHSCRIPT or EXPORT after inspecting the whole file; UserError (one line) otherwise."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
    except OSError as exc:
        raise UserError(f"{path}: cannot read model file: {exc.strerror or exc}") from None
    if not zipfile.is_zipfile(path):
        if head[:1] == b"\x80" or head[:1] in (b"(", b"}", b"]"):
            raise UserError(f"{path}: is a Python pickle, which SketchStudio never loads "
                            f"(it could run any code); {_HOW_TO_SAVE}")
        raise UserError(f"{path}: not a TorchScript or torch.export file "
                        f"(not a zip archive, or a truncated one)")
    archive = ModelArchive(path)
    try:
        return _classify(archive, path)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, RecursionError) as exc:
        raise UserError(f"{path}: damaged model archive: {exc}") from None


def _classify(archive: ModelArchive, path: Path) -> str:
    members = set(archive.names)
    if "archive_format" in members:
        value = archive.read("archive_format").decode("utf-8", "replace").strip()
        if value != "pt2":
            raise UserError(f"{path}: unsupported torch.export archive format {value!r}")
        _check_pt2(archive, members, path)
        return EXPORT
    if "constants.pkl" in members and any(m.startswith("code/") for m in members):
        safety.check_torchscript_sources(archive)
        return TORCHSCRIPT
    if "data.pkl" in members:
        raise UserError(f"{path}: is a torch.save pickle, not a TorchScript or torch.export "
                        f"program; SketchStudio never unpickles files: {_HOW_TO_SAVE}")
    if "serialized_exported_program.json" in members:
        raise UserError(f"{path}: old torch.export format (before PT2 archives), which needs "
                        f"unpickling; re-save it with a current torch.export.save")
    raise UserError(f"{path}: not a TorchScript or torch.export file (unexpected zip layout)")


def _check_pt2(archive: ModelArchive, members: set[str], path: Path) -> None:
    def refuse(why: str) -> UserError:
        return UserError(f"{path}: torch.export file needs unpickling ({why}), which "
                         f"SketchStudio never does; export plain tensors only")

    if any(m.startswith("data/aotinductor/") for m in members):
        raise UserError(f"{path}: AOTInductor packages hold compiled native code; "
                        f"export the program without compiling it")
    for legacy in ("data/weights/model.pt", "data/constants/model.pt"):
        if legacy in members:
            raise refuse(f"legacy pickled {legacy}")
    # Programs first: a second program is the attack to name, not its supporting members.
    for member in sorted(members, key=lambda m: (not m.startswith("models/"), m)):
        if member.endswith("/") or member in _PT2_FIXED or _PT2_PAYLOAD.fullmatch(member):
            continue
        if member.startswith("models/"):
            raise UserError(f"{path}: refused: {member} would be loaded as a second program; "
                            f"a model file holds exactly one program, models/model.json")
        raise UserError(f"{path}: refused: unexpected member {member} in a torch.export file")
    for required in ("models/model.json", "data/weights/model_weights_config.json",
                     "data/constants/model_constants_config.json"):
        if required not in members:
            raise UserError(f"{path}: torch.export archive lacks {required}")

    safety.check_export_program(_json(archive, "models/model.json", path), path,
                                "models/model.json")
    for config_name, prefix in (("data/weights/model_weights_config.json", "data/weights/"),
                                ("data/constants/model_constants_config.json", "data/constants/")):
        config = _json(archive, config_name, path)
        entries = config.get("config", {}) if isinstance(config, dict) else None
        if not isinstance(entries, dict):
            raise UserError(f"{path}: torch.export archive has a malformed {config_name}")
        for fqn, meta in entries.items():
            if not isinstance(meta, dict) or meta.get("use_pickle"):
                raise refuse(f"pickled tensor {fqn}")
            name = str(meta.get("path_name", ""))
            if not re.fullmatch(r"(weight|tensor)_\d{1,9}", name):
                raise refuse(f"custom object {fqn}")
            if prefix + name not in members:
                raise UserError(f"{path}: torch.export archive lacks {prefix + name}")
    sample = "data/sample_inputs/model.pt"
    if sample in members:
        problem = _unsafe_tensor_pickle(archive.read(sample))
        if problem:
            raise refuse(f"sample inputs: {problem}")


def _json(archive: ModelArchive, member: str, path: Path) -> Any:
    if archive.sizes[member] > _MAX_JSON_BYTES:
        raise UserError(f"{path}: {member} is larger than {_MAX_JSON_BYTES >> 20} MB")
    try:
        return json.loads(archive.read(member))
    except (ValueError, RecursionError) as exc:
        raise UserError(f"{path}: torch.export archive has a malformed {member}: "
                        f"{str(exc)[:120]}") from None


def _unsafe_tensor_pickle(blob: bytes) -> str | None:
    """Why this torch.save blob is not a plain tensor pickle, or None when it is.

    Read with torch's own reader (as torch.load does), scanned opcode by opcode, and then
    actually loaded with weights_only=True, the only way torch.export.load may read it here.
    """
    import torch

    if not blob:
        return None
    try:
        inner = torch._C.PyTorchFileReader(io.BytesIO(blob))
        data = inner.get_record("data.pkl")
    except Exception:
        return "not a torch.save archive"
    try:
        for opcode, arg, _ in pickletools.genops(data):
            if opcode.name in ("GLOBAL", "INST"):
                module, _, name = str(arg).partition(" ")
                if (module, name) not in _SAFE_GLOBALS and not (
                        module == "torch" and name.endswith("Storage")):
                    return f"refers to {module}.{name}"
            elif opcode.name == "STACK_GLOBAL":
                # torch.save writes protocol 2 (GLOBAL); a computed global is not ours to trust.
                return "computed global reference"
    except Exception as exc:  # pickletools raises ValueError and friends on garbage
        return f"unreadable ({exc})"
    try:
        torch.load(io.BytesIO(blob), weights_only=True, map_location="cpu")
    except Exception as exc:
        return f"not plain tensors ({str(exc).splitlines()[0][:120] if str(exc) else exc})"
    return None
