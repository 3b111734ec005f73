"""``BenchmarkTable``: one copy of a benchmark table per node, shared by all trials there.

Inside a Ray worker or driver::

    actor = get_table_actor("nb201.parquet")
    ray.get(actor.query.remote(keys, "cifar10", [("valid_acc", 200), ("test_acc", 200)]))
    keys, values = ray.get(actor.columns.remote("cifar10", [("valid_acc", 200)]))

Ray is imported lazily, inside the functions that need it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ednag.registry import TABLES
from ednag.tables import MetricRef, Table, TableError, load_table

ACTOR_PREFIX = "ednag-table"
NAMESPACE = "ednag-tables"  # fixed, so a detached actor is found again by name
GPU_FRACTION = 0.05  # a table needs little: leave the device to the trials


class BenchmarkTable:
    """The actor's body (also usable in-process): a loaded table and batched lookups.

    ``device=None`` keeps the values as a numpy matrix; ``"cuda"`` (or ``"cpu"``) holds them
    as a torch tensor on that device. A CUDA device this process cannot use (a CPU build of
    torch on a GPU node, say) is a :class:`TableError`, or with ``fallback=True`` the numpy
    matrix.
    """

    def __init__(self, spec: str, device: str | None = None, fallback: bool = False) -> None:
        self.table: Table = load_table(spec)
        self._tensor = None
        if device is not None:
            import torch

            if device.startswith("cuda") and not torch.cuda.is_available():
                if not fallback:
                    raise TableError(f"table device {device!r}: torch {torch.__version__} "
                                     "sees no CUDA device in this process")
                device = None
            else:
                self._tensor = torch.as_tensor(self.table.values, device=device)
        self.device = device

    def query(
        self,
        keys_or_rows: Sequence[str] | Sequence[int] | np.ndarray,
        dataset: str,
        metrics: Sequence[MetricRef],
    ) -> np.ndarray:
        """Float64 array (n, m): ``metrics`` [(metric, fidelity), ...] of n architectures
        given by key (str) or row index (int)."""
        rows = self.table.resolve(keys_or_rows)
        cols = self.table.column_indices(dataset, metrics)
        if self._tensor is None:
            return self.table.values[np.ix_(rows, cols)]
        import torch

        r = torch.as_tensor(rows, device=self._tensor.device)
        c = torch.as_tensor(cols, device=self._tensor.device)
        # gather only the (rows x cols) cells: a whole row holds every metric of the table
        return self._tensor[r.unsqueeze(1), c.unsqueeze(0)].cpu().numpy()

    def columns(
        self, dataset: str, metrics: Sequence[MetricRef]
    ) -> tuple[list[str], np.ndarray]:
        """Every architecture key (table order) and the float64 array (n, m) of ``metrics``
        [(metric, fidelity), ...] of ``dataset``: a run's whole lookup in one call.

        Raises :class:`TableError` naming an unknown dataset, metric or fidelity, as
        :meth:`query` does."""
        cols = self.table.column_indices(dataset, metrics)
        return list(self.table.keys), np.ascontiguousarray(self.table.values[:, cols])

    def rows(self, keys: Sequence[str]) -> np.ndarray:
        return self.table.rows(keys)

    def describe(self) -> dict[str, Any]:
        """Benchmark, datasets, size, defaults and where the values live."""
        return {
            "benchmark": self.table.benchmark,
            "space": self.table.space,
            "datasets": self.table.datasets,
            "num_archs": len(self.table),
            "defaults": {ds: self.table.defaults(ds) for ds in self.table.datasets},
            "device": self.device or "numpy",
            "pid": os.getpid(),
        }


def table_spec(spec: str | os.PathLike) -> str:
    """A spec normalised so that every caller names the same actor (absolute path)."""
    text = str(spec)
    if text in TABLES.names():
        return text
    path = Path(text).expanduser().resolve()
    if not path.is_file():
        raise TableError(f"table {text!r} not found; give a .parquet path or one of: "
                         f"{', '.join(TABLES.names())}")
    return str(path)


def actor_name(spec: str, node_id: str, run_id: str = "") -> str:
    """The per-node actor name of a table spec for one experiment (a file's size and mtime
    are part of it, so a rewritten table gets a fresh actor)."""
    ident = spec
    if spec not in TABLES.names() and os.path.exists(spec):
        stat = os.stat(spec)
        ident = f"{spec}|{stat.st_size}|{stat.st_mtime_ns}"
    digest = hashlib.sha1(ident.encode()).hexdigest()[:12]
    run = f"{run_id}-" if run_id else ""
    return f"{ACTOR_PREFIX}-{run}{digest}-{node_id[:16]}"


def _node_gpus(node_id: str) -> float:
    import ray

    for node in ray.nodes():
        if node.get("NodeID") == node_id and node.get("Alive", True):
            return float(node.get("Resources", {}).get("GPU", 0.0))
    return 0.0


def get_table_actor(
    spec: str | os.PathLike,
    use_gpu: str | bool = "auto",
    node_id: str | None = None,
    run_id: str = "",
):
    """Handle of the named ``BenchmarkTable`` actor serving ``spec`` on ``node_id`` (default:
    the caller's node) for experiment ``run_id``, created on first use and pinned to that node.

    The actor is detached, so it survives the trial that created it and every later trial of
    the experiment on the node finds it; ``ednag run`` releases its actors when it ends
    (:func:`release_table_actors`).

    ``use_gpu``: ``"auto"`` (a GPU if the node has one and torch can use it there, else
    numpy), ``True`` (require one) or ``False``.
    """
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    if use_gpu not in ("auto", True, False):
        raise ValueError(f"use_gpu must be 'auto', True or False, got {use_gpu!r}")
    spec = table_spec(spec)
    node_id = node_id or ray.get_runtime_context().get_node_id()
    gpus = _node_gpus(node_id)
    if use_gpu is True and gpus <= 0:
        raise ValueError(f"use_gpu=True but node {node_id[:16]} has no GPU in the Ray cluster")
    on_gpu = gpus > 0 and use_gpu in ("auto", True)
    remote = ray.remote(BenchmarkTable)
    return remote.options(
        name=actor_name(spec, node_id, run_id),
        namespace=NAMESPACE,
        get_if_exists=True,
        lifetime="detached",  # outlives the trial that happened to create it
        num_cpus=0,
        num_gpus=GPU_FRACTION if on_gpu else 0,
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
        max_concurrency=4,
    ).remote(spec, "cuda" if on_gpu else None, fallback=use_gpu == "auto")


def release_table_actors(run_id: str | None = None) -> int:
    """Kill the table actors of experiment ``run_id`` (every table actor for ``None``);
    returns how many were killed."""
    import ray

    prefix = f"{ACTOR_PREFIX}-{run_id}-" if run_id else f"{ACTOR_PREFIX}-"
    killed = 0
    for entry in ray.util.list_named_actors(all_namespaces=True):
        if entry["namespace"] == NAMESPACE and entry["name"].startswith(prefix):
            ray.kill(ray.get_actor(entry["name"], namespace=NAMESPACE))
            killed += 1
    return killed


def query_actor(
    actor,
    keys_or_rows: Sequence[str] | Sequence[int] | np.ndarray,
    dataset: str,
    metrics: Sequence[MetricRef],
) -> np.ndarray:
    """``ray.get(actor.query.remote(...))`` that re-raises a bad query as the actor's own
    :class:`TableError` (same message, no remote traceback around it)."""
    return _get(actor.query.remote(keys_or_rows, dataset, metrics))


def columns_actor(
    actor, dataset: str, metrics: Sequence[MetricRef]
) -> tuple[list[str], np.ndarray]:
    """``ray.get(actor.columns.remote(...))`` with a bad query re-raised as :class:`TableError`."""
    return _get(actor.columns.remote(dataset, metrics))


def _get(ref: Any) -> Any:
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as err:
        cause = getattr(err, "cause", None)
        if isinstance(cause, TableError):
            raise TableError(str(cause)) from None
        raise
