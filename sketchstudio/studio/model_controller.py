"""`ModelController`: which model the studio uses, on which device, and loading it.

Loading runs in the worker (the model object never reaches the GUI thread); when it arrives the
controller makes it the state's model, and the state tells everyone else. Reports upward by
signals only: the window shows names, errors and the model box from them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from ..errors import UserError
from ..explain.registry import method_names
from ..models.tasks import ModelTask
from ..sketch import Sketch
from ..sketch.formats import Document
from .settings import StudioSettings
from .state import StudioState
from .worker import ExplainWorker, LoadRequest, ModelInfo


@dataclass(frozen=True)
class ModelEntry:
    """One model of the store as the model box lists it."""

    label: str          # what the box shows
    id: str             # the store id, what `load` takes
    tooltip: str
    task: str


def describe(task: str, n_labels: int) -> str:
    """'40 classes' for a classifier, 'embedding model' etc. for the others: the words a user
    reads in the status bar and the model box."""
    if task == ModelTask.CLASSIFY:
        return f"{n_labels} classes"
    words: dict[str, str] = {ModelTask.EMBED: "embedding model",
                             ModelTask.GENERATE: "generator"}
    return words.get(task, f"{task} model")


class ModelController(QObject):
    loading = Signal(str)           # the name being loaded (a store id or a card's file name)
    loaded = Signal(object)         # ModelInfo, after it became the state's model
    failed = Signal(str)            # one line: why the model could not be loaded
    noModel = Signal(str)           # no model at all (an empty store): what to do about it
    storeChanged = Signal()         # models added or removed: the model box lists them again

    def __init__(self, worker: ExplainWorker, state: StudioState, settings: StudioSettings,
                 device: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.state = state
        self.settings = settings
        self.device = device or settings.device or "auto"
        self.source: str | None = None      # what was last asked for (a store id or card path)
        worker.modelLoaded.connect(self._loaded)
        worker.modelFailed.connect(self._failed)

    def startup_model(self) -> str | None:
        """The store's default model if it is a classifier, else the first classifier."""
        from ..models import ModelStore

        store = ModelStore()
        default = store.default_id()
        entries = store.entries()
        ordered = ([e for e in entries if e.id == default]
                   + [e for e in entries if e.id != default])
        for entry in ordered:
            try:
                if entry.card().task == ModelTask.CLASSIFY:
                    return entry.id
            except UserError:
                continue
        return None

    def start(self, source: str | None) -> bool:
        """Load `source`, or the startup model; False (and noModel) when the store has none."""
        source = source or self.startup_model()
        if source is None:
            self.noModel.emit("No classifier in the model store yet: add one with Model ▸ "
                              "Manage models…")
            return False
        self.load(source)
        return True

    def load(self, source: str) -> None:
        """Load a model in the worker (cancelling the running explanation); `loaded` or `failed`
        follows."""
        self.source = str(source)
        shown = Path(source).name if "/" in source else source
        device = None if self.device in (None, "", "auto") else self.device
        self.worker.load_model(LoadRequest(self.source, device))
        self.loading.emit(shown)

    def choose(self, source: str | None) -> None:
        """The model box picked `source`: load it unless it is the model in use."""
        info = self.state.model
        if source and (info is None or source not in (info.id, info.source)):
            self.load(source)

    def set_device(self, device: str) -> None:
        """Use `device` from now on ('auto', 'cpu', 'cuda:0'...): the model is loaded again."""
        self.device = device or "auto"
        self.settings.device = self.device
        if self.source:
            self.load(self.source)

    def apply_document(self, document: Document) -> None:
        """A saved document's method, target and model become the studio's (the model only if
        the store has it: a document never loads a file it names)."""
        settings = document.attribution or {}
        method = settings.get("method")
        if isinstance(method, str) and method in method_names():
            self.state.set_method(method)
        if isinstance(document.model, str):
            self.load_if_stored(document.model)
        target = settings.get("target")
        if isinstance(target, str):
            self.state.set_target(target)

    def load_if_stored(self, model_id: str) -> None:
        """Load the store's model `model_id` unless it is the one in use; a name the store does
        not have is passed over (a document or an audit never loads a file it names)."""
        from ..models import ModelStore

        info = self.state.model
        if model_id and (info is None or model_id != info.id) and model_id in ModelStore().ids():
            self.load(model_id)

    def entries(self) -> list[ModelEntry]:
        """The store's models for the model box; a model loaded from a card outside the store
        (--model path/to/card.toml) comes first."""
        from ..models import ModelStore

        listed: list[ModelEntry] = []
        for entry in ModelStore().entries():
            try:
                card = entry.card()
            except UserError:
                continue        # a damaged entry is reported by the model manager, not here
            what = describe(card.task, len(card.labels))
            label = card.name if card.task == ModelTask.CLASSIFY else f"{card.name} ({what})"
            listed.append(ModelEntry(label, entry.id, f"{card.name}\n{entry.id} · {what}",
                                     str(card.task)))
        info = self.state.model
        if info is not None and all(e.id not in (info.id, info.source) for e in listed):
            listed.insert(0, ModelEntry(info.name, info.source, f"{info.name}\n{info.card_path}",
                                        str(info.task)))
        return listed

    def manage(self, parent: QWidget, sketch: Sketch) -> None:
        """Model ▸ Manage models…: add, remove and choose models, and the device."""
        from ..models import ModelStore
        from .model_manager import ModelManagerDialog

        info = self.state.model
        dialog = ModelManagerDialog(ModelStore(), sketch, info.id if info else None,
                                    self.device, parent)
        dialog.modelChosen.connect(self.load)
        dialog.deviceChosen.connect(self.set_device)
        dialog.storeChanged.connect(self.storeChanged)
        try:
            dialog.exec()
        finally:
            dialog.deleteLater()

    # --- the worker's reports --------------------------------------------------------------------
    def _loaded(self, info: ModelInfo) -> None:
        self.state.set_model(info)
        self.loaded.emit(info)

    def _failed(self, message: str) -> None:
        self.failed.emit(message)
