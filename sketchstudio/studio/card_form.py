"""The model card as a form, and a preview of what a model with that card would see."""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from ..errors import UserError
from ..models import TASKS, ModelCard, ModelTask
from ..render import RenderSpec
from ..render.spec import FIT_VALUES, INK_VALUES
from ..sketch import Sketch

PREVIEW = 168


def spec_summary(spec: RenderSpec) -> str:
    return (f"{spec.size}×{spec.size}×{spec.channels}, {spec.ink}, fit {spec.fit}, "
            f"σ {spec.sigma:g}")


def preview_pixmap(sketch: Sketch, spec: RenderSpec, side: int = PREVIEW) -> QPixmap:
    """What the model sees: the sketch rendered by `spec` (polarity included), scaled up crisply."""
    from ..render import render_ink  # torch: only when a preview is drawn

    ink = render_ink(sketch, spec).cpu().numpy()
    shown = ink if spec.ink == "light-on-dark" else 1.0 - ink
    gray = np.ascontiguousarray(np.round(np.clip(shown, 0, 1) * 255).astype(np.uint8))
    image = QImage(gray.data, spec.size, spec.size, spec.size,
                   QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.FastTransformation)


def _numbers(text: str) -> list[float]:
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise UserError(f"expected numbers separated by commas, got {text!r}") from None


class CardForm(QWidget):
    """The model card as a form; `card_dict()` gives what goes into card.toml."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        about = QGroupBox("Card")
        form = QFormLayout(about)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Quick, Draw! CNN")
        self.task = QComboBox()
        self.task.addItems(TASKS)
        self.labels = QPlainTextEdit()
        self.labels.setPlaceholderText("one class per line (or comma-separated), in output order")
        self.labels.setMinimumHeight(90)
        self.description = QLineEdit()
        form.addRow("Name", self.name)
        form.addRow("Task", self.task)
        form.addRow("Labels", self.labels)
        form.addRow("Description", self.description)
        layout.addWidget(about, 3)

        spec_box = QGroupBox("Input (how the sketch is rendered for the model)")
        spec_form = QFormLayout(spec_box)
        self.size_box = QSpinBox()   # not `size`: that is QWidget.size()
        self.size_box.setRange(4, 2048)
        self.size_box.setValue(28)
        self.channels = QComboBox()
        self.channels.addItems(["1", "3"])
        self.ink = QComboBox()
        self.ink.addItems(INK_VALUES)
        self.sigma = QDoubleSpinBox()
        self.sigma.setRange(0.05, 64)
        self.sigma.setDecimals(2)
        self.sigma.setSingleStep(0.1)
        self.sigma.setValue(0.5)
        self.fit = QComboBox()
        self.fit.addItems(FIT_VALUES)
        self.margin = QDoubleSpinBox()
        self.margin.setRange(0, 0.49)
        self.margin.setDecimals(3)
        self.margin.setSingleStep(0.01)
        self.margin.setValue(0.08)
        self.canvas = QDoubleSpinBox()
        self.canvas.setRange(1, 100000)
        self.canvas.setValue(256)
        self.mean = QLineEdit("0")
        self.std = QLineEdit("1")
        for label, widget in (("Size (px)", self.size_box), ("Channels", self.channels),
                              ("Ink", self.ink), ("Softness σ (px)", self.sigma),
                              ("Fit", self.fit), ("Margin", self.margin),
                              ("Canvas (fit = canvas)", self.canvas), ("Mean", self.mean),
                              ("Std", self.std)):
            spec_form.addRow(label, widget)
        layout.addWidget(spec_box, 2)

        for line in (self.name, self.description, self.mean, self.std):
            line.textChanged.connect(self.changed)
        self.labels.textChanged.connect(self.changed)
        for combo in (self.task, self.channels, self.ink, self.fit):
            combo.currentIndexChanged.connect(self.changed)
        for spin in (self.size_box, self.sigma, self.margin, self.canvas):
            spin.valueChanged.connect(self.changed)
        self.fit.currentTextChanged.connect(self._fit_changed)
        self._fit_changed(self.fit.currentText())

    def _fit_changed(self, fit: str) -> None:
        self.margin.setEnabled(fit == "center")
        self.canvas.setEnabled(fit == "canvas")

    def label_list(self) -> list[str]:
        text = self.labels.toPlainText()
        parts = text.splitlines() if "\n" in text.strip() else text.split(",")
        return [p.strip() for p in parts if p.strip()]

    def input_dict(self) -> dict[str, Any]:
        return {"size": self.size_box.value(), "channels": int(self.channels.currentText()),
                "ink": self.ink.currentText(), "sigma": round(self.sigma.value(), 4),
                "fit": self.fit.currentText(), "margin": round(self.margin.value(), 4),
                "canvas": float(self.canvas.value()), "mean": _numbers(self.mean.text()),
                "std": _numbers(self.std.text())}

    def spec(self) -> RenderSpec:
        return RenderSpec.from_dict(self.input_dict())

    def card_dict(self, file_name: str) -> dict[str, Any]:
        card: dict[str, Any] = {"name": self.name.text().strip(), "task": self.task.currentText(),
                "file": file_name}
        labels = self.label_list()
        if labels or self.task.currentText() == ModelTask.CLASSIFY:
            card["labels"] = labels
        if self.description.text().strip():
            card["description"] = self.description.text().strip()
        card["input"] = self.input_dict()
        return card

    def fill(self, card: ModelCard) -> None:
        """From a loaded ModelCard."""
        self.name.setText(card.name)
        self.task.setCurrentText(card.task)
        self.labels.setPlainText("\n".join(card.labels))
        self.description.setText(card.description)
        spec = card.spec
        self.size_box.setValue(spec.size)
        self.channels.setCurrentText(str(spec.channels))
        self.ink.setCurrentText(spec.ink)
        self.sigma.setValue(spec.sigma)
        self.fit.setCurrentText(spec.fit)
        self.margin.setValue(spec.margin)
        self.canvas.setValue(spec.canvas)
        self.mean.setText(", ".join(f"{v:g}" for v in spec.mean))
        self.std.setText(", ".join(f"{v:g}" for v in spec.std))
