"""Retrieve panel: the gallery items most like the drawing, and which strokes made each match.

Opening a gallery embeds it once in the worker, with progress and Cancel (the engine caches the
embeddings on disk, so a gallery opened before comes back at once). After every edit the drawing
is embedded and searched (a quick worker run), and the top results appear as thumbnails. Picking
one makes the window explain the cosine similarity to it, stroke by stroke. Refine drops the
strokes that argue against what the top results agree on (the engine's `refine_query`: stray marks,
found without being told which result is right), as one undoable edit, and says how the ranks
moved (the picked result's too, when there is one).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..explain import Attribution
from ..models.tasks import ModelTask
from ..progress import TaskState
from ..sketch import Sketch
from ..tasks.retrieve import THUMB, Gallery, Match, thumbnail
from .follow import FollowUp
from .numbers import stroke_number
from .overlay import rgba_image
from .panels import Studio, TaskPanel, _heading, _rule
from .worker import ModelInfo

if TYPE_CHECKING:   # computed with torch: only named in annotations here
    from ..tasks.retrieve import Refinement

OPEN_HINT = ("No gallery open: open a folder or a file of drawings, then pick a result to see "
             "which strokes made the match.")


@dataclass(frozen=True)
class Found:
    """A search's results and the thumbnails of the rows not seen before ((THUMB, THUMB, 4) uint8,
    None if unreadable)."""

    matches: list[Match]
    thumbnails: dict[int, np.ndarray | None]


def search_with_thumbnails(sketch: Sketch, model, gallery: Gallery, top: int,
                           known: frozenset[int] = frozenset()) -> Found:
    """Search, and draw the results' thumbnails except those of the `known` rows: reading a
    drawing back from a large gallery file is the slow part, so each row is drawn once."""
    from ..tasks.retrieve import retrieve

    matches = retrieve(sketch, model, gallery, top=top) if len(sketch) else []
    return Found(matches, {m.row: thumbnail(gallery, m.row) for m in matches if m.row not in known})


class RetrievePanel(TaskPanel):
    title = "Retrieve"
    tasks = (ModelTask.EMBED,)

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(studio, parent)
        self.gallery: Gallery | None = None
        self.thumbnails: dict[int, QIcon | None] = {}     # by gallery row, for this gallery
        self.found: Found | None = None
        self.found_sketch: Sketch | None = None
        self.picked_row: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(6)
        layout.addWidget(_heading("Gallery"))
        row = QHBoxLayout()
        # A push button with a menu: its arrow has room of its own (a tool button's indicator
        # was painted over the text's end).
        self.open_button = QPushButton("Open gallery…")
        menu = QMenu(self.open_button)
        menu.addAction("Folder of sketches or images…", self.choose_folder)
        menu.addAction("File of many drawings (.ndjson, .npz)…", self.choose_file)
        self.open_button.setMenu(menu)
        row.addWidget(self.open_button)
        row.addStretch(1)
        row.addWidget(QLabel("Top"))
        self.top_spin = QSpinBox()
        self.top_spin.setRange(1, 100)
        self.top_spin.setValue(12)
        self.top_spin.valueChanged.connect(lambda _v: self._schedule_search())
        row.addWidget(self.top_spin)
        layout.addLayout(row)
        self.gallery_label = QLabel(OPEN_HINT)
        self.gallery_label.setObjectName("muted")
        self.gallery_label.setWordWrap(True)
        layout.addWidget(self.gallery_label)
        layout.addWidget(_rule())
        layout.addWidget(_heading("Most similar"))
        self.results = QListWidget()
        self.results.setViewMode(QListWidget.ViewMode.IconMode)
        self.results.setIconSize(QSize(THUMB, THUMB))
        self.results.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.results.setMovement(QListWidget.Movement.Static)
        self.results.setSpacing(4)
        # Two rows of results at least; with three, the match's words and Refine fell below the
        # fold at 1280x800 (the list scrolls, the panel should not).
        self.results.setMinimumHeight(2 * (THUMB + 34))
        self.results.setToolTip("Pick a result to see which strokes made the match")
        self.results.itemSelectionChanged.connect(self._picked)
        layout.addWidget(self.results, 1)
        self.match_label = QLabel("Pick a result to colour the strokes by how much they made it.")
        self.match_label.setObjectName("muted")
        self.match_label.setWordWrap(True)
        layout.addWidget(self.match_label)
        row = QHBoxLayout()
        self.refine_button = QPushButton("Refine: drop stray strokes")
        self.refine_button.setToolTip("Remove the strokes that argue against what the top results "
                                      "agree on, and search again (undo with Ctrl+Z)")
        self.refine_button.clicked.connect(self.refine)
        row.addWidget(self.refine_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.refine_label = QLabel()
        self.refine_label.setObjectName("muted")
        self.refine_label.setWordWrap(True)
        layout.addWidget(self.refine_label)
        # Searches follow the drawing, coalesced (follow.py): after the gallery's embedding pass
        # or a refinement, one search when it ends.
        self.follow = FollowUp(studio.tasks, self._search, self)
        self.on_model(studio.state.model)

    # --- the gallery -----------------------------------------------------------------------------
    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a gallery folder")
        if path:
            self.open(path)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a gallery file", "",
                                              "Drawings (*.ndjson *.npz);;All files (*)")
        if path:
            self.open(path)

    def open(self, path: str | Path) -> None:
        if not self.active():
            self.gallery_label.setText("Load an embedding model first (e.g. default-embed).")
            return
        from ..tasks.retrieve import open_gallery

        path = Path(path)
        self.gallery_label.setText(f"Embedding {path.name}…")
        self.studio.tasks.run(
            f"Embedding gallery {path.name}",
            lambda model, progress, cancelled: open_gallery(
                path, model, state=TaskState.from_callables(progress, cancelled)),
            self._opened, on_failed=self._open_failed,
            on_cancelled=lambda: self.gallery_label.setText(
                "Cancelled." if self.gallery is None else self._describe(self.gallery)))

    def _opened(self, gallery: Gallery) -> None:
        self.gallery = gallery
        self.thumbnails = {}
        self._clear_results()
        self.gallery_label.setText(self._describe(gallery))
        if gallery.skipped:
            self.gallery_label.setToolTip("Skipped:\n" + "\n".join(
                f"{s.source}{'' if s.index is None else f' #{s.index}'}: {s.reason}"
                for s in gallery.skipped[:30]))
        else:
            self.gallery_label.setToolTip(str(gallery.path))
        self.search()

    @staticmethod
    def _describe(gallery: Gallery) -> str:
        noun = {"sketch": "drawings", "image": "images"}.get(gallery.kind, "items")
        text = f"{gallery.path.name}: {len(gallery)} {noun}"
        text += (" (from the cache)" if gallery.cache_hit
                 else f", embedded in {gallery.elapsed_ms / 1000:.1f} s")
        if gallery.skipped_count:
            text += f" · {gallery.skipped_count} unreadable item(s) skipped (hover for the list)"
        return text

    def _open_failed(self, message: str) -> None:
        self.gallery_label.setText(message if self.gallery is None
                                   else f"{message}\nStill open: {self._describe(self.gallery)}")

    # --- searching -------------------------------------------------------------------------------
    def _schedule_search(self) -> None:
        if self.gallery is not None and self.active():
            self.follow.request()

    def search(self) -> None:
        if self.gallery is not None and self.active():
            self.follow.fire()

    def _search(self) -> None:
        if self.gallery is None or not self.active():   # a new model since it was asked for
            return
        sketch, gallery, top = self.studio.document.sketch, self.gallery, self.top_spin.value()
        known = frozenset(self.thumbnails)
        self.studio.tasks.run("Search", lambda model, progress, cancelled:
                             search_with_thumbnails(sketch, model, gallery, top, known),
                             lambda found: self._found(sketch, gallery, found), quiet=True)

    def _found(self, sketch: Sketch, gallery: Gallery, found: Found) -> None:
        if sketch is not self.studio.document.sketch or gallery is not self.gallery:
            return
        for row, thumb in found.thumbnails.items():
            self.thumbnails[row] = (QIcon(QPixmap.fromImage(rgba_image(thumb)))
                                    if thumb is not None else None)
        self.found, self.found_sketch = found, sketch
        picked = self.picked_row
        self.results.blockSignals(True)
        try:
            self.results.clear()
            for match in found.matches:
                name = match.word or Path(match.source).stem
                item = QListWidgetItem(f"{name}\n{match.similarity:.3f}")
                icon = self.thumbnails.get(match.row)
                if icon is not None:
                    item.setIcon(icon)
                item.setToolTip(f"#{match.rank} · similarity {match.similarity:.4f}\n"
                                f"{match.source}" + (f" #{match.index}" if match.index else ""))
                item.setData(Qt.ItemDataRole.UserRole, match.row)
                item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
                self.results.addItem(item)
                if match.row == picked:
                    item.setSelected(True)
        finally:
            self.results.blockSignals(False)
        self.refine_button.setEnabled(bool(found.matches))
        if not found.matches:
            self.match_label.setText("Draw something to search the gallery.")

    def _clear_results(self) -> None:
        self.found = self.found_sketch = None
        self.results.clear()
        self.pick(None)

    # --- picking and refining --------------------------------------------------------------------
    def _picked(self) -> None:
        items = self.results.selectedItems()
        self.pick(items[0].data(Qt.ItemDataRole.UserRole) if items else None)

    def pick(self, row: int | None) -> None:
        """Explain the similarity to gallery row `row` (None: stop explaining)."""
        self.picked_row = row
        self.refine_label.setText("")
        if row is None or self.gallery is None:
            self.match_label.setText("Pick a result to colour the strokes by how much they made "
                                     "it.")
            self.studio.state.set_objective(None)
            return
        item = self.gallery.items[row]
        name = item.word or Path(item.source).name
        self.match_label.setText(f"Explaining the similarity to {name}…")
        from ..tasks.retrieve import objective_for

        self.studio.state.set_objective(objective_for(self.gallery, row))

    def refine(self) -> None:
        """Drop the strokes that argue against the top results' consensus, as one undoable edit."""
        from ..tasks.retrieve import refine_query

        if self.gallery is None or not len(self.studio.document.sketch):
            return
        sketch, gallery, row = self.studio.document.sketch, self.gallery, self.picked_row
        top = self.top_spin.value()
        self.refine_label.setText("Refining…")
        self.studio.tasks.run("Refine", lambda model, progress, cancelled: refine_query(
            sketch, model, gallery, top=top, row=row,
            state=TaskState.from_callables(progress, cancelled)),
            lambda refinement: self._refined(sketch, refinement))

    def _refined(self, sketch: Sketch, refinement: Refinement) -> None:
        if sketch is not self.studio.document.sketch:
            self.refine_label.setText("The drawing changed while refining: try again.")
            return
        dropped = refinement.refined.dropped
        if not dropped:
            self.refine_label.setText("Nothing to remove: "
                                      + (refinement.refined.note or "no stray stroke found") + ".")
            return
        self.studio.apply_edit(refinement.refined.sketch,
                               f"Refine ({len(dropped)} stray stroke(s) removed)")
        self.refine_label.setText(f"Removed {len(dropped)} stroke(s) "
                                  f"({', '.join(str(stroke_number(i)) for i in dropped)}): "
                                  f"{refinement.describe()}. Undo with Ctrl+Z.")

    # --- told by the window ----------------------------------------------------------------------
    def on_model(self, info: ModelInfo | None) -> None:
        # Embeddings belong to the model that made them: a new model needs the gallery again.
        self.gallery = None
        self.thumbnails = {}
        self.follow.forget()
        self._clear_results()
        self.refine_label.setText("")
        self.gallery_label.setToolTip("")
        active = info is not None and info.task == ModelTask.EMBED
        for widget in (self.open_button, self.top_spin, self.results):
            widget.setEnabled(active)
        self.refine_button.setEnabled(False)
        self.gallery_label.setText(OPEN_HINT if active else
                                   "Works with embedding models: choose one in the model list, "
                                   "e.g. default-embed.")

    def on_document(self, sketch: Sketch) -> None:
        self._schedule_search()

    def on_explanation(self, sketch: Sketch, result: Attribution) -> None:
        if self.picked_row is None or self.gallery is None or result.objective != "cosine":
            return
        item = self.gallery.items[self.picked_row]
        self.match_label.setText(
            f"Similarity to {item.word or Path(item.source).name}: {result.score_full:.3f}. Red "
            f"strokes made the match, blue strokes argue against it.")
