"""Model cards, loading (TorchScript / torch.export, never pickles), the store, device choice.

Importing the package does not import torch (the studio reads cards, the catalogue and
`ModelTask` while its window opens): the names in the `lazy_package` table are imported on
first use.
"""
from typing import TYPE_CHECKING

from .._lazy import lazy_package
from .card import CARD_FILENAME, ModelCard, load_card
from .catalogue import ModelCatalogue, StoreEntry
from .paths import builtin_models_dir, data_dir, resources_dir
from .tasks import TASKS, ModelTask

if TYPE_CHECKING:
    from .checks import CheckResult, probe_forward, probe_sketch, run_checks
    from .device import DeviceFallbackWarning, choose_device, device_choices, run_with_oom_fallback
    from .formats import EXPORT, TORCHSCRIPT, detect_format
    from .loader import LoadedModel, load_card_model, load_model
    from .store import ModelStore, slugify

__all__ = ["CARD_FILENAME", "EXPORT", "TASKS", "TORCHSCRIPT", "CheckResult",
           "DeviceFallbackWarning", "LoadedModel", "ModelCard", "ModelCatalogue", "ModelStore",
           "ModelTask",
           "StoreEntry", "builtin_models_dir", "choose_device", "data_dir", "device_choices",
           "detect_format", "load_card", "load_card_model", "load_model", "probe_forward",
           "probe_sketch", "resources_dir", "run_checks", "run_with_oom_fallback", "slugify"]

_LAZY, __getattr__, __dir__ = lazy_package(globals(), {
    ".checks": ("CheckResult", "probe_forward", "probe_sketch", "run_checks"),
    ".device": ("DeviceFallbackWarning", "choose_device", "device_choices",
                "run_with_oom_fallback"),
    ".formats": ("EXPORT", "TORCHSCRIPT", "detect_format"),
    ".loader": ("LoadedModel", "load_card_model", "load_model"),
    ".store": ("ModelStore", "slugify"),
})
