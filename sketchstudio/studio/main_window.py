"""The SketchStudio window: it composes the studio and connects it, nothing more.

What the studio explains and how it shows it lives in `StudioState`; the controllers do the work
and report upward by signals (explanations: explain_controller.py, models: model_controller.py,
files: file_controller.py, long tools: task_runner.py); the widgets (canvas, panels, plots,
status bar) show what they report. Commands, menus and tool bars come from one table
(actions.py). See docs/architecture.md.
"""
from __future__ import annotations

import gc
import logging
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent, QColor
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from ..explain import Attribution
from ..sketch import Sketch
from . import actions as commands
from .canvas import SketchCanvas
from .document import StudioDocument
from .explain_controller import ExplainController
from .file_controller import FileController
from .icons import set_line_colour
from .model_box import ModelBox
from .model_controller import ModelController
from .overlay import Overlay
from .panel_list import PANELS
from .panels import METHOD_HELP, TaskPanel
from .plots import PlotsPanel
from .settings import MemorySettings, StudioSettings
from .state import StudioState
from .status_bar import StudioStatusBar
from .style import apply_theme, canvas_backdrop, icon_colour
from .task_runner import TaskRunner
from .tools import TOOLS
from .window_layout import clamp_to_screen, panel_dock, plots_dock
from .worker import LIVE_METHOD, ExplainWorker, ModelInfo

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    # Forwards of the controllers' signals, for app.py and the tests.
    explanationShown = Signal()     # heat and plots now show the current snapshot's explanation
    curveShown = Signal()
    modelReady = Signal(object)     # ModelInfo
    modelError = Signal(str)
    errorShown = Signal(str)
    # Open, Import and drops read the file in the worker: every open_file/import_file that returned
    # True ends with one fileLoaded, True when the drawing became the document.
    fileLoaded = Signal(bool)

    def __init__(self, device: str | None = None, persist: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.persist = persist
        # Without persistence, defaults only: nothing read from or written to the user's settings.
        self.settings = settings = StudioSettings(None if persist else MemorySettings())
        method = settings.method if settings.method in METHOD_HELP else LIVE_METHOD
        self.state = StudioState(method, settings.live, settings.show_heat, self)
        self.state.methodChanged.connect(lambda m: setattr(settings, "method", m))
        self.state.liveChanged.connect(lambda on: setattr(settings, "live", on))
        self.state.showHeatChanged.connect(lambda on: setattr(settings, "show_heat", on))
        self.document = StudioDocument(self)
        self.last_error: str | None = None
        self._error_title: str | None = None    # what last_error came from (a dialog's title)
        self._closing = False
        self._error_box: QMessageBox | None = None
        self.setWindowTitle("SketchStudio")
        self.theme = apply_theme(self)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks)
        self.setAcceptDrops(True)

        self.canvas = SketchCanvas(self.document)
        self.setCentralWidget(self.canvas)
        self.worker = ExplainWorker(self)
        self.tasks = TaskRunner(self.worker, self)
        self.explainer = ExplainController(self.worker, self.state, self.document, self)
        self.models = ModelController(self.worker, self.state, settings, device, self)
        self.files = FileController(self.document, self.canvas, self.state, self.tasks, settings,
                                    lambda: self.explainer.last_result, self)

        self._build_actions()
        self.status = StudioStatusBar(self.actions_["cancel"], self)
        self.setStatusBar(self.status)
        self.progress, self.cancel_button = self.status.progress, self.status.cancel_button
        self.latency_label = self.status.latency_label
        self.model_label, self.device_label = self.status.model_label, self.status.device_label
        self.panels: list[TaskPanel] = [cls(self) for cls in PANELS]
        self.panels_dock, self.panel_tabs = panel_dock(self, self.panels,
                                                       [p.title for p in self.panels])
        self.plots = PlotsPanel()
        self.plots_dock = plots_dock(self, self.plots)
        self.model_combo = ModelBox()
        self.model_combo.activated.connect(
            lambda i: self.models.choose(self.model_combo.itemData(i)))
        self.main_bar = commands.build_tool_bars(self, self.actions_,
                                                 self.tool_actions.values(), self.model_combo)
        self.menus = commands.build_menus(self.menuBar(), self.actions_, {
            "@recent": self._add_recent_menu, "@tools": lambda m: m.addActions(
                list(self.tool_actions.values())),
            "@docks": lambda m: m.addActions([self.panels_dock.toggleViewAction(),
                                              self.plots_dock.toggleViewAction()])})
        self._connect()
        self.theme.schemeChanged.connect(self._follow_scheme)
        self._follow_scheme(self.theme.scheme)
        self.worker.start()

        self.autosave = None    # crash journal (studio/autosave.py), real sessions only
        if persist:
            from .autosave import Autosaver

            self.autosave = Autosaver(self.document, self.files.document_to_save, self)
            self.autosave.failed.connect(lambda m: self.show_error(m, "Autosave", dialog=False))
        self._update_title()
        self.canvas.set_show_heat(self.state.show_heat)
        self._refresh_model_combo()
        self.resize(1280, 800)
        if persist:
            self.restore_layout(settings.geometry(), settings.state())
        self.select_tool(settings.tool if any(t.id == settings.tool for t in TOOLS) else "pen")

    def restore_layout(self, geometry, window_state) -> None:
        """The last session's size, place and docks, kept on this screen (it may have been
        saved on a larger one, or at another scale factor)."""
        if geometry is not None:
            self.restoreGeometry(geometry)
            clamp_to_screen(self)
        if window_state is not None:
            self.restoreState(window_state)

    # --- construction ----------------------------------------------------------------------------
    def _build_actions(self) -> None:
        stack = self.document.undo_stack
        self.actions_ = a = commands.build_actions(self, {
            "undo": stack.createUndoAction(self, "&Undo"),
            "redo": stack.createRedoAction(self, "&Redo")})
        a["heat"].setChecked(self.state.show_heat)
        a["heat"].toggled.connect(self.state.set_show_heat)
        files = self.files
        commands.bind(a, {
            "new": files.new_document, "open": files.open_file, "save": files.save,
            "save_as": files.save_as, "import": files.import_file, "export": files.export,
            "export_attributions": files.export_attributions, "open_audit": self.open_audit,
            "quit": self.close, "clear": self.document.clear, "zoom_in": self.canvas.zoom_in,
            "select_all": lambda: self.canvas.select_indices(range(len(self.document.sketch))),
            "delete": lambda: self.document.remove(self.canvas.selected_indices()),
            "zoom_out": self.canvas.zoom_out, "fit": self.canvas.fit,
            "explain": self.explain_now, "cancel": self.cancel_work,
            "models": lambda: self.models.manage(self, self.document.sketch),
            "shortcuts": lambda: self.show_help("shortcuts"),
            "about": lambda: self.show_help("about")})
        self.tool_actions, self.tool_objects = commands.build_tool_actions(
            self, self.canvas, self.select_tool)

    def _add_recent_menu(self, menu) -> None:
        self.recent_menu = menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(lambda: self.files.fill_recent_menu(self.recent_menu))

    def _connect(self) -> None:
        state, explainer, tasks, models, files = (self.state, self.explainer, self.tasks,
                                                  self.models, self.files)
        status, plots, canvas = self.status, self.plots, self.canvas
        state.showHeatChanged.connect(canvas.set_show_heat)
        state.showHeatChanged.connect(self.actions_["heat"].setChecked)
        plots.targetClicked.connect(state.set_target)
        canvas.filesDropped.connect(files.open_dropped)

        status.observe(explainer, tasks, models)
        explainer.follow_models(models)
        tasks.follow_models(models)
        explainer.explained.connect(self._show_explanation)
        explainer.explanationShown.connect(self.explanationShown)
        explainer.curveReady.connect(
            lambda curve, target: plots.deletion.show_curve(curve.deletion, curve.deletion_auc,
                                                            target))
        explainer.curveShown.connect(self.curveShown)
        explainer.failed.connect(lambda text, loud: self.show_error(text, "Explanation", loud))
        explainer.forgotten.connect(self._forget_view)
        for panel in self.panels:
            explainer.busyChanged.connect(panel.on_busy)
            explainer.explained.connect(lambda s, r, _h, p=panel: p.on_explanation(s, r))
            models.loading.connect(lambda _name, p=panel: p.on_model_loading(True))
            models.failed.connect(lambda _message, p=panel: p.on_model_loading(False))

        tasks.failed.connect(lambda name, message: self.show_error(f"{name} failed: {message}",
                                                                   name))

        models.loaded.connect(self._model_loaded)
        models.failed.connect(self._model_failed)
        models.noModel.connect(self._no_model)
        models.storeChanged.connect(self._refresh_model_combo)

        files.slowRead.connect(status.task_progress_shown)
        files.error.connect(lambda message, title: self.show_error(message, title))
        files.status.connect(status.showMessage)
        files.fileLoaded.connect(self.fileLoaded)
        files.drawingReplaced.connect(self._drawing_replaced)
        files.documentSettings.connect(models.apply_document)
        files.titleChanged.connect(self._update_title)
        self.document.undo_stack.cleanChanged.connect(self._update_title)

    def _follow_scheme(self, scheme: str) -> None:
        """Light or dark: the style sheet and palette are the theme's; plots, the grey around
        the page and the line icons follow here (the page stays white paper)."""
        self.plots.set_scheme(scheme)
        self.canvas.setBackgroundBrush(QColor(canvas_backdrop(scheme)))
        set_line_colour(icon_colour(scheme))
        commands.refresh_icons(self.actions_, self.tool_actions)

    # --- the studio, as panels see it (panels.Studio) --------------------------------------------
    @property
    def last_result(self) -> tuple[Sketch, Attribution] | None:
        return self.explainer.last_result

    def explain_now(self, method: str | None = None) -> None:
        self.explainer.explain_now(method)

    def apply_edit(self, sketch: Sketch, text: str) -> None:
        """A tool's result becomes the document, as one undoable edit."""
        self.document.apply(sketch, text)

    def overlay(self, name: str) -> Overlay:
        return self.canvas.overlay(name)

    # --- start-up and models ---------------------------------------------------------------------
    def start(self, model: str | None = None, open_path: str | None = None,
              index: int | None = None) -> bool:
        """Load the model (in the worker) and optionally a file; False if either failed at once
        (a file its reader refuses is reported, as one line, when its read ends)."""
        ok = True
        if open_path:
            # A file with many drawings opens its first (or --index N), read in the worker before
            # the model is loaded, and explained once it is in.
            ok = self.files.read_at_start(open_path, index) and ok
        # What exists now (torch, Qt, the window) lives for the whole session: take it out of the
        # garbage collector's full passes, which otherwise stall drawing by 100+ ms now and then.
        gc.freeze()
        return self.models.start(model) and ok

    def _model_loaded(self, info: ModelInfo) -> None:
        self.status.model_loaded(info)
        self.plots.set_task(info.task)
        current = self.panels[self.panel_tabs.currentIndex()]
        if info.task not in current.tasks:
            self.show_panel_for(info.task)
        self._refresh_model_combo()
        self._recovered("Model")
        self.modelReady.emit(info)

    def _model_failed(self, message: str) -> None:
        if self.state.model is None:
            self._no_model(message)
        else:
            self.status.model_kept(self.state.model)
        self.show_error(f"Could not load the model: {message}", "Model")
        self.modelError.emit(message)
        self._refresh_model_combo()

    def _no_model(self, message: str) -> None:
        self.last_error, self._error_title = message, "Model"
        self.status.no_model(message)

    def _refresh_model_combo(self) -> None:
        self.model_combo.set_entries(self.models.entries(), self.state.model)

    def show_panel_for(self, task: str) -> None:
        """Bring the first panel that works with `task` models to the front."""
        for i, panel in enumerate(self.panels):
            if task in panel.tasks:
                self.panel_tabs.setCurrentIndex(i)
                return

    # --- explanations ----------------------------------------------------------------------------
    def _show_explanation(self, sketch: Sketch, result: Attribution, heat) -> None:
        self.canvas.set_heat(heat)
        if len(sketch):
            self.plots.show_result(result, heat.scale)
        else:
            self.plots.clear()   # the blank canvas's "prediction" means nothing to the artist
        if self.explainer.curve_pending:
            self.plots.deletion.set_pending()
        self._recovered("Explanation")

    def _forget_view(self) -> None:
        self.canvas.set_heat(None)
        self.plots.clear()

    def _drawing_replaced(self, first_view: bool) -> None:
        """New, Open, Import: the old explanation, previews and timing go (the canvas fitted
        the view to the new page itself)."""
        self.explainer.forget()
        self.status.set_latency("Attribution: —")
        for panel in self.panels:
            panel.on_replaced()
        if first_view:
            # The model's first look is at the opened drawing, even with live explanation off.
            self.explainer.schedule(force=True)

    def cancel_work(self) -> None:
        """Esc: stop the running tool if there is one, else the running explanation."""
        if self.tasks.running:
            self.tasks.cancel()
        else:
            self.explainer.cancel()

    # --- edits -----------------------------------------------------------------------------------
    def select_tool(self, tool_id: str) -> None:
        tool = self.tool_objects.get(tool_id)
        if tool is None:
            return
        self.tool_actions[tool_id].setChecked(True)
        self.canvas.set_tool(tool)
        self.settings.tool = tool_id

    def open_audit(self, path: str | Path | None = None):
        """File ▸ Open audit…: the results of `sketchstudio audit` as a table (audit_view.py)."""
        from .audit_view import open_audit

        return open_audit(self, path)

    def _update_title(self, *_args) -> None:
        self.setWindowTitle(f"{self.files.title()}[*] — SketchStudio")
        self.setWindowModified(self.document.modified)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.files.open_dropped([u.toLocalFile() for u in event.mimeData().urls()
                                 if u.isLocalFile()])

    # --- help ------------------------------------------------------------------------------------
    def show_help(self, which: str) -> None:
        """Help ▸ Keyboard shortcuts ("shortcuts") or About ("about"), beside the window."""
        from .help_dialogs import AboutDialog, ShortcutsDialog

        self.help_dialog = (AboutDialog(self) if which == "about" else ShortcutsDialog(
            commands.shortcut_rows(self.actions_, self.tool_actions), self))
        self.help_dialog.show()

    # --- errors and closing ----------------------------------------------------------------------
    def show_error(self, message: str, title: str = "SketchStudio", dialog: bool = True) -> None:
        """One line in the status bar and, unless it would repeat on every stroke, a message box.

        The box is window-modal but opened without a nested event loop, so the studio keeps
        running (and tests are never blocked)."""
        self.last_error, self._error_title = message, title
        log.info("%s: %s", title, message)
        self.status.show_error(message)
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

    def _recovered(self, title: str) -> None:
        """What failed works again (an explanation, a model load): its error is no longer news.
        An error of something else stays."""
        if self._error_title == title:
            self.last_error = self._error_title = None
            self.status.clear_error()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        if not self._closing and not self.files.maybe_save():
            event.ignore()
            return
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop the worker (cancelling its job) and wait for it; safe to call more than once."""
        self._closing = True
        self.explainer.shutdown()
        if self._error_box is not None:
            self._error_box.close()
        if self.autosave is not None:
            self.autosave.stop()    # a normal end: saved or deliberately discarded
        self.worker.stop()
        self.tasks.forget()
