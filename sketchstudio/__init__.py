"""SketchStudio: stroke-level explanations of sketch models.

    from sketchstudio import load_sketch, load_model, explain
    r = explain(load_sketch("cat.ndjson"), load_model("default"), method="sla")

Names are loaded lazily so that `import sketchstudio.sketch` does not pay for torch.
"""
__version__ = "0.1.0"

__all__ = ["Attribution", "RenderSpec", "Sketch", "explain", "load_model", "load_sketch", "render",
           "__version__"]


def __getattr__(name: str):
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'sketchstudio' has no attribute {name!r}")
