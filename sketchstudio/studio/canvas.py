"""The drawing canvas: a QGraphicsView of antialiased vector strokes over a white page.

The scene mirrors the document's current snapshot (one StrokeItem per stroke, synchronised by
stroke identity so unchanged strokes keep their items). Input goes to the active tool (tools.py);
tools never change items directly, they apply a new snapshot to the document.

The canvas is built in layers, one job each: `stroke_item.py` (one stroke and what it says under
the pointer), `page.py` (the page and its hint), `canvas_view.py` (zoom, pan, fit),
`canvas_input.py` (pointer, tablet, hover, drops); this module keeps the scene in step with the
document and colours it with the current heat map.
"""
from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from ..sketch import Sketch
from .canvas_input import InputView, Pointer
from .canvas_view import BACKGROUND, MAX_ZOOM, MIN_ZOOM
from .document import StudioDocument
from .heat import HeatMap
from .overlay import Overlay
from .page import PAGE
from .stroke_item import StrokeItem, restack, stroke_width_for

__all__ = ["BACKGROUND", "MAX_ZOOM", "MIN_ZOOM", "PAGE", "RECOLOUR_SLICE", "Pointer",
           "SketchCanvas", "StrokeItem", "restack", "stroke_width_for"]

RECOLOUR_SLICE = 250           # strokes recoloured per event-loop turn (see _apply_heat)


class SketchCanvas(InputView):
    def __init__(self, document: StudioDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.items_: list[StrokeItem] = []
        self.heat: HeatMap | None = None
        self.show_heat = True
        self.overlays: dict[str, Overlay] = {}
        self._heat_queue: list[StrokeItem] = []
        document.changed.connect(self._document_changed)
        self._document_changed(document.sketch, ())

    # --- document -> scene ---------------------------------------------------------------------
    @property
    def stroke_width(self) -> float:
        return stroke_width_for(self.sheet.width_basis)

    def reset_page(self, sketch: Sketch | None = None) -> None:
        """A fresh page (New, Open, Import): fitted to `sketch`'s strokes, or the default page."""
        self.sheet.reset(sketch)
        self._follow_page(self.document.sketch)
        self.sync(self.document.sketch)
        self.fit()

    def _document_changed(self, sketch: Sketch, selection: tuple[int, ...]) -> None:
        self._follow_page(sketch)
        self.sync(sketch)
        if selection:
            self.select_indices(selection)

    def _is_empty(self) -> bool:
        return not self.items_

    def sync(self, sketch: Sketch) -> None:
        """Make the items match the snapshot, reusing items whose stroke is the same object."""
        width = self.stroke_width
        old = {id(item.stroke): item for item in self.items_}
        # Only selected strokes can be selected or dragged away from their place (tools.py):
        # one query here saves two Qt calls per stroke on every edit.
        selected = {id(item) for item in self.scene_.selectedItems()}
        new_items: list[StrokeItem] = []
        for k, stroke in enumerate(sketch.strokes):
            item = old.pop(id(stroke), None)
            if item is not None and item.width == width:
                if item.index != k:
                    item.index = k
                    item.update_tooltip()
                if id(item) in selected:
                    item.setSelected(False)
                    item.setPos(0, 0)
            else:
                if item is not None:
                    old[id(stroke)] = item
                item = StrokeItem(k, stroke, width)
                self.scene_.addItem(item)
            item.set_erasing(False)
            new_items.append(item)
        for item in old.values():
            self.scene_.removeItem(item)
        restack(new_items)
        self.items_ = new_items
        self._apply_heat()
        self._place_hint()

    # --- overlays --------------------------------------------------------------------------------
    def overlay(self, name: str) -> Overlay:
        """The named tool layer (created empty on first use), sized for the current strokes."""
        layer = self.overlays.get(name)
        if layer is None:
            layer = self.overlays[name] = Overlay(self.scene_, self.stroke_width)
        layer.stroke_width = self.stroke_width
        return layer

    # --- heat ------------------------------------------------------------------------------------
    def set_heat(self, heat: HeatMap | None) -> None:
        self.heat = heat
        self._apply_heat()

    def set_show_heat(self, show: bool) -> None:
        self.show_heat = bool(show)
        self._apply_heat()

    def _apply_heat(self) -> None:
        """Colour the strokes; a large drawing is recoloured a slice per event-loop turn.

        Each recoloured stroke is redrawn, and redrawing a thousand antialiased strokes at once
        stalls the window for a quarter of a second; slices keep every turn short. `heat_pending`
        says whether slices are still to come.
        """
        self._heat_queue = list(self.items_)
        self._apply_heat_slice()

    def _apply_heat_slice(self) -> None:
        queue = self._heat_queue
        heat, show = self.heat, self.show_heat
        changed = 0
        while queue and changed < RECOLOUR_SLICE:
            item = queue.pop()      # every sync re-queues the current items, so none is stale
            new = heat.get(item.stroke) if heat is not None else None
            if new is not item.heat or show != item.show_heat:
                item.set_heat(new, show)
                changed += 1
        if queue:
            QTimer.singleShot(0, self, self._apply_heat_slice)

    @property
    def heat_pending(self) -> bool:
        return bool(self._heat_queue)

    def stroke_colours(self) -> list[QColor]:
        return [item.colour() for item in self.items_]

    # --- selection -------------------------------------------------------------------------------
    def selected_indices(self) -> tuple[int, ...]:
        return tuple(item.index for item in self.items_ if item.isSelected())

    def select_indices(self, indices: Iterable[int]) -> None:
        wanted = set(indices)
        for item in self.items_:
            item.setSelected(item.index in wanted)
