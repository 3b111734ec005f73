"""Benchmark tables: load time and lookup latency, measured in one run.

    python bench/table_loading.py [--shared ../shared/benchmarks/nb201] [--repeats 50]

Measures (NB201, from the shared CSVs):
- load of our Parquet table vs reading the four source CSVs with pandas, and vs building the
  table from them (target: < 50 ms);
- one lookup and a 1,000-architecture lookup through the BenchmarkTable actor vs the same
  lookups on an in-process numpy array (target: a batch of 1,000 within 3x a single lookup).
Ends with one ``key=value`` line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ednag.tables.importers.nb201_csv import FILES, import_nb201_csv  # noqa: E402
from ednag.tables.table import Table  # noqa: E402


def timed(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "benchmarks" / "nb201"))
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    shared = Path(args.shared)
    if not (shared / "valid200_perseed.csv").is_file():
        print(f"bench/table_loading.py needs the NAS-Bench-201 CSVs at {shared} "
              "(../shared/benchmarks/nb201); pass --shared", file=sys.stderr)
        return 2

    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        path = import_nb201_csv(shared).save(Path(tmp) / "nb201.parquet")
        table = Table.load(path)  # warm the file cache and imports
        load_parquet = timed(lambda: Table.load(path), args.repeats)
        load_csv = timed(lambda: [pd.read_csv(shared / name) for name in FILES], 5)
        import_csv = timed(lambda: import_nb201_csv(shared), 3)
        size_mb = os.path.getsize(path) / 1e6

        rng = np.random.default_rng(0)
        batch = [table.keys[i] for i in rng.choice(len(table), 1000, replace=False)]
        single = [batch[0]]
        metrics = [("valid_acc", 200), ("test_acc", 200), ("train_time_s", 200)]
        local_single = timed(lambda: table.query_many(single, "cifar10", metrics), 200)
        local_batch = timed(lambda: table.query_many(batch, "cifar10", metrics), 200)

        from tests.conftest import ray_test_env  # loopback-only Ray, as in the tests

        ray_test_env()
        import ray

        from trainables.table_actor import get_table_actor

        ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        try:
            start = time.perf_counter()
            actor = get_table_actor(str(path), use_gpu="auto")
            ray.get(actor.describe.remote())
            actor_start = time.perf_counter() - start
            for _ in range(20):  # warm-up
                ray.get(actor.query.remote(batch, "cifar10", metrics))
            actor_single = timed(
                lambda: ray.get(actor.query.remote(single, "cifar10", metrics)), args.repeats * 4)
            actor_batch = timed(
                lambda: ray.get(actor.query.remote(batch, "cifar10", metrics)), args.repeats * 4)
            got = ray.get(actor.query.remote(batch, "cifar10", metrics))
            assert np.array_equal(got, table.query_many(batch, "cifar10", metrics), equal_nan=True)
        finally:
            ray.shutdown()

    ms = 1e3
    print(f"table: {len(table)} archs x {len(table.column_names)} columns, {size_mb:.1f} MB")
    print(f"load parquet      {load_parquet * ms:8.2f} ms   (target < 50 ms)")
    print(f"read source CSVs  {load_csv * ms:8.2f} ms   ratio {load_csv / load_parquet:.1f}x")
    print(f"import from CSVs  {import_csv * ms:8.2f} ms   ratio {import_csv / load_parquet:.1f}x")
    print(f"actor start       {actor_start * ms:8.2f} ms")
    print(f"lookup 1 local    {local_single * 1e6:8.1f} us")
    print(f"lookup 1000 local {local_batch * 1e6:8.1f} us")
    print(f"lookup 1 actor    {actor_single * 1e6:8.1f} us")
    print(f"lookup 1000 actor {actor_batch * 1e6:8.1f} us   "
          f"batch/single {actor_batch / actor_single:.2f}x (target <= 3x)")
    print(
        f"load_parquet_ms={load_parquet * ms:.2f} load_csv_ms={load_csv * ms:.1f} "
        f"csv_over_parquet={load_csv / load_parquet:.1f} "
        f"import_over_parquet={import_csv / load_parquet:.1f} "
        f"local_single_us={local_single * 1e6:.1f} local_batch1000_us={local_batch * 1e6:.1f} "
        f"actor_single_us={actor_single * 1e6:.1f} actor_batch1000_us={actor_batch * 1e6:.1f} "
        f"actor_batch_over_single={actor_batch / actor_single:.2f} "
        f"actor_single_over_local={actor_single / local_single:.0f} "
        f"load_ok={int(load_parquet < 0.05)} batch_ok={int(actor_batch <= 3 * actor_single)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
