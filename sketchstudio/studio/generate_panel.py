"""Generate panel: what a generator makes of the drawing, and which strokes made each part of it.

After every edit the generator runs once in the worker (`tasks.generate.generate`) and its image is
shown here. Drag a rectangle on the image (or take the whole image): the window then explains the
mean output inside it per stroke, with the chosen method, and colours the strokes as for a
classifier. The output can also lie behind the canvas as a faint "what comes next" ghost.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..explain import Attribution
from ..sketch import Sketch
from ..tasks.generate import GenerationResult, Region, RegionMean, generate, region_from_rect
from .overlay import rgba_image
from .panels import Studio, TaskPanel, _heading, _rule, register_panel
from .worker import ModelInfo

GHOST_RGB = (46, 125, 50)
REGION = QColor(178, 24, 43)


class RegionImage(QWidget):
    """An image, scaled to fit, on which a rectangle is dragged; reports it in image pixels."""

    regionDragged = Signal(float, float, float, float)   # x0, y0, x1, y1 in image pixels

    def __init__(self) -> None:
        super().__init__()
        self.image: QImage | None = None
        self.region: Region | None = None
        self._drag_from: QPointF | None = None
        self._drag_to: QPointF | None = None
        self.setMinimumSize(200, 200)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Drag a rectangle: which strokes made this part of the picture?")

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self.update()

    def set_region(self, region: Region | None) -> None:
        self.region = region
        self.update()

    def image_rect(self) -> QRectF:
        """Where the image is drawn: centred, aspect kept, as large as fits."""
        if self.image is None:
            return QRectF()
        w, h = self.image.width(), self.image.height()
        scale = min(self.width() / w, self.height() / h)
        return QRectF((self.width() - w * scale) / 2, (self.height() - h * scale) / 2,
                      w * scale, h * scale)

    def to_image(self, pos: QPointF) -> QPointF:
        r = self.image_rect()
        return QPointF((pos.x() - r.left()) / r.width() * self.image.width(),
                       (pos.y() - r.top()) / r.height() * self.image.height())

    def from_image(self, x: float, y: float) -> QPointF:
        r = self.image_rect()
        return QPointF(r.left() + x / self.image.width() * r.width(),
                       r.top() + y / self.image.height() * r.height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(244, 245, 247))
        if self.image is None:
            painter.setPen(QColor(140, 142, 150))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No output yet")
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(self.image_rect(), self.image)
        pen = QPen(REGION, 2)
        painter.setPen(pen)
        if self._drag_from is not None and self._drag_to is not None:
            painter.drawRect(QRectF(self._drag_from, self._drag_to).normalized())
        elif self.region is not None:
            painter.drawRect(QRectF(self.from_image(self.region.x0, self.region.y0),
                                    self.from_image(self.region.x1, self.region.y1)))

    def mousePressEvent(self, event) -> None:
        if self.image is not None and event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = self._drag_to = event.position()
            self.update()

    def mouseMoveEvent(self, event) -> None:
        if self._drag_from is not None:
            self._drag_to = event.position()
            self.update()

    def mouseReleaseEvent(self, event) -> None:
        if self._drag_from is None:
            return
        a, b = self.to_image(self._drag_from), self.to_image(event.position())
        self._drag_from = self._drag_to = None
        self.update()
        self.regionDragged.emit(a.x(), a.y(), b.x(), b.y())


@register_panel
class GeneratePanel(TaskPanel):
    title = "Generate"
    tasks = ("generate",)

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(studio, parent)
        self.output: GenerationResult | None = None
        self.output_sketch: Sketch | None = None
        self.region: Region | None = None
        self._pending = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(6)
        layout.addWidget(_heading("Generated image"))
        self.view = RegionImage()
        self.view.regionDragged.connect(self._region_dragged)
        layout.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.whole_button = QPushButton("Whole image")
        self.whole_button.setToolTip("Explain the mean of the whole output")
        self.whole_button.clicked.connect(self.explain_whole)
        self.clear_button = QPushButton("No region")
        self.clear_button.setToolTip("Stop explaining: plain ink on the canvas")
        self.clear_button.clicked.connect(lambda: self.set_region(None))
        row.addWidget(self.whole_button)
        row.addWidget(self.clear_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.region_label = QLabel("Drag a rectangle on the image to see which strokes made it.")
        self.region_label.setObjectName("muted")
        self.region_label.setWordWrap(True)
        layout.addWidget(self.region_label)
        layout.addWidget(_rule())
        self.ghost_check = QCheckBox("Show as a ghost behind the drawing (what comes next)")
        self.ghost_check.setToolTip("The ink the generator adds, faintly, behind your strokes")
        self.ghost_check.toggled.connect(lambda _on: self._draw_ghost())
        layout.addWidget(self.ghost_check)
        self.stats = QLabel()
        self.stats.setObjectName("muted")
        self.stats.setWordWrap(True)
        layout.addWidget(self.stats)
        layout.addStretch(0)
        # Generation follows the drawing, coalesced: one run per burst of edits.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self.refresh)
        self.on_model(None)

    def _active(self) -> bool:
        info = self.studio.model_info
        return info is not None and info.task == "generate"

    # --- generating ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Run the generator on the current drawing (in the worker)."""
        if not self._active():
            return
        if self.studio.task_running:
            self._timer.start()       # a tool is busy: try again shortly
            return
        sketch = self.studio.document.sketch
        self.studio.run_task("Generate", lambda model, progress, cancelled:
                             generate(sketch, model, cancelled),
                             lambda result: self._generated(sketch, result), quiet=True)

    def _generated(self, sketch: Sketch, result: GenerationResult) -> None:
        if sketch is not self.studio.document.sketch:
            return
        self.output, self.output_sketch = result, sketch
        self.view.set_image(rgba_image(np.dstack([result.to_uint8(),
                                                  np.full(result.image.shape[:2], 255, np.uint8)])))
        s = result.stats
        text = f"{result.width}×{result.height}, {result.channels} channel(s) · " \
               f"{result.elapsed_ms:.0f} ms"
        if "added_ink_fraction" in s:
            text += f" · ink added on {s['added_ink_fraction']:.1%} of the pixels"
        self.stats.setText(text + ("\n" + "\n".join(result.notes) if result.notes else ""))
        if self.region is not None and (self.region.x1 > result.width
                                        or self.region.y1 > result.height):
            self.set_region(None)
        self._draw_ghost()

    def _draw_ghost(self) -> None:
        layer = self.studio.canvas.overlay("generate")
        result = self.output
        if not self.ghost_check.isChecked() or result is None or not result.same_frame:
            layer.clear()
            return
        added = result.added_ink()
        rgba = np.zeros(added.shape + (4,), np.uint8)
        rgba[..., :3] = GHOST_RGB
        rgba[..., 3] = np.round(added * 160).astype(np.uint8)
        x0, y0 = result.output_to_sketch(0.0, 0.0)
        x1, y1 = result.output_to_sketch(float(result.width), float(result.height))
        layer.set_image(rgba, (float(x0), float(y0), float(x1), float(y1)), opacity=1.0)

    # --- regions ---------------------------------------------------------------------------------
    def _region_dragged(self, x0: float, y0: float, x1: float, y1: float) -> None:
        if self.output is None:
            return
        region = region_from_rect(x0, y0, x1, y1, self.output.width, self.output.height)
        if region is None:
            self.region_label.setText("That rectangle is outside the image.")
            return
        self.set_region(region)

    def explain_whole(self) -> None:
        if self.output is not None:
            self.set_region(self.output.whole_region())

    def set_region(self, region: Region | None) -> None:
        self.region = region
        self.view.set_region(region)
        if region is None:
            self.region_label.setText("Drag a rectangle on the image to see which strokes made it.")
            self.studio.set_objective(None)
            return
        self.region_label.setText(f"Explaining the mean output in x {region.x0}–{region.x1}, "
                                  f"y {region.y0}–{region.y1} ({region.area} pixels)…")
        self.studio.set_objective(RegionMean(region))

    # --- told by the window ----------------------------------------------------------------------
    def on_model(self, info: ModelInfo | None) -> None:
        self.output = self.output_sketch = None
        self.region = None
        self.view.set_image(None)
        self.view.set_region(None)
        self.studio.canvas.overlay("generate").clear()
        active = info is not None and info.task == "generate"
        for widget in (self.whole_button, self.clear_button, self.ghost_check, self.view):
            widget.setEnabled(active)
        self.stats.setText("" if active else "Works with generator models (task \"generate\"): "
                           "choose one in the model list, e.g. default-generate.")
        if active:
            self._timer.start()

    def on_document(self, sketch: Sketch) -> None:
        if self._active():
            self._timer.start()

    def on_explanation(self, sketch: Sketch, result: Attribution) -> None:
        if self.region is None or result.objective != RegionMean.name:
            return
        total = float(np.sum(result.strokes))
        self.region_label.setText(
            f"Region x {self.region.x0}–{self.region.x1}, y {self.region.y0}–{self.region.y1}: "
            f"mean {result.score_full:.3f} (blank canvas {result.score_blank:.3f}); strokes "
            f"account for {total:+.3f}. Red strokes made it, blue ones held it back.")
