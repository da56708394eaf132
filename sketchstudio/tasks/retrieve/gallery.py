"""Reading and opening a gallery.

A gallery is a folder of sketch files (each may hold many drawings), one many-drawing file
(.ndjson / .npz), or, for a two-tower model whose card names an image encoder (`gallery_file` +
`[gallery_input]`), a folder of images. Opening one embeds every item once, in batches, reporting
to a `TaskState` (progress, cancellation), and caches the embeddings (see `cache`). An unreadable
item is skipped, counted and listed; it never stops the gallery.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import UserError
from ...progress import CancelledFn, ProgressFn, TaskState
from ...sketch import Sketch
from ...sketch.formats import gallery_suffixes
from . import cache as C
from .cache import GalleryFile
from .embedding import BATCH_SIZE, check_embed_model, embed_images, embed_sketches
from .results import Gallery, GalleryItem, Skipped

# Drawings a gallery reads: every readable format of the registry, asked at each open (a format
# registered later is found). SKETCH_SUFFIXES is the list as it stood at import, kept for callers.
SKETCH_SUFFIXES = gallery_suffixes()
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def gallery_files(path: Path, model: Any = None) -> tuple[str, list[GalleryFile]]:
    """('sketch' | 'image', files) of a gallery path, or one clear UserError."""
    sketch_suffixes = gallery_suffixes()
    if not path.exists():
        raise UserError(f"{path}: no such gallery (a folder of sketch files, an .ndjson file, or a "
                        "folder of images)")
    if path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            raise UserError(f"{path}: a gallery is a folder (of sketches or images) or a "
                            "many-drawing file, not one image")
        if path.suffix.lower() not in sketch_suffixes:
            raise UserError(f"{path}: not a sketch file ({', '.join(sketch_suffixes)})")
        return "sketch", [GalleryFile(path, path.name)]
    files = sorted((p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")),
                   key=lambda p: p.relative_to(path).as_posix())
    sketches = [p for p in files if p.suffix.lower() in sketch_suffixes]
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if sketches:
        return "sketch", [GalleryFile(p, p.relative_to(path).as_posix()) for p in sketches]
    if images:
        if not getattr(model, "has_image_encoder", False):
            raise UserError(f"{path} is a folder of images, but model "
                            f"{getattr(model, 'id', '?')!r} has no image encoder (a two-tower "
                            "model names one with gallery_file and [gallery_input] in its card); "
                            "use a folder of sketches instead")
        return "image", [GalleryFile(p, p.relative_to(path).as_posix()) for p in images]
    raise UserError(f"{path}: empty gallery: no sketch files ({', '.join(sketch_suffixes)}) or "
                    f"images ({', '.join(IMAGE_SUFFIXES)}) in it")


def _word_from_folder(rel: str) -> str | None:
    parts = rel.split("/")
    return parts[-2] if len(parts) > 1 else None


def item_key(sketch: Sketch) -> str:
    """The identity a gallery item of this drawing has (key_id, else a hash of its points)."""
    key = sketch.metadata.get("key_id")
    if key is not None:
        return f"key_id:{key}"
    h = hashlib.sha1()
    for s in sketch.strokes:
        h.update(np.ascontiguousarray(s.points, dtype=np.float64).tobytes())
        h.update(b"|")
    return "points:" + h.hexdigest()


def read_drawings(f: GalleryFile) -> tuple[list[tuple[GalleryItem, Sketch]], list[Skipped]]:
    """Every drawing of one file; a bad drawing (or a bad file) is skipped with its reason."""
    from ...sketch.io import SketchFileError, iter_drawings

    items: list[tuple[GalleryItem, Sketch]] = []
    skipped: list[Skipped] = []
    folder_word = _word_from_folder(f.rel)

    def bad(index: int, exc: SketchFileError) -> None:
        skipped.append(Skipped(str(f.path), index, str(exc)))

    try:
        # One broken drawing (a bad .ndjson line) costs that drawing, not the rest of the file.
        for index, sketch in iter_drawings(f.path, on_bad=bad):
            if not len(sketch):
                skipped.append(Skipped(str(f.path), index, "empty drawing (no strokes)"))
                continue
            word = sketch.metadata.get("word")
            word = word if isinstance(word, str) and word else folder_word
            items.append((GalleryItem(str(f.path), index, word, item_key(sketch)), sketch))
    except SketchFileError as exc:
        skipped.append(Skipped(str(f.path), None, str(exc)))
    except (OSError, ValueError) as exc:
        skipped.append(Skipped(str(f.path), None, f"{f.path}: cannot read: {exc}"))
    return items, skipped


def open_gallery(path: str | Path, model: Any, *, cache: bool = True,
                 batch_size: int = BATCH_SIZE, state: TaskState | None = None,
                 progress: ProgressFn = None, cancelled: CancelledFn = None) -> Gallery:
    """Read and embed a gallery (or load it from the cache); see the module docstring.

    `state` receives progress from the calling thread and is checked between files and batches:
    `sketchstudio.progress.Cancelled` is raised promptly and nothing is cached then.
    (`progress`/`cancelled` are the older two-callable form of the same thing.)
    """
    if state is None:
        state = TaskState.from_callables(progress, cancelled)
    started = time.perf_counter()
    check_embed_model(model)
    root = Path(path).expanduser().absolute()
    kind, files = gallery_files(root, model)
    model_key = C.model_digest(model, kind) if cache else ""
    use_cache = bool(model_key)
    folder = C.cache_dir()
    stat_index = C.read_stat_index(folder) if use_cache else {}
    for f in files:
        state.check()
        try:
            f.digest = C.file_digest(f.path, stat_index)
        except OSError as exc:
            f.digest = f"unreadable:{exc.strerror or exc}"
    entry = folder / C.entry_key(model_key, kind, root, files)
    if use_cache:
        hit = C.load_entry(entry, root, kind, model, started)
        if hit is not None:
            C.save_stat_index(folder, stat_index)
            state.set_progress(1.0)
            return hit

    previous = C.previous_entry(folder, model_key, root) if use_cache else {}
    gallery = _embed_gallery(root, kind, files, model, previous, batch_size, state)
    gallery.elapsed_ms = (time.perf_counter() - started) * 1000.0
    if use_cache:
        C.save_entry(folder, entry, gallery, files, model_key, root)
        C.save_stat_index(folder, stat_index)
        gallery.cache_path = entry
    state.set_progress(1.0)
    return gallery


def _embed_gallery(root: Path, kind: str, files: list[GalleryFile], model: Any,
                   previous: C.Previous, batch_size: int, state: TaskState) -> Gallery:
    """Embed every file not already known by content (`previous`: digest -> its rows)."""
    per_file: list[tuple[list[GalleryItem], np.ndarray | None, list[Skipped]]] = []
    pending: list[tuple[int, list[tuple[GalleryItem, Any]]]] = []   # file no., (item, input)
    reading = state.child(0.0, 0.1)
    for n, f in enumerate(files):
        state.check()
        reuse = previous.get(f"{f.rel}|{f.digest}")
        if reuse is not None:
            per_file.append(reuse)
            continue
        if f.digest.startswith("unreadable:"):
            per_file.append(([], None, [Skipped(str(f.path), None,
                                                f"{f.path}: cannot read: {f.digest[11:]}")]))
            continue
        read: list[tuple[GalleryItem, Any]]
        if kind == "sketch":
            drawings, skipped = read_drawings(f)
            read = list(drawings)
        else:
            read = [(GalleryItem(str(f.path), 0, _word_from_folder(f.rel), "file:" + f.digest),
                     f.path)]
            skipped = []
        per_file.append(([], None, skipped))
        pending.append((n, read))
        reading.set_progress((n + 1) / len(files))

    todo = [(n, item, x) for n, read in pending for item, x in read]
    rows = np.zeros((0, 0), np.float32)
    ok = np.zeros(0, bool)
    bad_image: dict[int, str] = {}
    embedded = 0
    if todo:
        embedding = state.child(0.1, 1.0)
        if kind == "sketch":
            rows, ok = embed_sketches([x for _, _, x in todo], model, batch_size, embedding)
        else:
            rows, ok, bad_image = embed_images([x for _, _, x in todo], model, embedding)
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
    skipped_all: list[Skipped] = []
    file_rows: list[tuple[int, int]] = []
    for n, (reused_items, reused_rows, file_skipped) in enumerate(per_file):
        start = len(items)
        if reused_rows is not None:
            items.extend(reused_items)
            blocks.append(reused_rows)
        elif n in new_items:
            items.extend(new_items[n])
            blocks.append(np.stack(new_rows[n]))
        skipped_all.extend(file_skipped)
        file_rows.append((start, len(items)))
    if not items:
        shown = "; ".join(s.reason for s in skipped_all[:3])
        more = "; ..." if len(skipped_all) > 3 else ""
        raise UserError(f"{root}: empty gallery: no readable items"
                        + (f" ({len(skipped_all)} skipped: {shown}{more})" if skipped_all else ""))
    embeddings = np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)
    return Gallery(root, kind, items, embeddings, skipped_all[:C.MAX_LISTED_SKIPS],
                   len(skipped_all), model=getattr(model, "id", ""), embedded=embedded,
                   file_rows=file_rows, file_skips=[s for _, _, s in per_file])
