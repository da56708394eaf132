"""Assist panel: hints that help the model see the class the artist means.

The engine (`sketchstudio.tasks.assist`) runs in the worker and returns three kinds of hint, all
previewed over the drawing without changing it: small point moves (green arrows and a dashed ghost
of the adjusted strokes), strokes that argue against the target (a violet halo), and where new ink
would help (a faint green wash over the empty canvas). The colours are the tools' palette
(overlay.py), never the heat scale's red and blue. Accept all moves, or one stroke's move, as an
undoable edit; the probabilities shown were measured by re-rendering the edited drawing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QWidget,
)

from ..progress import TaskState
from ..sketch import Sketch
from ..tasks.displacement import flat_points
from .numbers import format_probability, format_value, stroke_number
from .overlay import HINT, HINT_GHOST, RECONSIDER, RECONSIDER_TEXT, Overlay
from .panels import Studio
from .tool_panel import ToolPanel

if TYPE_CHECKING:   # the engine module imports torch: only named in annotations here
    from ..tasks.assist import AssistResult

INK_HELP_RGB = (HINT.red(), HINT.green(), HINT.blue())
INK_HELP_ALPHA = 150          # at the strongest pixel


class AssistPanel(ToolPanel):
    title = "Assist"
    overlay_name = "assist"
    run_text = "Suggest hints"
    heading = "Assisted drawing"
    intro = ("Small moves, strokes to reconsider and where ink would help, so the model sees "
             "what you mean.")
    target_tip = "The class you mean to draw (type to search)"

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(studio, parent)
        self.summary = self.add_run_and_verdict()
        # Accepting sits right under the verdict, so it never falls below the fold at 1280x800.
        self.accept_one = QPushButton("Accept this stroke")
        self.accept_one.setToolTip("Accept only the selected stroke's move")
        self.accept_one.setProperty("needsResult", True)
        self.accept_one.clicked.connect(self.accept_selected)
        self.add_accept_row([self.accept_one])
        self.accept_button.setText("Accept all moves")
        self.discard_button.setText("Dismiss")
        self.hint_list = QListWidget()
        self.hint_list.setMinimumHeight(90)
        self.hint_list.setMaximumHeight(112)
        self.hint_list.setToolTip("Double-click a move to accept that stroke's hint alone")
        self.hint_list.itemDoubleClicked.connect(lambda _item: self.accept_selected())
        self.hint_list.itemSelectionChanged.connect(self._hint_selected)
        self.layout_.addWidget(self.hint_list)
        # What the canvas shows, on one row (three rows pushed the last below the fold at
        # 1280x800); the tooltips say what each layer is.
        self.show_moves = QCheckBox("Moves")
        self.show_moves.setToolTip("Arrows from each point to where it moves, and the adjusted "
                                   "strokes")
        self.show_against = QCheckBox("Against")
        self.show_against.setToolTip("Halos around the strokes that argue against the target")
        self.show_ink = QCheckBox("Ink")
        self.show_ink.setToolTip("Where new ink would help (shaded)")
        show_row = QHBoxLayout()
        show_row.addWidget(QLabel("Show"))
        for box in (self.show_moves, self.show_against, self.show_ink):
            box.setChecked(True)
            box.toggled.connect(lambda _on: self._draw_overlay())
            show_row.addWidget(box)
        show_row.addStretch(1)
        self.layout_.addLayout(show_row)
        self.layout_.addStretch(1)
        self.on_model(studio.state.model)

    def engine_defaults(self) -> None:
        from ..tasks.assist import DEFAULT_BUDGET

        self.budget_spin.setValue(DEFAULT_BUDGET * 100)

    def make_run(self, sketch: Sketch):
        target, budget = self.chosen_class(), self.budget()

        def run(model, progress, cancelled):
            from ..tasks.assist import assist

            state = TaskState.from_callables(progress=lambda f: progress(f, None),
                                             cancelled=cancelled)
            return assist(sketch, model, target=target, budget=budget, state=state)
        return run

    def show_result(self, sketch: Sketch, result: AssistResult) -> None:
        moves = [h for h in result.hints if h.kind == "move"]
        against = [h for h in result.hints if h.kind == "against"]
        p = format_probability
        gain = result.after - result.before
        # The engine's notes are asides: muted, on their own line, starting with a capital.
        notes = "".join(f'<br><span style="color: gray">{n[:1].upper()}{n[1:]}</span>'
                        for n in result.notes)
        self.summary.setText(
            f"<b>{result.target}</b>: {p(result.before)} now → <b>{p(result.after)}</b> with "
            f"every move ({gain * 100:+.0f} points); {p(result.robust_before)} → "
            f"{p(result.robust_after)} averaged over {result.robust_renders} slightly varied "
            f"renderings. As drawn, the model reads it as {result.predicted}." + notes)
        self.hint_list.clear()
        for hint in moves:
            v = hint.values
            self._add_hint(hint.stroke, "move", f"move (up to {v['max_displacement']:.1%}) → "
                           f"{p(v['after'])} alone ({v['gain'] * 100:+.0f} points)")
        for hint in against:
            self._add_hint(hint.stroke, "against", f"argues against {result.target} "
                           f"(P-SLA {format_value(hint.values['sla'])})")
        if not result.hints:
            self.hint_list.addItem("No hint: nothing within the budget raises the target.")
        self.accept_button.setEnabled(bool(moves))
        # Dismiss clears a preview; with no hint at all there is nothing on the canvas to dismiss
        # but the ink map, which is a hint too.
        self.discard_button.setEnabled(bool(result.hints) or bool(result.ink_help.any()))
        self.status.setText("")
        self._draw_overlay()
        self._hint_selected()

    def _add_hint(self, stroke: int, kind: str, text: str) -> None:
        item = QListWidgetItem(f"Stroke {stroke_number(stroke)}: {text}")
        item.setForeground(HINT if kind == "move" else RECONSIDER_TEXT)
        item.setData(Qt.ItemDataRole.UserRole, (stroke, kind))
        self.hint_list.addItem(item)

    def draw_preview(self, layer: Overlay, result: AssistResult, sketch: Sketch) -> None:
        moved = [h.stroke for h in result.hints if h.kind == "move"]
        if self.show_moves.isChecked() and moved:
            edited = result.apply(moved)
            layer.set_ghost([edited.strokes[k].points for k in moved], HINT_GHOST)
            starts = flat_points(sketch)
            layer.set_arrows(starts, starts + result.displacement, HINT)
        if self.show_against.isChecked():
            layer.set_halos([sketch.strokes[h.stroke].points for h in result.hints
                             if h.kind == "against"], RECONSIDER)
        if self.show_ink.isChecked() and result.ink_help.size:
            rgba = np.zeros(result.ink_help.shape + (4,), np.uint8)
            rgba[..., :3] = INK_HELP_RGB
            # The weakest fifth is left out: a wash over the whole page would say nothing.
            strength = np.clip((result.ink_help - 0.2) / 0.8, 0.0, 1.0)
            rgba[..., 3] = np.round(strength * INK_HELP_ALPHA).astype(np.uint8)
            layer.set_image(rgba, result.raster_extent(), opacity=1.0)

    def _selected_hint(self) -> tuple[int, str] | None:
        items = self.hint_list.selectedItems()
        data = items[0].data(Qt.ItemDataRole.UserRole) if items else None
        return tuple(data) if data else None

    def _hint_selected(self) -> None:
        hint = self._selected_hint()
        self.accept_one.setEnabled(self.result is not None and hint is not None
                                   and hint[1] == "move")

    def accept_selected(self) -> bool:
        hint = self._selected_hint()
        if hint is None or hint[1] != "move":
            return False
        return self.accept([hint[0]], f"Accept hint for stroke {stroke_number(hint[0])}")

    def edited_sketch(self, strokes: list[int] | None = None) -> Sketch:
        result: AssistResult | None = self.result
        if result is None:      # accept() only calls this with a result
            raise RuntimeError("no assist result to apply")
        if strokes is None:
            strokes = [h.stroke for h in result.hints if h.kind == "move"]
        return result.apply(strokes)

    def accept(self, strokes: list[int] | None = None, text: str | None = None) -> bool:
        return super().accept(strokes, text or "Accept hints")

    def clear_result(self) -> None:
        self.summary.setText("—")
        self.hint_list.clear()
