"""`FileController`: New, Open, Import, drops, Open Recent, Save, Save As, Export, Export
attributions, and the window title that says what is open.

Files are read in the worker (studio/reading.py, through the TaskRunner: progress, Esc cancels)
and applied here on the GUI thread. The controller never calls back into the window: it reports
upward by signals (errors, status lines, a drawing that replaced the document, a document's saved
settings), and the window shows them and applies them to the state.

What is on the canvas and where it came from decide the title and what Save does:
- a native .json document has a path: Save writes it back;
- a drawing opened from another file (.svg, one drawing of an .ndjson) has none: Save asks where,
  suggesting the file's stem (or the drawing's word) + .json in the last save folder;
- Import replaces the drawing as one undoable edit and makes the document untitled (issue #16:
  "house.json*" holding a bicycle must not be saved over house.json by Ctrl+S). The title says so:
  "Untitled — imported from bicycle.ndjson — drawing 3 of 100 (bicycle)".
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMenu, QWidget

from ..errors import UserError
from ..sketch import Sketch
from ..sketch.formats import FORMATS, Document, format_for
from . import file_dialogs
from .canvas import SketchCanvas
from .document import StudioDocument
from .file_support import (
    Source,
    export_attributions_file,
    export_drawing,
    recent_label,
    suggested_name,
    title_of,
)
from .reading import FileRead, read_file
from .settings import StudioSettings
from .state import StudioState
from .task_runner import TaskRunner

if TYPE_CHECKING:
    from ..explain import Attribution

# The progress bar shows for a read only once it takes noticeably long (no flash per small file).
READ_PROGRESS_DELAY_MS = 400


@dataclass(eq=False)
class _PendingRead:
    """An Open or Import whose file the worker is reading."""

    kind: str                   # "open" or "import"
    title: str                  # for its error message: "Open" or "Import"
    path: Path
    index: int | None           # None: a file with many drawings shows the browser
    before: Sketch              # the document when it was asked for (edited meanwhile?)
    first_view: bool = False    # from start(): explain the drawing once it is in


class FileController(QObject):
    error = Signal(str, str)            # message, title (the window shows it)
    status = Signal(str, int)           # status-bar line, timeout in ms
    # Every open_file/import_file that returned True ends with one fileLoaded: True when the
    # drawing became the document (False: refused, cancelled, replaced, browser dismissed).
    fileLoaded = Signal(bool)
    drawingReplaced = Signal(bool)      # after New/Open/Import; True: explain it even if not live
    documentSettings = Signal(object)   # a .json Document: its saved model/method/target
    titleChanged = Signal()
    slowRead = Signal(str)              # a long read: show progress and Cancel, with this

    def __init__(self, document: StudioDocument, canvas: SketchCanvas, state: StudioState,
                 tasks: TaskRunner, settings: StudioSettings,
                 last_result: Callable[[], tuple[Sketch, Attribution] | None],
                 dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.document = document
        self.canvas = canvas
        self.state = state
        self.tasks = tasks
        self.settings = settings
        self.last_result = last_result
        self.dialog_parent = dialog_parent
        self.source: Source | None = None
        self._source_sketch: Sketch | None = None   # the drawing as read from `source`
        self._reading: _PendingRead | None = None
        self._title = ""
        document.pathChanged.connect(self._path_changed)
        document.changed.connect(self._sketch_changed)   # the word of an untitled drawing
        self._title = self.title()

    # --- title -----------------------------------------------------------------------------------
    def title(self) -> str:
        """What is open, for the window title (the window adds "[*] — SketchStudio")."""
        return title_of(self.document.path, self.source, self.document.sketch.word)

    def _path_changed(self, _path: object) -> None:
        self._title_may_change()

    def _sketch_changed(self, _sketch: object, _selection: object) -> None:
        self._title_may_change()

    def _title_may_change(self) -> None:
        title = self.title()
        if title != self._title:
            self._title = title
            self.titleChanged.emit()

    # --- New, Open, Import -----------------------------------------------------------------------
    def new_document(self) -> None:
        if not self.maybe_save():
            return
        self.source, self._source_sketch = None, None
        self.document.reset(Sketch())
        self.canvas.reset_page()
        self._title_may_change()
        self.drawingReplaced.emit(False)

    def open_file(self, path: str | Path | None = None, index: int | None = None,
                  ask: bool = True) -> bool:
        """Open a document (.json) or a drawing from any supported file as a new document.

        The file is read in the worker and the window keeps working meanwhile; True when the read
        started, and `fileLoaded` says how it ended."""
        if ask and not self.maybe_save():
            return False
        if path is None:
            path = file_dialogs.ask_open_path(self.dialog_parent, "Open",
                                              self.settings.last_dir("open"))
            if path is None:
                return False
        return self._read_file("open", Path(path), index)

    def import_file(self, path: str | Path | None = None, index: int | None = None) -> bool:
        """Replace the drawing with one from a file, as one undoable edit; the document becomes
        untitled (read as `open_file`)."""
        if path is None:
            path = file_dialogs.ask_open_path(self.dialog_parent, "Import a drawing",
                                              self.settings.last_dir("import"), import_=True)
            if path is None:
                return False
        return self._read_file("import", Path(path), index)

    def read_at_start(self, path: str | Path, index: int | None) -> bool:
        """`sketchstudio studio FILE [--index N]`: a file of many drawings opens drawing N (or
        its first); the model's first look is at it, even with live explanation off."""
        return self._read_file("open", Path(path), index or 0, first_view=True)

    def open_dropped(self, paths: list[str]) -> None:
        if not paths:
            return
        path = Path(paths[0])
        if path.suffix.lower() == ".json":
            self.open_file(path)
        elif path.suffix.lower() in FORMATS:
            self.import_file(path)
        else:
            self.error.emit(f"{path.name}: not a sketch file (use {', '.join(FORMATS)})", "Open")

    def open_recent(self, path: str) -> None:
        """As File ▸ Open (a file of many drawings shows the browser), never as Import."""
        if not Path(path).exists():
            self.settings.remove_recent(path)
            self.error.emit(f"{path}: no longer exists", "Open")
            return
        self.open_file(path)

    def fill_recent_menu(self, menu: QMenu) -> None:
        """The recent files, each with its folder, so two files of one name are told apart."""
        menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            action = menu.addAction(recent_label(path))
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_recent(p))
        if recent:
            menu.addSeparator()
            menu.addAction("Clear list", self.settings.clear_recent)
        else:
            menu.addAction("(none)").setEnabled(False)

    def _read_file(self, kind: str, path: Path, index: int | None,
                   first_view: bool = False) -> bool:
        """Read `path` in the worker; `_file_read` applies it on this thread when it arrives."""
        title = "Open" if kind == "open" else "Import"
        try:
            format_for(path)
        except UserError as exc:
            self.error.emit(str(exc), title)
            return False
        if self._reading is not None:       # a newer Open/Import replaces one still reading
            self._end_read(self._reading, False)
        elif self.tasks.running:
            # A running tool works on the drawing about to be replaced: stop it the way Esc does,
            # so that its panel says so (replacing it silently would leave the panel "Working…").
            self.tasks.cancel()
        pending = _PendingRead(kind, title, path, index, self.document.sketch, first_view)
        self._reading = pending
        verb = "Opening" if kind == "open" else "Importing"
        self.tasks.run(
            f"{verb} {path.name}",
            lambda _model, progress, cancelled: read_file(path, index, progress, cancelled),
            lambda result: self._file_read(pending, result),
            on_failed=lambda _message: self._end_read(pending, False),
            on_cancelled=lambda: self._end_read(pending, False),
            on_replaced=lambda: self._end_read(pending, False), needs_model=False, quiet=True)
        QTimer.singleShot(READ_PROGRESS_DELAY_MS, self, lambda: self._show_progress(pending))
        return True

    def _show_progress(self, pending: _PendingRead) -> None:
        name = self.tasks.name
        if self._reading is pending and name is not None:
            self.slowRead.emit(f"{name}…")

    def _end_read(self, pending: _PendingRead, loaded: bool) -> None:
        if self._reading is pending:
            self._reading = None
            self.fileLoaded.emit(loaded)

    def _file_read(self, pending: _PendingRead, result: FileRead) -> None:
        """The worker's result, on the GUI thread: pick a drawing if need be, then apply."""
        if self._reading is not pending:
            return
        if result.error is not None:
            self.error.emit(result.error, pending.title)
            self._end_read(pending, False)
            return
        applied = False
        try:
            picked = file_dialogs.pick_drawing(self.dialog_parent, pending.path, result)
            if picked is not None:          # None: the browser was dismissed, nothing changes
                sketch, source, document = picked
                if pending.kind == "open":
                    self._apply_open(pending, sketch, source, document)
                else:
                    self._apply_import(pending, sketch, source)
                applied = True
                if result.drawings is not None and result.drawings.bad:
                    self.status.emit(f"{pending.path.name}: {result.drawings.bad_summary()}; "
                                     "the other drawings are offered", 15000)
        finally:
            self._end_read(pending, applied)

    def _apply_open(self, pending: _PendingRead, sketch: Sketch, source: Source,
                    document: Document | None) -> None:
        path = pending.path
        native = document is not None
        changed = self.document.sketch is not pending.before
        self.source, self._source_sketch = source, sketch
        if not changed:
            self.document.reset(sketch, path if native else None)
        else:
            # Drawn on (or restored) while the file was read, after any "save changes?" was
            # answered: the file still opens, and that drawing stays one Undo away.
            self.document.replace(sketch, f"Open {path.name}", path if native else None)
        self.canvas.reset_page(sketch)
        self._title_may_change()
        if document is not None:
            self.documentSettings.emit(document)
        self.drawingReplaced.emit(pending.first_view)
        self.settings.add_recent(path)
        self.settings.set_last_dir("open", path)
        note = "; Undo brings back what was drawn meanwhile" if changed else ""
        self.status.emit(f"Opened {path.name}: {len(sketch)} strokes{note}", 5000)

    def _apply_import(self, pending: _PendingRead, sketch: Sketch, source: Source) -> None:
        path = pending.path
        self.source = Source(source.path, source.index, source.total, source.more, imported=True)
        self._source_sketch = sketch
        # Whatever was drawn before (or while the file was read) stays one Undo away; the document
        # is untitled from now on, so Save asks where instead of overwriting the opened file.
        number = f" #{source.index + 1}" if source.index is not None else ""
        self.document.replace(sketch, f"Import {path.name}{number}", None)
        self.canvas.reset_page(sketch)
        self._title_may_change()
        self.drawingReplaced.emit(False)
        self.settings.add_recent(path)
        self.settings.set_last_dir("import", path)
        self.status.emit(f"Imported {path.name}: {len(sketch)} strokes, as an untitled drawing",
                         5000)

    # --- Save ------------------------------------------------------------------------------------
    def document_to_save(self) -> Document:
        """The document as Save writes it (autosave too): drawing, model, method and target."""
        model = self.state.model.id if self.state.model is not None else None
        attribution: dict[str, str] = {"method": self.state.method}
        if self.state.target is not None:
            attribution["target"] = self.state.target
        return Document(self.document.sketch, model, attribution)

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self.save_to(self.document.path)

    def save_as(self) -> bool:
        if self.document.path is not None:
            start = self.document.path
        else:
            name = suggested_name(self.source.path if self.source else None,
                                  self.source.index if self.source else None,
                                  self.document.sketch.word)
            start = Path(self.settings.last_dir("save")) / f"{name}.json"
        path = file_dialogs.ask_save_path(self.dialog_parent, start)
        return path is not None and self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        from ..sketch.io import save_document

        path = Path(path)
        try:
            save_document(path, self.document_to_save())
        except UserError as exc:
            self.error.emit(str(exc), "Save")
            return False
        self.document.mark_saved(path)
        self.settings.add_recent(path)
        self.settings.set_last_dir("save", path)
        self.status.emit(f"Saved {path.name}", 4000)
        return True

    def ask_unsaved(self) -> str:
        """'save', 'discard' or 'cancel' (tests replace this)."""
        return file_dialogs.ask_unsaved(self.dialog_parent)

    def maybe_save(self) -> bool:
        """True when the work may go: nothing unsaved, saved now, or discarded."""
        if not self.document.modified:
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save()
        return answer == "discard"

    # --- Export ----------------------------------------------------------------------------------
    def _origin(self) -> tuple[Path | None, int | None]:
        """The file holding exactly the drawing on screen and its index there (as `sketchstudio
        explain FILE --index N` reads it); (None, None) once edited, or for a drawing of no file."""
        sketch = self.document.sketch
        if self.source is not None and sketch is self._source_sketch:
            return self.source.path, self.source.index or 0
        if self.document.path is not None and not self.document.modified:
            return self.document.path, 0
        return None, None

    def _explained(self) -> Attribution | None:
        """The explanation of exactly the drawing on the canvas, if there is one."""
        last = self.last_result()
        sketch = self.document.sketch
        return last[1] if last is not None and last[0] is sketch and len(sketch) else None

    def export(self, path: str | Path | None = None, heat: bool | None = None) -> bool:
        """Export the drawing: .png and .svg as pictures with heat colours and legend when the
        drawing is explained (`heat=False`: plain), .ndjson/.npz/.svg as drawings."""
        if path is None:
            answer = file_dialogs.ask_export_path(self.dialog_parent,
                                                  self.settings.last_dir("export"))
            if answer is None:
                return False
            path, heat = answer
        path = Path(path)
        try:
            note = export_drawing(path, self.document.sketch, self._explained(), heat)
        except UserError as exc:
            self.error.emit(str(exc), "Export")
            return False
        self.settings.set_last_dir("export", path)
        self.status.emit(f"Exported {path.name}" + (f": {note}" if note else ""), 6000)
        return True

    def export_attributions(self, path: str | Path | None = None) -> bool:
        """File ▸ Export attributions…: the explanation on screen as .json (the fields of
        `sketchstudio explain --json`) or .csv (a row a stroke)."""
        result = self._explained()
        if result is None:
            self.error.emit("No explanation of this drawing yet: explain it first (F5), then "
                            "export its attributions", "Export attributions")
            return False
        origin, index = self._origin()
        if path is None:
            name = suggested_name(origin, index, self.document.sketch.word)
            start = Path(self.settings.last_dir("attributions")) / f"{name}-attributions.json"
            path = file_dialogs.ask_attributions_path(self.dialog_parent, start)
            if path is None:
                return False
        path = Path(path)
        try:
            export_attributions_file(path, result, origin, index)
        except UserError as exc:
            self.error.emit(str(exc), "Export attributions")
            return False
        self.settings.set_last_dir("attributions", path)
        self.status.emit(f"Exported the attributions to {path.name}", 5000)
        return True
