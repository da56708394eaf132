"""Help menu dialogs (shortcuts, About, class list) and the light/dark theme (studio/style.py)."""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

import sketchstudio
from sketchstudio.studio import style
from sketchstudio.studio.help_dialogs import (
    AboutDialog,
    ClassListDialog,
    ClassListLink,
    ShortcutsDialog,
    shortcuts_from_actions,
    strip_mnemonic,
)

PROJECT = Path(__file__).resolve().parents[1]
linux_keys = pytest.mark.skipif(sys.platform == "darwin", reason="macOS writes keys as ⌘S")


def default_labels() -> list[str]:
    card = PROJECT / "resources" / "models" / "default" / "card.toml"
    return list(tomllib.loads(card.read_text(encoding="utf-8"))["labels"])


# --- shortcuts ---
def make_actions(parent) -> tuple[list[QAction], dict[QAction, str | None]]:
    def action(text, keys, section):
        a = QAction(text, parent)
        if isinstance(keys, list):
            a.setShortcuts([QKeySequence(k) for k in keys])
        elif keys:
            a.setShortcut(QKeySequence(keys))
        sections[a] = section
        actions.append(a)
        return a

    actions: list[QAction] = []
    sections: dict[QAction, str | None] = {}
    action("&Save", "Ctrl+S", "File")
    action("Save &As…", "Ctrl+Shift+S", "File")
    action("Open au&dit…", None, "File")                 # no shortcut: not listed
    action("&Redo", ["Ctrl+Shift+Z", "Ctrl+Y"], "Edit")
    action("Fish && &Chips", "Ctrl+K", "Edit")
    action("Secret", "Ctrl+J", None)                     # section None: left out
    action("E&xplain now", "F5", "Explain")
    return actions, sections


@linux_keys
def test_shortcuts_from_actions_reads_names_and_keys(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    actions, sections = make_actions(owner)
    rows = shortcuts_from_actions(actions + actions[:1], sections.get)   # a repeat is listed once
    assert rows == [("File", "Save", "Ctrl+S"), ("File", "Save As…", "Ctrl+Shift+S"),
                    ("Edit", "Redo", "Ctrl+Shift+Z, Ctrl+Y"), ("Edit", "Fish & Chips", "Ctrl+K"),
                    ("Explain", "Explain now", "F5")]
    assert strip_mnemonic("C&lear && go") == "Clear & go"


@linux_keys
def test_shortcuts_dialog_lists_and_filters(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    actions, sections = make_actions(owner)
    rows = shortcuts_from_actions(actions, sections.get)
    dialog = ShortcutsDialog(rows)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.visible_rows() == rows
    assert [dialog.proxy.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == \
        ["Section", "Action", "Keys"]

    qtbot.keyClicks(dialog.filter, "SAVE")                       # case-insensitive, by name
    assert dialog.visible_rows() == rows[:2]
    dialog.filter.clear()
    qtbot.keyClicks(dialog.filter, "f5")                         # by key
    assert dialog.visible_rows() == [("Explain", "Explain now", "F5")]
    dialog.filter.clear()
    qtbot.keyClicks(dialog.filter, "edit")                       # by section
    assert [r[1] for r in dialog.visible_rows()] == ["Redo", "Fish & Chips"]
    assert not dialog.empty.isVisible()
    dialog.filter.clear()
    qtbot.keyClicks(dialog.filter, "no such thing")
    assert dialog.visible_rows() == []
    assert dialog.empty.isVisible() and "no such thing" in dialog.empty.text()
    dialog.filter.clear()
    assert dialog.visible_rows() == rows and not dialog.empty.isVisible()


# --- About ---
def test_about_shows_version_licence_and_credits(qtbot):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    text = " ".join(dialog.plain_text().split())
    assert f"SketchStudio {sketchstudio.__version__}" in text
    assert sketchstudio.__version__ == "0.1.0"       # the one place pyproject.toml reads it from
    assert "Quick, Draw! dataset by Google, CC BY 4.0" in text
    assert "under the MIT licence" in text
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"]["text"] == "MIT"
    for credit in ("PySide6", "LGPL-3.0", "PyTorch", "BSD-3-Clause", "pyqtgraph",
                   "arXiv 2403.09480", "https://github.com/googlecreativelab/quickdraw-dataset"):
        assert credit in text
    flags = dialog.text.textInteractionFlags()
    assert flags & Qt.TextInteractionFlag.TextSelectableByMouse
    dialog.copy_version()
    assert QGuiApplication.clipboard().text().startswith(f"SketchStudio {sketchstudio.__version__}")


# --- classes ---
def test_class_list_shows_every_label_and_filters(qtbot):
    labels = default_labels()
    assert len(labels) == 40
    dialog = ClassListDialog(labels, title="Quick, Draw! CNN: classes")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.visible_labels() == labels
    assert dialog.count.text() == "40 classes"
    assert dialog.windowTitle() == "Quick, Draw! CNN: classes"
    qtbot.keyClicks(dialog.filter, "CL")
    expected = [label for label in labels if "cl" in label]
    assert expected and dialog.visible_labels() == expected       # alarm clock, cloud
    assert dialog.count.text() == f"{len(expected)} of 40 classes match “CL”"
    dialog.filter.clear()
    assert dialog.visible_labels() == labels


def test_class_list_link_opens_the_list_and_follows_the_model(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    link = ClassListLink(host)
    assert not link.isVisibleTo(host)                   # no model yet: nothing to show
    link.set_labels(default_labels(), "Quick, Draw! CNN")
    assert link.isVisibleTo(host) and "40 classes…" in link.text()
    with qtbot.waitSignal(link.opened) as opened:
        link.linkActivated.emit("classes")
    dialog = opened.args[0]
    assert dialog.visible_labels() == default_labels()
    assert dialog.windowTitle() == "Quick, Draw! CNN"
    link.set_labels(["apple", "book"])                  # another model: the old list goes
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog))     # closed and deleted
    assert link.dialog is None and "2 classes…" in link.text()
    assert link.open_list().visible_labels() == ["apple", "book"]
    link.set_labels([])
    assert not link.isVisibleTo(host)


# --- theme ---
class TaskPanel(QWidget):
    """Stands in for the studio's panels: the sheet styles them by class name."""

    def __init__(self) -> None:
        super().__init__()
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)


@pytest.fixture
def app_palette(qtbot):
    """Theme tests change the application palette: give it back."""
    app = QApplication.instance()
    saved = app.palette()
    yield app
    app.setPalette(saved)


def themed_window(qtbot) -> tuple[QMainWindow, dict[str, QLabel]]:
    window = QMainWindow()
    qtbot.addWidget(window)
    panel = TaskPanel()
    layout = QVBoxLayout(panel)
    labels = {}
    for name in ("panelHeading", "muted", "note", "error"):
        label = QLabel(f"{name} WWW MMM ###")
        label.setObjectName(name)
        layout.addWidget(label)
        labels[name] = label
    link = ClassListLink()              # rich text: its link colour is the palette's
    link.setObjectName("link")
    link.set_labels(["apple", "book"])
    layout.addWidget(link)
    field = QLineEdit("a field")        # styled by the palette only, not by the sheet
    field.setObjectName("field")
    layout.addWidget(field)
    window.setCentralWidget(panel)
    window.resize(400, 300)
    return window, labels


def text_and_background(window: QMainWindow, label: QLabel) -> tuple[QColor, QColor, QColor]:
    """(the label's text colour as styled, its background and its most contrasting pixel, both
    as rendered in the window)."""
    image = window.grab().toImage()
    origin = label.mapTo(window, QPoint(0, 0))
    # right of the text (labels are left-aligned and stretch across the panel)
    background = image.pixelColor(origin + QPoint(label.width() - 3, label.height() // 2))
    best, best_ratio = background, 1.0
    for y in range(label.height()):
        for x in range(label.width()):
            pixel = image.pixelColor(origin + QPoint(x, y))
            ratio = style.contrast_ratio(pixel, background)
            if ratio > best_ratio:
                best, best_ratio = pixel, ratio
    return label.palette().color(label.foregroundRole()), background, best


@pytest.mark.parametrize("scheme", style.SCHEMES)
def test_every_text_colour_contrasts_with_its_backgrounds(scheme):
    colours = style.COLOURS[scheme]
    for text, backgrounds in style.TEXT_ON.items():
        for background in backgrounds:
            ratio = style.contrast_ratio(colours[text], colours[background])
            assert ratio >= 4.5, f"{scheme}: {text} on {background} is {ratio:.2f}:1"
    plot = style.plot_colours(scheme)
    assert style.contrast_ratio(plot["foreground"], plot["background"]) >= 4.5
    assert style.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)


def test_dark_override_styles_the_window_readably(qtbot, app_palette, monkeypatch):
    monkeypatch.setenv(style.THEME_ENV, "dark")
    assert style.current_scheme() == "dark"
    window, labels = themed_window(qtbot)
    theme = style.apply_theme(window)
    window.show()
    qtbot.waitExposed(window)
    dark = style.COLOURS["dark"]
    assert theme.scheme == "dark" and window.styleSheet() == style.style_sheet("dark")
    assert app_palette.palette().color(app_palette.palette().ColorRole.Window) == \
        QColor(dark["window"])
    for name, label in labels.items():
        text, background, drawn = text_and_background(window, label)
        expected_bg = dark["note_bg"] if name == "note" else dark["panel"]
        assert background == QColor(expected_bg), name        # the dark panel, not white
        key = {"panelHeading": "heading", "note": "note_text"}.get(name, name)
        assert text == QColor(dark[key]), name
        assert style.contrast_ratio(text, background) >= 4.5, name
        # and the glyphs really are drawn in a light colour on it (anti-aliasing keeps the
        # rendered extreme a little short of the styled colour)
        assert style.contrast_ratio(drawn, background) >= 3.0, name
        assert drawn.lightness() > background.lightness(), name


def test_the_scheme_follows_the_system_and_the_override_wins(qtbot, app_palette, monkeypatch):
    monkeypatch.delenv(style.THEME_ENV, raising=False)
    window, labels = themed_window(qtbot)
    theme = style.apply_theme(window)
    assert style.apply_theme(window) is theme             # again: the same listener, not two
    hints = QGuiApplication.styleHints()
    # offscreen reports no scheme: light
    assert theme.scheme == "light" and window.styleSheet() == style.style_sheet("light")
    with qtbot.waitSignal(theme.schemeChanged) as changed:
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert changed.args == ["dark"] and window.styleSheet() == style.style_sheet("dark")
    assert QApplication.palette().color(QApplication.palette().ColorRole.Base) == \
        QColor(style.COLOURS["dark"]["base"])
    window.show()
    qtbot.waitExposed(window)
    field = window.findChild(QLineEdit, "field")
    text, background, _ = text_and_background(window, labels["muted"])
    assert background == QColor(style.COLOURS["dark"]["panel"])
    assert field.palette().color(field.backgroundRole()) == QColor(style.COLOURS["dark"]["base"])
    # after the window is shown, a change reaches the sheet's labels and the palette's widgets
    with qtbot.waitSignal(theme.schemeChanged) as changed:
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert changed.args == ["light"] and window.styleSheet() == style.style_sheet("light")
    text, background, _ = text_and_background(window, labels["muted"])
    assert background == QColor(style.COLOURS["light"]["panel"])
    assert field.palette().color(field.backgroundRole()) == QColor(style.COLOURS["light"]["base"])
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert field.palette().color(field.backgroundRole()) == QColor(style.COLOURS["dark"]["base"])
    _, background, drawn = text_and_background(window, window.findChild(ClassListLink, "link"))
    assert style.contrast_ratio(drawn, background) >= 3.0     # not the light scheme's dark blue
    assert drawn.lightness() > background.lightness()
    assert field.palette().color(field.foregroundRole()) == QColor(style.COLOURS["dark"]["text"])

    theme.set_preference("dark")                          # a stored choice beats the system
    assert theme.scheme == "dark"
    monkeypatch.setenv(style.THEME_ENV, "light")          # and the environment beats both
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert theme.scheme == "light" and window.styleSheet() == style.style_sheet("light")


def test_a_bad_theme_variable_is_named_once_and_ignored(qtbot, app_palette, monkeypatch,
                                                        capsys):
    monkeypatch.setenv(style.THEME_ENV, "purple")
    window, _ = themed_window(qtbot)
    theme = style.apply_theme(window)
    assert theme.scheme == "light"
    assert capsys.readouterr().err.strip() == ("SketchStudio: SKETCHSTUDIO_THEME='purple' is not a "
                                               "theme (use light, dark or system); following the "
                                               "system")
    with pytest.raises(ValueError, match="unknown colour scheme"):
        style.style_sheet("purple")
