"""Attack panel: the smallest point edit within a budget that changes the model's mind.

The search runs in the worker (sketchstudio.tasks.attack) and streams the class probabilities of
every iteration to a small plot; the result is previewed over the drawing (the edited strokes as a
dashed ghost, arrows from each point to where it moved) and becomes an undoable edit on Accept.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from ..progress import TaskState
from ..sketch import Sketch
from ..tasks.displacement import apply as apply_displacement
from ..tasks.displacement import flat_points, split
from .numbers import format_probability
from .overlay import ATTACK, ATTACK_ARROWS, Overlay
from .panels import Studio
from .plots import _style
from .tool_panel import ToolPanel

if TYPE_CHECKING:   # the engine module imports torch: only named in annotations here
    from ..tasks.attack import AttackResult, Iteration

# Curve colours: the class to leave in dark grey, the class the edit pushes toward in the attack's
# amber (never the heat scale's red or blue: see overlay.py), then the rest in light greys.
CURVE_COLOURS = [(60, 62, 70), (ATTACK_ARROWS.red(), ATTACK_ARROWS.green(), ATTACK_ARROWS.blue()),
                 (150, 150, 160), (195, 195, 202)]
CURVES = 4


def whole_step(count: int, ticks: int = 6) -> int:
    """A tick spacing of 1, 2 or 5 times a power of ten giving at most about `ticks` ticks."""
    raw = max(count - 1, 1) / ticks
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(1, int(factor * power))
    return max(1, int(10 * power))


class IterationPlot(pg.PlotWidget):
    """Class probabilities over the attack's iterations; the classes that matter, one line each.

    The legend is a label under the plot (`legend_label`), so it never covers a line."""

    def __init__(self) -> None:
        super().__init__()
        _style(self, "Probability at each iteration")
        item = self.getPlotItem()
        item.setLabel("left", "probability", **{"font-size": "8pt", "color": "#50525a"})
        item.setLabel("bottom", "iteration", **{"font-size": "8pt", "color": "#50525a"})
        self.setYRange(0, 1, padding=0.02)
        self.setFixedHeight(135)
        self._curves = [self.plot([], [], pen=pg.mkPen(c, width=2)) for c in CURVE_COLOURS]
        self.legend_label = QLabel()
        self.legend_label.setObjectName("muted")
        self.legend_label.setWordWrap(True)
        self.rows: list[np.ndarray] = []
        self.labels: tuple[str, ...] = ()
        self.pinned: list[int] = []
        self._redraw()

    def reset(self, labels: tuple[str, ...], pinned: list[int]) -> None:
        self.rows, self.labels, self.pinned = [], labels, list(pinned)
        self._redraw()

    def clear_plot(self) -> None:
        self.reset(self.labels, [])

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

    def legend_entries(self) -> list[tuple[str, tuple[int, int, int]]]:
        shown = self.shown_classes() if self.rows else []
        return [(self.labels[k] if k < len(self.labels) else str(k), CURVE_COLOURS[slot])
                for slot, k in enumerate(shown[:CURVES])]

    def _redraw(self) -> None:
        history = np.array(self.rows) if self.rows else np.zeros((0, max(len(self.labels), 1)))
        x = np.arange(len(history))
        shown = self.shown_classes()
        for slot, curve in enumerate(self._curves):
            if slot < len(shown) and len(history):
                curve.setData(x, history[:, shown[slot]])
            else:
                curve.setData([], [])
        last = max(len(history) - 1, 1)
        self.setXRange(0, last, padding=0.02)
        step = whole_step(last + 1)
        self.getPlotItem().getAxis("bottom").setTickSpacing(step, step)
        self.legend_label.setText("  ".join(
            f'<span style="color: rgb{colour}">&#9644;</span>&nbsp;{name}'
            for name, colour in self.legend_entries()))


def _spin(low: int, high: int, prefix: str, suffix: str, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setPrefix(prefix)
    spin.setSuffix(suffix)
    spin.setToolTip(tip)
    return spin


class AttackPanel(ToolPanel):
    title = "Attack"
    overlay_name = "attack"
    run_text = "Find an edit that flips it"
    any_class_text = "Any other class (untargeted)"
    heading = "Adversarial edit"
    intro = "Moves points, at most the budget each, until the model decides differently."
    target_tip = "The class to push toward; untargeted: any class but the current one will do"

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(studio, parent)
        self.strokes_spin = _spin(0, 10_000, "", " strokes", "Only the strokes with the largest "
                                  "|SLA| may move (0: all strokes)")
        self.strokes_spin.setSpecialValueText("all strokes")
        self.steps_spin = _spin(1, 1000, "at most ", " iterations", "Gradient steps at most; it "
                                "stops as soon as the decision flips robustly")
        # Strokes and steps share a row: the panel must fit a 1280x800 screen.
        row = QHBoxLayout()
        row.addWidget(self.strokes_spin, 1)
        row.addWidget(self.steps_spin, 1)
        self.form.addRow("Limits", row)
        self.verdict = self.add_run_and_verdict()
        # Accepting sits right under the verdict, so it never falls below the fold at 1280x800.
        self.show_arrows = QCheckBox("Arrows")
        self.show_arrows.setToolTip("Show an arrow from every point to where it moves")
        self.show_arrows.setChecked(True)
        self.show_arrows.toggled.connect(lambda _on: self._draw_overlay())
        self.add_accept_row()
        # The arrows switch sits at the end of the accept row (the panel must fit 1280x800).
        last = self.layout_.itemAt(self.layout_.count() - 1)
        accept_row = last.layout() if last is not None else None
        if accept_row is None:
            raise RuntimeError("add_accept_row() must end the panel with the accept row")
        accept_row.addWidget(self.show_arrows)
        self.details = QLabel()
        self.details.setObjectName("muted")
        self.details.setWordWrap(True)
        self.layout_.addWidget(self.details)
        self.plot = IterationPlot()
        self.layout_.addWidget(self.plot)
        self.layout_.addWidget(self.plot.legend_label)
        self.layout_.addStretch(1)
        self.on_model(studio.state.model)

    def engine_defaults(self) -> None:
        from ..tasks.attack import DEFAULT_BUDGET, DEFAULT_STEPS

        self.budget_spin.setValue(DEFAULT_BUDGET * 100)
        self.steps_spin.setValue(DEFAULT_STEPS)

    def make_run(self, sketch: Sketch):
        from ..tasks.attack import RESTARTS, attack

        target = self.chosen_class()
        budget = self.budget()
        strokes = self.strokes_spin.value() or None
        steps = self.steps_spin.value()
        info = self.studio.state.model
        if info is None:      # start() only calls make_run with a model loaded
            raise RuntimeError("make_run needs a loaded model")
        labels = info.labels
        self.plot.reset(labels, [])

        # At most this many evaluations: a run that does not flip is retried from random starts.
        evaluations = (steps + 1) * (1 + RESTARTS)

        def run(model, progress, cancelled):
            def partial(it: Iteration) -> None:
                progress(min(it.index / evaluations, 1.0), it.probs)

            state = TaskState.from_callables(progress=lambda f: progress(f, None),
                                             cancelled=cancelled, partial=partial)
            return attack(sketch, model, target=target, budget=budget, strokes=strokes,
                          steps=steps, state=state)
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
        before = f"{labels[result.original_index]} ({format_probability(result.original_prob)})"
        after = (f"{labels[result.adversarial_index]} "
                 f"({format_probability(result.adversarial_prob)})")
        if result.success:
            # A count, not a percentage of a handful: "in 15 of 16", never "in 94% of 16".
            flipped = round(result.robust_success * result.robust_renders)
            self.verdict.setText(f"<b>Flipped</b>: {before} → {after}; also in {flipped} of "
                                 f"{result.robust_renders} slightly varied renderings")
        else:
            self.verdict.setText(f"<b>Not flipped</b> within {result.budget:.1%}: still {after}")
        self.details.setText(
            f"Largest move {result.max_displacement:.1%}, mean {result.mean_displacement:.2%} of "
            f"the drawing's size · {result.strokes_changed} stroke(s) changed · "
            f"{result.iterations} iterations · {result.elapsed_ms:.0f} ms · checked by "
            "re-rendering" + ("\n" + "\n".join(result.notes) if result.notes else ""))
        self.status.setText("")
        # Nothing to accept when the decision did not change.
        self.accept_button.setEnabled(bool(result.success and result.strokes_changed))
        self._draw_overlay()

    def draw_preview(self, layer: Overlay, result: AttackResult, sketch: Sketch) -> None:
        starts = flat_points(sketch)
        moved = [k for k, part in enumerate(split(result.displacement, sketch)) if part.any()]
        layer.set_ghost([result.edited.strokes[k].points for k in moved], ATTACK)
        if self.show_arrows.isChecked():
            layer.set_arrows(starts, starts + result.displacement, ATTACK_ARROWS)

    def edited_sketch(self, strokes: list[int] | None = None) -> Sketch:
        result: AttackResult | None = self.result
        sketch = self.result_sketch
        if result is None or sketch is None:     # accept() only calls this with a result
            raise RuntimeError("no attack result to apply")
        if strokes is None:
            return result.edited
        return apply_displacement(sketch, result.displacement, strokes)

    def accept(self, strokes: list[int] | None = None, text: str | None = None) -> bool:
        return super().accept(strokes, text or "Adversarial edit")

    def clear_result(self) -> None:
        self.verdict.setText("—")
        self.details.setText("")
        if not self.running:
            self.plot.clear_plot()

    def on_document(self, sketch: Sketch) -> None:
        super().on_document(sketch)
        if self.result is None and not self.running:
            self.plot.clear_plot()      # a plot without its result (New, an edit) says nothing

    def clear(self) -> None:
        """Back to a blank panel (the window's New): no result, no plot, nothing on the canvas."""
        self.discard()
        self.plot.clear_plot()
        self.status.setText("")
