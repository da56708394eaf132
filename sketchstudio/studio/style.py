"""The studio's look: one style sheet for the chrome, light or dark, following the system.

Only the chrome changes with the scheme. The canvas page stays white in both (artists draw on
paper, and the heat colours are calibrated against white), so nothing here touches the page.

The scheme comes from, in order: $SKETCHSTUDIO_THEME (light, dark or system: for tests,
screenshots and users whose desktop reports no scheme), the preference passed to `apply_theme`
(e.g. a setting), then the system (`QStyleHints.colorScheme()`, Qt 6.5+; an unknown scheme, as on
the offscreen platform and bare X servers, counts as light). `apply_theme` re-applies when the
system's scheme changes.

Every colour role is one row of `ROLES`, its light and dark value side by side; `COLOURS` (one
scheme's colours by role) is derived from it, so a test can check each text colour against each
background it is drawn on (WCAG contrast, `contrast_ratio`).
"""
from __future__ import annotations

import os
import sys
from string import Template

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

THEME_ENV = "SKETCHSTUDIO_THEME"
SCHEMES = ("light", "dark")
PREFERENCES = ("system", "light", "dark")

# Every colour role with its (light, dark) value side by side, so a role is never in one scheme
# and missing from the other. Light is the studio's original sheet, except the panel heading
# (#8a8d96 on white was 3.4:1; WCAG asks 4.5:1 for text this small).
ROLES: dict[str, tuple[str, str]] = {
    # the window's chrome (the style sheet)
    "window": ("#f4f5f7", "#1e2025"),
    "bar": ("#fbfbfc", "#25272d"),
    "border": ("#e1e3e8", "#3a3d46"),
    "hover": ("#eceef2", "#33363e"),
    "checked": ("#dde3ee", "#3d4452"),
    "dock_text": ("#3c3e46", "#d4d7de"),
    "pane": ("#ffffff", "#26282e"),
    "tab": ("#f0f1f4", "#2c2f36"),
    "panel": ("#ffffff", "#26282e"),
    "text": ("#202228", "#e3e5ea"),
    "heading": ("#6e717b", "#a3a7b2"),
    "muted": ("#6b6f7a", "#aeb2bc"),
    "note_text": ("#8a5a00", "#f2c46d"),
    "note_bg": ("#fff7e0", "#3b3220"),
    "error": ("#a0182b", "#ff8a94"),
    "rule": ("#eceef2", "#353841"),
    "button_border": ("#c9ccd4", "#4a4e59"),
    "button": ("#ffffff", "#30333a"),
    "button_hover": ("#f3f4f7", "#3a3e47"),
    "primary": ("#2d3340", "#3d5f93"),
    "primary_text": ("#ffffff", "#ffffff"),
    "primary_hover": ("#3b4252", "#4a6fa5"),
    "primary_disabled": ("#a9adb8", "#3a3d45"),
    "primary_disabled_text": ("#ffffff", "#80848e"),
    "status_text": ("#4a4d57", "#bfc3cc"),
    "progress_border": ("#d3d6dc", "#464a55"),
    "progress": ("#ffffff", "#2a2d33"),
    "chunk": ("#6b7a99", "#4a6290"),    # dark: the percentage (light text) over it is 4.8:1
    # the palette only (menus, inputs, tables, tooltips, dialogs)
    "base": ("#ffffff", "#2a2d33"),
    "alternate": ("#f7f8fa", "#30333a"),
    "button_face": ("#f7f8fa", "#30333a"),
    "highlight": ("#4a6fa5", "#4a6fa5"),
    "highlight_text": ("#ffffff", "#ffffff"),
    "tooltip": ("#ffffee", "#30333a"),
    "tooltip_text": ("#202228", "#e3e5ea"),
    "link": ("#2a5db0", "#8ab4f8"),
    "disabled_text": ("#9a9da6", "#6f737d"),
    "placeholder": ("#6b6f7a", "#8d919b"),
    "icon": ("#343842", "#d0d3da"),
    # outside the sheet and the palette
    "canvas_backdrop": ("#eceef0", "#3a3c42"),   # the grey around the (always white) page
    "plot_foreground": ("#3c3e46", "#c9ccd4"),   # pyqtgraph's axes, ticks and labels
}

# One scheme's colours by role: COLOURS["dark"]["text"].
COLOURS: dict[str, dict[str, str]] = {
    scheme: {role: pair[i] for role, pair in ROLES.items()} for i, scheme in enumerate(SCHEMES)}

# The grey around the canvas page (chrome; the page itself stays white).
CANVAS_BACKDROP = {scheme: COLOURS[scheme]["canvas_backdrop"] for scheme in SCHEMES}

_SHEET = Template("""
QMainWindow { background: $window; }
QToolBar { background: $bar; border: none; border-bottom: 1px solid $border; spacing: 4px;
           padding: 3px; }
QToolBar#tools { border-bottom: none; border-right: 1px solid $border; }
QToolButton { border-radius: 6px; padding: 4px; color: $text; }
QToolButton:hover { background: $hover; }
QToolButton:checked { background: $checked; }
QDockWidget { font-weight: 600; color: $dock_text; }
QDockWidget::title { background: $bar; padding: 6px 8px; border-bottom: 1px solid $border; }
QTabWidget::pane { border: none; background: $pane; }
QTabBar::tab { padding: 6px 14px; background: $tab; color: $text; border: none;
               margin-right: 2px; }
QTabBar::tab:selected { background: $pane; font-weight: 600; }
TaskPanel, ClassifyPanel, PlotsPanel { background: $panel; }
QLabel#panelHeading { color: $heading; font-size: 8.5pt; font-weight: 600; letter-spacing: 1px; }
QLabel#muted { color: $muted; }
QLabel#note { color: $note_text; background: $note_bg; border-radius: 4px; padding: 4px 6px; }
QLabel#error { color: $error; }
QFrame#panelRule { color: $rule; background: $rule; max-height: 1px; border: none; }
QPushButton { padding: 5px 12px; border: 1px solid $button_border; border-radius: 5px;
              background: $button; color: $text; }
QPushButton:hover { background: $button_hover; }
QPushButton:disabled { color: $disabled_text; }
QPushButton#primary { background: $primary; color: $primary_text; border: 1px solid $primary; }
QPushButton#primary:hover { background: $primary_hover; }
QPushButton#primary:disabled { background: $primary_disabled; border-color: $primary_disabled;
                               color: $primary_disabled_text; }
QStatusBar { background: $bar; border-top: 1px solid $border; color: $status_text; }
QStatusBar QLabel { padding: 0 8px; color: $status_text; }
QStatusBar::item { border: none; }
QProgressBar { border: 1px solid $progress_border; border-radius: 4px; background: $progress;
               height: 12px; text-align: center; font-size: 8pt; color: $text; }
QProgressBar::chunk { background: $chunk; border-radius: 3px; }
""")

# Which text colour is drawn on which backgrounds: what the contrast test checks, per scheme.
TEXT_ON: dict[str, tuple[str, ...]] = {
    "text": ("window", "bar", "pane", "panel", "tab", "button", "base", "alternate"),
    "heading": ("panel", "pane"),
    "muted": ("panel", "pane", "window", "bar"),
    "note_text": ("note_bg",),
    "error": ("panel", "pane", "window", "bar"),
    "dock_text": ("bar",),
    "status_text": ("bar",),
    "primary_text": ("primary", "primary_hover"),
    "tooltip_text": ("tooltip",),
    "highlight_text": ("highlight",),
    "link": ("panel", "base", "window"),
    "icon": ("bar", "window", "hover", "checked"),
}


def style_sheet(scheme: str) -> str:
    """The window's style sheet for "light" or "dark"."""
    return _SHEET.substitute(COLOURS[_checked(scheme)])


def palette(scheme: str) -> QPalette:
    """The application palette for the scheme: what the sheet does not reach (menus, inputs,
    tables, tooltips, dialogs) takes its colours from here."""
    c = COLOURS[_checked(scheme)]
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    pal = QPalette()
    for r, key in ((role.Window, "window"), (role.WindowText, "text"), (role.Base, "base"),
                   (role.AlternateBase, "alternate"), (role.Button, "button_face"),
                   (role.ButtonText, "text"), (role.Text, "text"), (role.BrightText, "error"),
                   (role.Highlight, "highlight"), (role.HighlightedText, "highlight_text"),
                   (role.ToolTipBase, "tooltip"), (role.ToolTipText, "tooltip_text"),
                   (role.Link, "link"), (role.LinkVisited, "link"),
                   (role.PlaceholderText, "placeholder")):
        pal.setColor(r, QColor(c[key]))
    if scheme == "dark":
        # Fusion draws bevels and frames from these; the defaults are for a light face.
        for r, value in ((role.Light, "#4a4e59"), (role.Midlight, "#3a3e47"),
                         (role.Mid, "#2a2d33"), (role.Dark, "#1a1c20"), (role.Shadow, "#0d0e10")):
            pal.setColor(r, QColor(value))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(group.Disabled, r, QColor(c["disabled_text"]))
    return pal


def plot_colours(scheme: str) -> dict[str, str]:
    """pyqtgraph's colours for the scheme: `background` (the plot area, the panel's colour) and
    `foreground` (axes, ticks, labels), as hex strings pyqtgraph accepts."""
    c = COLOURS[_checked(scheme)]
    return {"background": c["panel"], "foreground": c["plot_foreground"]}


def icon_colour(scheme: str) -> str:
    """The line colour for the drawn tool-bar icons (studio/icons.py draws them in one colour:
    dark grey vanishes on the dark bars)."""
    return COLOURS[_checked(scheme)]["icon"]


def canvas_backdrop(scheme: str) -> str:
    """The grey around the canvas page (the page stays white)."""
    return CANVAS_BACKDROP[_checked(scheme)]


def system_scheme() -> str:
    """What the system asks for: "dark" only when Qt reports dark (unknown counts as light)."""
    return _scheme_name(QGuiApplication.styleHints().colorScheme())


def env_preference() -> tuple[str | None, str | None]:
    """($SKETCHSTUDIO_THEME as a preference or None, a one-line problem or None)."""
    raw = os.environ.get(THEME_ENV, "").strip()
    if not raw:
        return None, None
    value = raw.lower()
    if value in PREFERENCES:
        return value, None
    return None, (f"{THEME_ENV}={raw!r} is not a theme (use light, dark or system); "
                  "following the system")


def resolve_scheme(preference: str | None = None, system: str | None = None) -> str:
    """The scheme to show: the environment override, else `preference` (light, dark; system or
    None defer), else `system` (default: what Qt reports now)."""
    env, _ = env_preference()
    for choice in (env, preference):
        if choice in SCHEMES:
            return choice
    return system if system in SCHEMES else system_scheme()


def current_scheme() -> str:
    """"light" or "dark": the scheme the studio shows now (override, else the system). A window
    themed with a stored preference knows its own: `Theme.scheme`."""
    return resolve_scheme()


def contrast_ratio(foreground: str | QColor, background: str | QColor) -> float:
    """WCAG 2 contrast ratio of two opaque colours, 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((_luminance(QColor(foreground)), _luminance(QColor(background))),
                             reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


class Theme(QObject):
    """Keeps one window (and the application palette) in the scheme; a child of the window, so
    it stops listening when the window goes. `schemeChanged` tells plots and the canvas."""

    schemeChanged = Signal(str)

    def __init__(self, window: QWidget, preference: str | None = None) -> None:
        super().__init__(window)
        self.setObjectName("theme")
        self._window = window
        self.preference = preference
        self.scheme = ""
        self._system = system_scheme()
        _, self.problem = env_preference()
        if self.problem:
            print(f"SketchStudio: {self.problem}", file=sys.stderr)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_changed)

    def set_preference(self, preference: str | None) -> None:
        """"light", "dark" or "system"/None: e.g. from a View > Theme menu or a setting."""
        if preference is not None and preference not in PREFERENCES:
            raise ValueError(f"unknown theme preference {preference!r} (use {PREFERENCES})")
        self.preference = preference
        self.apply()

    def apply(self, force: bool = False) -> None:
        scheme = resolve_scheme(self.preference, self._system)
        if scheme == self.scheme and not force:
            return
        self.scheme = scheme
        # Palette first, then the sheet: setting the sheet re-polishes every child with the
        # palette of that moment. The other order leaves widgets polished earlier (a shown
        # window's fields, links) in the old palette.
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setPalette(palette(scheme))
        self._window.setStyleSheet(style_sheet(scheme))
        self.schemeChanged.emit(scheme)

    def _system_changed(self, scheme: Qt.ColorScheme) -> None:
        # The signal's argument, not a new query: the platform reports the new scheme with it.
        self._system = _scheme_name(scheme)
        self.apply()


def apply_theme(window: QWidget, preference: str | None = None) -> Theme:
    """Style `window` (and the application palette) light or dark, and keep following the system.
    Calling it again on the same window reuses its Theme (no second connection)."""
    theme = window.findChild(Theme, "theme", Qt.FindChildOption.FindDirectChildrenOnly)
    if theme is None:
        theme = Theme(window, preference)
    else:
        theme.preference = preference
    theme.apply(force=True)
    return theme


def _scheme_name(scheme: Qt.ColorScheme) -> str:
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def _checked(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise ValueError(f"unknown colour scheme {scheme!r} (use light or dark)")
    return scheme


def _luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
    return (0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF())
            + 0.0722 * channel(colour.blueF()))
