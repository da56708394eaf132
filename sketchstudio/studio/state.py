"""`StudioState`: the one owner of what the studio explains and how it shows it.

The model, the chosen attribution method, live explanation on or off, the target class, the
objective of an embedding or generator model, and whether heat colours show. The window, the
panels, the canvas and the controllers read these from here and hear of changes through its
signals; nobody keeps a copy to be kept in step. A setter emits only when the value changes, so an
observer that sets the value it was told about (a combo box echoing its own change) ends the loop
there: no `_updating` guards.

Policy that belongs to the settings themselves lives here too: an objective belongs to the model
that defined it, and a target class survives a model switch only when the new model knows it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from ..models.tasks import ModelTask

if TYPE_CHECKING:   # ModelInfo lives with the worker; only named in annotations here
    from .worker import ModelInfo

# The studio's default method: occlusion where it is cheap enough, else few-step SLA.
DEFAULT_METHOD = "live"


class StudioState(QObject):
    modelChanged = Signal(object)       # ModelInfo | None
    methodChanged = Signal(str)
    liveChanged = Signal(bool)
    targetChanged = Signal(object)      # str | None
    objectiveChanged = Signal(object)   # an objective (sketchstudio.tasks) | None
    showHeatChanged = Signal(bool)

    def __init__(self, method: str = DEFAULT_METHOD, live: bool = True, show_heat: bool = True,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model: ModelInfo | None = None
        self._method = method
        self._live = bool(live)
        self._target: str | None = None
        self._objective: Any = None
        self._show_heat = bool(show_heat)

    # --- reading ---------------------------------------------------------------------------------
    @property
    def model(self) -> ModelInfo | None:
        return self._model

    @property
    def method(self) -> str:
        return self._method

    @property
    def live(self) -> bool:
        return self._live

    @property
    def target(self) -> str | None:
        return self._target

    @property
    def objective(self) -> Any:
        return self._objective

    @property
    def show_heat(self) -> bool:
        return self._show_heat

    def explainable(self) -> bool:
        """Whether there is something to explain: a classifier, or another model with an
        objective a panel has set (what a retrieval result or a region scores)."""
        model = self._model
        if model is None:
            return False
        return model.task == ModelTask.CLASSIFY or self._objective is not None

    # --- changing --------------------------------------------------------------------------------
    def set_model(self, info: ModelInfo | None) -> None:
        """A newly loaded model (None: none). Its objective is dropped (it belonged to the model
        that defined it) and the target is kept only if the new model knows the class."""
        if info is self._model:
            return
        self._model = info
        labels = info.labels if info is not None else ()
        if self._target is not None and self._target not in labels:
            self._target = None
            self.targetChanged.emit(None)
        if self._objective is not None:
            self._objective = None
            self.objectiveChanged.emit(None)
        self.modelChanged.emit(info)

    def set_method(self, method: str) -> None:
        if method != self._method:
            self._method = method
            self.methodChanged.emit(method)

    def set_live(self, live: bool) -> None:
        live = bool(live)
        if live != self._live:
            self._live = live
            self.liveChanged.emit(live)

    def set_target(self, target: str | None) -> None:
        if target != self._target:
            self._target = target
            self.targetChanged.emit(target)

    def set_objective(self, objective: Any) -> None:
        # Objectives are compared by identity: a panel that sets a new one wants it explained,
        # even when it equals the last one.
        if objective is not self._objective:
            self._objective = objective
            self.objectiveChanged.emit(objective)

    def set_show_heat(self, show: bool) -> None:
        show = bool(show)
        if show != self._show_heat:
            self._show_heat = show
            self.showHeatChanged.emit(show)
