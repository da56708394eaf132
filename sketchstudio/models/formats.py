"""Which kind of model file this is, decided from the zip layout alone — never by unpickling.

TorchScript (`torch.jit.save`) and torch.export (`torch.export.save`, ".pt2") files are both zip
archives with one root folder. TorchScript holds `code/` and `constants.pkl`; its pickles are read
by TorchScript's own C++ unpickler, which only builds TorchScript types, so loading it runs no
Python. A PT2 archive holds `archive_format` = "pt2", a JSON graph and raw weights, but
`torch.export.load` does call Python's unpickler on a few members (sample inputs, tensor-subclass
weights, opaque constants, legacy layouts), falling back to full unpickling when the safe loader
fails. So a PT2 file is only accepted when every one of those members is absent, or is a plain
pickle whose globals are all on a short list of tensor-rebuilding functions (checked by reading
the opcodes, without executing them).

A `torch.save` file (a zip with only `data.pkl`, or an old raw pickle) is refused outright.
"""
from __future__ import annotations

import io
import json
import pickletools
import zipfile
from pathlib import Path

from ..errors import UserError

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


def detect_format(path: str | Path) -> str:
    """TORCHSCRIPT or EXPORT; UserError (one line) for anything else, pickles included."""
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
    try:
        with zipfile.ZipFile(path) as archive:
            return _classify(archive, path)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        raise UserError(f"{path}: damaged model archive: {exc}") from None


def _classify(archive: zipfile.ZipFile, path: Path) -> str:
    names = [n for n in archive.namelist() if not n.endswith("/")]
    roots = {n.split("/", 1)[0] for n in names}
    if len(roots) != 1 or any("/" not in n for n in names):
        raise UserError(f"{path}: not a TorchScript or torch.export file (unexpected zip layout)")
    root = roots.pop() + "/"
    members = {n[len(root):] for n in names}

    if "archive_format" in members:
        value = archive.read(root + "archive_format").decode("utf-8", "replace").strip()
        if value != "pt2":
            raise UserError(f"{path}: unsupported torch.export archive format {value!r}")
        _check_pt2(archive, root, members, path)
        return EXPORT
    if "constants.pkl" in members and any(m.startswith("code/") for m in members):
        return TORCHSCRIPT
    if "data.pkl" in members:
        raise UserError(f"{path}: is a torch.save pickle, not a TorchScript or torch.export "
                        f"program; SketchStudio never unpickles files: {_HOW_TO_SAVE}")
    if "serialized_exported_program.json" in members:
        raise UserError(f"{path}: old torch.export format (before PT2 archives), which needs "
                        f"unpickling; re-save it with a current torch.export.save")
    raise UserError(f"{path}: not a TorchScript or torch.export file (unexpected zip layout)")


def _check_pt2(archive: zipfile.ZipFile, root: str, members: set[str], path: Path) -> None:
    def refuse(why: str) -> UserError:
        return UserError(f"{path}: torch.export file needs unpickling ({why}), which "
                         f"SketchStudio never does; export plain tensors only")

    if any(m.startswith("data/aotinductor/") for m in members):
        raise UserError(f"{path}: AOTInductor packages hold compiled native code; "
                        f"export the program without compiling it")
    models = sorted(m[len("models/"):-len(".json")] for m in members
                    if m.startswith("models/") and m.endswith(".json"))
    if not models:
        raise UserError(f"{path}: torch.export archive without a program (models/*.json)")
    for name in models:
        for legacy in (f"data/weights/{name}.pt", f"data/constants/{name}.pt"):
            if legacy in members:
                raise refuse(f"legacy pickled {legacy}")
        for config_name in (f"data/weights/{name}_weights_config.json",
                            f"data/constants/{name}_constants_config.json"):
            if config_name not in members:
                raise UserError(f"{path}: torch.export archive lacks {config_name}")
            config = json.loads(archive.read(root + config_name)).get("config", {})
            for fqn, meta in config.items():
                if meta.get("use_pickle"):
                    raise refuse(f"pickled tensor {fqn}")
                if not str(meta.get("path_name", "")).startswith(("weight_", "tensor_")):
                    raise refuse(f"custom object {fqn}")
        sample = f"data/sample_inputs/{name}.pt"
        if sample in members:
            problem = _unsafe_tensor_pickle(archive.read(root + sample))
            if problem:
                raise refuse(f"sample inputs: {problem}")


def _unsafe_tensor_pickle(blob: bytes) -> str | None:
    """Why this torch.save blob is not a plain tensor pickle, or None when it is."""
    if not blob:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as inner:
            pickles = [n for n in inner.namelist() if n.endswith("/data.pkl")]
            if len(pickles) != 1:
                return "unexpected layout"
            data = inner.read(pickles[0])
    except zipfile.BadZipFile:
        return "not a zip archive"
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
    return None
