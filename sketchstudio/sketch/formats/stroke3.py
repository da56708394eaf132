"""sketch-rnn stroke-3 .npz, in a layout that numpy loads without unpickling.

A stroke-3 row is (dx, dy, pen_lifted): the offset of a point from the previous one (the first
from the origin), with pen_lifted = 1 on the last point of every stroke.

The original sketch-rnn files store each split as an object array of (n, 3) int16 arrays, which
numpy can only read by unpickling, and unpickling runs code chosen by whoever made the file. We
never unpickle (`allow_pickle=False`), so those files are refused with a message saying why. The
layout we read and write instead, per split `train`, `valid`, `test` (each optional, read in that
order, one index running across them):

    <split>           (N, 3) integer or float array: the rows of all drawings, concatenated
    <split>_lengths   (k,) integer array: number of rows of each drawing (they sum to N)
    <split>_metadata  (k,) unicode array, optional: each drawing's metadata as a JSON object

Integer coordinates are written as int16 when they fit (as sketch-rnn does), otherwise float64.
Pressure and time have no place in stroke-3 and are not stored. The writer puts every drawing in
`train`.
"""
from __future__ import annotations

import sys
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..core import Sketch, SketchError, Stroke
from ..limits import check_coordinates, check_drawing_size
from ..metadata import check_metadata, check_written
from .errors import SketchFileError
from .jsonvalues import BadValue, dumps, json_object, loads
from .registry import FileFormat
from .watch import NO_WATCH, Watch

NAME = "npz"
HOLDS_MANY = True
# The registry entry (formats/registry.py): what dialogs and galleries show and accept.
FORMAT = FileFormat(NAME, "sketch-rnn stroke-3", (".npz",), sys.modules[__name__])
SPLITS = ("train", "valid", "test")

# Arrays are decompressed whole; the cap (on the uncompressed size the archive declares) keeps a
# small zip bomb from exhausting memory. Real sketch-rnn categories are a few tens of MB.
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024

# What numpy and zipfile raise on damaged archives: truncated members, bad headers, bad CRCs,
# unsupported compression or encryption.
_DAMAGED = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError,
            RuntimeError, OverflowError)


@dataclass(frozen=True)
class _Split:
    name: str
    rows: np.ndarray          # (N, 3)
    starts: np.ndarray        # (k + 1,) row offsets of the drawings
    metadata: np.ndarray | None

    def __len__(self) -> int:
        return len(self.starts) - 1


def _declared(path: Path, npz: np.lib.npyio.NpzFile, key: str) -> None:
    """Check the shape and type an array's header declares before numpy allocates it: numpy sizes
    the array from the header alone (a 200-byte member can ask for petabytes, or a shape whose
    product wraps around in 64 bits), so the declared bytes must be what the member holds."""
    archive = npz.zip
    if archive is None:     # numpy drops the zip when the NpzFile is closed; ours is still open
        raise SketchFileError(path, "the .npz archive was closed while being read")
    name = key + ".npy" if key + ".npy" in archive.namelist() else key
    try:
        info = archive.getinfo(name)
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise SketchFileError(path, f'array "{key}" has .npy format version '
                                      f"{version[0]}.{version[1]}, which is not supported")
            header_bytes = member.tell()
    except SketchFileError:
        raise
    except _DAMAGED as exc:
        raise SketchFileError(path, f'array "{key}" is damaged: {exc}') from None
    if dtype.hasobject:
        return   # refused with its own message when loaded (never unpickled)
    if any(n < 0 for n in shape):
        raise SketchFileError(path, f'array "{key}" declares a negative size: shape {shape}')
    count = 1
    for n in shape:          # Python integers: no wrap-around
        count *= n
    declared = count * dtype.itemsize
    # Each dimension too: (0, 2**64) holds nothing, but numpy computes with 64-bit sizes.
    if count > MAX_ARCHIVE_BYTES or declared > MAX_ARCHIVE_BYTES or max(shape, default=0) > \
            MAX_ARCHIVE_BYTES:
        raise SketchFileError(path, f'array "{key}" declares shape {shape} of {dtype}, more than '
                              f"the {MAX_ARCHIVE_BYTES // (1024 * 1024)} MB limit")
    if header_bytes + declared != info.file_size:
        raise SketchFileError(path, f'array "{key}" declares shape {shape} of {dtype} '
                              f"({declared:,} bytes) but holds {info.file_size - header_bytes:,} "
                              "(damaged or truncated)")


def _member(path: Path, npz: np.lib.npyio.NpzFile, key: str) -> np.ndarray:
    _declared(path, npz, key)
    try:
        value = npz[key]
    except ValueError as exc:
        if "pickle" in str(exc):
            raise SketchFileError(path, f'"{key}" is a pickled object array (the original '
                                  "sketch-rnn layout); SketchStudio never unpickles files because "
                                  "that can run code: re-save it in the flat layout described in "
                                  "sketchstudio/sketch/formats/stroke3.py") from None
        raise SketchFileError(path, f'array "{key}" is damaged: {exc}') from None
    except _DAMAGED as exc:
        raise SketchFileError(path, f'array "{key}" is damaged: {exc}') from None
    if not isinstance(value, np.ndarray):
        raise SketchFileError(path, f'"{key}" is not a numpy array')
    return value


def _split(path: Path, npz: np.lib.npyio.NpzFile, name: str) -> _Split:
    rows = _member(path, npz, name)
    if rows.ndim != 2 or rows.shape[1] != 3 or rows.dtype.kind not in "iuf":
        raise SketchFileError(path, f'"{name}" should be an (N, 3) numeric array of stroke-3 rows, '
                              f"got shape {rows.shape} of {rows.dtype}")
    if f"{name}_lengths" not in npz.files:
        raise SketchFileError(path, f'"{name}" has no "{name}_lengths" array saying where each '
                              "drawing starts")
    lengths = _member(path, npz, f"{name}_lengths")
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu" or (lengths < 0).any():
        raise SketchFileError(path, f'"{name}_lengths" should be a 1-D array of counts')
    # Each count at most the row count before summing, so the sum cannot wrap around in 64 bits.
    if (lengths > len(rows)).any():
        raise SketchFileError(path, f'"{name}_lengths" counts more rows than "{name}" has')
    lengths = lengths.astype(np.int64)
    if int(lengths.sum()) != len(rows):
        raise SketchFileError(path, f'"{name}_lengths" adds up to {int(lengths.sum())} rows but '
                              f'"{name}" has {len(rows)} (truncated?)')
    if not np.isfinite(rows).all():
        raise SketchFileError(path, f'"{name}" holds numbers that are not finite')
    pen = rows[:, 2]
    if not np.isin(pen, (0, 1)).all():
        raise SketchFileError(path, f'"{name}" pen states should be 0 or 1')
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    ends = starts[1:][lengths > 0]
    if (pen[ends - 1] != 1).any():
        raise SketchFileError(path, f'a drawing in "{name}" ends with the pen down (truncated?)')
    metadata = None
    if f"{name}_metadata" in npz.files:
        metadata = _member(path, npz, f"{name}_metadata")
        if metadata.ndim != 1 or metadata.dtype.kind != "U" or len(metadata) != len(lengths):
            raise SketchFileError(path, f'"{name}_metadata" should hold one JSON text per drawing')
    return _Split(name, rows, starts, metadata)


def _splits(path: Path, watch: Watch = NO_WATCH) -> list[_Split]:
    try:
        if path.stat().st_size == 0:
            raise SketchFileError(path, "file is empty")
        with zipfile.ZipFile(path) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise SketchFileError(path, "not an .npz archive (not a zip file)") from None
    except OSError as exc:
        raise SketchFileError(path, f"cannot read: {exc.strerror or exc}") from None
    except _DAMAGED as exc:
        raise SketchFileError(path, f"damaged .npz archive: {exc}") from None
    if size > MAX_ARCHIVE_BYTES:
        raise SketchFileError(path, f"archive unpacks to more than the "
                              f"{MAX_ARCHIVE_BYTES // (1024 * 1024)} MB limit")
    try:
        with np.load(path, allow_pickle=False) as npz:
            splits: list[_Split] = []
            for name in SPLITS:
                if name in npz.files:
                    watch.step(len(splits) / 3)
                    splits.append(_split(path, npz, name))
    except _DAMAGED as exc:
        raise SketchFileError(path, f"damaged .npz archive: {exc}") from None
    if not splits:
        raise SketchFileError(path, 'no "train", "valid" or "test" array: not a stroke-3 file')
    return splits


def _sketch(path: Path, split: _Split, i: int) -> Sketch:
    rows = split.rows[split.starts[i]:split.starts[i + 1]]
    metadata = {}
    try:
        # A row is a point and a lifted pen ends a stroke: both counted before anything is built.
        lifts = np.flatnonzero(rows[:, 2] == 1)
        check_drawing_size(len(lifts), len(rows))
        if split.metadata is not None:
            metadata = check_metadata(json_object(loads(str(split.metadata[i])), "metadata"))
        points = np.cumsum(rows[:, :2].astype(np.float64), axis=0)
        cuts = lifts[:-1] + 1
        strokes = tuple(Stroke(p) for p in np.split(points, cuts)) if len(rows) else ()
        sketch = Sketch(strokes, metadata)
        check_coordinates(sketch)
        return sketch
    except (BadValue, SketchError) as exc:
        raise SketchFileError(path, f'"{split.name}" drawing {i}: {exc}') from None


def count(path: Path, watch: Watch = NO_WATCH) -> int:
    return sum(len(split) for split in _splits(path, watch))


def iter_sketches(path: Path, watch: Watch = NO_WATCH) -> Iterator[Sketch]:
    for split in _splits(path, watch):
        for i in range(len(split)):
            watch.check()
            yield _sketch(path, split, i)


def load(path: Path, index: int, watch: Watch = NO_WATCH) -> Sketch:
    splits = _splits(path, watch)
    watch.check()
    local = index
    for split in splits:
        if local < len(split):
            return _sketch(path, split, local)
        local -= len(split)
    total = sum(len(split) for split in splits)
    raise SketchFileError(path, f"drawing index {index} is out of range: the file holds "
                          f"{total} drawing{'s' if total != 1 else ''}")


def _rows(sketch: Sketch) -> np.ndarray:
    if not sketch.strokes:
        return np.zeros((0, 3))
    points = np.concatenate([s.points for s in sketch.strokes])
    rows = np.zeros((len(points), 3))
    with np.errstate(over="ignore"):
        rows[:, :2] = np.diff(points, axis=0, prepend=np.zeros((1, 2)))
        # The reader sums the offsets back up: points 1e308 apart have an offset of infinity, and
        # sums near the float limit can round over it, so check what the reader will compute.
        if not (np.isfinite(rows).all() and np.isfinite(np.cumsum(rows[:, :2], axis=0)).all()):
            raise SketchError("coordinates are too far apart for stroke-3 offsets (dx, dy): the "
                              "drawing spans more than the largest number a float holds")
    rows[np.cumsum([len(s) for s in sketch.strokes]) - 1, 2] = 1
    return rows


def _compact(rows: np.ndarray) -> np.ndarray:
    if np.array_equal(rows, np.round(rows)) and (np.abs(rows) <= np.iinfo(np.int16).max).all():
        return rows.astype(np.int16)
    return rows


def write(file: BinaryIO, sketches: Iterable[Sketch]) -> None:
    rows, lengths, metadata = [], [], []
    for i, sketch in enumerate(sketches):
        try:
            check_written(sketch)
            metadata.append(dumps(dict(sketch.metadata)))
            rows.append(_rows(sketch))
        except (BadValue, SketchError) as exc:
            raise BadValue(f"drawing {i}: {exc}") from None
        lengths.append(len(rows[-1]))
    if not lengths:
        raise BadValue("no drawings to write")
    np.savez_compressed(file, train=_compact(np.concatenate(rows)),
                        train_lengths=np.array(lengths, dtype=np.int64),
                        train_metadata=np.array(metadata, dtype=str))
