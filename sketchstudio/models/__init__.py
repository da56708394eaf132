"""Model cards, loading (TorchScript / torch.export, never pickles), the store, device choice."""
from .card import CARD_FILENAME, ModelCard, load_card
from .catalogue import ModelCatalogue, StoreEntry
from .checks import CheckResult, probe_forward, probe_sketch, run_checks
from .device import DeviceFallbackWarning, choose_device, device_choices, run_with_oom_fallback
from .formats import EXPORT, TORCHSCRIPT, detect_format
from .loader import LoadedModel, load_card_model, load_model
from .paths import builtin_models_dir, data_dir, resources_dir
from .store import ModelStore, slugify
from .tasks import TASKS, ModelTask

__all__ = ["CARD_FILENAME", "EXPORT", "TASKS", "TORCHSCRIPT", "CheckResult",
           "DeviceFallbackWarning", "LoadedModel", "ModelCard", "ModelCatalogue", "ModelStore",
           "ModelTask",
           "StoreEntry", "builtin_models_dir", "choose_device", "data_dir", "device_choices",
           "detect_format", "load_card", "load_card_model", "load_model", "probe_forward",
           "probe_sketch", "resources_dir", "run_checks", "run_with_oom_fallback", "slugify"]
