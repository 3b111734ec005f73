"""Speed of the analysis on a large synthetic result dataset.

Writes 10 seeds x 5 optimizers x 20,000 evaluations (1 million rows, one Parquet file per
run, hive-partitioned by optimizer) to a temporary folder, then times

* ``read``: plain ``pandas.read_parquet`` of the same files (the floor),
* ``load``: ``analysis.load.load_results`` (checks, categoricals, sorting),
* ``tables+curves``: budget tables, pairwise tests and both anytime curves,
* ``diagnostics``: per-generation statistics of the population rows (reported apart).

Run: ``python bench/analysis_speed.py [--evals 20000] [--seeds 10] [--optimizers 5]``.
The last line is ``key=value`` pairs; the target is ``analysis_s`` (load + tables + curves)
under 5 s on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

# this file's name shadows the ``analysis`` package when run as a script: drop its folder
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]


def main() -> None:
    import pandas as pd

    from analysis.budget_tables import budget_table, budget_tests, per_seed_values, run_summary
    from analysis.curves import anytime_curves, incumbent_trace
    from analysis.diagnostics import generation_stats
    from analysis.load import load_results
    from analysis.optimum import resolve_optimum
    from analysis.synthetic import random_rows, write_results

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evals", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--optimizers", type=int, default=5)
    args = parser.parse_args()

    frame = random_rows(args.optimizers, args.seeds, args.evals, with_generation=(0, 1))
    rows = len(frame)
    with tempfile.TemporaryDirectory() as tmp:
        write_results(frame, tmp, {"reported": "test_accuracy"})
        del frame
        files = sorted(Path(tmp).rglob("*.parquet"))

        t0 = time.perf_counter()
        plain = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        read_s = time.perf_counter() - t0
        del plain

        t0 = time.perf_counter()
        results = load_results(tmp)
        load_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        optimum = resolve_optimum(results)
        budgets = [50, 100, 200, 500, 1000]
        run_summary(results)
        trace = incumbent_trace(results, optimum, "queries")
        per_seed = per_seed_values(results, optimum, budgets, trace)
        table = budget_table(per_seed)
        budget_tests(per_seed)
        curves_q = anytime_curves(results, optimum, "queries", trace=trace)
        curves_t = anytime_curves(results, optimum, "time")
        compute_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        generations = generation_stats(results)
        diag_s = time.perf_counter() - t0

    analysis_s = load_s + compute_s
    print(table.head(args.optimizers).to_string(index=False))
    print(f"rows={rows} files={len(files)} curve points={len(curves_q)}+{len(curves_t)} "
          f"generation rows={len(generations)}")
    print(f"plain pandas.read_parquet: {read_s:.2f} s")
    print(f"load_results:              {load_s:.2f} s ({load_s / read_s:.1f}x plain read)")
    print(f"tables + tests + curves:   {compute_s:.2f} s")
    print(f"diagnostics (2 population optimizers): {diag_s:.2f} s")
    print(f"rows={rows} read_s={read_s:.3f} load_s={load_s:.3f} compute_s={compute_s:.3f} "
          f"analysis_s={analysis_s:.3f} diagnostics_s={diag_s:.3f} "
          f"analysis_over_read={analysis_s / read_s:.2f} target_s=5 "
          f"ok={int(analysis_s < 5.0)}")


if __name__ == "__main__":
    main()
