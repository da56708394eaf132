"""A model archive seen exactly as torch's loaders see it, with its size bounded before anything
is read.

TorchScript and torch.export files are zip archives read by torch's own C++ reader (miniz), not by
Python's `zipfile`. The two can disagree: miniz finds a member by a case-insensitive name, and a
zip may list one name twice. Inspecting with one reader while torch loads with the other would
check one set of bytes and run another, so every member is listed and read here through
`torch._C.PyTorchFileReader`, the reader `torch.jit.load` and `torch.export.load` use, and an
archive is refused when the two directories disagree or two names differ only by case.

Sizes come from the zip's central directory, which both readers trust to bound what they inflate:
a member may expand to at most MAX_EXPANSION times its compressed size (torch writes members
uncompressed, so a real model's ratio is 1), and all members together to at most MAX_MODEL_BYTES.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import torch

from ..errors import UserError

MAX_MODEL_BYTES = 2 << 30        # all members of one model file, uncompressed (2 GiB)
MAX_EXPANSION = 64               # uncompressed / compressed for a deflated member (+ 1 MiB slack)
MAX_MEMBERS = 65_536             # members in one model file
_SLACK = 1 << 20


class ModelArchive:
    """The members of one model file under its root folder, listed and read as torch does."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        zip_sizes = _checked_directory(self.path)
        if "version" not in zip_sizes and ".data/version" not in zip_sizes:
            # torch's reader needs one of them: neither TorchScript, torch.export nor torch.save
            raise UserError(f"{self.path}: not a TorchScript or torch.export file "
                            f"(unexpected zip layout)")
        try:
            self._reader = torch._C.PyTorchFileReader(str(self.path))
            names = list(self._reader.get_all_records())
        except Exception as exc:  # miniz reports damage as RuntimeError with a long message
            raise UserError(f"{self.path}: damaged model archive: {_first_line(exc)}") from None
        if sorted(names) != sorted(zip_sizes):
            raise UserError(f"{self.path}: the zip directory is ambiguous (torch and Python list "
                            f"different members); refusing to guess which one would be loaded")
        self.names: tuple[str, ...] = tuple(names)
        self.sizes = zip_sizes

    def __contains__(self, name: str) -> bool:
        return name in self.sizes

    def read(self, name: str) -> bytes:
        """The member's bytes as torch's loaders will get them (size already capped)."""
        try:
            return self._reader.get_record(name)
        except Exception as exc:
            raise UserError(f"{self.path}: cannot read {name}: {_first_line(exc)}") from None


def _checked_directory(path: Path) -> dict[str, int]:
    """member name (without the root folder) -> uncompressed size; UserError past any limit."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UserError(f"{path}: damaged model archive: {exc}") from None
    if len(infos) > MAX_MEMBERS:
        raise UserError(f"{path}: model archive has {len(infos):,} members "
                        f"(the limit is {MAX_MEMBERS:,})")
    roots = {info.filename.split("/", 1)[0] for info in infos}
    if len(roots) != 1 or any("/" not in info.filename for info in infos):
        raise UserError(f"{path}: not a TorchScript or torch.export file (unexpected zip layout)")
    prefix = roots.pop() + "/"
    sizes: dict[str, int] = {}
    folded: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename[len(prefix):]
        if name.lower() in folded:
            raise UserError(f"{path}: model archive lists {name!r} twice (or twice up to case); "
                            f"refusing to guess which one would be loaded")
        folded.add(name.lower())
        if info.compress_type != zipfile.ZIP_STORED and (
                info.file_size > MAX_EXPANSION * info.compress_size + _SLACK):
            raise UserError(f"{path}: member {name} expands from {info.compress_size:,} to "
                            f"{info.file_size:,} bytes (a zip bomb?); model members may expand "
                            f"at most {MAX_EXPANSION}x")
        total += info.file_size
        if total > MAX_MODEL_BYTES:
            raise UserError(f"{path}: model archive holds more than {MAX_MODEL_BYTES >> 30} GiB "
                            f"uncompressed (the limit for one model file)")
        sizes[name] = info.file_size
    return sizes


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
