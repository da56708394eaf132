"""Training the project's own models on real drawings (torch; used by `sketchstudio train`)."""
from .data import CREDIT, DEFAULT_CATEGORIES, RENDER_SPEC, resolve_data_dir, split, split_key
from .evaluate import accuracy, evaluate_model
from .model import SketchCNN, export_torchscript, fold_batchnorm
from .train import TrainConfig, TrainResult, train_classifier

__all__ = ["CREDIT", "DEFAULT_CATEGORIES", "RENDER_SPEC", "SketchCNN", "TrainConfig", "TrainResult",
           "accuracy", "evaluate_model", "export_torchscript", "fold_batchnorm", "resolve_data_dir",
           "split", "split_key", "train_classifier"]
