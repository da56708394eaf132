"""The on-disk cache of gallery embeddings.

Unit-length embeddings are stored as .npy (never pickled) with a JSON manifest, keyed by the model
file(s), the render spec and the contents of every gallery file, so re-opening a gallery is a hash
check and one load. Entries are written into a fresh folder and renamed into place, so a crash or
a concurrent writer never leaves half an entry; failing to cache is never an error.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...fsutil import file_sha256, write_atomically
from .results import Gallery, GalleryItem, Skipped

CACHE_VERSION = 1
MAX_LISTED_SKIPS = 1000     # a gallery of broken files says how many, but lists only this many
STAT_INDEX = "file-hashes.json"

_hash_memo: dict[tuple[str, int, int, int, int], str] = {}

# Rows of one previous file version, by "rel|digest": (items, embeddings, skipped).
Previous = dict[str, tuple[list[GalleryItem], np.ndarray, list[Skipped]]]


@dataclass
class GalleryFile:
    """One file of a gallery: where it is, its path relative to the gallery, its content hash."""

    path: Path
    rel: str
    digest: str = ""


def cache_dir() -> Path:
    """Gallery embeddings live here, under the cache root (models/paths.py)."""
    from ...models.paths import cache_root

    return cache_root() / "galleries"


def forget_file_hashes() -> None:
    """Drop the in-process memo of file hashes (as a fresh process would start)."""
    _hash_memo.clear()


def _stat_key(path: Path) -> tuple[str, int, int, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def file_digest(path: Path, index: dict[str, list]) -> str:
    """sha256 of the contents; unchanged files (same size, mtime, ctime, inode) are not re-read
    (git's index does the same), so re-opening 10,000 images does not read 10,000 images."""
    key = _stat_key(path)
    known = _hash_memo.get(key)
    if known is None:
        entry = index.get(key[0])
        if entry and list(entry[:4]) == list(key[1:]):
            known = entry[4]
    if known is None:
        known = file_sha256(path)
    _hash_memo[key] = known
    index[key[0]] = [*key[1:], known]
    return known


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json_atomic(path: Path, data: Any) -> None:
    try:
        write_atomically(path, lambda file: file.write(json.dumps(data).encode("utf-8")))
    except OSError:
        pass    # a cache that cannot be written is only slower next time


def read_stat_index(folder: Path) -> dict[str, list]:
    index = read_json(folder / STAT_INDEX)
    return index if isinstance(index, dict) else {}


def save_stat_index(folder: Path, index: dict[str, list]) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    _write_json_atomic(folder / STAT_INDEX, index)


def model_digest(model: Any, kind: str) -> str:
    """What the embeddings depend on in the model: its file(s) and how inputs are made."""
    card = getattr(model, "card", None)
    h = hashlib.sha256(f"v{CACHE_VERSION}|{kind}".encode())
    if card is None:  # an in-memory model (tests): no file to key on, so no caching
        return ""
    files = [card.file] + ([card.gallery_file] if kind == "image" else [])
    index: dict[str, list] = {}
    for f in files:
        h.update(file_digest(Path(f), index).encode())
    spec = card.gallery_input.to_dict() if kind == "image" else card.spec.to_dict()
    h.update(json.dumps(spec, sort_keys=True).encode())
    return h.hexdigest()


def entry_key(model_key: str, kind: str, root: Path, files: list[GalleryFile]) -> str:
    contents = [(f.rel, f.digest) for f in files]
    return hashlib.sha256(json.dumps([model_key, kind, str(root), contents]).encode()
                          ).hexdigest()[:40]


def _manifest(gallery: Gallery, files: list[GalleryFile], model_key: str, root: Path
              ) -> dict[str, Any]:
    return {
        "version": CACHE_VERSION, "model_key": model_key, "gallery": str(root),
        "kind": gallery.kind, "model": gallery.model,
        "items": [[it.source, it.index, it.word, it.key] for it in gallery.items],
        "files": [{"rel": f.rel, "digest": f.digest, "rows": list(r),
                   "skipped": [s.to_json() for s in skips]}
                  for f, r, skips in zip(files, gallery.file_rows, gallery.file_skips,
                                         strict=True)],
        "skipped_count": gallery.skipped_count,
    }


def save_entry(folder: Path, entry: Path, gallery: Gallery, files: list[GalleryFile],
               model_key: str, root: Path) -> None:
    """Write embeddings.npy + manifest.json into a fresh folder, then rename it into place."""
    staging = folder / f".writing-{uuid.uuid4().hex}"
    try:
        staging.mkdir(parents=True)
        np.save(staging / "embeddings.npy", gallery.embeddings, allow_pickle=False)
        (staging / "manifest.json").write_text(
            json.dumps(_manifest(gallery, files, model_key, root)), encoding="utf-8")
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
    manifest = read_json(entry / "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("version") != CACHE_VERSION:
        return None
    try:
        embeddings = np.load(entry / "embeddings.npy", allow_pickle=False)
    except (OSError, ValueError):
        return None
    if embeddings.ndim != 2 or len(embeddings) != len(manifest.get("items", ())):
        return None
    return manifest, embeddings


def load_entry(entry: Path, root: Path, kind: str, model: Any, started: float) -> Gallery | None:
    """The cached gallery in `entry`, or None when there is no valid one."""
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


def previous_entry(folder: Path, model_key: str, root: Path) -> Previous:
    """Rows of the last cached version of this gallery, by (file, digest): a changed file costs
    that file, not the whole gallery."""
    latest = read_json(folder / f"latest-{_latest_name(model_key, root)}.json")
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
