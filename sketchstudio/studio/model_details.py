"""The model manager's details pane: what the selected model is, and every one of its classes."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QVBoxLayout, QWidget

from ..errors import UserError
from ..models import StoreEntry
from .card_form import spec_summary

BUILTIN_NOTE = "Built-in: shipped with SketchStudio, so it can't be removed."
CLASS_ROWS = 4      # rows of classes shown before the list scrolls


class ModelDetails(QWidget):
    """Name, task, description, input and card of one store entry, and its classes in a wrapping,
    scrollable list (all of them, in output order: a long list is never cut short)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info.setObjectName("muted")
        layout.addWidget(self.info)
        self.classes_label = QLabel()
        layout.addWidget(self.classes_label)
        self.classes = QListWidget()
        self.classes.setFlow(QListView.Flow.LeftToRight)
        self.classes.setWrapping(True)
        self.classes.setResizeMode(QListView.ResizeMode.Adjust)
        self.classes.setSpacing(2)
        self.classes.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.classes.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row = self.classes.fontMetrics().height() + 8
        self.classes.setMaximumHeight(row * CLASS_ROWS + 6)
        layout.addWidget(self.classes)
        self.show_message("")

    def show_message(self, text: str) -> None:
        """No model to describe (none selected, an empty store): just `text`, no stale classes."""
        self.info.setText(html.escape(text))
        self._set_classes(())

    def show_entry(self, entry: StoreEntry) -> None:
        try:
            card = entry.card()
        except UserError as exc:
            self.info.setText(html.escape(str(exc)))
            self._set_classes(())
            return
        parts = [f"<b>{html.escape(card.name)}</b> — {html.escape(str(card.task))}"]
        if card.description:
            parts.append(html.escape(card.description))
        parts.append(f"Input: {html.escape(spec_summary(card.spec))}")
        parts.append(f"Card: {html.escape(str(card.path))}")
        if entry.builtin:
            parts.append(BUILTIN_NOTE)
        self.info.setText("<br>".join(parts))
        self._set_classes(card.labels)

    def _set_classes(self, labels: tuple[str, ...] | list[str]) -> None:
        self.classes.clear()
        self.classes.addItems(list(labels))
        self.classes_label.setText(f"Classes ({len(labels)}), in output order:" if labels else "")
        self.classes_label.setVisible(bool(labels))
        self.classes.setVisible(bool(labels))

    def class_names(self) -> list[str]:
        return [self.classes.item(i).text() for i in range(self.classes.count())]

    def text(self) -> str:
        """Everything the pane says, as plain text (for tests and for copying)."""
        plain = self.info.text().replace("<br>", "\n").replace("<b>", "").replace("</b>", "")
        plain = html.unescape(plain)
        names = self.class_names()
        return plain + (f"\nClasses ({len(names)}): {', '.join(names)}" if names else "")
