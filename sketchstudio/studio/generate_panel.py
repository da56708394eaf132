"""Generate panel: what a generator makes of the drawing, and which strokes made each part of it.

After every edit the generator runs once in the worker (`tasks.generate.generate`) and its image is
shown here: the input's ink in dark grey, what the generator adds in colour (for the default fill
generator: every region the drawing encloses). Click an area it made (a filled region) or drag a
rectangle (or take the whole image): the window then explains the mean output there per stroke,
with the chosen method, and colours the strokes as for a classifier. What the generator adds can
also lie behind the canvas as a ghost.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..explain import Attribution
from ..explain.registry import method_label
from ..models.tasks import ModelTask
from ..progress import TaskState
from ..sketch import Sketch
from .follow import FollowUp
from .numbers import format_value
from .overlay import rgba_image
from .panels import Studio, TaskPanel, _heading, _rule
from .worker import ModelInfo

if TYPE_CHECKING:   # the engine module imports torch: only named in annotations here
    from ..tasks.generate import GenerationResult, Region

HINT = "Click a green area, or drag a rectangle, to see which strokes made it."
GHOST_RGB = (46, 125, 50)
REGION = QColor(178, 24, 43)
INPUT_INK_RGB = np.array([60, 62, 70], np.float32)
ADDED_RGB = np.array([102, 187, 106], np.float32)     # GHOST_RGB, lighter: the area under strokes
PAPER_RGB = np.array([255, 255, 255], np.float32)


def display_image(result: GenerationResult) -> np.ndarray:
    """(H, W, 4) uint8 picture of a generator's output: the input's ink dark grey and what the
    generator added in green, on white, when the output is ink in the input's pixels; the output
    as it is (to_uint8) otherwise."""
    h, w = result.image.shape[:2]
    alpha = np.full((h, w, 1), 255, np.uint8)
    if result.output_ink is None or not result.same_frame or result.input_ink.shape != (h, w):
        return np.concatenate([result.to_uint8(), alpha], axis=2)
    added = result.added_ink()[..., None]
    ink = np.clip(result.input_ink, 0.0, 1.0)[..., None]
    rgb = PAPER_RGB * (1 - added) + ADDED_RGB * added
    rgb = rgb * (1 - ink) + INPUT_INK_RGB * ink
    return np.concatenate([np.round(rgb).astype(np.uint8), alpha], axis=2)


class RegionImage(QWidget):
    """An image, scaled to fit, on which a rectangle is dragged; reports it in image pixels."""

    regionDragged = Signal(float, float, float, float)   # x0, y0, x1, y1 in image pixels
    clicked = Signal(float, float)                      # x, y in image pixels

    def __init__(self) -> None:
        super().__init__()
        self.image: QImage | None = None
        self.region: Region | None = None
        self.mask_overlay: QImage | None = None   # a clicked area, drawn translucent over the image
        self._drag_from: QPointF | None = None
        self._drag_to: QPointF | None = None
        self.setMinimumSize(200, 200)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Click a filled area, or drag a rectangle: which strokes made this part "
                        "of the picture?")

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self.update()

    def set_region(self, region: Region | None, mask: np.ndarray | None = None) -> None:
        self.region = region
        self.mask_overlay = None
        if mask is not None:
            rgba = np.zeros(mask.shape + (4,), np.uint8)
            rgba[mask] = (REGION.red(), REGION.green(), REGION.blue(), 110)
            self.mask_overlay = rgba_image(rgba)
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
        image = self.image
        assert image is not None, "to_image needs an image (a drag starts only on one)"
        r = self.image_rect()
        return QPointF((pos.x() - r.left()) / r.width() * image.width(),
                       (pos.y() - r.top()) / r.height() * image.height())

    def from_image(self, x: float, y: float) -> QPointF:
        image = self.image
        assert image is not None, "from_image needs an image (paintEvent draws only with one)"
        r = self.image_rect()
        return QPointF(r.left() + x / image.width() * r.width(),
                       r.top() + y / image.height() * r.height())

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
        elif self.mask_overlay is not None:
            painter.drawImage(self.image_rect(), self.mask_overlay)
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
        moved = (event.position() - self._drag_from).manhattanLength()
        self._drag_from = self._drag_to = None
        self.update()
        if moved < 4:      # a click, not a drag: the area under it
            self.clicked.emit(b.x(), b.y())
        else:
            self.regionDragged.emit(a.x(), a.y(), b.x(), b.y())


class GeneratePanel(TaskPanel):
    title = "Generate"
    tasks = (ModelTask.GENERATE,)

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(studio, parent)
        self.output: GenerationResult | None = None
        self.output_sketch: Sketch | None = None
        self.region: Region | None = None
        self.region_mask: np.ndarray | None = None
        self.clicked_at: tuple[float, float] | None = None   # the pixel a clicked area holds
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(6)
        layout.addWidget(_heading("Generated image"))
        self.view = RegionImage()
        self.view.regionDragged.connect(self._region_dragged)
        self.view.clicked.connect(self._clicked)
        layout.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.whole_button = QPushButton("Whole image")
        self.whole_button.setToolTip("Explain the mean of the whole output")
        self.whole_button.clicked.connect(self.explain_whole)
        self.clear_button = QPushButton("Clear region")
        self.clear_button.setToolTip("Stop explaining: plain ink on the canvas")
        self.clear_button.clicked.connect(lambda: self.set_region(None))
        row.addWidget(self.whole_button)
        row.addWidget(self.clear_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.region_label = QLabel(HINT)
        self.region_label.setObjectName("muted")
        self.region_label.setWordWrap(True)
        layout.addWidget(self.region_label)
        layout.addWidget(_rule())
        self.ghost_check = QCheckBox("Show what it adds behind the drawing")
        self.ghost_check.setToolTip("What the generator adds (the filled regions), in green, "
                                    "behind your strokes")
        self.ghost_check.toggled.connect(lambda _on: self._draw_ghost())
        layout.addWidget(self.ghost_check)
        self.stats = QLabel()
        self.stats.setObjectName("muted")
        self.stats.setWordWrap(True)
        layout.addWidget(self.stats)
        layout.addStretch(0)
        # Generation follows the drawing, coalesced (follow.py).
        self.follow = FollowUp(studio.tasks, self._generate, self)
        self.on_model(studio.state.model)

    # --- generating ------------------------------------------------------------------------------
    def _generate(self) -> None:
        if not self.active():      # a new model since it was asked for
            return
        sketch = self.studio.document.sketch
        from ..tasks.generate import generate

        self.studio.tasks.run("Generate", lambda model, progress, cancelled: generate(
                                 sketch, model, TaskState.from_callables(progress, cancelled)),
                             lambda result: self._generated(sketch, result), quiet=True)

    def _generated(self, sketch: Sketch, result: GenerationResult) -> None:
        if sketch is not self.studio.document.sketch:
            return
        self.output, self.output_sketch = result, sketch
        self.view.set_image(rgba_image(display_image(result)))
        s = result.stats
        text = f"{result.width}×{result.height}, {result.channels} channel(s) · " \
               f"{result.elapsed_ms:.0f} ms"
        if "added_ink_fraction" in s:
            text += f" · adds {s['added_ink_fraction']:.1%} of the pixels (green)"
        if result.description:
            text = f"Output: {result.description}.\n" + text
        self.stats.setText(text + ("\n" + "\n".join(result.notes) if result.notes else ""))
        if self.clicked_at is not None:
            # The drawing changed: follow the area under the same pixel, if it is still there.
            mask = result.region_at(*self.clicked_at)
            if mask is None:
                self.set_region(None)
            elif self.region_mask is None or not np.array_equal(mask, self.region_mask):
                self._set_area(mask, self.clicked_at)
        elif self.region is not None and (self.region.x1 > result.width
                                          or self.region.y1 > result.height):
            self.set_region(None)
        self._draw_ghost()

    def _draw_ghost(self) -> None:
        layer = self.studio.overlay("generate")
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
        from ..tasks.generate import region_from_rect

        region = region_from_rect(x0, y0, x1, y1, self.output.width, self.output.height)
        if region is None:
            self.region_label.setText("That rectangle is outside the image.")
            return
        self.set_region(region)

    def _clicked(self, x: float, y: float) -> None:
        if self.output is None:
            return
        mask = self.output.region_at(x, y)
        if mask is None:
            self.region_label.setText("Nothing the generator made is under that pixel: click a "
                                      "green area, or drag a rectangle.")
            return
        self._set_area(mask, (x, y))

    def _set_area(self, mask: np.ndarray, at: tuple[float, float]) -> None:
        from ..tasks.generate import RegionMean

        objective = RegionMean(mask=mask)
        self.region, self.region_mask, self.clicked_at = objective.region, mask, at
        self.view.set_region(objective.region, mask)
        self.region_label.setText(f"Explaining the mean output over the clicked area "
                                  f"({int(mask.sum())} pixels)…")
        self.studio.state.set_objective(objective)

    def explain_whole(self) -> None:
        if self.output is not None:
            self.set_region(self.output.whole_region())

    def set_region(self, region: Region | None) -> None:
        self.region, self.region_mask, self.clicked_at = region, None, None
        self.view.set_region(region)
        if region is None:
            self.region_label.setText(HINT)
            self.studio.state.set_objective(None)
            return
        self.region_label.setText(f"Explaining the mean output in x {region.x0}–{region.x1}, "
                                  f"y {region.y0}–{region.y1} ({region.area} pixels)…")
        from ..tasks.generate import RegionMean

        self.studio.state.set_objective(RegionMean(region))

    # --- told by the window ----------------------------------------------------------------------
    def on_model(self, info: ModelInfo | None) -> None:
        self.output = self.output_sketch = None
        self.region, self.region_mask, self.clicked_at = None, None, None
        self.follow.forget()
        self.view.set_image(None)
        self.view.set_region(None)
        self.studio.overlay("generate").clear()
        active = info is not None and info.task == ModelTask.GENERATE
        for widget in (self.whole_button, self.clear_button, self.ghost_check, self.view):
            widget.setEnabled(active)
        # A region of the old model's output means nothing to the new one.
        self.region_label.setText(HINT if active else "")
        self.stats.setText("" if active else "Works with generator models: choose one in the "
                           "model list, e.g. default-generate.")
        if active:
            self.follow.request()

    def on_document(self, sketch: Sketch) -> None:
        if self.active():
            self.follow.request()

    def on_explanation(self, sketch: Sketch, result: Attribution) -> None:
        from ..tasks.generate import RegionMean  # imported by now: it made the result

        if self.region is None or result.objective != RegionMean.name:
            return
        total = float(np.sum(result.strokes))
        where = (f"Clicked area ({int(self.region_mask.sum())} pixels)"
                 if self.region_mask is not None else
                 f"Region x {self.region.x0}–{self.region.x1}, y {self.region.y0}–{self.region.y1}")
        positive = np.clip(np.asarray(result.strokes, dtype=float), 0.0, None)
        top_share = float(positive.max() / positive.sum()) if positive.sum() > 0 else None
        self.region_label.setText(
            # A mean output lies in [0, 1]: three decimals, never "6.53e-05" for a blank canvas.
            f"{where}: mean {result.score_full:.3f} (blank canvas {result.score_blank:.3f}); "
            f"strokes account for {format_value(total)}"
            + (f", the reddest stroke for {top_share:.0%} of what helps" if top_share else "")
            + f" ({method_label(result.method)}). Red strokes made it, blue ones held it back.")
