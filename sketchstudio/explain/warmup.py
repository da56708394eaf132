"""Pay a model's first-call costs (kernel selection, caches, the live method's choice) up front."""
from __future__ import annotations

from ..models import LoadedModel, ModelTask, probe_forward, probe_sketch
from .api import explain


def warm_up(model: LoadedModel) -> None:
    """Run `model` once the way the studio will, on the probe drawing.

    Raises UserError for a model that cannot be explained: for a classifier, the gradient pass
    comes first (a model with an argmax inside cannot be differentiated, and SLA and the tools need
    it), then the live method, which counts the model's operations once and so decides what live
    runs. Other tasks get one checked forward pass.
    """
    if model.task == ModelTask.CLASSIFY:
        explain(probe_sketch(), model, method="sla-grad")
        explain(probe_sketch(), model, method="live")   # what the studio paints while drawing
    else:
        probe_forward(model)
