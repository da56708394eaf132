"""Model cards: the TOML file beside a model that says what it is and how to feed it.

    name = "Quick, Draw! CNN"
    task = "classify"             # classify | embed | generate
    file = "model.pt"             # TorchScript or torch.export program, inside the card's folder
    labels = ["apple", "book"]    # classify: one per output logit, in order
    description = "..."           # optional
    [input]                       # the RenderSpec (sketchstudio.render.spec)
    size = 28
    ...

An embed model may name a second, image-side encoder (two-tower sketch-based image retrieval):

    gallery_file = "image_encoder.pt"   # TorchScript in the card's folder, same rules as `file`
    [gallery_input]                     # how gallery images are fed to it
    size = 224
    channels = 3                        # 1 (grey) or 3 (RGB)
    mean = [0.485, 0.456, 0.406]        # applied to pixels in [0, 1]
    std = [0.229, 0.224, 0.225]

Every problem is reported as one line naming the card file and the key, because the card is
something a person wrote by hand and has to fix by hand.
"""
from __future__ import annotations

import math
import os
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from ..errors import UserError
from ..render.spec import RenderSpec
from .small_file import kind_of, path_problem, read_small_file
from .tasks import TASKS, ModelTask

CARD_FILENAME = "card.toml"
MAX_CARD_BYTES = 1024 * 1024     # a card is a page of hand-written TOML; anything bigger is not one
# Nesting of arrays and tables: a card needs 3 levels; tomllib recurses once per level and a deep
# enough card (100,000 "[") would exhaust the interpreter's stack, so depth is bounded.
MAX_CARD_NESTING = 32
# TOML integers are 64-bit (the spec says a parser must refuse what it cannot represent);
# tomllib keeps any size, and a huge one breaks every consumer (str() and JSON refuse over 4,300
# digits), so the card loader enforces the spec's range.
INT64_RANGE = (-(1 << 63), (1 << 63) - 1)
# Geometry and polarity have no safe default: a wrong guess silently ruins accuracy, so the card
# must say them. Softness, margin and normalisation fall back to RenderSpec's documented defaults.
REQUIRED_INPUT_KEYS = ("size", "channels", "ink", "fit")
_KNOWN_KEYS = {"name", "task", "file", "labels", "description", "input", "gallery_file",
               "gallery_input"}
GALLERY_INPUT_KEYS = ("size", "channels", "mean", "std")
_TYPE_NAMES: dict[type, str] = {str: "string", list: "list"}
# Makes the one-line error for a key of the card: bad(key, problem).
_Bad = Callable[[str, str], UserError]


@dataclass(frozen=True)
class GalleryInput:
    """How a two-tower model's image encoder takes a gallery image: RGB or grey, resized to
    size x size, pixels scaled to [0, 1], then (x - mean) / std per channel."""

    size: int
    channels: int
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "channels": self.channels, "mean": list(self.mean),
                "std": list(self.std)}


@dataclass(frozen=True)
class ModelCard:
    name: str
    task: str
    file: Path                      # absolute, resolved, inside `path.parent`
    spec: RenderSpec
    path: Path                      # the card file itself (absolute)
    labels: tuple[str, ...] = ()
    description: str = ""
    file_name: str = ""             # `file` exactly as written in the card (relative)
    extra: Mapping[str, Any] = field(default_factory=dict)  # unknown top-level keys, kept as-is
    gallery_file: Path | None = None            # embed: the image encoder (absolute, inside folder)
    gallery_file_name: str = ""                 # as written in the card
    gallery_input: GalleryInput | None = None   # embed: how gallery images are fed to it

    @property
    def folder(self) -> Path:
        return self.path.parent

    def to_dict(self) -> dict[str, Any]:
        """The card as plain data (JSON/TOML-ready), `file` relative as written."""
        d: dict[str, Any] = {"name": self.name, "task": self.task, "file": self.file_name}
        if self.description:
            d["description"] = self.description
        if self.labels or self.task == ModelTask.CLASSIFY:
            d["labels"] = list(self.labels)
        if self.gallery_file is not None:
            d["gallery_file"] = self.gallery_file_name
        d.update(self.extra)
        d["input"] = self.spec.to_dict()
        if self.gallery_input is not None:
            d["gallery_input"] = self.gallery_input.to_dict()
        return d


def card_path_of(path: str | Path) -> Path:
    """A card file, or a folder holding card.toml -> the card file's absolute path."""
    p = Path(path).expanduser()
    try:
        is_dir = stat.S_ISDIR(os.stat(p).st_mode)
    except (OSError, ValueError):   # a name the system refuses is reported by load_card
        is_dir = False
    if is_dir:
        p = p / CARD_FILENAME
    return p.absolute()


def load_card(path: str | Path) -> ModelCard:
    """Read and validate a card file (or a folder with card.toml); UserError on any problem."""
    card_path = card_path_of(path)
    # Only a regular file is ever opened (a FIFO would block for ever), at most the size limit.
    raw = read_small_file(card_path, MAX_CARD_BYTES, "model card")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{card_path}: not a text (UTF-8) file: {exc.reason}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{card_path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise UserError(f"{card_path}: arrays or tables nested too deeply "
                        f"(more than {MAX_CARD_NESTING} levels)") from None
    except ValueError as exc:   # an integer of over 4,300 digits (int max str digits)
        raise UserError(f"{card_path}: a number is too long: "
                        f"{' '.join(str(exc).split())[:120]}") from None
    check_values(data, card_path)
    return parse_card(data, card_path)


def check_values(data: Mapping[str, Any], card_path: Path) -> None:
    """Every value at most MAX_CARD_NESTING deep and every integer 64-bit, as TOML defines them.

    Iterative, so the check itself never recurses; names the first offending key."""
    stack: list[tuple[str, Any, int]] = [(k, v, 1) for k, v in data.items()]
    while stack:
        where, value, depth = stack.pop()
        if depth > MAX_CARD_NESTING:
            raise UserError(f"{card_path}: {where}: nested more than {MAX_CARD_NESTING} "
                            f"levels deep")
        if isinstance(value, int) and not isinstance(value, bool):
            if not INT64_RANGE[0] <= value <= INT64_RANGE[1]:
                raise UserError(f"{card_path}: {where}: integer out of range "
                                f"(TOML integers are 64-bit, at most {INT64_RANGE[1]})")
        elif isinstance(value, Mapping):
            stack.extend((f"{where}.{k}", v, depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", v, depth + 1) for i, v in enumerate(value))


def parse_card(data: Mapping[str, Any], card_path: Path) -> ModelCard:
    def bad(key: str, problem: str) -> UserError:
        return UserError(f"{card_path}: {key}: {problem}")

    name = _required(data, "name", str, bad).strip()
    if not name:
        raise bad("name", "must not be empty")
    task = _required(data, "task", str, bad)
    if task not in TASKS:
        raise bad("task", f"must be one of {', '.join(TASKS)}, got {task!r}")
    file_name = _required(data, "file", str, bad)
    model_file = _inside_folder(file_name, card_path.parent, bad)

    labels = _labels(data, task, bad)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise bad("description", f"must be a string, got {_kind(description)}")

    if "input" not in data:
        raise bad("[input]", "missing (the render spec: size, channels, ink, fit, ...)")
    section = data["input"]
    if not isinstance(section, Mapping):
        raise bad("input", f"must be a table [input], got {_kind(section)}")
    missing = [k for k in REQUIRED_INPUT_KEYS if k not in section]
    if missing:
        raise bad("[input]", f"missing key(s): {', '.join(missing)}")
    try:
        spec = RenderSpec.from_dict(section)
    except UserError as exc:
        raise bad("[input]", str(exc)) from None
    except TypeError as exc:  # e.g. a nested table where a number belongs
        raise bad("[input]", str(exc)) from None

    gallery_file, gallery_file_name, gallery_input = _gallery_encoder(data, task, card_path, bad)
    extra = {k: v for k, v in data.items() if k not in _KNOWN_KEYS}
    return ModelCard(name=name, task=task, file=model_file, spec=spec, path=card_path,
                     labels=labels, description=description, file_name=file_name, extra=extra,
                     gallery_file=gallery_file, gallery_file_name=gallery_file_name,
                     gallery_input=gallery_input)


def _gallery_encoder(data: Mapping[str, Any], task: str, card_path: Path,
                     bad: _Bad) -> tuple[Path | None, str, GalleryInput | None]:
    """`gallery_file` + `[gallery_input]` (embed models only, both or neither)."""
    has_file, has_input = "gallery_file" in data, "gallery_input" in data
    if not has_file and not has_input:
        return None, "", None
    key = "gallery_file" if has_file else "gallery_input"
    if task != ModelTask.EMBED:
        raise bad(key, f"only an embed model has an image encoder (task is {task!r})")
    if not has_file:
        raise bad("gallery_file", "missing ([gallery_input] needs the image encoder file)")
    if not has_input:
        raise bad("[gallery_input]", "missing (size, channels, mean, std of the image encoder)")
    file_name = _required(data, "gallery_file", str, bad)
    path = _inside_folder(file_name, card_path.parent, bad, key="gallery_file")
    section = data["gallery_input"]
    if not isinstance(section, Mapping):
        raise bad("gallery_input", f"must be a table [gallery_input], got {_kind(section)}")
    unknown = sorted(set(section) - set(GALLERY_INPUT_KEYS))
    if unknown:
        raise bad("[gallery_input]", f"unknown key(s): {', '.join(unknown)} "
                                     f"(known: {', '.join(GALLERY_INPUT_KEYS)})")
    missing = [k for k in GALLERY_INPUT_KEYS if k not in section]
    if missing:
        raise bad("[gallery_input]", f"missing key(s): {', '.join(missing)}")
    size, channels = section["size"], section["channels"]
    if not isinstance(size, int) or isinstance(size, bool) or not 4 <= size <= 2048:
        raise bad("[gallery_input]", f"size must be an integer in 4..2048, got {size!r}")
    if channels not in (1, 3) or isinstance(channels, bool):
        raise bad("[gallery_input]", f"channels must be 1 or 3, got {channels!r}")
    values: dict[str, tuple[float, ...]] = {}
    for name in ("mean", "std"):
        v = section[name]
        v = [v] if isinstance(v, (int, float)) and not isinstance(v, bool) else v
        if (not isinstance(v, list) or not v or len(v) not in (1, channels)
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                           and math.isfinite(x) for x in v)):
            raise bad("[gallery_input]",
                      f"{name} must be 1 or {channels} finite numbers, got {v!r}")
        values[name] = tuple(float(x) for x in v)
    if any(x == 0 for x in values["std"]):
        raise bad("[gallery_input]", "std must not contain 0")
    return path, file_name, GalleryInput(size, channels, values["mean"], values["std"])


def _required(data: Mapping[str, Any], key: str, kind: type, bad: _Bad) -> Any:
    if key not in data:
        raise bad(key, "missing")
    value = data[key]
    if not isinstance(value, kind):
        raise bad(key, f"must be a {_TYPE_NAMES.get(kind, kind.__name__)}, got {_kind(value)}")
    return value


def _labels(data: Mapping[str, Any], task: str, bad: _Bad) -> tuple[str, ...]:
    if "labels" not in data:
        if task == ModelTask.CLASSIFY:
            raise bad("labels", "missing (a classify model needs one label per output, in order)")
        return ()
    labels = data["labels"]
    if not isinstance(labels, list):
        raise bad("labels", f"must be a list of strings, got {_kind(labels)}")
    if task == ModelTask.CLASSIFY and not labels:
        raise bad("labels", "must not be empty for a classify model")
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        if not isinstance(label, str):
            raise bad("labels", f"item {i} must be a string, got {_kind(label)} {label!r}")
        if not label.strip():
            raise bad("labels", f"item {i} is empty")
        if label in seen:
            # Two logits with one name cannot be told apart in any explanation.
            raise bad("labels", f"{label!r} appears twice (items {seen[label]} and {i})")
        seen[label] = i
    return tuple(labels)


def _inside_folder(file_name: str, folder: Path, bad: _Bad, key: str = "file") -> Path:
    """The model file, refusing anything that leaves the card's folder.

    Cards get copied into the store and shared; a card that points elsewhere (absolute path, `..`,
    a symlink out) would make the store read or copy files the user never meant to hand over.
    """
    if not file_name.strip():
        raise bad(key, "must not be empty")
    if "\0" in file_name:
        raise bad(key, "contains a NUL character")
    # Check both spellings so a card written on Windows is judged the same everywhere.
    for pure in (PurePosixPath(file_name), PureWindowsPath(file_name)):
        if pure.is_absolute() or pure.anchor:
            raise bad(key, f"must be a path relative to the card's folder, got {file_name!r}")
        if ".." in pure.parts:
            raise bad(key, f"must stay inside the card's folder (no '..'), got {file_name!r}")
    try:
        root = folder.resolve()
        target = (folder / file_name).resolve()
    except (OSError, RuntimeError, ValueError) as exc:   # a symlink loop, a name too long
        raise bad(key, f"{file_name!r}: {path_problem(exc)}") from None
    if not target.is_relative_to(root) or target == root:
        raise bad(key, f"{file_name!r} leads outside the card's folder (symlink?)")
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        raise bad(key, f"{file_name!r} does not exist beside the card") from None
    except (OSError, ValueError) as exc:
        raise bad(key, f"{file_name!r}: {path_problem(exc)}") from None
    if not stat.S_ISREG(mode):   # a FIFO or a device would block or never end when read
        raise bad(key, f"{file_name!r} is {kind_of(mode)}, not a model file")
    return target


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number" if math.isfinite(value) else "a non-finite number"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__
