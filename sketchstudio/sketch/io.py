"""Reading and writing sketch files; the format is chosen by the file's extension.

    .ndjson  Quick, Draw! drawings, many per file, streamed     (formats/quickdraw.py)
    .npz     sketch-rnn stroke-3, many per file, never unpickled (formats/stroke3.py)
    .svg     a vector drawing, one per file                     (formats/svg.py)
    .json    a SketchStudio document, one per file, with the model and attribution settings
             it was explained with                               (formats/native.py)

Every failure, reading or writing, is a SketchFileError: one line naming the file (and the line,
where there is one). Files are written to a temporary name and moved into place, so a failed save
never leaves half a file behind or clobbers the previous one.

Every reader refuses drawings beyond the limits of sketch/limits.py and metadata that some writer
could not write back (sketch/metadata.py); every writer refuses the same, so what is read can be
saved in every format. The readers take optional `progress(fraction)` and `cancelled()` callables
(sketchstudio/progress.py), so that a worker thread can run them and stop them: once `cancelled()`
returns True they raise `sketchstudio.progress.Cancelled`.
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from os import PathLike
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

from ..fsutil import write_atomically
from ..progress import CancelledFn, ProgressFn
from .core import Sketch, SketchError
from .formats import Document, SketchFileError, format_for, native
from .formats.jsonvalues import BadValue
from .formats.watch import Watch

PathArg = str | PathLike[str]

__all__ = ["Document", "SketchFileError", "count_sketches", "file_format", "iter_drawings",
           "iter_sketches", "load_document", "load_sketch", "save_document", "save_sketch",
           "save_sketches"]


def file_format(path: PathArg) -> str:
    """The format name of a path, by extension: "ndjson", "npz", "svg" or "json"."""
    name: str = format_for(path).NAME
    return name


def _readable(path: PathArg) -> tuple[Path, ModuleType]:
    module = format_for(path)
    path = Path(path)
    if not path.is_file():
        raise SketchFileError(path, "no such file" if not path.exists() else "not a file")
    return path, module


def _check_index(path: Path, index: int) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise SketchFileError(path, f"drawing index {index!r} is invalid: indices are 0, 1, 2, ...")


def count_sketches(path: PathArg, *, progress: ProgressFn = None,
                   cancelled: CancelledFn = None) -> int:
    path, module = _readable(path)
    watch = Watch(progress, cancelled)
    if module.HOLDS_MANY:
        count: int = module.count(path, watch)
        return count
    module.read(path, watch)   # a broken single-drawing file holds no drawing, not one
    return 1


def iter_sketches(path: PathArg, *, progress: ProgressFn = None,
                  cancelled: CancelledFn = None) -> Iterator[Sketch]:
    """Every drawing of the file, in order, read lazily (files can hold millions)."""
    path, module = _readable(path)
    watch = Watch(progress, cancelled)
    if module.HOLDS_MANY:
        yield from module.iter_sketches(path, watch)
    else:
        yield module.read(path, watch)


def iter_drawings(path: PathArg, *, progress: ProgressFn = None, cancelled: CancelledFn = None,
                  on_bad: Callable[[int, SketchFileError], None] | None = None,
                  ) -> Iterator[tuple[int, Sketch]]:
    """(index, drawing) of every drawing, lazily. With `on_bad`, a format with one record per
    drawing (.ndjson) reports a drawing it cannot read as `on_bad(index, error)` and goes on with
    the next (the error names the line and what is wrong); a damaged file of another format is
    still one error."""
    path, module = _readable(path)
    watch = Watch(progress, cancelled)
    skipping = getattr(module, "iter_indexed", None)
    if skipping is not None:
        yield from skipping(path, watch, on_bad)
    elif module.HOLDS_MANY:
        yield from enumerate(module.iter_sketches(path, watch))
    else:
        yield 0, module.read(path, watch)


def load_sketch(path: PathArg, index: int = 0, *, progress: ProgressFn = None,
                cancelled: CancelledFn = None) -> Sketch:
    path, module = _readable(path)
    _check_index(path, index)
    watch = Watch(progress, cancelled)
    if index != 0 and not module.HOLDS_MANY:
        raise SketchFileError(path, f"drawing index {index} is out of range: the file holds "
                              "1 drawing")
    sketch: Sketch = (module.load(path, index, watch) if module.HOLDS_MANY
                      else module.read(path, watch))
    watch.step(1.0)
    return sketch


def load_document(path: PathArg, index: int = 0, *, progress: ProgressFn = None,
                  cancelled: CancelledFn = None) -> Document:
    """A .json document with its settings; any other file as a document without settings.

    For a worker thread: `progress(fraction)` is called now and then, and once `cancelled()`
    returns True the read stops with `sketchstudio.progress.Cancelled`."""
    if format_for(path) is native:
        path, _ = _readable(path)
        _check_index(path, index)
        if index != 0:
            raise SketchFileError(path, f"drawing index {index} is out of range: the file holds "
                                  "1 drawing")
        watch = Watch(progress, cancelled)
        document = native.read_document(path, watch)
        watch.step(1.0)
        return document
    return Document(load_sketch(path, index, progress=progress, cancelled=cancelled))


def _write(path: PathArg, write: Callable[[BinaryIO], None]) -> None:
    """`write_atomically`, with any failure as one line naming the path and why."""
    try:
        write_atomically(path, write)
    except (BadValue, SketchError) as exc:
        raise SketchFileError(Path(path), f"cannot save: {exc}") from None
    except OSError as exc:
        raise SketchFileError(Path(path), f"cannot write: {exc.strerror or exc}") from None


def save_sketches(path: PathArg, sketches: Iterable[Sketch]) -> None:
    """Write drawings (any iterable, consumed lazily for .ndjson) to one file."""
    module = format_for(path)
    if module.HOLDS_MANY:
        _write(path, lambda file: module.write(file, sketches))
        return
    first_two = list(itertools.islice(sketches, 2))
    if len(first_two) != 1:
        raise SketchFileError(path, f"a .{module.NAME} file holds exactly one drawing, got "
                              f"{'none' if not first_two else 'several'}")
    save_sketch(path, first_two[0])


def save_sketch(path: PathArg, sketch: Sketch) -> None:
    module = format_for(path)
    if module.HOLDS_MANY:
        _write(path, lambda file: module.write(file, [sketch]))
    else:
        _write(path, lambda file: module.write(file, sketch))


def save_document(path: PathArg, document: Document, background: bool = False,
                  cache: native.StrokeTextCache | None = None) -> None:
    """Atomically write a native document. `background`: the caller is a writer thread beside a
    user interface, so the encoding pauses now and then to let that thread run. `cache`: a writer
    that saves the same drawing repeatedly re-uses unchanged strokes' encoding. Same bytes."""
    if format_for(path) is not native:
        raise SketchFileError(path, "only .json documents keep the model and attribution "
                              "settings; use save_sketch for other formats")
    pause = (lambda: time.sleep(0)) if background else None
    _write(path, lambda file: native.write_document(file, document, pause, cache))
