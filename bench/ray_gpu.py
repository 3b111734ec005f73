"""The Ray path onto a GPU: the table actor placed on the node's GPU, and Tune trials that
train NB201 cells there, each asking for a share of the one device.

Three checks in one Ray session (``ray.init`` with every local CPU and GPU):

1. ``get_table_actor`` on a node with a GPU: the actor holds the table as a CUDA tensor, gives
   the same values as the numpy path for ``--lookups`` random architectures, and one remote
   lookup is timed against a numpy actor's (median of ``--repeats``, the same run).
2. ``ednag run`` in trial mode on the embedded NAS-Bench-Graph table (lookup trials read that
   actor): every run finishes with its queries in Parquet.
3. ``ednag run`` of ``configs/nb201-train-synthetic.yaml`` with ``resources: {cpu: 1, gpu:
   --gpu-share}``: the trials train on the GPU (``nvidia-smi`` lists their processes, several
   at once), under ASHA; rows land in Parquet. Then the same run with ``resources: {cpu: 1}``:
   no trial may touch the GPU (Ray leaves it visible to them), and the seconds per epoch on
   the CPU against the GPU, in this run.

    python bench/ray_gpu.py --out /tmp/ray-gpu [--seeds 1] [--gpu-share 0.25]

Ends with one line of ``key=value`` pairs; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's ednag, not another installed copy
    sys.path.insert(0, str(ROOT))

from table_device import median_ms  # noqa: E402 - this folder: the same timing loop

TABLE = "nas-bench-graph"


def check_actor(lookups: int, repeats: int) -> dict[str, object]:
    """The table actor on the GPU against a numpy actor and the in-process table."""
    import ray

    from trainables.table_actor import (
        BenchmarkTable,
        get_table_actor,
        query_actor,
        release_table_actors,
    )

    local = BenchmarkTable(TABLE)
    dataset = local.table.datasets[0]
    metrics = [local.table.defaults(dataset)["fitness"], local.table.defaults(dataset)["reported"]]
    rng = np.random.default_rng(0)
    keys = [local.table.keys[i] for i in rng.integers(len(local.table), size=lookups)]
    expected = local.query(keys, dataset, metrics)
    gpu = get_table_actor(TABLE, use_gpu=True, run_id="gpu")
    cpu = get_table_actor(TABLE, use_gpu=False, run_id="cpu")
    described = ray.get(gpu.describe.remote())
    same = bool(np.array_equal(query_actor(gpu, keys, dataset, metrics), expected,
                               equal_nan=True))
    one = keys[:1]
    out = {
        "actor_device": described["device"],
        "actor_same_values": same,
        "actor_gpu_one_ms": median_ms(lambda: query_actor(gpu, one, dataset, metrics), repeats),
        "actor_numpy_one_ms": median_ms(lambda: query_actor(cpu, one, dataset, metrics), repeats),
        "actor_gpu_batch_ms": median_ms(lambda: query_actor(gpu, keys, dataset, metrics),
                                        repeats),
        "actor_numpy_batch_ms": median_ms(lambda: query_actor(cpu, keys, dataset, metrics),
                                          repeats),
    }
    release_table_actors("gpu")
    release_table_actors("cpu")
    return out


def queries(out_dir: Path) -> int:
    """Rows of the run that are queries (not repeats), over every optimizer and seed."""
    import pandas as pd

    files = list((out_dir / "results").rglob("*.parquet"))
    return sum(int((~pd.read_parquet(f)["repeat"]).sum()) for f in files)


def _gpu_pids() -> set[str]:
    """The processes ``nvidia-smi`` lists on the GPU (empty where it cannot say)."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {line.strip() for line in out.splitlines() if line.strip().isdigit()}


class GpuProcesses:
    """Polls ``nvidia-smi`` in a thread: the processes that appear on the GPU while it runs
    (the trials' workers; not this one, nor those already there), in all and at most at once."""

    def __init__(self, period_s: float = 0.5) -> None:
        self.period_s = period_s
        self.seen: set[str] = set()
        self.most = 0
        self._before = _gpu_pids() | {str(os.getpid())}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            pids = _gpu_pids() - self._before
            self.seen |= pids
            self.most = max(self.most, len(pids))
            self._stop.wait(self.period_s)

    def __enter__(self) -> GpuProcesses:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def epoch_seconds(out_dir: Path) -> float:
    """Median over the run's trials of a trial's training seconds per epoch
    (``metric.train_time_s`` over ``metric.epochs``; NaN when no trial trained)."""
    import pandas as pd

    if not list((out_dir / "results").rglob("*.parquet")):
        return math.nan
    rows = pd.read_parquet(out_dir / "results")
    rows = rows[(rows["status"] == "ok") & ~rows["repeat"]]
    return float((rows["metric.train_time_s"] / rows["metric.epochs"]).median())


def checks(args: argparse.Namespace, card: str, run_experiment: Callable[..., Any]
           ) -> dict[str, Any]:
    """The three checks in the running Ray session; their figures by name."""
    import ray
    import torch

    figures: dict[str, Any] = {"card": card.replace(" ", "_").replace(",_", ",driver_"),
                               "torch": torch.__version__, "ray": ray.__version__,
                               "ray_gpus": ray.cluster_resources().get("GPU", 0)}
    if figures["ray_gpus"] < 1:
        raise SystemExit(f"Ray sees no GPU on this node ({ray.cluster_resources()})")
    figures.update(check_actor(args.lookups, args.repeats))

    # the embedded NAS-Bench-Graph table read by lookup trials: 2 optimizers x 30 queries
    lookup_out = args.out / "lookup"
    began = time.perf_counter()
    _, errors = run_experiment(ROOT / "configs" / "trial-mode-example.yaml",
                               [f"seeds={args.seeds}"], out=lookup_out, summary=False)
    figures.update(lookup_s=round(time.perf_counter() - began, 1),
                   lookup_errors=len(errors), lookup_queries=queries(lookup_out))

    # 3 optimizers x 12 cells trained on GPU shares, then the same on one core each
    config = ROOT / "configs" / "nb201-train-synthetic.yaml"
    workers = max(1, int(round(1 / args.gpu_share)))
    overrides = [f"seeds={args.seeds}", f"workers={workers}"]
    for label, resources in (("train", f"{{cpu: 1, gpu: {args.gpu_share}}}"),
                             ("cpu_train", "{cpu: 1}")):
        out = args.out / label
        began = time.perf_counter()
        with GpuProcesses() as gpu:
            _, errors = run_experiment(config, [*overrides, f"resources={resources}"], out=out,
                                       summary=False)
        figures.update({f"{label}_s": round(time.perf_counter() - began, 1),
                        f"{label}_errors": len(errors), f"{label}_queries": queries(out),
                        f"{label}_epoch_s": epoch_seconds(out)})
        if label == "train":
            figures.update(train_workers=workers, gpu_processes=len(gpu.seen),
                           gpu_processes_at_once=gpu.most)
        else:
            figures["cpu_run_gpu_processes"] = len(gpu.seen)
    figures["epoch_cpu_over_gpu"] = figures["cpu_train_epoch_s"] / figures["train_epoch_s"]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--gpu-share", type=float, default=0.25)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=100)
    args = parser.parse_args(argv)
    if not 0 < args.gpu_share <= 1:
        parser.error(f"--gpu-share must lie in (0, 1], got {args.gpu_share}")
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"--out {args.out} is not empty: give a new folder")
    import ray
    import torch

    from trainables.run import run_experiment

    if not torch.cuda.is_available():
        print("no CUDA device here: nothing to check", file=sys.stderr)
        return 1
    card = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version",
                           "--format=csv,noheader"],
                          capture_output=True, text=True).stdout.strip().splitlines()[0]
    ray.init(address="local", include_dashboard=False, log_to_driver=False, namespace="ednag")
    try:
        figures = checks(args, card, run_experiment)
    finally:
        ray.shutdown()
    ok = (figures["ray_gpus"] >= 1 and figures["actor_device"] == "cuda"
          and figures["actor_same_values"]
          and not figures["lookup_errors"] and figures["lookup_queries"] == 60 * args.seeds
          and not figures["train_errors"] and figures["train_queries"] == 36 * args.seeds
          and not figures["cpu_train_errors"] and figures["cpu_train_queries"] == 36 * args.seeds
          and figures["gpu_processes"] > 0 and figures["gpu_processes_at_once"] > 1
          and figures["cpu_run_gpu_processes"] == 0
          and math.isfinite(figures["epoch_cpu_over_gpu"]))
    figures["ok"] = ok
    print(" ".join(f"{k}={round(v, 3) if isinstance(v, float) else v}"
                   for k, v in figures.items()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
