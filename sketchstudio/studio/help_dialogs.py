"""The Help menu's dialogs: keyboard shortcuts, About, and the classes of the loaded classifier.

Each takes plain data (rows, labels), so the window decides what to show and the dialogs stay
testable without a model. Nothing here imports torch: About reads versions from package metadata.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata

import PySide6
from PySide6.QtCore import QEvent, QSortFilterProxyModel, Qt, Signal, qVersion
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .._version import __version__

PAPER = "arXiv 2403.09480"
LICENCE = "MIT"     # pyproject.toml: license = { text = "MIT" }
# (what, licence, address, why it is here). Omniglot is not listed: it is used by tests and
# benchmarks only, no shipped model was trained on it.
CREDITS: tuple[tuple[str, str, str, str], ...] = (
    ("Quick, Draw! dataset by Google", "CC BY 4.0",
     "https://github.com/googlecreativelab/quickdraw-dataset",
     "the built-in models were trained on its drawings"),
    ("Qt for Python (PySide6)", "LGPL-3.0", "https://www.qt.io/qt-for-python", "the interface"),
    ("PyTorch", "BSD-3-Clause", "https://pytorch.org", "the models"),
    ("pyqtgraph", "MIT", "https://www.pyqtgraph.org", "the plots"),
    ("NumPy", "BSD-3-Clause", "https://numpy.org", "the arrays"),
)

ShortcutRow = tuple[str, str, str]      # (section, action name, key text)


def strip_mnemonic(text: str) -> str:
    """A menu text as the user reads it: "Save &As…" -> "Save As…", "&&" -> "&"."""
    return re.sub(r"&(&?)", r"\1", text)


def shortcuts_from_actions(actions: Iterable[QAction],
                           section_of: Callable[[QAction], str | None]) -> list[ShortcutRow]:
    """Rows for `ShortcutsDialog`: one per action that has a shortcut, in the given order, keys in
    the platform's own notation (⌘ on macOS), several shortcuts joined by ", ". `section_of`
    names the action's section (e.g. its menu); None leaves the action out."""
    rows: list[ShortcutRow] = []
    seen: set[int] = set()
    for action in actions:
        if id(action) in seen:
            continue
        seen.add(id(action))
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        keys = [k for k in keys if k]
        section = section_of(action)
        if keys and section is not None:
            rows.append((section, strip_mnemonic(action.text()), ", ".join(keys)))
    return rows


class _FilterBox(QLineEdit):
    """A filter field: case-insensitive, any column; Down moves into the list."""

    def __init__(self, placeholder: str, proxy: QSortFilterProxyModel, view: QAbstractItemView):
        super().__init__()
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self._view = view
        proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        proxy.setFilterKeyColumn(-1)
        self.textChanged.connect(proxy.setFilterFixedString)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.key() == Qt.Key.Key_Down and self._view.model().rowCount() > 0:
            self._view.setFocus()
            self._view.setCurrentIndex(self._view.model().index(0, 0))
            return
        super().keyPressEvent(event)


def _close_buttons(dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    return buttons


class ShortcutsDialog(QDialog):
    """Help > Keyboard shortcuts: every shortcut in a table (section, action, keys), filtered as
    you type in the box above it."""

    def __init__(self, shortcuts: Sequence[ShortcutRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.model = QStandardItemModel(0, 3, self)
        self.model.setHorizontalHeaderLabels(["Section", "Action", "Keys"])
        for row in shortcuts:
            items = [QStandardItem(text) for text in row]
            for item in items:
                item.setEditable(False)
            self.model.appendRow(items)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        # compact rows: a reference is read by scanning, more rows on screen help
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)

        self.filter = _FilterBox("Filter by action, key or section", self.proxy, self.table)
        self.empty = QLabel()
        self.empty.setObjectName("muted")
        self.empty.hide()
        self.filter.textChanged.connect(self._update_empty)

        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(_close_buttons(self))
        self.resize(560, 520)
        self.filter.setFocus()

    def visible_rows(self) -> list[ShortcutRow]:
        """The rows the filter lets through, in order (what the table shows)."""
        p = self.proxy
        return [(p.index(r, 0).data(), p.index(r, 1).data(), p.index(r, 2).data())
                for r in range(p.rowCount())]

    def _update_empty(self, text: str) -> None:
        none = self.proxy.rowCount() == 0
        self.empty.setText(f"No shortcut matches “{text}”." if none else "")
        self.empty.setVisible(none)


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:    # e.g. a frozen app without the package's metadata
        return None


def about_text() -> str:
    """About's body (rich text; every address written out, so it can be selected and copied)."""
    versions = [f"PySide6 {PySide6.__version__} (Qt {qVersion()})"]
    for dist, name in (("torch", "PyTorch"), ("pyqtgraph", "pyqtgraph"), ("numpy", "NumPy")):
        found = _dist_version(dist)
        if found:
            versions.append(f"{name} {found}")
    credits = "".join(
        f"<li>{html.escape(what)}, {html.escape(licence)} — {html.escape(why)}<br>"
        f"<span style='font-family: monospace'>{html.escape(url)}</span></li>"
        for what, licence, url, why in CREDITS)
    return (
        f"<h2>SketchStudio {html.escape(__version__)}</h2>"
        "<p>See, stroke by stroke, why a sketch model decides what it decides: stroke-level "
        f"attribution after {PAPER}.</p>"
        f"<p>SketchStudio is free software under the {LICENCE} licence.</p>"
        f"<p><b>Credits</b></p><ul>{credits}</ul>"
        f"<p>Running with {html.escape(', '.join(versions))}.</p>")


class AboutDialog(QDialog):
    """Help > About: name, version, what it does, licence and credits; all text selectable."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About SketchStudio")
        self.text = QLabel(about_text())
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        buttons = _close_buttons(self)
        copy = buttons.addButton("Copy version", QDialogButtonBox.ButtonRole.ActionRole)
        copy.setToolTip("Copy the version line, for a bug report")
        copy.clicked.connect(self.copy_version)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    def plain_text(self) -> str:
        """The body as plain text (what a reader sees)."""
        doc = self.text.text()
        return html.unescape(re.sub(r"<[^>]+>", " ", doc))

    def copy_version(self) -> None:
        QGuiApplication.clipboard().setText(f"SketchStudio {__version__}, PySide6 "
                                            f"{PySide6.__version__}, Qt {qVersion()}")


class ClassListDialog(QDialog):
    """The classes the loaded classifier can answer, in its own order, in full, with a filter."""

    def __init__(self, labels: Sequence[str], parent: QWidget | None = None,
                 title: str = "Classes") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.labels = list(labels)
        self.model = QStandardItemModel(self)
        for label in self.labels:
            item = QStandardItem(label)
            item.setEditable(False)
            self.model.appendRow(item)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.filter = _FilterBox("Filter classes", self.proxy, self.view)
        self.count = QLabel()
        self.count.setObjectName("muted")
        self.filter.textChanged.connect(self._update_count)
        self._update_count("")
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count)
        layout.addWidget(_close_buttons(self))
        self.resize(340, 520)
        self.filter.setFocus()

    def visible_labels(self) -> list[str]:
        return [self.proxy.index(r, 0).data() for r in range(self.proxy.rowCount())]

    def _update_count(self, text: str) -> None:
        total, shown = len(self.labels), self.proxy.rowCount()
        noun = "class" if total == 1 else "classes"
        self.count.setText(f"{total:,} {noun}" if not text
                           else f"{shown:,} of {total:,} {noun} match “{text}”")


def class_count_text(n: int) -> str:
    return f"{n:,} class…" if n == 1 else f"{n:,} classes…"


class ClassListLink(QLabel):
    """"40 classes…" as a link for the Classify panel: opens `ClassListDialog` on the labels.
    Hidden while there are none (no model, or a model without classes)."""

    opened = Signal(object)     # the ClassListDialog just shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._labels: list[str] = []
        self._title = "Classes"
        self.dialog: ClassListDialog | None = None
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                     | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.setToolTip("Show every class the model can answer")
        self.linkActivated.connect(lambda _link: self.open_list())
        self.hide()

    def set_labels(self, labels: Sequence[str], title: str = "Classes") -> None:
        self._labels, self._title = list(labels), title
        self._set_link_text()
        self.setVisible(bool(self._labels))
        if self.dialog is not None:     # a list left open shows the old model's classes
            self.dialog.close()
            self.dialog = None

    def _set_link_text(self) -> None:
        self.clear()    # setText ignores the text it already shows: no re-parse without this
        self.setText(f"<a href='classes'>{html.escape(class_count_text(len(self._labels)))}</a>")

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        # Rich text takes the link colour of the palette when it is parsed: parse again when the
        # palette changes (a light/dark switch), or the link stays blue on dark.
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._labels:
            self._set_link_text()

    def open_list(self) -> ClassListDialog:
        if self.dialog is None:
            self.dialog = ClassListDialog(self._labels, self.window(), self._title)
            self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog = self.dialog
            dialog.destroyed.connect(lambda _obj=None, d=dialog: self._forget(d))
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        self.dialog.filter.setFocus()
        self.opened.emit(self.dialog)
        return self.dialog

    def _forget(self, dialog: ClassListDialog) -> None:
        if self.dialog is dialog:   # not a newer list opened after this one was closed
            self.dialog = None
