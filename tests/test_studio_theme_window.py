"""The window follows the theme all the way: plots, the grey around the page and the line icons
change with the style sheet, and the page itself stays white paper."""
from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from PySide6.QtGui import QColor

from sketchstudio.studio.style import canvas_backdrop, contrast_ratio


def _icon_ink(action: Any) -> QColor:
    """The most common fully opaque colour of an action's icon: its line colour (antialiased
    edges are translucent)."""
    image = action.icon().pixmap(24, 24).toImage()
    counts: Counter[str] = Counter(
        image.pixelColor(x, y).name() for y in range(image.height())
        for x in range(image.width()) if image.pixelColor(x, y).alpha() == 255)
    assert counts, "the icon has no opaque line work"
    return QColor(counts.most_common(1)[0][0])


@pytest.fixture
def no_theme_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKETCHSTUDIO_THEME", raising=False)


def test_switching_to_dark_recolours_plots_backdrop_and_icons(make_window: Any,
                                                              no_theme_override: None) -> None:
    window = make_window()
    window.theme.set_preference("light")
    light_icon = _icon_ink(window.actions_["fit"])
    assert window.canvas.backgroundBrush().color() == QColor(canvas_backdrop("light"))
    assert window.plots.scheme == "light"

    window.theme.set_preference("dark")
    assert window.theme.scheme == "dark"
    assert window.plots.scheme == "dark"
    assert window.canvas.backgroundBrush().color() == QColor(canvas_backdrop("dark"))
    dark_icon = _icon_ink(window.actions_["fit"])
    bar = window.main_bar.palette().color(window.main_bar.backgroundRole())
    # The icon's line work reads on the dark tool bar (it was dark grey, invisible there).
    assert dark_icon.lightness() > light_icon.lightness()
    assert contrast_ratio(dark_icon.name(), bar.name()) >= 3.0
    tool_icon = _icon_ink(window.tool_actions["pen"])
    assert tool_icon.lightness() > light_icon.lightness()

    window.theme.set_preference("light")
    assert window.plots.scheme == "light"
    assert _icon_ink(window.actions_["fit"]).lightness() == light_icon.lightness()
