"""Retrieval with an embedding model (card `task = "embed"`): galleries, search, explanation, refinement.

A gallery is a folder of sketch files (each may hold many drawings), one many-drawing file
(.ndjson / .npz), or, for a two-tower model whose card names an image encoder (`gallery_file` +
`[gallery_input]`), a folder of images. Opening a gallery embeds every item once, in batches, with
progress and cancellation (Orange3 style: `progress(fraction)`, `cancelled()`, `Cancelled`), and
caches the unit-length embeddings on disk as .npy (never pickled), keyed by the model file(s), the
render spec and the contents of every gallery file, so re-opening is a hash check and one load.
An unreadable item is skipped, counted and listed; it never stops the gallery.

The attributed score of retrieval is the cosine similarity between the sketch and one gallery item
(`CosineSimilarity`, usable as `explain(..., objective=...)`); `refine` drops the strokes that lower
it, and `refine_match` says how the item's rank changes.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from ..errors import UserError
from ..progress import CancelledFn, ProgressFn, check, report
from ..render import Layout, RenderSpec, render_ink, stroke_ink, to_model_input
from ..render.raster import choose_tile, ink_radius
from ..sketch import Sketch

SKETCH_SUFFIXES = (".ndjson", ".npz", ".svg", ".json")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
BATCH_SIZE = 256            # sketches rendered into one atlas and embedded in one forward pass
IMAGE_BATCH_SIZE = 64
CACHE_VERSION = 1
MAX_LISTED_SKIPS = 1000     # a gallery of broken files still says how many, but lists only this many


# --- results ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GalleryItem:
    source: str               # the file the item came from
    index: int                # drawing index inside that file (0 for one-drawing files and images)
    word: str | None          # category: the drawing's `word`, else its sub-folder in the gallery
    key: str                  # identity (key_id, else a content hash): excludes a query from results

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "index": self.index, "word": self.word}


@dataclass(frozen=True)
class Skipped:
    source: str
    index: int | None         # None: the whole file
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "index": self.index, "reason": self.reason}


@dataclass
class Gallery:
    """Embedded gallery items; `embeddings[row]` belongs to `items[row]` (rows are unit length)."""

    path: Path
    kind: str                             # "sketch" or "image"
    items: list[GalleryItem]
    embeddings: np.ndarray                # (N, D) float32, L2-normalised
    skipped: list[Skipped] = field(default_factory=list)
    skipped_count: int = 0                # may exceed len(skipped) (the list is capped)
    model: str = ""
    cache_hit: bool = False
    cache_path: Path | None = None
    embedded: int = 0                     # items embedded by this open (0 on a full cache hit)
    elapsed_ms: float = 0.0
    # Per gallery file: its rows [start, end) and its skipped items (for the cache manifest).
    file_rows: list[tuple[int, int]] = field(default_factory=list, repr=False)
    file_skips: list[list[Skipped]] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    def load_sketch(self, row: int) -> Sketch:
        """The drawing of a sketch gallery's row (for thumbnails and display)."""
        from ..sketch.io import load_sketch

        if self.kind != "sketch":
            raise UserError(f"row {row} of {self.path} is an image, not a sketch")
        item = self.items[row]
        return load_sketch(item.source, item.index)

    def rows_of_key(self, key: str) -> list[int]:
        """Rows whose item has this identity (see `item_key`); indexed once, on first use."""
        index = self.__dict__.get("_key_rows")
        if index is None:
            index = {}
            for row, item in enumerate(self.items):
                index.setdefault(item.key, []).append(row)
            self.__dict__["_key_rows"] = index
        return index.get(key, [])

    def summary(self) -> dict[str, Any]:
        return {"gallery": str(self.path), "kind": self.kind, "items": len(self.items),
                "dim": self.dim, "skipped": self.skipped_count,
                "skipped_items": [s.to_json() for s in self.skipped],
                "cache_hit": self.cache_hit, "embedded": self.embedded,
                "elapsed_ms": round(self.elapsed_ms, 3)}


@dataclass(frozen=True)
class Match:
    rank: int                 # 1 = most similar
    similarity: float         # cosine
    row: int                  # row in the gallery
    source: str
    index: int
    word: str | None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"rank": self.rank, "similarity": round(self.similarity, 6),
                             "source": self.source, "index": self.index}
        if self.word is not None:
            d["word"] = self.word
        return d


# --- the objective --------------------------------------------------------------------------------

class CosineSimilarity:
    """Objective: cosine similarity between each output row (B, D) and one fixed gallery vector."""

    name = "cosine"

    def __init__(self, vector: Any) -> None:
        v = torch.as_tensor(np.asarray(vector, dtype=np.float32)).reshape(-1)
        if v.numel() == 0 or not torch.isfinite(v).all():
            raise UserError("the gallery vector must be a non-empty, finite vector")
        self.vector = v

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        if output.ndim != 2 or output.shape[1] != self.vector.numel():
            raise UserError(f"an embedding model must return (batch, {self.vector.numel()}) "
                            f"vectors here, got shape {tuple(output.shape)}")
        v = self.vector.to(device=output.device, dtype=output.dtype).unsqueeze(0)
        return torch.nn.functional.cosine_similarity(output, v, dim=1, eps=1e-8)

    def __repr__(self) -> str:
        return f"CosineSimilarity(dim={self.vector.numel()})"


# --- embedding ------------------------------------------------------------------------------------

def check_embed_model(model: Any) -> None:
    task = getattr(model, "task", "embed")
    if task != "embed":
        raise UserError(f"model {getattr(model, 'id', '?')!r} is a {task!r} model; retrieval needs "
                        'an embedding model (card task = "embed"), e.g. --model default-embed')


def _unit_rows(output: torch.Tensor, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(B, D) float32 unit rows and a (B,) mask of the rows that are usable (finite, non-zero)."""
    if output.ndim != 2:
        raise UserError(f"{what} must return (batch, dim) embeddings, got shape "
                        f"{tuple(output.shape)}")
    out = output.detach().float().cpu().numpy()
    norms = np.linalg.norm(out, axis=1)
    ok = np.isfinite(out).all(axis=1) & np.isfinite(norms) & (norms > 1e-12)
    rows = np.zeros_like(out)
    rows[ok] = out[ok] / norms[ok, None]
    return rows.astype(np.float32), ok


def render_batch(sketches: Sequence[Sketch], spec: RenderSpec, device: Any = None) -> torch.Tensor:
    """(B, size, size) ink of many sketches, no gradients: the same pixels as `render_ink`.

    Rendering one sketch at a time costs a few milliseconds of fixed overhead each; here the
    sketches are laid out as cells of one large atlas, separated by more than the ink radius, and
    inked by the project's rasteriser in one call. Cells are aligned to the renderer's tiles, so
    every pixel sees the same segments with the same formula. A sketch whose points leave its
    canvas (fit = "canvas") would ink its neighbours and is rendered on its own.
    """
    size = spec.size
    out = torch.zeros(len(sketches), size, size, device=device)
    radius = ink_radius(spec.sigma, spec.width)
    tile = choose_tile(radius)
    stride = -(-(size + math.ceil(radius) + 1) // tile) * tile
    cells: list[tuple[int, np.ndarray, list[int]]] = []
    for i, sketch in enumerate(sketches):
        if not len(sketch):
            continue
        scale, offset = spec.placement(sketch)
        pts = np.concatenate([s.points for s in sketch.strokes]) * scale + offset
        if pts.min() >= 0.0 and pts.max() <= size:
            cells.append((i, pts, sketch.points_per_stroke()))
        else:
            out[i] = render_ink(sketch, spec, device)
    if not cells:
        return out
    cols = math.ceil(math.sqrt(len(cells)))
    rows = math.ceil(len(cells) / cols)
    shifted, lengths = [], []
    for c, (_, pts, lens) in enumerate(cells):
        shifted.append(pts + np.array([(c % cols) * stride, (c // cols) * stride], dtype=np.float64))
        lengths.extend(lens)
    points = torch.as_tensor(np.concatenate(shifted), dtype=torch.float32, device=device)
    with torch.no_grad():
        ink = stroke_ink(points, Layout.from_lengths(lengths), max(cols, rows) * stride, spec.sigma,
                         tile=tile, width=spec.width).composite()[0]
    grid = ink[: rows * stride, : cols * stride].reshape(rows, stride, cols, stride)
    grid = grid.permute(0, 2, 1, 3).reshape(rows * cols, stride, stride)[:, :size, :size]
    index = torch.as_tensor([i for i, _, _ in cells], device=out.device)
    out[index] = grid[: len(cells)].to(out.device)
    return out


def embed_sketches(sketches: Sequence[Sketch], model: Any, batch_size: int = BATCH_SIZE,
                   progress: ProgressFn = None, cancelled: CancelledFn = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Unit embeddings (N, D) of sketches and a mask of the usable ones (finite, non-zero)."""
    check_embed_model(model)
    device = getattr(model, "device", None)
    chunks, masks = [], []
    for start in range(0, len(sketches), max(batch_size, 1)):
        check(cancelled)
        batch = sketches[start:start + batch_size]
        x = to_model_input(render_batch(batch, model.spec, device), model.spec)
        with torch.no_grad():
            rows, ok = _unit_rows(model(x), f"model {getattr(model, 'id', '?')!r}")
        chunks.append(rows)
        masks.append(ok)
        report(progress, (start + len(batch)) / len(sketches))
    if not chunks:
        return np.zeros((0, 0), np.float32), np.zeros(0, bool)
    return np.concatenate(chunks), np.concatenate(masks)


def embed_sketch(sketch: Sketch, model: Any) -> np.ndarray:
    """The unit embedding (D,) of one sketch, rendered exactly as `explain` renders it."""
    check_embed_model(model)
    with torch.no_grad():
        ink = render_ink(sketch, model.spec, getattr(model, "device", None)).unsqueeze(0)
        rows, ok = _unit_rows(model(to_model_input(ink, model.spec)),
                              f"model {getattr(model, 'id', '?')!r}")
    if not ok[0]:
        raise UserError("the model's embedding of this sketch is zero or not finite")
    return rows[0]


def image_input(paths: Sequence[Path], card_input: Any) -> torch.Tensor:
    """(B, C, size, size) images per [gallery_input]: resized (squashed) to a square, [0, 1],
    normalised. Raises OSError/ValueError for an unreadable file (the caller skips it)."""
    from PIL import Image

    arrays = []
    for path in paths:
        with Image.open(path) as im:
            im = im.convert("RGB" if card_input.channels == 3 else "L")
            im = im.resize((card_input.size, card_input.size), Image.BILINEAR)
            a = np.asarray(im, dtype=np.float32) / 255.0
        arrays.append(a.reshape(card_input.size, card_input.size, -1).transpose(2, 0, 1))
    x = torch.from_numpy(np.stack(arrays))
    mean = torch.tensor(card_input.mean).view(1, -1, 1, 1)
    std = torch.tensor(card_input.std).view(1, -1, 1, 1)
    return (x - mean) / std


# --- reading a gallery ----------------------------------------------------------------------------

@dataclass
class _File:
    path: Path
    rel: str
    digest: str = ""


def _gallery_files(path: Path, model: Any) -> tuple[str, list[_File]]:
    """('sketch' | 'image', files) of a gallery path, or one clear UserError."""
    if not path.exists():
        raise UserError(f"{path}: no such gallery (a folder of sketch files, an .ndjson file, or a "
                        "folder of images)")
    if path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            raise UserError(f"{path}: a gallery is a folder (of sketches or images) or a "
                            "many-drawing file, not one image")
        if path.suffix.lower() not in SKETCH_SUFFIXES:
            raise UserError(f"{path}: not a sketch file ({', '.join(SKETCH_SUFFIXES)})")
        return "sketch", [_File(path, path.name)]
    files = sorted((p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")),
                   key=lambda p: p.relative_to(path).as_posix())
    sketches = [p for p in files if p.suffix.lower() in SKETCH_SUFFIXES]
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if sketches:
        return "sketch", [_File(p, p.relative_to(path).as_posix()) for p in sketches]
    if images:
        if not getattr(model, "has_image_encoder", False):
            raise UserError(f"{path} is a folder of images, but model "
                            f"{getattr(model, 'id', '?')!r} has no image encoder (a two-tower "
                            "model names one with gallery_file and [gallery_input] in its card); "
                            "use a folder of sketches instead")
        return "image", [_File(p, p.relative_to(path).as_posix()) for p in images]
    raise UserError(f"{path}: empty gallery: no sketch files ({', '.join(SKETCH_SUFFIXES)}) or "
                    f"images ({', '.join(IMAGE_SUFFIXES)}) in it")


def _word_from_folder(rel: str) -> str | None:
    parts = rel.split("/")
    return parts[-2] if len(parts) > 1 else None


def _sketch_key(sketch: Sketch) -> str:
    key = sketch.metadata.get("key_id")
    if key is not None:
        return f"key_id:{key}"
    h = hashlib.sha1()
    for s in sketch.strokes:
        h.update(np.ascontiguousarray(s.points, dtype=np.float64).tobytes())
        h.update(b"|")
    return "points:" + h.hexdigest()


def _read_sketch_file(f: _File) -> tuple[list[tuple[GalleryItem, Sketch]], list[Skipped]]:
    """Every drawing of one file; a bad drawing (or a bad file) is skipped with its reason."""
    from ..sketch.formats import quickdraw
    from ..sketch.io import SketchFileError, iter_sketches

    items: list[tuple[GalleryItem, Sketch]] = []
    skipped: list[Skipped] = []
    folder_word = _word_from_folder(f.rel)

    def add(index: int, sketch: Sketch) -> None:
        if not len(sketch):
            skipped.append(Skipped(str(f.path), index, "empty drawing (no strokes)"))
            return
        word = sketch.metadata.get("word")
        word = word if isinstance(word, str) and word else folder_word
        items.append((GalleryItem(str(f.path), index, word, _sketch_key(sketch)), sketch))

    try:
        if f.path.suffix.lower() == ".ndjson":
            # Line by line, so one broken drawing costs that drawing, not the rest of the file.
            for index, (lineno, line) in enumerate(quickdraw._records(f.path)):
                try:
                    sketch = quickdraw._parse(f.path, lineno, line)
                except SketchFileError as exc:
                    skipped.append(Skipped(str(f.path), index, str(exc)))
                    continue
                add(index, sketch)
        else:
            for index, sketch in enumerate(iter_sketches(f.path)):
                add(index, sketch)
    except SketchFileError as exc:
        skipped.append(Skipped(str(f.path), None, str(exc)))
    except (OSError, ValueError) as exc:
        skipped.append(Skipped(str(f.path), None, f"{f.path}: cannot read: {exc}"))
    return items, skipped


# --- the cache ------------------------------------------------------------------------------------

def cache_dir() -> Path:
    """Gallery embeddings live here, under the cache root (models/paths.py)."""
    from ..models.paths import cache_root

    return cache_root() / "galleries"


_STAT_INDEX = "file-hashes.json"
_hash_memo: dict[tuple[str, int, int, int, int], str] = {}


def _stat_key(path: Path) -> tuple[str, int, int, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _file_digest(path: Path, index: dict[str, list]) -> str:
    """sha256 of the contents; unchanged files (same size, mtime, ctime, inode) are not re-read
    (git's index does the same), so re-opening 10,000 images does not read 10,000 images."""
    key = _stat_key(path)
    known = _hash_memo.get(key)
    if known is None:
        entry = index.get(key[0])
        if entry and list(entry[:4]) == list(key[1:]):
            known = entry[4]
    if known is None:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        known = h.hexdigest()
    _hash_memo[key] = known
    index[key[0]] = [*key[1:], known]
    return known


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json_atomic(path: Path, data: Any) -> None:
    from ..sketch.io import write_atomically

    try:
        write_atomically(path, lambda file: file.write(json.dumps(data).encode("utf-8")))
    except OSError:
        pass    # a cache that cannot be written is only slower next time


def model_digest(model: Any, kind: str) -> str:
    """What the embeddings depend on in the model: its file(s) and how inputs are made."""
    card = getattr(model, "card", None)
    h = hashlib.sha256(f"v{CACHE_VERSION}|{kind}".encode())
    if card is None:  # an in-memory model (tests): no file to key on, so no caching
        return ""
    files = [card.file] + ([card.gallery_file] if kind == "image" else [])
    index: dict[str, list] = {}
    for f in files:
        h.update(_file_digest(Path(f), index).encode())
    spec = card.gallery_input.to_dict() if kind == "image" else card.spec.to_dict()
    h.update(json.dumps(spec, sort_keys=True).encode())
    return h.hexdigest()


# --- opening a gallery ----------------------------------------------------------------------------

def open_gallery(path: str | Path, model: Any, *, cache: bool = True,
                 batch_size: int = BATCH_SIZE, progress: ProgressFn = None,
                 cancelled: CancelledFn = None) -> Gallery:
    """Read and embed a gallery (or load it from the cache); see the module docstring.

    progress(fraction) is called from the calling thread; cancelled() is polled between files and
    batches, and `sketchstudio.progress.Cancelled` is raised promptly (nothing is cached then).
    """
    started = time.perf_counter()
    check_embed_model(model)
    root = Path(path).expanduser().absolute()
    kind, files = _gallery_files(root, model)
    model_key = model_digest(model, kind) if cache else ""
    use_cache = bool(model_key)
    folder = cache_dir()
    stat_index: dict[str, list] = (_read_json(folder / _STAT_INDEX) or {}) if use_cache else {}
    for i, f in enumerate(files):
        check(cancelled)
        try:
            f.digest = _file_digest(f.path, stat_index)
        except OSError as exc:
            f.digest = f"unreadable:{exc.strerror or exc}"
    key = hashlib.sha256(json.dumps([model_key, kind, str(root), [(f.rel, f.digest) for f in files]]
                                    ).encode()).hexdigest()[:40]
    entry = folder / key
    if use_cache:
        hit = _load_entry(entry, root, kind, model, started)
        if hit is not None:
            _save_stat_index(folder, stat_index)
            report(progress, 1.0)
            return hit

    previous = _previous_entry(folder, model_key, root) if use_cache else {}
    gallery = _embed_gallery(root, kind, files, model, previous, batch_size, progress, cancelled)
    gallery.elapsed_ms = (time.perf_counter() - started) * 1000.0
    if use_cache:
        _save_entry(folder, entry, gallery, files, model_key, root)
        _save_stat_index(folder, stat_index)
        gallery.cache_path = entry
    report(progress, 1.0)
    return gallery


def _save_stat_index(folder: Path, index: dict[str, list]) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    _write_json_atomic(folder / _STAT_INDEX, index)


def _embed_gallery(root: Path, kind: str, files: list[_File], model: Any,
                   previous: dict[str, tuple[list[GalleryItem], np.ndarray, list[Skipped]]],
                   batch_size: int, progress: ProgressFn, cancelled: CancelledFn) -> Gallery:
    """Embed every file not already known by content (`previous`: digest -> its rows)."""
    per_file: list[tuple[list[GalleryItem], np.ndarray | None, list[Skipped]]] = []
    pending: list[tuple[int, list[tuple[GalleryItem, Any]]]] = []   # file no., (item, input)
    for n, f in enumerate(files):
        check(cancelled)
        reuse = previous.get(f"{f.rel}|{f.digest}")
        if reuse is not None:
            per_file.append(reuse)
            continue
        if f.digest.startswith("unreadable:"):
            per_file.append(([], None, [Skipped(str(f.path), None,
                                                f"{f.path}: cannot read: {f.digest[11:]}")]))
            continue
        if kind == "sketch":
            read, skipped = _read_sketch_file(f)
        else:
            read = [(GalleryItem(str(f.path), 0, _word_from_folder(f.rel), "file:" + f.digest),
                     f.path)]
            skipped = []
        per_file.append(([], None, skipped))
        pending.append((n, read))
        report(progress, 0.1 * (n + 1) / len(files))

    todo = [(n, item, x) for n, read in pending for item, x in read]
    rows = np.zeros((0, 0), np.float32)
    ok = np.zeros(0, bool)
    bad_image: dict[int, str] = {}
    embedded = 0
    if todo:
        def step(fraction: float) -> None:
            report(progress, 0.1 + 0.9 * fraction)
        if kind == "sketch":
            rows, ok = embed_sketches([x for _, _, x in todo], model, batch_size, step, cancelled)
        else:
            rows, ok, bad_image = _embed_images([x for _, _, x in todo], model, step, cancelled)
        embedded = int(ok.sum())

    # Reassemble in file order: reused rows and new rows side by side.
    new_items: dict[int, list[GalleryItem]] = {}
    new_rows: dict[int, list[np.ndarray]] = {}
    for t, (n, item, _) in enumerate(todo):
        if ok[t]:
            new_items.setdefault(n, []).append(item)
            new_rows.setdefault(n, []).append(rows[t])
        else:
            reason = bad_image.get(t, "the model's embedding is zero or not finite")
            per_file[n][2].append(Skipped(item.source, item.index, reason))
    items: list[GalleryItem] = []
    blocks: list[np.ndarray] = []
    skipped: list[Skipped] = []
    file_rows: list[tuple[int, int]] = []
    for n, (reused_items, reused_rows, file_skipped) in enumerate(per_file):
        start = len(items)
        if reused_rows is not None:
            items.extend(reused_items)
            blocks.append(reused_rows)
        elif n in new_items:
            items.extend(new_items[n])
            blocks.append(np.stack(new_rows[n]))
        skipped.extend(file_skipped)
        file_rows.append((start, len(items)))
    if not items:
        shown = "; ".join(s.reason for s in skipped[:3])
        raise UserError(f"{root}: empty gallery: no readable items"
                        + (f" ({len(skipped)} skipped: {shown}{'; ...' if len(skipped) > 3 else ''})"
                           if skipped else ""))
    embeddings = np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)
    return Gallery(root, kind, items, embeddings, skipped[:MAX_LISTED_SKIPS], len(skipped),
                   model=getattr(model, "id", ""), embedded=embedded, file_rows=file_rows,
                   file_skips=[s for _, _, s in per_file])


def _embed_images(paths: list[Path], model: Any, progress: ProgressFn, cancelled: CancelledFn
                  ) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    spec = model.card.gallery_input
    rows = np.zeros((len(paths), 0), np.float32)
    ok = np.zeros(len(paths), bool)
    bad: dict[int, str] = {}
    chunks: list[tuple[list[int], np.ndarray, np.ndarray]] = []
    for start in range(0, len(paths), IMAGE_BATCH_SIZE):
        check(cancelled)
        good, tensors = [], []
        for i in range(start, min(start + IMAGE_BATCH_SIZE, len(paths))):
            try:
                tensors.append(image_input([paths[i]], spec))
                good.append(i)
            except Exception as exc:  # Pillow raises many kinds for a broken image
                bad[i] = f"{paths[i]}: not a readable image: {str(exc).splitlines()[0][:200]}"
        if tensors:
            with torch.no_grad():
                r, o = _unit_rows(model.embed_images(torch.cat(tensors)),
                                  f"the image encoder of {getattr(model, 'id', '?')!r}")
            chunks.append((good, r, o))
        report(progress, min(start + IMAGE_BATCH_SIZE, len(paths)) / len(paths))
    if chunks:
        rows = np.zeros((len(paths), chunks[0][1].shape[1]), np.float32)
        for good, r, o in chunks:
            rows[good] = r
            ok[good] = o
    return rows, ok, bad


def _manifest(gallery: Gallery, files: list[_File], model_key: str, root: Path) -> dict[str, Any]:
    return {
        "version": CACHE_VERSION, "model_key": model_key, "gallery": str(root),
        "kind": gallery.kind, "model": gallery.model,
        "items": [[it.source, it.index, it.word, it.key] for it in gallery.items],
        "files": [{"rel": f.rel, "digest": f.digest, "rows": list(r),
                   "skipped": [s.to_json() for s in skips]}
                  for f, r, skips in zip(files, gallery.file_rows, gallery.file_skips)],
        "skipped_count": gallery.skipped_count,
    }


def _save_entry(folder: Path, entry: Path, gallery: Gallery, files: list[_File], model_key: str,
                root: Path) -> None:
    """Write embeddings.npy + manifest.json into a fresh folder, then rename it into place: a
    crash or a concurrent writer never leaves a half entry. Failing to cache is not an error."""
    staging = folder / f".writing-{uuid.uuid4().hex}"
    try:
        staging.mkdir(parents=True)
        np.save(staging / "embeddings.npy", gallery.embeddings, allow_pickle=False)
        (staging / "manifest.json").write_text(json.dumps(_manifest(gallery, files, model_key, root)),
                                               encoding="utf-8")
        if entry.exists():
            shutil.rmtree(entry, ignore_errors=True)
        os.rename(staging, entry)
        _write_json_atomic(folder / f"latest-{_latest_name(model_key, root)}.json",
                           {"entry": entry.name})
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


def _latest_name(model_key: str, root: Path) -> str:
    return hashlib.sha256(f"{model_key}|{root}".encode()).hexdigest()[:24]


def _read_entry(entry: Path) -> tuple[dict[str, Any], np.ndarray] | None:
    manifest = _read_json(entry / "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("version") != CACHE_VERSION:
        return None
    try:
        embeddings = np.load(entry / "embeddings.npy", allow_pickle=False)
    except (OSError, ValueError):
        return None
    if embeddings.ndim != 2 or len(embeddings) != len(manifest.get("items", ())):
        return None
    return manifest, embeddings


def _load_entry(entry: Path, root: Path, kind: str, model: Any, started: float) -> Gallery | None:
    read = _read_entry(entry)
    if read is None:
        return None
    manifest, embeddings = read
    items = [GalleryItem(s, int(i), w, k) for s, i, w, k in manifest["items"]]
    skipped = [Skipped(s["source"], s["index"], s["reason"])
               for f in manifest["files"] for s in f["skipped"]]
    return Gallery(root, kind, items, np.ascontiguousarray(embeddings, dtype=np.float32),
                   skipped[:MAX_LISTED_SKIPS], int(manifest.get("skipped_count", len(skipped))),
                   model=getattr(model, "id", ""), cache_hit=True, cache_path=entry, embedded=0,
                   elapsed_ms=(time.perf_counter() - started) * 1000.0)


def _previous_entry(folder: Path, model_key: str, root: Path
                    ) -> dict[str, tuple[list[GalleryItem], np.ndarray, list[Skipped]]]:
    """Rows of the last cached version of this gallery, by (file, digest): a changed file costs
    that file, not the whole gallery."""
    latest = _read_json(folder / f"latest-{_latest_name(model_key, root)}.json")
    if not isinstance(latest, dict) or not isinstance(latest.get("entry"), str):
        return {}
    read = _read_entry(folder / latest["entry"])
    if read is None or read[0].get("model_key") != model_key:
        return {}
    manifest, embeddings = read
    out = {}
    for f in manifest["files"]:
        a, b = f["rows"]
        items = [GalleryItem(s, int(i), w, k) for s, i, w, k in manifest["items"][a:b]]
        skips = [Skipped(s["source"], s["index"], s["reason"]) for s in f["skipped"]]
        out[f"{f['rel']}|{f['digest']}"] = (items, np.asarray(embeddings[a:b]), skips)
    return out


# --- search ---------------------------------------------------------------------------------------

def _exclusion_mask(gallery: Gallery, exclude: Iterable[int] | None, exclude_key: str | None
                    ) -> np.ndarray | None:
    mask = None
    if exclude is not None:
        mask = np.zeros(len(gallery), bool)
        mask[list(exclude)] = True
    if exclude_key is not None:
        rows = gallery.rows_of_key(exclude_key)
        if rows:
            mask = np.zeros(len(gallery), bool) if mask is None else mask
            mask[rows] = True
    return mask


def similarities(query_embedding: np.ndarray, gallery: Gallery) -> np.ndarray:
    q = np.asarray(query_embedding, dtype=np.float32).reshape(-1)
    if q.shape[0] != gallery.dim:
        raise UserError(f"the query embedding has {q.shape[0]} values but the gallery's have "
                        f"{gallery.dim} (embedded with another model?)")
    norm = float(np.linalg.norm(q))
    if not math.isfinite(norm) or norm == 0:
        raise UserError("the query embedding is zero or not finite")
    # torch, not numpy: numpy's BLAS threads keep spinning after a call and starve torch's own
    # (measured: a 8,600 x 256 product and the next forward pass went from ~1 ms to ~20 ms each).
    with torch.no_grad():
        return torch.mv(torch.from_numpy(gallery.embeddings), torch.from_numpy(q / norm)).numpy()


def search(query_embedding: np.ndarray, gallery: Gallery, top: int = 10,
           exclude: Iterable[int] | None = None, exclude_key: str | None = None) -> list[Match]:
    """The `top` most similar gallery items (cosine), best first.

    exclude: gallery rows to leave out; exclude_key: leave out items with this identity (the
    query's own drawing, when the query comes from the gallery; see `item_key`).
    """
    if top < 1:
        raise UserError(f"--top must be at least 1, got {top}")
    sims = similarities(query_embedding, gallery)
    mask = _exclusion_mask(gallery, exclude, exclude_key)
    candidates = np.flatnonzero(~mask) if mask is not None else None
    pool = sims if candidates is None else sims[candidates]
    k = min(top, len(pool))
    if k == 0:
        return []
    part = np.argpartition(-pool, k - 1)[:k] if k < len(pool) else np.arange(len(pool))
    order = part[np.lexsort((part, -pool[part]))]   # by similarity, ties by row
    rows = order if candidates is None else candidates[order]
    return [Match(r + 1, float(sims[row]), int(row), gallery.items[row].source,
                  gallery.items[row].index, gallery.items[row].word)
            for r, row in enumerate(rows)]


def rank_of(row: int, query_embedding: np.ndarray, gallery: Gallery,
            exclude_key: str | None = None) -> int:
    """1-based rank the gallery row would get for this query (ties go to the lower row)."""
    sims = similarities(query_embedding, gallery)
    mask = _exclusion_mask(gallery, None, exclude_key)
    s = sims[row]
    better = (sims > s) | ((sims == s) & (np.arange(len(sims)) < row))
    if mask is not None:
        better &= ~mask
    return int(better.sum()) + 1


def item_key(sketch: Sketch) -> str:
    """The identity a gallery item of this drawing has (key_id, else a hash of its points)."""
    return _sketch_key(sketch)


def retrieve(sketch: Sketch, model: Any, gallery: Gallery, top: int = 10,
             exclude_self: bool = True) -> list[Match]:
    """Embed the sketch and search; its own drawing (same key) is left out by default."""
    return search(embed_sketch(sketch, model), gallery, top,
                  exclude_key=_sketch_key(sketch) if exclude_self else None)


# --- explanation and refinement -------------------------------------------------------------------

def objective_for(gallery: Gallery, row: int) -> CosineSimilarity:
    if not 0 <= row < len(gallery):
        raise UserError(f"gallery row {row} is out of range 0..{len(gallery) - 1}")
    return CosineSimilarity(gallery.embeddings[row])


def explain_match(sketch: Sketch, model: Any, gallery: Gallery, row: int, method: str = "sla",
                  steps: int | None = None, progress: ProgressFn = None,
                  cancelled: CancelledFn = None):
    """Attribution of the cosine similarity between the sketch and gallery row `row`."""
    from ..explain import explain

    check_embed_model(model)
    return explain(sketch, model, method=method, steps=steps, objective=objective_for(gallery, row),
                   progress=progress, cancelled=cancelled)


@dataclass(frozen=True)
class Refined:
    sketch: Sketch
    kept: tuple[int, ...]         # stroke indices of the original that remain, in order
    dropped: tuple[int, ...]      # stroke indices removed (negative attribution)
    note: str = ""


def refine(sketch: Sketch, attribution: Any) -> Refined:
    """The sketch without the strokes whose attribution is negative (they lower the similarity).

    A new sketch: the caller records it as an undoable edit. If every stroke is negative the sketch
    is returned unchanged (an empty query retrieves nothing), with a note saying so.
    """
    values = np.asarray(getattr(attribution, "strokes", attribution), dtype=np.float64).reshape(-1)
    if len(values) != len(sketch):
        raise UserError(f"the attribution has {len(values)} values but the sketch has "
                        f"{len(sketch)} strokes")
    dropped = tuple(int(i) for i in np.flatnonzero(values < 0))
    if len(dropped) == len(sketch) and len(sketch):
        return Refined(sketch, tuple(range(len(sketch))), (),
                       "every stroke lowers the similarity: nothing was dropped")
    kept = tuple(i for i in range(len(sketch)) if i not in set(dropped))
    return Refined(sketch.remove_strokes(dropped), kept, dropped)


@dataclass(frozen=True)
class Refinement:
    refined: Refined
    attribution: Any
    row: int
    rank_before: int
    rank_after: int
    similarity_before: float
    similarity_after: float
    top_after: list[Match]

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "dropped": list(self.refined.dropped),
                "kept": list(self.refined.kept), "rank_before": self.rank_before,
                "rank_after": self.rank_after,
                "similarity_before": round(self.similarity_before, 6),
                "similarity_after": round(self.similarity_after, 6),
                "note": self.refined.note}


def refine_match(sketch: Sketch, model: Any, gallery: Gallery, row: int, method: str = "sla",
                 steps: int | None = None, top: int = 10, exclude_self: bool = True,
                 attribution: Any = None, progress: ProgressFn = None,
                 cancelled: CancelledFn = None) -> Refinement:
    """Explain the similarity to `row`, drop the strokes against it, and re-rank."""
    if attribution is None:
        attribution = explain_match(sketch, model, gallery, row, method, steps, progress, cancelled)
    key = _sketch_key(sketch) if exclude_self else None
    before = embed_sketch(sketch, model)
    refined = refine(sketch, attribution)
    after = before if not refined.dropped else embed_sketch(refined.sketch, model)
    return Refinement(refined, attribution, row, rank_of(row, before, gallery, key),
                      rank_of(row, after, gallery, key),
                      float(similarities(before, gallery)[row]),
                      float(similarities(after, gallery)[row]),
                      search(after, gallery, top, exclude_key=key))


__all__ = ["BATCH_SIZE", "CosineSimilarity", "Gallery", "GalleryItem", "Match", "Refined",
           "Refinement", "Skipped", "cache_dir", "embed_sketch", "embed_sketches", "explain_match",
           "image_input", "item_key", "objective_for", "open_gallery", "rank_of", "refine",
           "refine_match", "render_batch", "retrieve", "search", "similarities"]
