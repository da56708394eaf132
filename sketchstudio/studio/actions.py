"""Every command of the window, declared once: text, shortcuts, icon, tip, and where it appears.

`ACTIONS` is the one table. The window binds a slot to each key (`bind`), and the menus (`MENUS`)
and the main tool bar (`MAIN_TOOL_BAR`) are built from keys of the table, so a command cannot be
in a menu with one shortcut and in the tool bar with another. The drawing tools (tools.py) and
the dock toggles come from their own registries and are placed by the markers "@tools",
"@docks", "@recent" (File ▸ Open Recent) and "@model" (the model box).

Undo and Redo are the undo stack's own actions (their text names the edit: "Undo Add stroke");
the table gives their shortcuts and icons. In the tool bar they are icon-only buttons, with the
full text in the tooltip, so a long edit name never makes the tool bar reflow; the other tool bar
buttons carry short labels ("Fit", "Heat"), so that the whole bar fits a 1024-pixel window.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMenu,
    QMenuBar,
    QToolBar,
    QToolButton,
    QWidget,
)

from .canvas import SketchCanvas
from .icons import icon
from .tools import TOOLS, Tool

K = QKeySequence.StandardKey
Shortcut = str | QKeySequence.StandardKey


@dataclass(frozen=True)
class ActionSpec:
    key: str
    text: str
    shortcuts: tuple[Shortcut, ...] = ()
    icon: str = ""
    tip: str = ""
    checkable: bool = False
    short: str = ""     # the tool bar's label, when shorter than the menu's text


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("new", "&New", (K.New,), tip="Start a new drawing"),
    ActionSpec("open", "&Open…", (K.Open,), tip="Open a document or a drawing from a file"),
    ActionSpec("open_audit", "Open au&dit…",
               tip="Browse a corpus audit's results; a row opens its drawing"),
    ActionSpec("save", "&Save", (K.Save,)),
    ActionSpec("save_as", "Save &As…", (K.SaveAs,)),
    ActionSpec("import", "&Import drawing…", ("Ctrl+I",),
               tip="Bring a drawing from a file into this document"),
    ActionSpec("export", "&Export…", ("Ctrl+E",), tip="Save the drawing as PNG, SVG or data"),
    ActionSpec("export_attributions", "Export a&ttributions…",
               tip="Save the current explanation's values per stroke (CSV or JSON)"),
    ActionSpec("quit", "&Quit", (K.Quit,)),
    ActionSpec("undo", "&Undo", (K.Undo,), "undo"),
    ActionSpec("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "redo"),
    ActionSpec("select_all", "Select &all", (K.SelectAll,)),
    ActionSpec("delete", "&Delete selected strokes", (K.Delete, "Backspace")),
    ActionSpec("clear", "C&lear drawing", ("Ctrl+Shift+Backspace",), "clear",
               "Remove every stroke (undoable)", short="Clear"),
    ActionSpec("zoom_in", "Zoom &in", (K.ZoomIn, "Ctrl+=")),
    ActionSpec("zoom_out", "Zoom &out", (K.ZoomOut,)),
    ActionSpec("fit", "&Fit drawing", ("Ctrl+0",), "fit", "Fit the drawing in the window",
               short="Fit"),
    ActionSpec("heat", "Show &heat colours", ("Ctrl+H",), "heat",
               "Colour strokes by attribution, or show plain ink", checkable=True, short="Heat"),
    ActionSpec("models", "&Manage models…", ("Ctrl+M",),
               tip="Add, remove and choose models, and the device", short="Models…"),
    ActionSpec("explain", "E&xplain now", ("F5",), "explain",
               "Explain the drawing with the chosen method", short="Explain"),
    ActionSpec("cancel", "&Cancel", ("Esc",), "stop", "Stop the running explanation or tool"),
    ActionSpec("shortcuts", "&Keyboard shortcuts", ("F1",), tip="Every shortcut, searchable"),
    ActionSpec("about", "&About SketchStudio"),
)

# Menu title -> its entries: action keys, "-" (a separator) and the markers above.
MENUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("&File", ("new", "open", "@recent", "open_audit", "-", "save", "save_as", "-", "import",
               "export", "export_attributions", "-", "quit")),
    ("&Edit", ("undo", "redo", "-", "select_all", "delete", "clear")),
    ("&View", ("zoom_in", "zoom_out", "fit", "-", "heat", "-", "@docks")),
    ("&Tools", ("@tools",)),
    ("&Model", ("models", "-", "explain", "cancel")),
    ("&Help", ("shortcuts", "about")),
)

MAIN_TOOL_BAR: tuple[str, ...] = ("undo", "redo", "clear", "-", "fit", "heat", "-", "@model",
                                  "models", "-", "explain")
ICON_ONLY = frozenset({"undo", "redo"})


def _sequences(shortcuts: Iterable[Shortcut]) -> list[QKeySequence]:
    keys: list[QKeySequence] = []
    for shortcut in shortcuts:
        if isinstance(shortcut, QKeySequence.StandardKey):
            keys.extend(QKeySequence.keyBindings(shortcut))
        else:
            keys.append(QKeySequence(shortcut))
    return keys


def make_action(owner: QWidget, spec: ActionSpec, action: QAction | None = None) -> QAction:
    """The QAction for `spec` (or `spec` applied to a given one, e.g. the undo stack's)."""
    if action is None:
        action = QAction(spec.text, owner)
    if spec.icon:
        action.setIcon(icon(spec.icon))
    if spec.shortcuts:
        action.setShortcuts(_sequences(spec.shortcuts))
    if spec.short:
        action.setIconText(spec.short)
    if spec.tip:
        action.setToolTip(spec.tip)
        action.setStatusTip(spec.tip)
    action.setCheckable(spec.checkable)
    owner.addAction(action)     # shortcuts work even when the menu bar is hidden
    return action


def build_actions(owner: QWidget, given: dict[str, QAction]) -> dict[str, QAction]:
    """Every action of the table, keyed; `given` supplies ready-made ones (undo, redo)."""
    return {spec.key: make_action(owner, spec, given.get(spec.key)) for spec in ACTIONS}


def bind(actions: dict[str, QAction], slots: dict[str, Callable[..., object]]) -> None:
    """Connect each action's `triggered` to its slot (the slot gets no arguments)."""
    for key, slot in slots.items():
        actions[key].triggered.connect(lambda _checked=False, s=slot: s())


def build_tool_actions(owner: QWidget, canvas: SketchCanvas, select: Callable[[str], None]
                       ) -> tuple[dict[str, QAction], dict[str, Tool]]:
    """One checkable action per drawing tool of the registry (tools.py), exclusive; and the
    tools themselves, by id."""
    actions: dict[str, QAction] = {}
    tools: dict[str, Tool] = {}
    group = QActionGroup(owner)
    group.setExclusive(True)
    for cls in TOOLS:
        action = QAction(icon(cls.icon), cls.name, owner)
        action.setCheckable(True)
        if cls.shortcut:
            action.setShortcut(QKeySequence(cls.shortcut))
        tip = f"{cls.tip} ({cls.shortcut})" if cls.shortcut else cls.tip
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _c=False, t=cls.id: select(t))
        group.addAction(action)
        owner.addAction(action)
        actions[cls.id] = action
        tools[cls.id] = cls(canvas)
    return actions, tools


def shortcut_rows(actions: dict[str, QAction],
                  tool_actions: dict[str, QAction]) -> list[tuple[str, str, str]]:
    """The shortcuts reference (Help ▸ Keyboard shortcuts): every action with a key, under the
    menu it appears in."""
    from .help_dialogs import shortcuts_from_actions

    sections: dict[int, str] = {}
    for title, entries in MENUS:
        name = title.replace("&", "")
        for entry in entries:
            if entry in actions:
                sections.setdefault(id(actions[entry]), name)
    for action in tool_actions.values():
        sections.setdefault(id(action), "Tools")
    every = list(actions.values()) + list(tool_actions.values())
    return shortcuts_from_actions(every, lambda action: sections.get(id(action)))


def build_menus(bar: QMenuBar, actions: dict[str, QAction],
                markers: dict[str, Callable[[QMenu], None]]) -> dict[str, QMenu]:
    """The menu bar from `MENUS`; a marker calls its filler with the menu being built."""
    menus: dict[str, QMenu] = {}
    for title, entries in MENUS:
        menu = bar.addMenu(title)
        menus[title.replace("&", "")] = menu
        for entry in entries:
            if entry == "-":
                menu.addSeparator()
            elif entry.startswith("@"):
                markers[entry](menu)
            else:
                menu.addAction(actions[entry])
    return menus


def build_tool_bars(window: QMainWindow, actions: dict[str, QAction],
                    tool_actions: Iterable[QAction], model_box: QWidget) -> QToolBar:
    """The drawing tools on the left, the main bar on top (from `MAIN_TOOL_BAR`)."""
    tools = QToolBar("Tools", window)
    tools.setObjectName("tools")
    tools.setIconSize(QSize(24, 24))
    tools.setMovable(False)
    for action in tool_actions:
        tools.addAction(action)
    window.addToolBar(Qt.ToolBarArea.LeftToolBarArea, tools)

    bar = QToolBar("Main", window)
    bar.setObjectName("main")
    bar.setIconSize(QSize(20, 20))
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for entry in MAIN_TOOL_BAR:
        if entry == "-":
            bar.addSeparator()
        elif entry == "@model":
            bar.addWidget(QLabel(" Model "))
            bar.addWidget(model_box)
        elif entry in ICON_ONLY:
            button = QToolButton(bar)
            button.setDefaultAction(actions[entry])
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            button.setObjectName(f"{entry}Button")
            bar.addWidget(button)
        else:
            bar.addAction(actions[entry])
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    return bar


def refresh_icons(actions: dict[str, QAction], tool_actions: dict[str, QAction]) -> None:
    """Draw every icon again in the palette's colours (after the theme changed)."""
    for spec in ACTIONS:
        if spec.icon:
            actions[spec.key].setIcon(icon(spec.icon))
    for cls in TOOLS:
        tool_actions[cls.id].setIcon(icon(cls.icon))
