"""File ▸ Open audit…: an audit's results as a sortable, filterable table; a row opens its drawing.

The table reads `DIR/results.parquet` through `sketchstudio.audit.results` (pyarrow only: the
studio never imports torch or ray for this). Filters (class, correctness, a faithfulness range) are
computed with numpy over whole columns and the proxy only looks the answer up per row; sorting is
one numpy argsort, so a table of a million rows stays usable. Opening a row opens the drawing's
file at its index as a new document and explains it with the audit's method and target, so what
the canvas shows is the explanation the audit recorded.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..errors import UserError
from ..explain.registry import method_names
from .audit_data import ALL, COLUMNS, CORRECTNESS, AuditData, AuditRow

_ROOT = QModelIndex()
FAITHFULNESS_TIP = ("Insertion AUC − deletion AUC of the explanation: high when adding the strokes "
                    "it ranks first raises the score fast and removing them lowers it fast.")


class AuditTableModel(QAbstractTableModel):
    """The audit's rows in `order` (a permutation of the audit's rows). Sorting permutes `order`
    with numpy in one go: a proxy that sorts compares two rows at a time through Python, which
    takes seconds on the million-row tables a corpus audit gives."""

    def __init__(self, data: AuditData, parent=None) -> None:
        super().__init__(parent)
        self.audit = data
        self.order = np.arange(data.n)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else self.audit.n

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if column < 0:
            permutation = np.arange(self.audit.n)           # the audit's own order
        else:
            key = self.audit.sort_key(COLUMNS[column][1])
            if order == Qt.SortOrder.DescendingOrder:
                key = -key                                  # stable: ties keep the file order
            permutation = np.argsort(key, kind="stable")
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        where = np.empty(self.audit.n, dtype=np.int64)
        where[permutation] = np.arange(self.audit.n)       # audit row -> its new table row
        self.changePersistentIndexList(old, [self.index(int(where[self.order[i.row()]]),
                                                        i.column()) for i in old])
        self.order = permutation
        self.layoutChanged.emit()

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return FAITHFULNESS_TIP if COLUMNS[section][1] == "faithfulness" else None
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        _header, key, kind = COLUMNS[index.column()]
        row = int(self.order[index.row()])
        value = self.audit.columns[key][row]
        if role == Qt.ItemDataRole.DisplayRole:
            return _shown(value, kind)
        if role == Qt.ItemDataRole.ToolTipRole and key in ("file", "error"):
            return self.audit.source[row] if key == "file" else value
        if role == Qt.ItemDataRole.TextAlignmentRole and kind not in ("text", "correct"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _shown(value: Any, kind: str) -> str:
    if kind == "text":
        return "" if value is None else str(value)
    if kind == "correct":
        return {1: "✓ right", 0: "✗ wrong"}.get(int(value), "–")
    if kind == "int":
        return str(int(value))
    value = float(value)
    if not math.isfinite(value):
        return "–"
    return f"{value:.{int(kind[-1])}f}"


class AuditFilter(QSortFilterProxyModel):
    """Filters by a mask that AuditData computes for every row at once; sorting is handed to
    the table model (numpy), the proxy keeps the model's order."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._mask: np.ndarray | None = None

    def _table(self) -> AuditTableModel:
        # The rows' audit order lives on the table model; any other source is a wiring mistake.
        model = self.sourceModel()
        if not isinstance(model, AuditTableModel):
            raise TypeError(f"AuditFilter needs an AuditTableModel source, not {type(model)}")
        return model

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)

    def set_mask(self, mask: np.ndarray | None) -> None:
        if hasattr(self, "endFilterChange"):        # Qt 6.10+: invalidate* are deprecated
            self.beginFilterChange()
            self._mask = mask
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._mask = mask
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int,
                         source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if self._mask is None:
            return True
        return bool(self._mask[self._table().order[source_row]])

    def audit_row(self, view_row: int) -> int:
        """The audit's row shown at `view_row` of the table."""
        source = self.mapToSource(self.index(view_row, 0)).row()
        return int(self._table().order[source])


class AuditDialog(QDialog):
    """The table of one audit with its filters. `drawingRequested(row)` when a row is opened."""

    drawingRequested = Signal(object)       # AuditRow

    def __init__(self, data: AuditData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.audit = data
        self.setWindowTitle(f"Audit — {data.out_dir.name}")
        self.resize(1100, 620)
        layout = QVBoxLayout(self)
        summary = data.summary
        about = " · ".join(f"{k} {summary[k]}" for k in ("model", "method", "target")
                           if summary.get(k) is not None)
        heading = QLabel(f"{data.n:,} drawings" + (f" · {about}" if about else ""))
        heading.setObjectName("muted")
        layout.addWidget(heading)

        filters = QHBoxLayout()
        self.word = QComboBox()
        self.word.addItem("All classes", ALL)
        for word in data.words:
            self.word.addItem(word, word)
        self.correctness = QComboBox()
        for choice in CORRECTNESS:
            self.correctness.addItem(choice, choice)
        self.low, self.high = _range_box(-1.0), _range_box(1.0)
        self.count = QLabel()
        self.count.setObjectName("muted")
        for label, widget in (("Class", self.word), ("Prediction", self.correctness),
                              ("Faithfulness from", self.low), ("to", self.high)):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        filters.addStretch(1)
        filters.addWidget(self.count)
        layout.addLayout(filters)

        self.model = AuditTableModel(data, self)
        self.proxy = AuditFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        metrics = header.fontMetrics()
        for column, width in enumerate((170, 50, 110, 110, 50, 80, 60, 90, 90, 90, 90, 50)):
            text = COLUMNS[column][0]
            self.table.setColumnWidth(column, max(width, metrics.horizontalAdvance(text) + 28))
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)     # file order until asked
        # Activation: a double click or Enter (a single click where the style says so).
        self.table.activated.connect(lambda index: self.open_row(index.row()))
        layout.addWidget(self.table, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_button = buttons.addButton("Open drawing",
                                             QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.clicked.connect(self._open_selected)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)

        for combo in (self.word, self.correctness):
            combo.currentIndexChanged.connect(self.apply_filters)
        for box in (self.low, self.high):
            box.valueChanged.connect(self.apply_filters)
        self.apply_filters()

    def set_filters(self, word: str = ALL, correctness: str = "All", low: float = -1.0,
                    high: float = 1.0) -> None:
        """Set every filter at once (the controls follow), then filter once."""
        for widget in (self.word, self.correctness, self.low, self.high):
            widget.blockSignals(True)
        try:
            self.word.setCurrentIndex(max(self.word.findData(word), 0))
            self.correctness.setCurrentIndex(max(self.correctness.findData(correctness), 0))
            self.low.setValue(low)
            self.high.setValue(high)
        finally:
            for widget in (self.word, self.correctness, self.low, self.high):
                widget.blockSignals(False)
        self.apply_filters()

    def apply_filters(self) -> None:
        mask = self.audit.mask(self.word.currentData(), self.correctness.currentData(),
                               self.low.value(), self.high.value())
        self.proxy.set_mask(mask)
        self.count.setText(f"{self.proxy.rowCount():,} of {self.audit.n:,} shown")

    def shown_rows(self) -> list[int]:
        """The audit rows in the table's current (filtered, sorted) order."""
        return [self.proxy.audit_row(r) for r in range(self.proxy.rowCount())]

    def row_at(self, view_row: int) -> AuditRow:
        return self.audit.row(self.proxy.audit_row(view_row))

    def open_row(self, view_row: int) -> None:
        if 0 <= view_row < self.proxy.rowCount():
            self.drawingRequested.emit(self.row_at(view_row))

    def _open_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.open_row(rows[0].row())


def _range_box(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(-1.0, 1.0)
    box.setSingleStep(0.05)
    box.setDecimals(2)
    box.setValue(value)
    box.setToolTip(FAITHFULNESS_TIP)
    return box


def open_audit(window, path: str | Path | None = None) -> AuditDialog | None:
    """File ▸ Open audit…: ask for the folder (unless given), show its table beside the window;
    opening a row opens that drawing in `window` (a MainWindow) with the audit's explanation."""
    if path is None:
        path = QFileDialog.getExistingDirectory(window, "Open an audit folder",
                                                window.settings.last_dir("audit"))
        if not path:
            return None
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        data = AuditData(path)
    except UserError as exc:
        window.show_error(str(exc), "Open audit")
        return None
    except OSError as exc:
        window.show_error(f"{path}: cannot read the audit ({exc})", "Open audit")
        return None
    finally:
        QApplication.restoreOverrideCursor()
    window.settings.set_last_dir("audit", Path(path))
    dialog = AuditDialog(data, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.drawingRequested.connect(lambda row: open_row(window, row, data.summary))
    dialog.show()
    return dialog


def open_row(window, row: AuditRow, summary: dict[str, Any]) -> bool:
    """Open the row's drawing as the document, then explain it as the audit did (its method and
    target class). True when the file read started; the window's fileLoaded says how it ended."""
    def loaded(ok: bool) -> None:
        window.fileLoaded.disconnect(loaded)
        if not ok:
            return
        info = window.state.model
        if row.target and (info is None or row.target in info.labels):
            window.state.set_target(row.target)
        method = summary.get("method")
        if isinstance(method, str) and method != window.state.method and method in method_names():
            window.explain_now(method)

    # The audit's model, where the store has it and another one is loaded (as a document's
    # settings do): the drawing is then explained by the model that was audited.
    model = summary.get("model")
    if isinstance(model, str):
        window.models.load_if_stored(model)
    window.fileLoaded.connect(loaded)
    if not window.files.open_file(row.source, row.index):
        window.fileLoaded.disconnect(loaded)
        return False
    return True
