"""SketchStudio: stroke-level explanations of sketch models.

    from sketchstudio import load_sketch, load_model, explain
    r = explain(load_sketch("cat.ndjson"), load_model("default"), method="sla")

Names are loaded lazily so that `import sketchstudio.sketch` does not pay for torch.
"""
import os as _os

# A second wall behind the model-file inspection (models/formats.py): every torch.load in this
# process reads plain tensors only, even where torch itself retries with weights_only=False
# (torch.export.load does). torch reads the variable on every call, so setting it here, before any
# sketchstudio module imports torch, covers the whole process. The opposite switch would make
# torch refuse every load, so it is dropped.
_os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
_os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)

from ._version import __version__

__all__ = ["Attribution", "RenderSpec", "Sketch", "explain", "load_model", "load_sketch", "render",
           "__version__"]


def __getattr__(name: str) -> object:
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'sketchstudio' has no attribute {name!r}")
