"""The tool bar's model box: a combo of a fixed, sensible width whose text is elided in the middle.

A long model name ("Quick, Draw! CNN (40 categories)") must neither widen the tool bar (which
would make it reflow) nor be cut at its end, where the distinguishing part usually is: the box
shows "Quick, Draw! ske…(generator)" and the tooltip the full name.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter, QWidget

from .model_controller import ModelEntry
from .worker import ModelInfo

# The box's width, in average characters of the tool bar's font: the default classifier's name in
# full, and enough of an embedding model's or a generator's to tell them apart (the tool bar still
# fits a 1024-pixel window without reflowing).
BOX_CHARACTERS = 32


class ModelBox(QComboBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(BOX_CHARACTERS)
        view = self.view()
        if view is not None:    # the drop-down list shows the names in full
            view.setTextElideMode(Qt.TextElideMode.ElideNone)
            view.setMinimumWidth(self.fontMetrics().averageCharWidth() * 40)
        self.currentIndexChanged.connect(lambda _i: self._update_tooltip())
        self._update_tooltip()

    def set_entries(self, entries: Sequence[ModelEntry], current: ModelInfo | None) -> None:
        """List `entries`; the model in use is selected. No signal fires."""
        self.blockSignals(True)
        try:
            self.clear()
            for entry in entries:
                self.addItem(entry.label, entry.id)
                self.setItemData(self.count() - 1, entry.tooltip, Qt.ItemDataRole.ToolTipRole)
                if current is not None and entry.id in (current.source, current.id):
                    self.setCurrentIndex(self.count() - 1)
            if self.count() == 0:
                self.addItem("(no model)", None)
        finally:
            self.blockSignals(False)
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        tip = self.itemData(self.currentIndex(), Qt.ItemDataRole.ToolTipRole)
        name = self.currentText()
        self.setToolTip(f"{tip or name}\nThe model that judges the drawing" if name else
                        "The model that judges the drawing")

    def shown_text(self, option: QStyleOptionComboBox | None = None) -> str:
        """The current name as the box paints it: elided in the middle to fit its text field."""
        if option is None:
            option = QStyleOptionComboBox()
            self.initStyleOption(option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        return self.fontMetrics().elidedText(self.currentText(), Qt.TextElideMode.ElideMiddle,
                                             max(field.width(), 0))

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        option.currentText = self.shown_text(option)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)
