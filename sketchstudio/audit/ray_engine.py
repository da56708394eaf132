"""The Ray engine (`--engine ray`): the same audit as a Ray Data pipeline, for corpora that
outgrow one machine. Ray is the optional extra `scale` (`pip install 'sketchstudio[scale]'`);
nothing else in the project imports this module.

    shards of the input  ->  read (a task per shard)  ->  map_batches on an actor pool, each actor
    ({source, start, stop})   records                    an AuditWorker (the model loaded once)
                         ->  write_parquet into DIR/results.parquet/ (Ray's own writer)

The per-batch function is the local engine's (compute.AuditWorker), and both write the same
schema, so both engines give the same rows. Without `address` a local Ray instance is started,
limited to `workers` CPUs, without the dashboard, on 127.0.0.1 and without usage reporting (no
network); with `address` the cluster is joined (the workers need sketchstudio installed and the
data at the same path). Actors ask for one GPU each when the cluster has GPUs.

Stopping: Ctrl+C stops the pipeline (Ray's writer may leave a file cut short; `--resume` drops
such files and redoes their rows). A TaskState cancel is looked at every half second.
"""
from __future__ import annotations

import bisect
import os
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import UserError
from ..progress import Cancelled, TaskState
from .compute import AuditWorker
from .inputs import INPUT_FIELDS, iter_file_records, plan_shards
from .results import SHARD_PREFIX, results_dir, to_table

try:
    import ray
    import ray.data
    from ray.data.datasource import FilenameProvider
except ImportError as exc:   # the optional extra is not installed
    raise UserError("--engine ray needs Ray: pip install 'sketchstudio[scale]'") from exc

SHARD_SIZE = 256            # drawings per input shard (one read task each)
LOCAL_OBJECT_STORE = 256 * 1024 * 1024
POLL_S = 0.5

INPUT_SCHEMA = pa.schema([
    pa.field("source", pa.string()), pa.field("index", pa.int64()),
    pa.field("key_id", pa.string()), pa.field("word", pa.string()),
    pa.field("drawing", pa.string()), pa.field("error", pa.string())])


def read_shards(shards: pa.Table) -> pa.Table:
    """Input shards -> their records (skipping the indices in `skip`: rows already written)."""
    records = []
    for shard in shards.to_pylist():
        skip = set(shard.get("skip") or ())
        records += [r for r in iter_file_records(shard["source"], shard["start"], shard["stop"])
                    if r["index"] not in skip]
    return pa.Table.from_pylist([{k: r[k] for k in INPUT_FIELDS} for r in records],
                                schema=INPUT_SCHEMA)


class AuditActor:
    """One actor of the pool: an AuditWorker built once, called on Arrow batches."""

    def __init__(self, **settings: Any) -> None:
        self.worker = AuditWorker(**settings, threads=1)

    def __call__(self, batch: pa.Table) -> pa.Table:
        return to_table(self.worker(batch.to_pylist()))


class PartNames(FilenameProvider):
    """`part-ray-<write uuid>-<task>...parquet`: the shard names read_results and --resume look
    for (Ray's appending writer insists on the whole write uuid in every name)."""

    def __init__(self) -> None:
        super().__init__(file_format="parquet")

    def get_filename_for_task(self, write_uuid: str, task_index: int) -> str:
        return f"{SHARD_PREFIX}ray-{write_uuid}-{task_index:06d}.parquet"

    def get_filename_for_block(self, block: Any, *args: Any) -> str:  # Ray before 2.50
        write_uuid, task_index, block_index = (tuple(args) + ("", 0, 0))[:3]
        return f"{SHARD_PREFIX}ray-{write_uuid}-{task_index:06d}-{block_index:06d}.parquet"


def _start(address: str | None, workers: int | None) -> bool:
    """Connect to Ray; True when this call started a local instance (and must stop it)."""
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")   # no reporting home
    if address:
        try:
            ray.init(address=address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise UserError(f"--address {address}: cannot join the Ray cluster ({exc})") from None
        return True
    from .engine import default_workers

    ray.init(num_cpus=workers or default_workers("cpu"), include_dashboard=False,
             _node_ip_address="127.0.0.1", object_store_memory=LOCAL_OBJECT_STORE,
             log_to_driver=False, configure_logging=False)
    return True


def _shards(files: list[Path], limit: int | None,
            done: set[tuple[str, int]]) -> list[dict[str, Any]]:
    shards = plan_shards(files, limit, SHARD_SIZE)
    if done:
        by_source: dict[str, list[int]] = {}
        for source, index in done:
            by_source.setdefault(source, []).append(index)
        for indices in by_source.values():
            indices.sort()
        for shard in shards:
            indices = by_source.get(shard["source"], [])
            shard["skip"] = indices[bisect.bisect_left(indices, shard["start"]):
                                    bisect.bisect_left(indices, shard["stop"])]
        shards = [s for s in shards if len(s["skip"]) < s["stop"] - s["start"]]
    return shards


def run_ray(files: list[Path], limit: int | None, out_dir: Path, worker_settings: dict[str, Any],
            *, done: set[tuple[str, int]], batch_size: int, workers: int | None,
            address: str | None, state: TaskState) -> None:
    """Audit `files` into out_dir/results.parquet/ with Ray Data (see the module docstring)."""
    shards = _shards(files, limit, done)
    if not shards:
        return
    started = _start(address, workers)
    try:
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        actors = workers or (gpus or int(resources.get("CPU", 1)))
        if gpus:
            actors = min(actors, gpus)
        records = ray.data.from_items(shards, override_num_blocks=len(shards)).map_batches(
            read_shards, batch_size=1, batch_format="pyarrow")
        rows = records.map_batches(
            AuditActor, fn_constructor_kwargs=worker_settings, batch_size=batch_size,
            batch_format="pyarrow", compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=1,
            num_gpus=1 if gpus else 0)
        folder = results_dir(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        _write_watching(rows, str(folder), PartNames(), state)
    finally:
        if started:
            ray.shutdown()


def _write_watching(dataset: Any, folder: str, names: PartNames, state: TaskState) -> None:
    """write_parquet on a helper thread, so that a TaskState cancel can stop it from here."""
    outcome: dict[str, BaseException] = {}

    def write() -> None:
        try:
            dataset.write_parquet(folder, filename_provider=names)
        except BaseException as exc:   # handed back to the calling thread
            outcome["error"] = exc

    thread = threading.Thread(target=write, name="audit ray writer", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(POLL_S)
        if state.is_cancelled():
            ray.shutdown()   # ends the pipeline; finished files stay, a cut-short one is dropped
            thread.join(5.0)
            raise Cancelled()
    if "error" in outcome:
        raise outcome["error"]
