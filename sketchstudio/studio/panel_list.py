"""The task panels, in tab order: the one list the window builds its tabs from.

A new panel is one module with a `TaskPanel` subclass plus one entry here (docs/extending.md).
An explicit list, not registration on import: the tab order cannot change because an import
was sorted or moved.
"""
from __future__ import annotations

from .assist_panel import AssistPanel
from .attack_panel import AttackPanel
from .generate_panel import GeneratePanel
from .panels import ClassifyPanel, TaskPanel
from .retrieve_panel import RetrievePanel

PANELS: tuple[type[TaskPanel], ...] = (
    ClassifyPanel,
    RetrievePanel,
    GeneratePanel,
    AssistPanel,
    AttackPanel,
)
