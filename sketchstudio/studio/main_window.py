"""The SketchStudio window: canvas, tools, task panels, plots, status bar, files, models."""
from __future__ import annotations

import gc
import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QTabWidget,
    QToolBar,
    QToolButton,
)

from ..errors import UserError
from ..explain import Attribution
from ..explain.registry import method_label
from ..models.tasks import ModelTask
from ..sketch import Sketch
from ..sketch.formats import FORMATS, Document, format_for
from ..sketch.io import save_document, save_sketch
from . import file_filters
from .browser import DrawingBrowser
from .canvas import SketchCanvas
from .document import StudioDocument
from .heat import HeatMap
from .icons import icon
from .panel_list import PANELS
from .panels import METHOD_HELP, TaskPanel
from .plots import PlotsPanel
from .reading import FileRead, read_file
from .settings import MemorySettings, StudioSettings
from .tools import TOOLS, Tool
from .worker import (
    CURVE_MAX_STROKES,
    LIVE_METHOD,
    ExplainRequest,
    ExplainWorker,
    LoadRequest,
    ModelInfo,
    TaskRequest,
)

log = logging.getLogger(__name__)

# Show the progress bar for live explanations only when they take noticeably long.
PROGRESS_DELAY_MS = 400

STYLE = """
QMainWindow { background: #f4f5f7; }
QToolBar { background: #fbfbfc; border: none; border-bottom: 1px solid #e1e3e8; spacing: 4px;
           padding: 3px; }
QToolBar#tools { border-bottom: none; border-right: 1px solid #e1e3e8; }
QToolButton { border-radius: 6px; padding: 4px; }
QToolButton:hover { background: #eceef2; }
QToolButton:checked { background: #dde3ee; }
QDockWidget { font-weight: 600; color: #3c3e46; }
QDockWidget::title { background: #fbfbfc; padding: 6px 8px; border-bottom: 1px solid #e1e3e8; }
QTabWidget::pane { border: none; background: white; }
QTabBar::tab { padding: 6px 14px; background: #f0f1f4; border: none; margin-right: 2px; }
QTabBar::tab:selected { background: white; font-weight: 600; }
TaskPanel, ClassifyPanel { background: white; }
QLabel#panelHeading { color: #8a8d96; font-size: 8.5pt; font-weight: 600; letter-spacing: 1px; }
QLabel#muted { color: #6b6f7a; }
QLabel#note { color: #8a5a00; background: #fff7e0; border-radius: 4px; padding: 4px 6px; }
QLabel#error { color: #a0182b; }
QFrame#panelRule { color: #eceef2; background: #eceef2; max-height: 1px; border: none; }
QPushButton { padding: 5px 12px; border: 1px solid #c9ccd4; border-radius: 5px; background: white; }
QPushButton:hover { background: #f3f4f7; }
QPushButton#primary { background: #2d3340; color: white; border: 1px solid #2d3340; }
QPushButton#primary:hover { background: #3b4252; }
QPushButton#primary:disabled { background: #a9adb8; border-color: #a9adb8; }
QStatusBar { background: #fbfbfc; border-top: 1px solid #e1e3e8; color: #4a4d57; }
QStatusBar QLabel { padding: 0 8px; color: #4a4d57; }
QStatusBar::item { border: none; }
QProgressBar { border: 1px solid #d3d6dc; border-radius: 4px; background: white; height: 12px;
               text-align: center; font-size: 8pt; }
QProgressBar::chunk { background: #6b7a99; border-radius: 3px; }
"""


class MainWindow(QMainWindow):
    explanationShown = Signal()     # heat and plots now show the current snapshot's explanation
    curveShown = Signal()
    modelReady = Signal(object)     # ModelInfo
    modelError = Signal(str)
    errorShown = Signal(str)
    # Open, Import and drops read the file in the worker: every open_file/import_file that returned
    # True ends with one fileLoaded, True when the drawing became the document (False: the file
    # was refused, the read cancelled or replaced by another, or the browser dismissed).
    fileLoaded = Signal(bool)

    def __init__(self, device: str | None = None, persist: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.persist = persist
        # Without persistence, defaults only: nothing read from or written to the user's settings.
        self.settings = StudioSettings(None if persist else MemorySettings())
        self.device = device or self.settings.device
        self.document = StudioDocument(self)
        self.model_info: ModelInfo | None = None
        self.target: str | None = None
        self.method = self.settings.method if self.settings.method in METHOD_HELP else LIVE_METHOD
        self.live = self.settings.live
        self.show_heat = self.settings.show_heat
        self.heat: HeatMap | None = None
        self.last_result: tuple[Sketch, Attribution] | None = None
        self.last_error: str | None = None
        self._job: tuple[int, str, bool] | None = None  # (generation, method, on demand) on its way
        self.curve_pending = False
        self._closing = False
        self._model_source: str | None = None
        self._error_box: QMessageBox | None = None
        # embed/generate models: what their explanation scores (set by the Retrieve/Generate panel)
        self.objective = None
        self._task: _RunningTask | None = None
        self._reading: _PendingRead | None = None     # the Open/Import whose file is being read

        self.setWindowTitle("SketchStudio")
        self.setStyleSheet(STYLE)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks)
        self.setAcceptDrops(True)

        self.canvas = SketchCanvas(self.document)
        self.canvas.filesDropped.connect(self.open_dropped)
        self.setCentralWidget(self.canvas)

        self.worker = ExplainWorker(self)
        self.worker.modelLoaded.connect(self._model_loaded)
        self.worker.modelFailed.connect(self._model_failed)
        self.worker.jobStarted.connect(self._job_started)
        self.worker.progressed.connect(self._job_progress)
        self.worker.explained.connect(self._explained)
        self.worker.curveReady.connect(self._curve_ready)
        self.worker.failed.connect(self._job_failed)
        self.worker.jobCancelled.connect(self._job_cancelled)
        self.worker.notice.connect(self._notice)
        self.worker.taskProgressed.connect(self._task_progress)
        self.worker.taskDone.connect(self._task_done)
        self.worker.taskFailed.connect(self._task_failed)
        self.worker.taskCancelled.connect(self._task_cancelled)
        self.worker.start()

        self._explain_timer = QTimer(self)
        self._explain_timer.setSingleShot(True)
        self._explain_timer.setInterval(0)      # coalesce edits made in one event-loop turn
        self._explain_timer.timeout.connect(self._explain_live)
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_DELAY_MS)
        self._progress_timer.timeout.connect(self._show_progress)

        self._build_panels()
        self._build_plots()
        self._build_actions()
        self._build_tool_bars()
        self._build_menus()
        self._build_status_bar()

        self.document.changed.connect(self._document_changed)
        self.document.undo_stack.cleanChanged.connect(self._update_title)
        self.document.pathChanged.connect(self._update_title)
        self.autosave = None    # crash journal (studio/autosave.py), real sessions only
        if persist:
            from .autosave import Autosaver

            self.autosave = Autosaver(self.document, self._document_to_save, self)
            self.autosave.failed.connect(lambda m: self.show_error(m, "Autosave", dialog=False))
        self._update_title()
        for panel in self.panels:
            panel.on_settings(self.method, self.live, self.show_heat)
        self.canvas.set_show_heat(self.show_heat)
        self.resize(1280, 800)
        if persist:
            geometry, state = self.settings.geometry(), self.settings.state()
            if geometry is not None:
                self.restoreGeometry(geometry)
            if state is not None:
                self.restoreState(state)
        self.select_tool(self.settings.tool if any(t.id == self.settings.tool for t in TOOLS)
                         else "pen")

    # --- construction ----------------------------------------------------------------------------
    def _build_panels(self) -> None:
        self.panels: list[TaskPanel] = [cls(self) for cls in PANELS]
        self.panel_tabs = QTabWidget()
        self.panel_tabs.setDocumentMode(True)
        for panel in self.panels:
            # Panels keep their natural height and scroll when the window is short.
            scroll = QScrollArea()
            scroll.setWidget(panel)
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            self.panel_tabs.addTab(scroll, panel.title)
        dock = QDockWidget("Explain", self)
        dock.setObjectName("panelsDock")
        dock.setWidget(self.panel_tabs)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        dock.setMinimumWidth(300)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.panels_dock = dock

    def _build_plots(self) -> None:
        self.plots = PlotsPanel()
        dock = QDockWidget("Plots", self)
        dock.setObjectName("plotsDock")
        dock.setWidget(self.plots)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        self.resizeDocks([dock], [200], Qt.Orientation.Vertical)
        self.plots_dock = dock

    def _action(self, text: str, slot=None, shortcut=None, icon_name: str = "", tip: str = "",
                checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(icon(icon_name))
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                action.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.setCheckable(checkable)
        if slot is not None:
            action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        a: dict[str, QAction] = {}
        self.actions_ = a
        a["new"] = self._action("&New", self.new_document, K.New)
        a["open"] = self._action("&Open…", lambda: self.open_file(), K.Open)
        a["save"] = self._action("&Save", self.save, K.Save)
        a["save_as"] = self._action("Save &As…", self.save_as, K.SaveAs)
        a["import"] = self._action("&Import drawing…", lambda: self.import_file(), "Ctrl+I")
        a["open_audit"] = self._action("Open au&dit…", lambda: self.open_audit(), tip="Browse a "
                                       "corpus audit's results; a row opens its drawing")
        a["export"] = self._action("&Export…", lambda: self.export(), "Ctrl+E")
        a["quit"] = self._action("&Quit", self.close, K.Quit)
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcuts(K.Undo)
        undo.setIcon(icon("undo"))
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        redo.setIcon(icon("redo"))
        a["undo"], a["redo"] = undo, redo
        a["select_all"] = self._action("Select &all", self.select_all, K.SelectAll)
        a["delete"] = self._action("&Delete selected strokes", self.delete_selected,
                                   [QKeySequence.StandardKey.Delete, "Backspace"])
        a["clear"] = self._action("C&lear drawing", self.clear_drawing, "Ctrl+Shift+Backspace",
                                  "clear", "Remove every stroke (undoable)")
        a["zoom_in"] = self._action("Zoom &in", self.canvas.zoom_in, [K.ZoomIn, "Ctrl+="])
        a["zoom_out"] = self._action("Zoom &out", self.canvas.zoom_out, K.ZoomOut)
        a["fit"] = self._action("&Fit drawing", self.canvas.fit, "Ctrl+0", "fit",
                                "Fit the drawing in the window")
        a["heat"] = self._action("Show &heat colours", self.set_show_heat, "Ctrl+H", "heat",
                                 "Colour strokes by attribution, or show plain ink",
                                 checkable=True)
        a["heat"].setChecked(self.show_heat)
        a["explain"] = self._action("E&xplain now", lambda: self.explain_now(), "F5", "explain",
                                    "Explain the drawing with the chosen method")
        a["cancel"] = self._action("&Cancel", self.cancel_work, "Esc", "stop",
                                   "Stop the running explanation or tool")
        a["cancel"].setEnabled(False)
        a["models"] = self._action("&Manage models…", self.manage_models, "Ctrl+M")
        a["about"] = self._action("&About SketchStudio", self._about)
        for action in a.values():
            self.addAction(action)   # shortcuts work even when the menu bar is hidden

        self.tool_actions: dict[str, QAction] = {}
        self.tool_objects: dict[str, Tool] = {}
        group = QActionGroup(self)
        group.setExclusive(True)
        for cls in TOOLS:
            tool = cls(self.canvas)
            action = self._action(cls.name, lambda _c=False, t=cls.id: self.select_tool(t),
                                  cls.shortcut or None, cls.icon,
                                  f"{cls.tip} ({cls.shortcut})" if cls.shortcut else cls.tip,
                                  checkable=True)
            group.addAction(action)
            self.addAction(action)
            self.tool_actions[cls.id] = action
            self.tool_objects[cls.id] = tool

    def _build_tool_bars(self) -> None:
        tools = QToolBar("Tools", self)
        tools.setObjectName("tools")
        tools.setIconSize(QSize(24, 24))
        tools.setMovable(False)
        for action in self.tool_actions.values():
            tools.addAction(action)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, tools)

        bar = QToolBar("Main", self)
        bar.setObjectName("main")
        bar.setIconSize(QSize(20, 20))
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        a = self.actions_
        for key in ("undo", "redo", "clear"):
            bar.addAction(a[key])
        bar.addSeparator()
        bar.addAction(a["fit"])
        bar.addAction(a["heat"])
        bar.addSeparator()
        bar.addWidget(QLabel(" Model "))
        self.model_combo = QComboBox()
        self.model_combo.setMinimumContentsLength(18)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_combo.setToolTip("The classifier that judges the drawing")
        self.model_combo.activated.connect(self._model_combo_activated)
        bar.addWidget(self.model_combo)
        bar.addAction(a["models"])
        bar.addSeparator()
        bar.addAction(a["explain"])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self._refresh_model_combo()

    def _build_menus(self) -> None:
        a = self.actions_
        menu = self.menuBar().addMenu("&File")
        for key in ("new", "open"):
            menu.addAction(a[key])
        self.recent_menu = menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        menu.addAction(a["open_audit"])
        menu.addSeparator()
        for key in ("save", "save_as"):
            menu.addAction(a[key])
        menu.addSeparator()
        for key in ("import", "export"):
            menu.addAction(a[key])
        menu.addSeparator()
        menu.addAction(a["quit"])

        menu = self.menuBar().addMenu("&Edit")
        for key in ("undo", "redo"):
            menu.addAction(a[key])
        menu.addSeparator()
        for key in ("select_all", "delete", "clear"):
            menu.addAction(a[key])

        menu = self.menuBar().addMenu("&View")
        for key in ("zoom_in", "zoom_out", "fit"):
            menu.addAction(a[key])
        menu.addSeparator()
        menu.addAction(a["heat"])
        menu.addSeparator()
        menu.addAction(self.panels_dock.toggleViewAction())
        menu.addAction(self.plots_dock.toggleViewAction())

        menu = self.menuBar().addMenu("&Tools")
        for action in self.tool_actions.values():
            menu.addAction(action)

        menu = self.menuBar().addMenu("&Model")
        menu.addAction(a["models"])
        menu.addSeparator()
        menu.addAction(a["explain"])
        menu.addAction(a["cancel"])

        menu = self.menuBar().addMenu("&Help")
        menu.addAction(a["about"])

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        self.model_label = QLabel("Model: none")
        self.device_label = QLabel("Device: —")
        self.latency_label = QLabel("Attribution: —")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFixedWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setDefaultAction(self.actions_["cancel"])
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.setText("Cancel")
        self.cancel_button.hide()
        for widget in (self.model_label, self.device_label, self.latency_label, self.progress,
                       self.cancel_button):
            bar.addPermanentWidget(widget)

    # --- start-up --------------------------------------------------------------------------------
    def start(self, model: str | None = None, open_path: str | None = None,
              index: int | None = None) -> bool:
        """Load the model (in the worker) and optionally a file; False if either failed at once
        (a file its reader refuses is reported, as one line, when its read ends)."""
        ok = True
        if open_path:
            # From the command line a file with many drawings opens its first (or --index N). It
            # is read in the worker before the model is loaded, and explained once it is in.
            ok = self._read_file("open", Path(open_path), index or 0, first_view=True) and ok
        source = model or self.startup_model()
        # What exists now (torch, Qt, the window) lives for the whole session: take it out of the
        # garbage collector's full passes, which otherwise stall drawing by 100+ ms now and then.
        gc.freeze()
        if source is None:
            self._no_model("No classifier in the model store yet: add one with Model ▸ Manage "
                           "models…")
            return False
        self.load_model(source)
        return ok

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

    # --- models ----------------------------------------------------------------------------------
    def load_model(self, source: str) -> None:
        self._model_source = source
        shown = Path(source).name if "/" in source else source
        self.model_label.setText(f"Model: loading {shown}…")
        device = None if self.device in (None, "", "auto") else self.device
        self.worker.load_model(LoadRequest(str(source), device))   # cancels the running job
        self._end_job()
        # The new model's view of the drawing with the chosen method, once, even when live
        # explanation is off.
        self._submit(self.method)

    def _model_loaded(self, info: ModelInfo) -> None:
        changed_task = self.model_info is None or self.model_info.task != info.task
        self.model_info = info
        self.objective = None       # an objective belongs to the model that defined it
        if self.target not in info.labels:
            self.target = None      # kept when the new model knows the class too
        self.model_label.setText(f"Model: {info.name}")
        what = (f"{len(info.labels)} classes" if info.task == ModelTask.CLASSIFY
                else f"{info.task} model")
        self.model_label.setToolTip(f"{info.id} · {what} · "
                                    f"{info.spec.size}×{info.spec.size} input\n{info.card_path}")
        self.device_label.setText(f"Device: {info.device}")
        for panel in self.panels:
            panel.on_model(info)
            panel.on_settings(self.method, self.live, self.show_heat)
        if changed_task and info.task != ModelTask.CLASSIFY:
            self.show_panel_for(info.task)
        self.plots.set_task(info.task)
        self._refresh_model_combo()
        self.statusBar().showMessage(f"Loaded {info.name} ({what}) on {info.device}", 5000)
        self.modelReady.emit(info)
        if info.task != ModelTask.CLASSIFY:
            self._forget_explanation()

    def show_panel_for(self, task: str) -> None:
        """Bring the first panel that works with `task` models to the front."""
        for i, panel in enumerate(self.panels):
            if task in panel.tasks:
                self.panel_tabs.setCurrentIndex(i)
                return

    def _model_failed(self, message: str) -> None:
        if self.model_info is None:
            self._no_model(message)
        else:
            self.model_label.setText(f"Model: {self.model_info.name}")
        self.show_error(f"Could not load the model: {message}", "Model")
        self.modelError.emit(message)
        self._refresh_model_combo()

    def _no_model(self, message: str) -> None:
        self.last_error = message
        self.model_label.setText("Model: none")
        self.device_label.setText("Device: —")
        for panel in self.panels:
            panel.on_model(None)
        self.statusBar().showMessage(message, 0)

    def _refresh_model_combo(self) -> None:
        from ..models import ModelStore

        self.model_combo.blockSignals(True)
        try:
            self.model_combo.clear()
            current = self.model_info.source if self.model_info else None
            found = False
            for entry in ModelStore().entries():
                try:
                    card = entry.card()
                except UserError:
                    continue
                what = (f"{len(card.labels)} classes" if card.task == ModelTask.CLASSIFY
                        else f"{card.task} model")
                name = (card.name if card.task == ModelTask.CLASSIFY
                        else f"{card.name} ({card.task})")
                self.model_combo.addItem(name, entry.id)
                self.model_combo.setItemData(self.model_combo.count() - 1, f"{entry.id} · {what}",
                                             Qt.ItemDataRole.ToolTipRole)
                if entry.id == current:
                    self.model_combo.setCurrentIndex(self.model_combo.count() - 1)
                    found = True
            if self.model_info is not None and not found:
                # Loaded from a card outside the store (--model path/to/card.toml).
                self.model_combo.insertItem(0, self.model_info.name, self.model_info.source)
                self.model_combo.setCurrentIndex(0)
            if self.model_combo.count() == 0:
                self.model_combo.addItem("(no model)", None)
        finally:
            self.model_combo.blockSignals(False)

    def _model_combo_activated(self, index: int) -> None:
        source = self.model_combo.itemData(index)
        if source and (self.model_info is None or source not in (self.model_info.id,
                                                                 self.model_info.source)):
            self.load_model(source)

    def manage_models(self) -> None:
        from ..models import ModelStore
        from .model_manager import ModelManagerDialog

        dialog = ModelManagerDialog(ModelStore(), self.document.sketch,
                                    self.model_info.id if self.model_info else None,
                                    self.device or "auto", self)
        dialog.modelChosen.connect(self.load_model)
        dialog.deviceChosen.connect(self.set_device)
        dialog.storeChanged.connect(self._refresh_model_combo)
        dialog.exec()
        dialog.deleteLater()
        self._refresh_model_combo()

    def set_device(self, device: str) -> None:
        self.device = device or "auto"
        self.settings.device = self.device
        if self._model_source:
            self.load_model(self._model_source)

    # --- explanations ----------------------------------------------------------------------------
    def _schedule_explanation(self) -> None:
        if self.live:
            self._explain_timer.start()

    def _explain_live(self) -> None:
        # Every edit reruns the method the user chose: what is on screen is what was chosen.
        self._submit(self.method)

    def explain_now(self, method: str | None = None) -> None:
        """Explain the current snapshot now; a given method becomes the chosen one (it stays until
        the user picks another: edits, target changes, model switches and reopened files rerun
        it)."""
        if method is not None:
            self.method = method
            self.settings.method = method
            for panel in self.panels:
                panel.on_settings(self.method, self.live, self.show_heat)
        self._submit(self.method, on_demand=True)

    def _submit(self, method: str, on_demand: bool = False) -> None:
        """Explain the current snapshot with `method`. On demand (the user asked) shows progress at
        once and reports a failure in a dialog; after an edit, quietly unless it takes long."""
        self._explain_timer.stop()
        if self._closing or self._model_source is None:
            return
        info = self.model_info
        if info is not None and info.task != ModelTask.CLASSIFY and self.objective is None:
            return      # nothing to attribute until a panel says what (a result, a region)
        sketch = self.document.sketch
        generation = self.worker.submit(ExplainRequest(sketch, method, self.target,
                                                       objective=self.objective))
        self._job = (generation, method, on_demand)
        self.actions_["cancel"].setEnabled(True)
        self.progress.setValue(0)
        if on_demand:
            self._show_progress()
        else:
            self._progress_timer.start()
        for panel in self.panels:
            panel.on_busy(True, method)

    def _current(self, generation: int) -> bool:
        return (self._job is not None and generation == self._job[0]
                and generation == self.worker.generation)

    def _show_progress(self) -> None:
        if self._job is not None:
            self.progress.show()
            self.cancel_button.show()

    def _end_job(self) -> None:
        self._job = None
        self._progress_timer.stop()
        if self._task is None:      # a running tool keeps its progress bar and Cancel
            self.progress.hide()
            self.cancel_button.hide()
            self.actions_["cancel"].setEnabled(False)
        for panel in self.panels:
            panel.on_busy(False, None)

    def _job_started(self, generation: int, method: str) -> None:
        if self._current(generation) and self._job is not None and self._job[2]:
            self.latency_label.setText(f"{method_label(method)}: running…")

    def _job_progress(self, generation: int, fraction: float) -> None:
        if self._current(generation):
            self.progress.setValue(int(fraction * 1000))

    def _explained(self, generation: int, sketch: Sketch, result: Attribution) -> None:
        if not self._current(generation) or sketch is not self.document.sketch:
            return   # an outdated snapshot: a newer request is on its way
        self._end_job()
        self.last_result = (sketch, result)
        self.heat = HeatMap(sketch, result)
        self.canvas.set_heat(self.heat)
        if len(sketch):
            self.plots.show_result(result, self.heat.scale)
        else:
            self.plots.clear()   # the blank canvas's "prediction" means nothing to the artist
        expects_curve = (result.target_index is not None
                         and 0 < len(sketch) <= CURVE_MAX_STROKES)
        self.curve_pending = expects_curve
        # The previous curve belongs to the previous explanation (another target, method or
        # drawing): never leave it under the new colours while the new one is computed.
        self.plots.deletion.clear_curve()
        self.latency_label.setText(f"{method_label(result.method)}: {result.elapsed_ms:.0f} ms")
        self.latency_label.setToolTip(str(result.params.get("live", {}).get("reason", "")))
        for panel in self.panels:
            panel.on_explanation(sketch, result)
        self.explanationShown.emit()

    def _curve_ready(self, generation: int, curves) -> None:
        if generation != self.worker.generation or self.last_result is None:
            return
        _sketch, result = self.last_result
        self.plots.deletion.show_curve(curves.deletion, curves.deletion_auc, result.target)
        self.curve_pending = False
        self.curveShown.emit()

    def _job_failed(self, generation: int, message: str) -> None:
        if not self._current(generation):
            return
        on_demand = bool(self._job and self._job[2])
        self._end_job()
        self.latency_label.setText("Attribution: failed")
        text = f"Explanation failed: {message}"
        if self.last_result is not None:
            text += " (showing the last good explanation)"
        # A live failure repeats on every stroke: say it in the status bar; on demand, say it loud.
        self.show_error(text, "Explanation", dialog=on_demand)

    def _job_cancelled(self, generation: int) -> None:
        if self._current(generation):
            self._end_job()

    def cancel_work(self) -> None:
        """Esc: stop the running tool if there is one, else the running explanation."""
        if self._task is not None:
            self.cancel_task()
        else:
            self.cancel_explanation()

    def cancel_explanation(self) -> None:
        if self._job is None:
            return
        self.worker.cancel()
        self._end_job()
        self.latency_label.setText("Attribution: cancelled")
        self.statusBar().showMessage("Cancelled: showing the last explanation", 5000)

    def set_objective(self, objective) -> None:
        """What an embed/generate model's explanation scores; None stops explaining it."""
        if objective is None and self.objective is None:
            return
        self.objective = objective
        if objective is None:
            self._forget_explanation()
        else:
            self._submit(self.method)

    # --- tools: long engine work on the loaded model ---------------------------------------------
    def run_task(self, name: str, run, on_done, on_progress=None, on_failed=None,
                 on_cancelled=None, quiet: bool = False, on_replaced=None,
                 needs_model: bool = True) -> int:
        """Run `run(model, progress, cancelled)` in the worker; callbacks come in the GUI thread.

        One tool runs at a time: starting another cancels the first (its callbacks never fire,
        except `on_replaced`, at once). `quiet`: a quick run that follows the drawing (e.g. a
        generator's output) shows no progress bar. `needs_model=False`: work that runs without
        a model too (reading a file; `run` gets None).
        """
        replaced = None
        if self._task is not None:
            replaced = self._task.callbacks.get("replaced")
            self._task.callbacks = {}
        task_id = self.worker.submit_task(TaskRequest(name, run, needs_model))
        self._task = _RunningTask(task_id, name, {"done": on_done, "progress": on_progress,
                                                  "failed": on_failed, "cancelled": on_cancelled,
                                                  "replaced": on_replaced})
        if replaced is not None:
            replaced()
        if not quiet:
            self.progress.setValue(0)
            self.progress.show()
            self.cancel_button.show()
            self.statusBar().showMessage(f"{name}…", 0)
        self.actions_["cancel"].setEnabled(True)
        return task_id

    def cancel_task(self) -> None:
        task = self._task
        if task is None:
            return
        self.worker.cancel_task()
        self._finish_task(task.task_id)
        self.statusBar().showMessage(f"{task.name}: cancelled, nothing changed", 5000)
        callback = task.callbacks.get("cancelled")
        if callback is not None:
            callback()

    @property
    def task_running(self) -> bool:
        return self._task is not None

    def _task_for(self, task_id: int) -> _RunningTask | None:
        task = self._task
        return task if task is not None and task.task_id == task_id else None

    def _finish_task(self, task_id: int) -> _RunningTask | None:
        task = self._task_for(task_id)
        if task is None:
            return None
        self._task = None
        if self._job is None:
            self.progress.hide()
            self.cancel_button.hide()
            self.actions_["cancel"].setEnabled(False)
        if self.statusBar().currentMessage() == f"{task.name}…":
            self.statusBar().clearMessage()
        return task

    def _task_progress(self, task_id: int, fraction: float, payload) -> None:
        task = self._task_for(task_id)
        if task is None:
            return
        self.progress.setValue(int(fraction * 1000))
        callback = task.callbacks.get("progress")
        if callback is not None:
            callback(fraction, payload)

    def _task_done(self, task_id: int, result) -> None:
        task = self._finish_task(task_id)
        if task is not None and task.callbacks.get("done") is not None:
            task.callbacks["done"](result)

    def _task_failed(self, task_id: int, message: str) -> None:
        task = self._finish_task(task_id)
        if task is None:
            return
        callback = task.callbacks.get("failed")
        if callback is not None:
            callback(message)
        self.show_error(f"{task.name} failed: {message}", task.name)

    def _task_cancelled(self, task_id: int) -> None:
        task = self._finish_task(task_id)
        if task is not None and task.callbacks.get("cancelled") is not None:
            task.callbacks["cancelled"]()

    def apply_edit(self, sketch: Sketch, text: str) -> None:
        """A tool's result becomes the document, as one undoable edit."""
        self.document.apply(sketch, text)

    def set_target(self, label: str | None) -> None:
        if label == self.target:
            return
        self.target = label
        self._submit(self.method)

    def set_live(self, live: bool) -> None:
        self.live = bool(live)
        self.settings.live = self.live
        if self.live:
            self._schedule_explanation()

    def set_show_heat(self, show: bool) -> None:
        self.show_heat = bool(show)
        self.settings.show_heat = self.show_heat
        self.actions_["heat"].setChecked(self.show_heat)
        self.canvas.set_show_heat(self.show_heat)
        for panel in self.panels:
            panel.on_settings(self.method, self.live, self.show_heat)

    # --- document --------------------------------------------------------------------------------
    def _document_changed(self, sketch: Sketch, _selection: tuple) -> None:
        for panel in self.panels:
            panel.on_document(sketch)
        self._schedule_explanation()

    def _notice(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _update_title(self, *_args) -> None:
        path = self.document.path
        name = path.name if path is not None else (self.document.sketch.word or "Untitled")
        self.setWindowTitle(f"{name}[*] — SketchStudio")
        self.setWindowModified(self.document.modified)

    def select_tool(self, tool_id: str) -> None:
        tool = self.tool_objects.get(tool_id)
        if tool is None:
            return
        self.tool_actions[tool_id].setChecked(True)
        self.canvas.set_tool(tool)
        self.settings.tool = tool_id

    def select_all(self) -> None:
        self.canvas.select_indices(range(len(self.document.sketch)))

    def delete_selected(self) -> None:
        indices = self.canvas.selected_indices()
        if indices:
            n = len(indices)
            self.document.apply(self.document.sketch.remove_strokes(indices),
                                f"Delete {n} stroke{'s' if n > 1 else ''}")

    def clear_drawing(self) -> None:
        if len(self.document.sketch):
            self.document.apply(self.document.sketch.with_strokes(()), "Clear drawing")

    # --- files -----------------------------------------------------------------------------------
    def new_document(self) -> None:
        if not self.maybe_save():
            return
        self.document.reset(Sketch())
        self.canvas.reset_page()
        self._forget_explanation()

    def _forget_explanation(self) -> None:
        self.last_result = None
        self.heat = None
        self.canvas.set_heat(None)
        self.plots.clear()
        self._schedule_explanation()

    def open_file(self, path: str | Path | None = None, index: int | None = None,
                  ask: bool = True) -> bool:
        """Open a document (.json) or a drawing from any supported file as a new document.

        The file is read in the worker (progress bar, Esc cancels) and the window keeps working
        meanwhile; True when the read started, and `fileLoaded` says how it ended."""
        if ask and not self.maybe_save():
            return False
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open", self.settings.last_dir("open"),
                                                  file_filters.open_filter())
            if not path:
                return False
        return self._read_file("open", Path(path), index)

    def open_audit(self, path: str | Path | None = None):
        """File ▸ Open audit…: the results of `sketchstudio audit` as a table (audit_view.py)."""
        from .audit_view import open_audit

        return open_audit(self, path)

    def import_file(self, path: str | Path | None = None, index: int | None = None) -> bool:
        """Replace the drawing with one from a file, as one undoable edit (read as `open_file`)."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Import a drawing",
                                                  self.settings.last_dir("import"),
                                                  file_filters.import_filter())
            if not path:
                return False
        return self._read_file("import", Path(path), index)

    def _read_file(self, kind: str, path: Path, index: int | None,
                   first_view: bool = False) -> bool:
        """Read `path` in the worker; `_file_read` applies it on this thread when it arrives."""
        title = "Open" if kind == "open" else "Import"
        try:
            format_for(path)
        except UserError as exc:
            self.show_error(str(exc), title)
            return False
        if self._reading is not None:       # a newer Open/Import replaces one still reading
            self._end_read(self._reading, False)
        elif self._task is not None:
            # A running tool works on the drawing about to be replaced: stop it the way Esc does,
            # so that its panel says so (replacing it silently would leave the panel "Working…").
            self.cancel_task()
        pending = _PendingRead(kind, title, path, index, self.document.sketch, first_view)
        self._reading = pending
        verb = "Opening" if kind == "open" else "Importing"
        self.run_task(
            f"{verb} {path.name}",
            lambda _model, progress, cancelled: read_file(path, index, progress, cancelled),
            lambda result: self._file_read(pending, result),
            on_failed=lambda _message: self._end_read(pending, False),
            on_cancelled=lambda: self._end_read(pending, False),
            on_replaced=lambda: self._end_read(pending, False), needs_model=False, quiet=True)
        # As for explanations, the progress bar and its Cancel button show only once the read
        # takes noticeably long (no flash for every small file); Esc works from the start.
        QTimer.singleShot(PROGRESS_DELAY_MS, self, lambda: self._show_read_progress(pending))
        return True

    def _show_read_progress(self, pending: _PendingRead) -> None:
        task = self._task
        if self._reading is pending and task is not None and not self._closing:
            self.progress.show()
            self.cancel_button.show()
            self.statusBar().showMessage(f"{task.name}…", 0)

    def _end_read(self, pending: _PendingRead, loaded: bool) -> None:
        if self._reading is pending:
            self._reading = None
            self.fileLoaded.emit(loaded)

    def _file_read(self, pending: _PendingRead, result: FileRead) -> None:
        """The worker's result, on the window's thread: pick a drawing if need be, then apply."""
        if self._reading is not pending or self._closing:
            return
        if result.error is not None:
            self.show_error(result.error, pending.title)
            self._end_read(pending, False)
            return
        applied = False
        try:
            picked = self._pick_drawing(pending.path, result)
            if picked is not None:          # None: the browser was dismissed, nothing changes
                sketch, chosen, document = picked
                if pending.kind == "open":
                    self._apply_open(pending, sketch, document)
                else:
                    self._apply_import(pending, sketch, chosen)
                applied = True
        finally:
            self._end_read(pending, applied)
        if applied and pending.first_view:
            # The model's first look is at the opened drawing, even with live explanation off.
            self._submit(self.method)

    def _pick_drawing(self, path: Path,
                      result: FileRead) -> tuple[Sketch, int, Document | None] | None:
        """The drawing read (with its .json settings), or the one the user picks in the browser
        from a file with many; None if the browser was dismissed."""
        if result.document is not None:
            native = format_for(path).NAME == "json"
            return result.document.sketch, result.index, result.document if native else None
        drawings = result.drawings
        if drawings is None:    # an error: the caller reported it before asking for a pick
            return None
        if len(drawings.sketches) == 1 and not drawings.more and drawings.error is None:
            return drawings.sketches[0], 0, None
        browser = DrawingBrowser(path, drawings, self)
        try:
            if browser.exec() != QDialog.DialogCode.Accepted:
                return None
            chosen = browser.selected_index()
            return (browser.sketches[chosen], chosen, None) if chosen is not None else None
        finally:
            browser.deleteLater()

    def _apply_open(self, pending: _PendingRead, sketch: Sketch,
                    document: Document | None) -> None:
        path = pending.path
        native = document is not None
        changed = self.document.sketch is not pending.before
        if not changed:
            self.document.reset(sketch, path if native else None)
        else:
            # Drawn on (or restored) while the file was read, after any "save changes?" was
            # answered: the file still opens, and that drawing stays one Undo away.
            self.document.apply(sketch, f"Open {path.name}")
            self.document.set_path(path if native else None)
        self.canvas.reset_page(sketch)
        self._forget_explanation()
        if document is not None:
            self._apply_document_settings(document)
        self.settings.add_recent(path)
        self.settings.set_last_dir("open", path)
        note = "; Undo brings back what was drawn meanwhile" if changed else ""
        self.statusBar().showMessage(f"Opened {path.name}: {len(sketch)} strokes{note}", 5000)

    def _apply_import(self, pending: _PendingRead, sketch: Sketch, chosen: int) -> None:
        path = pending.path
        # Whatever was drawn while the file was read stays one Undo away, like the drawing before.
        self.document.apply(sketch, f"Import {path.name}" + (f" #{chosen}" if chosen else ""))
        self.canvas.reset_page(sketch)
        self.settings.add_recent(path)
        self.settings.set_last_dir("import", path)
        self.statusBar().showMessage(f"Imported {path.name}: {len(sketch)} strokes", 5000)

    def _apply_document_settings(self, document: Document) -> None:
        settings = document.attribution or {}
        method = settings.get("method")
        if isinstance(method, str) and method in METHOD_HELP:
            self.method = method
            for panel in self.panels:
                panel.on_settings(self.method, self.live, self.show_heat)
        target = settings.get("target")
        model = document.model if isinstance(document.model, str) else None
        if model and (self.model_info is None or model != self.model_info.id):
            from ..models import ModelStore

            if model in ModelStore().ids():
                self.load_model(model)
        if isinstance(target, str):
            self.target = target

    def open_dropped(self, paths: list) -> None:
        if not paths:
            return
        path = Path(paths[0])
        if path.suffix.lower() == ".json":
            self.open_file(path)
        elif path.suffix.lower() in FORMATS:
            self.import_file(path)
        else:
            self.show_error(f"{path.name}: not a sketch file (use {', '.join(FORMATS)})", "Open")

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        self.open_dropped([u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()])

    def _document_to_save(self) -> Document:
        model = self.model_info.id if self.model_info is not None else None
        attribution = {"method": self.method}
        if self.target is not None:
            attribution["target"] = self.target
        return Document(self.document.sketch, model, attribution)

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        start = str(self.document.path) if self.document.path else self.settings.last_dir("save")
        chosen, _ = QFileDialog.getSaveFileName(self, "Save", start,
                                                file_filters.save_filter())
        if not chosen:
            return False
        path = Path(chosen)
        if path.suffix.lower() != ".json":
            path = path.with_name(path.name + ".json")
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        try:
            save_document(path, self._document_to_save())
        except UserError as exc:
            self.show_error(str(exc), "Save")
            return False
        self.document.mark_saved(path)
        self.settings.add_recent(path)
        self.settings.set_last_dir("save", path)
        self.statusBar().showMessage(f"Saved {path.name}", 4000)
        return True

    def export(self, path: str | Path | None = None) -> bool:
        if path is None:
            export_filters = file_filters.export_filters()
            filters = ";;".join(export_filters.values())
            path, chosen = QFileDialog.getSaveFileName(self, "Export",
                                                       self.settings.last_dir("export"),
                                                       filters, export_filters["png"])
            if not path:
                return False
            path = Path(path)
            if path.suffix.lower().lstrip(".") not in export_filters:
                kind = next(k for k, f in export_filters.items() if f == chosen)
                path = path.with_name(f"{path.name}.{kind}")
        path = Path(path)
        kind = path.suffix.lower().lstrip(".")
        sketch = self.document.sketch
        try:
            if kind == "png":
                self._export_png(path, sketch)
            elif kind in file_filters.export_filters():
                save_sketch(path, sketch)
            else:
                kinds = ", ".join(f".{k}" for k in file_filters.export_filters())
                raise UserError(f"{path.name}: export as one of {kinds}")
        except UserError as exc:
            self.show_error(str(exc), "Export")
            return False
        self.settings.set_last_dir("export", path)
        self.statusBar().showMessage(f"Exported {path.name}", 4000)
        return True

    def _export_png(self, path: Path, sketch: Sketch) -> None:
        from ..explain.heatimage import save_heat_png
        from ..render import save_png

        if self.last_result is not None and self.last_result[0] is sketch and len(sketch):
            save_heat_png(sketch, self.last_result[1], path)
        else:
            save_png(sketch, path, 512)
            self.statusBar().showMessage("No explanation of this exact drawing yet: exported "
                                         "plain ink", 6000)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _c=False, p=path: self._open_recent(p))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self.settings.clear_recent)
        else:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _open_recent(self, path: str) -> None:
        if not Path(path).exists():
            self.settings.remove_recent(path)
            self.show_error(f"{path}: no longer exists", "Open")
            return
        if Path(path).suffix.lower() == ".json":
            self.open_file(path)
        else:
            self.import_file(path)

    # --- errors and closing ----------------------------------------------------------------------
    def show_error(self, message: str, title: str = "SketchStudio", dialog: bool = True) -> None:
        """One line in the status bar and, unless it would repeat on every stroke, a message box.

        The box is window-modal but opened without a nested event loop, so the studio keeps
        running (and tests are never blocked).
        """
        self.last_error = message
        log.info("%s: %s", title, message)
        self.statusBar().showMessage(message, 12000)
        if dialog and not self._closing:
            # One box, reused: a burst of errors updates it instead of stacking windows.
            if self._error_box is None:
                self._error_box = QMessageBox(QMessageBox.Icon.Warning, title, message,
                                              QMessageBox.StandardButton.Ok, self)
            box = self._error_box
            box.setWindowTitle(title)
            box.setText(message)
            box.open()
        self.errorShown.emit(message)

    def ask_unsaved(self) -> str:
        """'save', 'discard' or 'cancel' (tests replace this)."""
        answer = QMessageBox.question(
            self, "Unsaved changes", "The drawing has changes that are not saved. Save them?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")

    def maybe_save(self) -> bool:
        if not self.document.modified:
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing and not self.maybe_save():
            event.ignore()
            return
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop the worker (cancelling its job) and wait for it; safe to call more than once."""
        self._closing = True
        self._explain_timer.stop()
        self._progress_timer.stop()
        if self._error_box is not None:
            self._error_box.close()
        if self.autosave is not None:
            self.autosave.stop()    # a normal end: saved or deliberately discarded
        self.worker.stop()
        self._task = None

    def _about(self) -> None:
        QMessageBox.about(
            self, "About SketchStudio",
            "<b>SketchStudio</b><br>Draw, and see stroke by stroke why a sketch model decides what "
            "it decides (stroke-level attribution, after arXiv 2403.09480).<br><br>"
            "Red strokes convince the model of the target class, blue strokes argue against it."
            "<br><br>Quick, Draw! dataset by Google, CC BY 4.0.")


@dataclass(eq=False)
class _PendingRead:
    """An Open or Import whose file the worker is reading."""

    kind: str                   # "open" or "import"
    title: str                  # for its error message: "Open" or "Import"
    path: Path
    index: int | None           # None: a file with many drawings shows the browser
    before: Sketch              # the document when it was asked for (edited meanwhile?)
    first_view: bool = False    # from start(): explain the drawing once it is in


class _RunningTask:
    """The tool run the window waits for, and the panel callbacks to call when it reports."""

    def __init__(self, task_id: int, name: str, callbacks: dict) -> None:
        self.task_id = task_id
        self.name = name
        self.callbacks = callbacks
