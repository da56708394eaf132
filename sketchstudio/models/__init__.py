"""Model cards, loading (TorchScript / torch.export, never pickles), the store, device choice."""
from .card import CARD_FILENAME, TASKS, ModelCard, load_card
from .checks import CheckResult, probe_sketch, run_checks
from .device import DeviceFallbackWarning, choose_device, run_with_oom_fallback
from .formats import EXPORT, TORCHSCRIPT, detect_format
from .loader import LoadedModel, load_card_model, load_model
from .paths import builtin_models_dir, data_dir, resources_dir
from .store import ModelStore, StoreEntry, slugify

__all__ = ["CARD_FILENAME", "EXPORT", "TASKS", "TORCHSCRIPT", "CheckResult",
           "DeviceFallbackWarning", "LoadedModel", "ModelCard", "ModelStore", "StoreEntry",
           "builtin_models_dir",
           "choose_device", "data_dir", "detect_format", "load_card", "load_card_model",
           "load_model", "probe_sketch", "resources_dir", "run_checks", "run_with_oom_fallback",
           "slugify"]
