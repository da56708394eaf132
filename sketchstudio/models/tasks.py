"""What a model does: the `task` of its card. One enum instead of string literals.

`ModelTask` is a `StrEnum`: a member equals its string (`ModelTask.CLASSIFY == "classify"`), so
cards, JSON and command-line values keep their plain strings and call sites move over gradually.
"""
from __future__ import annotations

from enum import StrEnum


class ModelTask(StrEnum):
    CLASSIFY = "classify"   # logits, one per label
    EMBED = "embed"         # an embedding vector (retrieval)
    GENERATE = "generate"   # an image (generation)


TASKS: tuple[str, ...] = tuple(task.value for task in ModelTask)
