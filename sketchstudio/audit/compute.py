"""The audit's per-batch function, shared by the local engine and the Ray engine.

`AuditWorker(model_ref, method, target)` loads the model once (in each worker process or Ray
actor); calling it on a list of input records (`sketchstudio.audit.inputs`) returns one result
row per record (`sketchstudio.audit.results.SCHEMA`):

    worker = AuditWorker("default", "live", "predicted")
    rows = worker(list(iter_records(["drawings.ndjson"], limit=32)))

Per drawing: the explanation (`sketchstudio.explain`, the requested method and target), then its
faithfulness with the same code as `sketchstudio eval faithfulness` (deletion and insertion curves
in attribution order, their AUC, and the completeness error). A drawing that cannot be explained
becomes a row with `error` set; it never stops the batch.
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UserError
from ..progress import Cancelled
from .inputs import decode_drawing
from .results import empty_row

TARGETS = ("predicted", "true")


def one_line(exc: BaseException) -> str:
    """An exception as the one-line reason a row carries."""
    text = " ".join(str(exc).split())
    if isinstance(exc, UserError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_settings(method: str, target: str) -> None:
    from ..explain.registry import method_names

    if method not in method_names():
        raise UserError(f"unknown method {method!r}; choose one of {', '.join(method_names())}")
    if target not in TARGETS:
        raise UserError(f"unknown target {target!r}; choose predicted or true")


class AuditWorker:
    """Loads the model once; `worker(records)` -> result rows, in the same order.

    `device`: None picks the best available (a GPU when the process has one). `threads`: torch's
    intra-op threads for this process (worker processes and actors use 1 each, one per core)."""

    def __init__(self, model_ref: str, method: str = "live", target: str = "predicted", *,
                 device: str | None = None, threads: int | None = None) -> None:
        import torch

        from ..models import ModelTask, load_model

        check_settings(method, target)
        if threads:
            torch.set_num_threads(threads)
        self.model_ref = model_ref
        self.method = method
        self.target = target
        self.model = load_model(model_ref, device=device)
        if getattr(self.model, "task", ModelTask.CLASSIFY) != ModelTask.CLASSIFY:
            raise UserError(f"{model_ref}: an audit needs a classifier; this model's task is "
                            f"{self.model.task!r}")
        self.labels = frozenset(self.model.labels)

    def __call__(self, batch: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [self.audit(record) for record in batch]

    def audit(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """One record -> one row; any failure on this drawing is the row's `error`."""
        started = time.perf_counter()
        word = record.get("word")
        row = empty_row(str(record["source"]), int(record["index"]),
                        key_id=record.get("key_id"), word=word)
        if record.get("error") or record.get("drawing") is None:
            row["error"] = record.get("error") or "no drawing in the record"
        else:
            try:
                self._explain(record["drawing"], word, row)
            except (Cancelled, KeyboardInterrupt):
                raise
            except Exception as exc:  # noqa: BLE001 - one bad drawing never stops an audit
                row["error"] = one_line(exc)
        row["elapsed_ms"] = (time.perf_counter() - started) * 1000.0
        return row

    def _explain(self, drawing: str, word: str | None, row: dict[str, Any]) -> None:
        from ..explain import explain
        from ..explain.faithfulness import curves, order_by

        sketch = decode_drawing(drawing)
        row["strokes"] = len(sketch)
        row["points"] = int(sketch.num_points)
        if len(sketch) == 0:
            raise UserError("the drawing has no strokes: nothing to attribute")
        target = None
        if self.target == "true":
            if word is None:
                raise UserError("--target true, but the drawing has no word (its true class)")
            if word not in self.labels:
                raise UserError(f"--target true, but its word {word!r} is not one of the "
                                "model's classes")
            target = word
        result = explain(sketch, self.model, method=self.method, target=target)
        assert result.target_index is not None   # a classifier always resolves its target
        faithfulness = curves(sketch, self.model, result.target_index, order_by(result.strokes))
        prediction, p_pred = result.prediction[0]
        row.update(
            prediction=prediction, p_pred=float(p_pred), target=result.target,
            correct=(prediction == word) if word in self.labels else None,
            attributions=[float(v) for v in result.strokes],
            deletion_auc=faithfulness.deletion_auc, insertion_auc=faithfulness.insertion_auc,
            completeness_error=result.completeness_error)
