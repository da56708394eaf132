"""Pick one drawing from a file that holds many (.ndjson, .npz): thumbnails with their words.

The browser reads no file: the window's worker thread reads the first MAX_SHOWN drawings
(studio/reading.py, with progress and Cancel) and hands them over, so a slow or hostile file never
freezes the window. Thumbnails are made in small batches from a timer, so even 2,000 drawings show
at once and fill in while the user looks. Drawings are numbered as people count, from 1 (the
tooltip gives the 0-based index the command line's --index takes); drawings that could not be read
are listed in a note above the grid, with their lines.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
)

from ..render import ink_to_gray
from ..sketch import Sketch
from .reading import MAX_SHOWN, Drawings

THUMB = 96
BATCH = 16


def thumbnail(sketch: Sketch, size: int = THUMB) -> QPixmap:
    gray = np.ascontiguousarray(ink_to_gray(sketch, size))
    image = QImage(gray.data, size, size, size, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image)


class DrawingBrowser(QDialog):
    def __init__(self, path: str | Path, drawings: Drawings, parent=None) -> None:
        """`drawings`: what `reading.read_drawings(path)` found (in the worker thread)."""
        super().__init__(parent)
        self.path = Path(path)
        self.setWindowTitle(f"Choose a drawing — {self.path.name}")
        self.resize(760, 560)
        self.sketches: list[Sketch] = list(drawings.sketches)
        self.drawings = drawings
        self.error: str | None = drawings.error
        self.more = drawings.more
        self._shown = 0         # drawings with a list item (and thumbnail) so far
        self._done = False

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by word…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        top.addWidget(self.filter, 1)
        self.count = QLabel("reading…")
        self.count.setObjectName("muted")
        top.addWidget(self.count)
        layout.addLayout(top)
        self.note = QLabel(drawings.bad_summary() or "")
        self.note.setObjectName("note")
        self.note.setWordWrap(True)
        self.note.setToolTip("\n".join(str(b) for b in drawings.bad[:40]))
        self.note.setVisible(bool(drawings.bad))
        layout.addWidget(self.note)

        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setGridSize(QSize(THUMB + 28, THUMB + 38))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setWordWrap(True)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        layout.addWidget(self.list, 1)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update_buttons()

        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._load_batch)
        self.finished.connect(self._stop_thumbnails)
        self._load_batch()   # at once: the first thumbnails show with the dialog
        if not self._done:
            self._timer.start()

    @property
    def finished_loading(self) -> bool:
        """Every drawing has its thumbnail."""
        return self._done

    def _selected_position(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def selected_index(self) -> int | None:
        """The chosen drawing's index in the file (0-based)."""
        position = self._selected_position()
        return None if position is None else self.drawings.index_of(position)

    def selected_sketch(self) -> Sketch | None:
        position = self._selected_position()
        return None if position is None else self.sketches[position]

    def select(self, index: int) -> None:
        """Select the drawing with this index in the file (0-based)."""
        for row in range(self.list.count()):
            position = self.list.item(row).data(Qt.ItemDataRole.UserRole)
            if self.drawings.index_of(position) == index:
                self.list.setCurrentRow(row)
                return

    def _update_buttons(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Open).setEnabled(
            self.list.currentItem() is not None)

    def _load_batch(self) -> None:
        batch = self.sketches[self._shown:self._shown + BATCH]
        for position, sketch in enumerate(batch, self._shown):
            index = self.drawings.index_of(position)
            word = sketch.word or ""
            label = f"{index + 1}  {word}".strip()
            item = QListWidgetItem(QIcon(thumbnail(sketch)), label)
            item.setData(Qt.ItemDataRole.UserRole, position)
            item.setToolTip(f"drawing {index + 1} (--index {index}): {word or 'no word'} · "
                            f"{len(sketch)} strokes")
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.list.addItem(item)
            item.setHidden(not self._matches(item))
        self._shown += len(batch)
        if len(self.sketches) and self.list.currentItem() is None:
            self.list.setCurrentRow(0)
        if self._shown >= len(self.sketches):
            self._done = True
            self._timer.stop()
        self._update_count()

    def _matches(self, item: QListWidgetItem) -> bool:
        text = self.filter.text().strip().lower()
        return not text or text in item.text().lower()

    def _apply_filter(self) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setHidden(not self._matches(item))
        self._update_count()

    def _update_count(self) -> None:
        n = len(self.sketches)
        text = f"{n} drawing{'s' if n != 1 else ''}"
        if not self._done:
            text += " · drawing thumbnails…"
        if self.more:
            text += f" (the first {MAX_SHOWN})"
        if self.drawings.bad:
            text += f" · {len(self.drawings.bad)} could not be read"
        if self.error:
            # Damage that stopped the reader: what was before it is offered; say why the rest is
            # missing.
            text += " · " + self.error
        self.count.setText(text)

    def _stop_thumbnails(self, _result: int = 0) -> None:
        self._timer.stop()
