"""Attack panel: the smallest point edit within a budget that changes the model's mind.

The search runs in the worker (sketchstudio.tasks.attack) and streams the class probabilities of
every iteration to a small plot; the result is previewed over the drawing (the edited strokes as a
dashed ghost, arrows from each point to where it moved) and becomes an undoable edit on Accept.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QLabel, QSpinBox, QWidget

from ..sketch import Sketch
from ..tasks.attack import DEFAULT_BUDGET, DEFAULT_STEPS, RESTARTS, attack
from ..tasks.displacement import apply as apply_displacement
from ..tasks.displacement import flat_points, split
from .panels import Studio, register_panel
from .plots import _style
from .tool_panel import ToolPanel

GHOST = QColor(178, 24, 43, 170)
ARROWS = QColor(178, 24, 43)
# Curve colours: the original class, the target (or the strongest other class), then the rest.
CURVE_COLOURS = [(33, 102, 172), (178, 24, 43), (120, 120, 130), (170, 170, 178)]
CURVES = 4


class IterationPlot(pg.PlotWidget):
    """Class probabilities over the attack's iterations; the classes that matter, one line each."""

    def __init__(self) -> None:
        super().__init__()
        _style(self, "Probability per iteration")
        self.setYRange(0, 1, padding=0.02)
        self.setFixedHeight(170)
        self.legend = self.addLegend(offset=(-4, 4), labelTextSize="8pt")
        self._curves = [self.plot([], [], pen=pg.mkPen(c, width=2)) for c in CURVE_COLOURS]
        self.rows: list[np.ndarray] = []
        self.labels: tuple[str, ...] = ()
        self.pinned: list[int] = []

    def reset(self, labels: tuple[str, ...], pinned: list[int]) -> None:
        self.rows, self.labels, self.pinned = [], labels, list(pinned)
        self._redraw()

    def add(self, probs: np.ndarray) -> None:
        self.rows.append(np.asarray(probs, dtype=float))
        self._redraw()

    def shown_classes(self) -> list[int]:
        if not self.rows:
            return list(self.pinned)
        history = np.array(self.rows)
        order = [int(k) for k in np.argsort(-history.max(axis=0))]
        chosen = list(self.pinned)
        for k in order:
            if len(chosen) >= CURVES:
                break
            if k not in chosen:
                chosen.append(k)
        return chosen

    def _redraw(self) -> None:
        self.legend.clear()
        history = np.array(self.rows) if self.rows else np.zeros((0, max(len(self.labels), 1)))
        x = np.arange(len(history))
        shown = self.shown_classes()
        for slot, curve in enumerate(self._curves):
            if slot < len(shown) and len(history):
                k = shown[slot]
                curve.setData(x, history[:, k])
                self.legend.addItem(curve, self.labels[k] if k < len(self.labels) else str(k))
            else:
                curve.setData([], [])


@register_panel
class AttackPanel(ToolPanel):
    title = "Attack"
    overlay_name = "attack"
    run_text = "Find an edit that flips it"
    any_class_text = "Any other class (untargeted)"
    default_budget = DEFAULT_BUDGET

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(studio, parent)
        self.add_intro("Adversarial edit", "Moves points, at most the budget each, until the model "
                       "decides differently. No stroke is added or removed.")
        form = self.add_form()
        self.class_combo.setToolTip("Untargeted: any class but the current one will do")
        self.strokes_spin = QSpinBox()
        self.strokes_spin.setRange(0, 10_000)
        self.strokes_spin.setSpecialValueText("all strokes")
        self.strokes_spin.setToolTip("Only the strokes with the largest |SLA| may move "
                                     "(0: all strokes)")
        form.addRow("Strokes", self.strokes_spin)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 1000)
        self.steps_spin.setValue(DEFAULT_STEPS)
        self.steps_spin.setToolTip("Gradient steps at most; it stops as soon as the decision flips")
        form.addRow("Steps", self.steps_spin)
        self.add_run_row()
        self.plot = IterationPlot()
        self.layout_.addWidget(self.plot)
        self.add_rule()
        self.verdict = QLabel("—")
        self.verdict.setWordWrap(True)
        self.layout_.addWidget(self.verdict)
        self.details = QLabel()
        self.details.setObjectName("muted")
        self.details.setWordWrap(True)
        self.layout_.addWidget(self.details)
        self.show_arrows = QCheckBox("Show displacement arrows")
        self.show_arrows.setChecked(True)
        self.show_arrows.toggled.connect(lambda _on: self._draw_overlay())
        self.layout_.addWidget(self.show_arrows)
        self.add_accept_row()
        self.layout_.addStretch(1)
        self.on_model(None)

    def make_run(self, sketch: Sketch):
        target = self.chosen_class()
        budget = self.budget()
        strokes = self.strokes_spin.value() or None
        steps = self.steps_spin.value()
        labels = self.studio.model_info.labels
        self.plot.reset(labels, [])

        # At most this many evaluations: a run that does not flip is retried from random starts.
        evaluations = (steps + 1) * (1 + RESTARTS)

        def run(model, progress, cancelled):
            return attack(sketch, model, target=target, budget=budget, strokes=strokes,
                          steps=steps, cancelled=cancelled,
                          on_iteration=lambda i, probs: progress(i / evaluations, probs))
        return run

    def on_progress(self, fraction: float, payload) -> None:
        if payload is None:
            return
        if not self.plot.rows:
            first = int(np.argmax(payload))
            target = self.chosen_class()
            pinned = [first]
            if target is not None and target in self.plot.labels:
                pinned.append(self.plot.labels.index(target))
            self.plot.pinned = pinned
        self.plot.add(payload)

    def show_result(self, sketch: Sketch, result) -> None:
        labels = result.labels
        before = f"{labels[result.original_index]} ({result.original_prob:.0%})"
        after = f"{labels[result.adversarial_index]} ({result.adversarial_prob:.0%})"
        if result.success:
            self.verdict.setText(f"<b>Flipped</b>: {before} → {after}")
        else:
            self.verdict.setText(f"<b>Not flipped</b> within {result.budget:.1%}: still {after}")
        self.details.setText(
            f"Largest move {result.max_displacement:.1%}, mean {result.mean_displacement:.2%} of "
            f"the drawing's size · {result.strokes_changed} stroke(s) changed · "
            f"{result.iterations} iterations · {result.elapsed_ms:.0f} ms · checked by "
            "re-rendering" + ("\n" + "\n".join(result.notes) if result.notes else ""))
        self.status.setText("")
        self._draw_overlay()

    def _draw_overlay(self) -> None:
        layer = self.studio.canvas.overlay(self.overlay_name)
        layer.clear()
        if self.result is None:
            return
        sketch, result = self.result_sketch, self.result
        starts = flat_points(sketch)
        moved = [k for k, part in enumerate(split(result.displacement, sketch)) if part.any()]
        layer.set_ghost([result.edited.strokes[k].points for k in moved], GHOST)
        if self.show_arrows.isChecked():
            layer.set_arrows(starts, starts + result.displacement, ARROWS)

    def edited_sketch(self, strokes: list[int] | None = None) -> Sketch:
        if strokes is None:
            return self.result.edited
        return apply_displacement(self.result_sketch, self.result.displacement, strokes)

    def accept(self, strokes: list[int] | None = None, text: str | None = None) -> bool:
        return super().accept(strokes, text or "Adversarial edit")

    def clear_result(self) -> None:
        self.verdict.setText("—")
        self.details.setText("")
