"""The table actor's device path: a benchmark table held as a torch tensor on a GPU against the
same table as a numpy matrix, in one process (the actor's body, without Ray).

Checks that both give the same values for a batch of random architectures and several metrics,
then times one lookup and a batch of 1,000 on each (median of ``--repeats``).

    python bench/table_device.py TABLE.parquet [--device cuda] [--repeats 200]

Ends with one line of ``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from trainables.table_actor import BenchmarkTable  # noqa: E402


def median_ms(call: Callable[[], object], repeats: int) -> float:
    """Median milliseconds of ``call()`` over ``repeats`` calls, after one warm-up call."""
    call()  # warm-up (first kernel launches, caches)
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return 1000.0 * statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("table")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    import torch

    host = BenchmarkTable(args.table)
    began = time.perf_counter()
    device = BenchmarkTable(args.table, device=args.device)
    load_s = time.perf_counter() - began
    card = (torch.cuda.get_device_name(0) if args.device.startswith("cuda") else args.device)
    dataset = host.table.datasets[0]
    defaults = host.table.defaults(dataset)
    metrics = [tuple(defaults[r]) for r in ("fitness", "reported", "time") if defaults.get(r)]
    keys = list(host.table.keys)
    rng = np.random.default_rng(0)
    batch = [keys[i] for i in rng.integers(0, len(keys), 1000)]
    same = np.array_equal(host.query(batch, dataset, metrics),
                          device.query(batch, dataset, metrics), equal_nan=True)
    one = [batch[0]]
    times = {f"{name}_{size}_ms": median_ms(lambda t=table, b=b: t.query(b, dataset, metrics),
                                            args.repeats)
             for name, table in (("numpy", host), ("device", device))
             for size, b in (("one", one), ("batch1000", batch))}
    print(f"{len(keys)} architectures, dataset {dataset}, metrics {metrics}, on {card}")
    print(f"same_values={int(same)} device_load_s={load_s:.3f} "
          + " ".join(f"{k}={v:.4f}" for k, v in times.items())
          + f" batch_vs_one_device={times['device_batch1000_ms'] / times['device_one_ms']:.2f}"
          + f" device={card.replace(' ', '_')}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
