"""`sketchstudio [--device D] [--open FILE [--index N]] [--model ID|CARD] [--screenshot OUT.png]
[--self-test]`"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from .._version import __version__
from .platform_check import check_before_qt
from .settings import APPLICATION, ORGANISATION
from .startup import StartupTrace, after_first_paint
from .style import palette as theme_palette
from .style import resolve_scheme

SCREENSHOT_MIN = (1000, 650)
SCREENSHOT_SIZE = (1280, 800)
SCREENSHOT_TIMEOUT_S = 120.0
# After the explanation is on screen: wait this long for the deletion curve, then shoot anyway.
CURVE_WAIT_MS = 5000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sketchstudio", description="Draw, and see stroke by stroke why a sketch model "
        "decides what it decides.")
    parser.add_argument("-V", "--version", action="version", version=f"sketchstudio {__version__}")
    parser.add_argument("--device", help="cpu, cuda, cuda:N, mps or auto (default: remembered "
                        "choice, else the best available)")
    parser.add_argument("--open", metavar="FILE",
                        help="a drawing to open (.json, .ndjson, .npz, .svg, ...)")
    parser.add_argument("--index", type=int, default=None, metavar="N",
                        help="which drawing of a file that holds many (default: 0)")
    parser.add_argument("--model", metavar="ID|CARD", help="a store id or a model card "
                        "(default: the store's default classifier)")
    # The method registry's names (torch-free: the built-ins are described without their code).
    from ..explain.registry import method_names

    parser.add_argument("--method", choices=method_names(),
                        help="explain with this method (it stays the chosen method; default: "
                        "live, which names what it ran)")
    parser.add_argument("--screenshot", metavar="OUT.png", help="wait for the first explanation, "
                        "save a picture of the whole window and exit")
    recovery = parser.add_mutually_exclusive_group()
    recovery.add_argument("--restore", dest="restore", action="store_const", const=True,
                          default=None, help="restore the drawing autosaved by a session that "
                          "ended unexpectedly, without asking")
    recovery.add_argument("--no-restore", dest="restore", action="store_const", const=False,
                          help="discard such an autosaved drawing, without asking")
    parser.add_argument("--self-test", action="store_true", help="offscreen: explain a demo "
                        "sketch with the default model, save a screenshot to a temporary folder, "
                        "print one line and exit (0: passed)")
    return parser


def _application(argv0: str) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([argv0])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("SketchStudio")
    app.setStyle("Fusion")
    # The theme's palette (style.py) from the start: a dialog shown before the window (a
    # damaged settings file) already looks like the studio; the window re-applies it.
    app.setPalette(theme_palette(resolve_scheme()))
    return app


class Screenshot:
    """Waits until the first explanation (and its curve) is on screen, saves the window, quits."""

    def __init__(self, app: QApplication, window, path: Path, timeout_s: float) -> None:
        self.app, self.window, self.path = app, window, path
        self.code: int | None = None
        window.explanationShown.connect(self._explained)
        window.curveShown.connect(self._curve)
        window.modelError.connect(self._model_error)
        self._deadline = QTimer(window)
        self._deadline.setSingleShot(True)
        self._timeout_s = timeout_s
        self._deadline.timeout.connect(self._timed_out)
        self._deadline.start(int(timeout_s * 1000))
        self._curve_timer = QTimer(window)
        self._curve_timer.setSingleShot(True)
        self._curve_timer.timeout.connect(self._shoot_soon)
        self._shot = False

    def _explained(self) -> None:
        if self.window.explainer.curve_pending:
            self._curve_timer.start(CURVE_WAIT_MS)
        else:
            self._shoot_soon()

    def _curve(self) -> None:
        self._curve_timer.stop()
        self._shoot_soon()

    def _shoot_soon(self) -> None:
        # Two event-loop turns: let the plots and the canvas repaint with what just arrived.
        QTimer.singleShot(50, self._shoot)

    def _shoot(self) -> None:
        if self._shot:
            return
        self._shot = True
        self._deadline.stop()
        self.app.processEvents()
        pixmap = self.window.grab()
        if pixmap.width() < SCREENSHOT_MIN[0] or pixmap.height() < SCREENSHOT_MIN[1]:
            self.fail(f"the window is only {pixmap.width()}x{pixmap.height()} pixels")
            return
        if not pixmap.save(str(self.path), "PNG"):
            self.fail(f"cannot write {self.path}")
            return
        self.code = 0
        self.app.exit(0)

    def _timed_out(self) -> None:
        self.fail(f"no explanation within {self._timeout_s:.0f} s")

    def _model_error(self, message: str) -> None:
        self.fail(f"cannot load the model: {message}")

    def fail(self, message: str) -> None:
        if self.code is not None:
            return
        self._shot = True
        print(f"sketchstudio: error: {message}", file=sys.stderr)
        self.code = 2
        self.app.exit(2)


# Harmless platform chatter that would bury the one line a failing --screenshot prints.
_QUIET_QT_MESSAGES = ("does not support propagateSizeHints",)


def _qt_messages(mode, context, message: str) -> None:
    if any(text in message for text in _QUIET_QT_MESSAGES):
        return
    if mode in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg):
        return
    print(f"Qt: {message}", file=sys.stderr)


def _install_excepthook(window) -> None:
    """An unexpected error in a slot becomes one line in the window, not a dead studio."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        logging.getLogger("sketchstudio.studio").error(
            "unexpected error:\n%s", "".join(traceback.format_exception(kind, value, tb)))
        try:
            window.show_error(f"Unexpected error: {kind.__name__}: {value}", "SketchStudio")
        except Exception:
            previous(kind, value, tb)

    sys.excepthook = hook


def check_data_dir() -> str | None:
    """Before anything reads the data folder: set aside what no reader can use (a settings file
    nested too deeply or holding a 4,300-digit integer, a damaged autosave note, ...), so that the
    studio starts whatever it finds there. The one line that says what was set aside, or None."""
    from ..models import paths
    from .autosave import check_journals, journal_dir
    from .damaged import DamagedFiles
    from .settings import check_settings_file

    damaged = DamagedFiles()
    try:
        data = paths.data_dir()
        if os.path.lexists(data) and not data.is_dir():
            damaged.set_aside(data, "not a folder")
        else:
            check_settings_file(data, damaged)
            check_journals(damaged, journal_dir())
    except Exception:   # the check must never be what stops the studio; the readers cope alone
        logging.getLogger("sketchstudio.studio").warning("cannot check the data folder",
                                                        exc_info=True)
    return damaged.message()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    if args.self_test:
        from .. import selftest

        return selftest.run(args, _run)
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    if args.index is not None and args.index < 0:
        print("sketchstudio: error: --index must be 0 or more", file=sys.stderr)
        return 2
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    # Qt aborts the process (naming one wrong library) when its X11 plugin cannot load: ask first.
    cannot_open = check_before_qt()
    if cannot_open is not None:
        print(cannot_open, file=sys.stderr)
        return 3
    previous_handler = qInstallMessageHandler(_qt_messages)
    app = _application(sys.argv[0] if sys.argv else "sketchstudio")
    trace = StartupTrace.from_environment()

    from .main_window import MainWindow

    damage = check_data_dir()
    # A screenshot must not depend on (or change) what an earlier session left in the settings.
    window = MainWindow(device=args.device, persist=not args.screenshot)
    shot = None
    if args.screenshot:
        window.resize(*SCREENSHOT_SIZE)
        shot = Screenshot(app, window, Path(args.screenshot), SCREENSHOT_TIMEOUT_S)
        window.errorShown.connect(shot.fail)   # any error before the picture: no picture
    previous_hook = sys.excepthook
    _install_excepthook(window)
    app.aboutToQuit.connect(window.shutdown)
    trace.watch(app, window)

    def begin() -> None:
        # After the first paint: the window is on screen before the engine (torch) and the model
        # load in the worker, and before a recovery question or an error dialog can cover it.
        trace.mark("window-shown", f"torch={int('torch' in sys.modules)}")
        started = window.start(model=args.model, open_path=args.open, index=args.index)
        from .autosave import offer_recovery

        # Never a dialog for --screenshot or offscreen runs: scripted launches must not block.
        headless = bool(args.screenshot) or app.platformName() in ("offscreen", "minimal")
        offer_recovery(window, getattr(args, "restore", None), headless=headless)
        if damage is not None:     # said once: a file set aside is not read (or reported) again
            print(f"sketchstudio: {damage}", file=sys.stderr)
            if not args.screenshot:    # (a screenshot fails on any error shown in the window)
                window.show_error(damage, "Data folder", dialog=not headless)
        if started and args.method:
            window.explain_now(args.method)
        if shot is not None and (not started or shot.code is not None):
            shot.fail(window.last_error or "cannot start")   # no-op if it already failed
        elif not started and trace.exit_after_colour:
            trace.mark("start-failed")
            app.exit(2)

    after_first_paint(window, begin)
    window.show()
    try:
        code = app.exec()
        if shot is not None:
            code = shot.code if shot.code is not None else code
    finally:
        sys.excepthook = previous_hook
        window.shutdown()
        window.deleteLater()
        app.processEvents()
        qInstallMessageHandler(previous_handler)
    return int(code)
