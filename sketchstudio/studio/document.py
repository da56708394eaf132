"""The open document: an immutable Sketch snapshot behind a QUndoStack.

Every edit (draw, erase, move, clear, import, later tools) is `document.apply(new_sketch, text)`:
one undo command that swaps the before and after snapshots. Snapshots are immutable, so the one on
screen can be handed to the worker thread as it is.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from ..sketch import Sketch


class SnapshotCommand(QUndoCommand):
    def __init__(self, document: StudioDocument, before: Sketch, after: Sketch, text: str,
                 selection: tuple[int, ...] = (),
                 paths: tuple[Path | None, Path | None] | None = None) -> None:
        super().__init__(text)
        self._document = document
        self.before = before
        self.after = after
        self.selection = selection
        self.paths = paths          # (before, after) file of an edit that changes it (Import)

    def redo(self) -> None:
        self._document._set(self.after, self.selection)
        if self.paths is not None:
            self._document.set_path(self.paths[1])

    def undo(self) -> None:
        self._document._set(self.before, ())
        if self.paths is not None:
            self._document.set_path(self.paths[0])


class StudioDocument(QObject):
    # new sketch, stroke indices to select afterwards (e.g. the strokes just moved)
    changed = Signal(object, tuple)
    pathChanged = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sketch = Sketch()
        self._path: Path | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(500)

    @property
    def sketch(self) -> Sketch:
        return self._sketch

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def apply(self, sketch: Sketch, text: str, selection: tuple[int, ...] = ()) -> None:
        """Make `sketch` the document, undoably."""
        if sketch is self._sketch:
            return
        self.undo_stack.push(SnapshotCommand(self, self._sketch, sketch, text, tuple(selection)))

    def replace(self, sketch: Sketch, text: str, path: Path | None) -> None:
        """Make `sketch` the document and `path` its file (None: untitled), as one undoable edit:
        Undo brings back the drawing and the file it belonged to (an Import makes the document
        untitled so that Save never writes the imported drawing over the file that was open)."""
        if sketch is self._sketch and path == self._path:
            return
        self.undo_stack.push(SnapshotCommand(self, self._sketch, sketch, text, (),
                                             (self._path, path)))

    def remove(self, indices: tuple[int, ...] | list[int]) -> None:
        """Delete the strokes at `indices` (Edit ▸ Delete), undoably; nothing when none."""
        if indices:
            n = len(indices)
            self.apply(self._sketch.remove_strokes(indices),
                       f"Delete {n} stroke{'s' if n > 1 else ''}")

    def clear(self) -> None:
        """Remove every stroke (Edit ▸ Clear drawing), undoably."""
        if len(self._sketch):
            self.apply(self._sketch.with_strokes(()), "Clear drawing")

    def reset(self, sketch: Sketch, path: Path | None = None) -> None:
        """A new document (New, Open): history cleared, nothing to save."""
        self.undo_stack.clear()
        self._set(sketch, ())
        self.set_path(path)
        self.undo_stack.setClean()

    def set_path(self, path: Path | None) -> None:
        self._path = Path(path) if path is not None else None
        self.pathChanged.emit(self._path)

    def mark_saved(self, path: Path) -> None:
        self.set_path(path)
        self.undo_stack.setClean()

    def _set(self, sketch: Sketch, selection: tuple[int, ...]) -> None:
        self._sketch = sketch
        self.changed.emit(sketch, selection)
