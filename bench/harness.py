"""Cost per evaluation of the harness, measured in one run.

For each optimizer, on the same in-memory table (a synthetic NAS-Bench-201 table, or the real
one with ``--nb201 DIR``):

* ``plain``: a bare Python loop, ``suggest`` -> numpy lookup -> ``on_trial_complete``;
* ``sim``: the tabular simulator (:func:`trainables.tabular.simulate`: event queue, rows) with
  the same in-process lookup;
* ``tabular``: tabular-mode Tune trials (``BenchmarkTable`` actor, batched lookups, chunked
  reports, the Parquet writer) timed end to end from ``run_tabular``; the cost per evaluation
  is the marginal one, (T(Q) - T(Q/5)) / (4Q/5), so the fixed cost of starting a Tune trial
  (printed apart, per run) is not spread over the evaluations.

Then trial mode (one Tune trial per architecture) for random search. Ratios are against
``plain``; the target is tabular <= 2x plain for random search (for the other optimizers the
optimizer's own cost dominates). Ends with one ``key=value`` line.

    python bench/harness.py [--queries 500] [--trial-queries 40] (BENCH_OPTIMIZERS=random,ednag to pick) [--nb201 ../shared/benchmarks/nb201]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from ednag.spaces import make_space
from searchers.registry import make_searcher
from trainables.progress import RunProgress
from trainables.results_writer import ResultsWriter
from trainables.table import Table, make_meta
from trainables.tabular import RunSettings, run_tabular, simulate

OPTIMIZERS = tuple(os.environ.get("BENCH_OPTIMIZERS", "random,regularized_evolution,optuna_tpe,ednag").split(","))


def synthetic_table(path: Path) -> Path:
    space = make_space("nb201")
    archs = [space.to_native(c) for c in space.enumerate()]
    rng = np.random.default_rng(0)
    valid = rng.uniform(10, 90, len(archs))
    cols = {"cifar10/valid_acc@200": valid, "cifar10/test_acc@200": valid + 1.0,
            "cifar10/train_time_s@200": rng.uniform(1000, 3000, len(archs))}
    meta = make_meta("nb201", "nb201", ["cifar10"], {"cifar10": {
        "fitness": ("valid_acc", 200), "reported": ("test_acc", 200),
        "time": ("train_time_s", 200)}}, "synthetic bench table")
    Table(archs, [space.key(space.from_native(a)) for a in archs], cols, meta).save(path)
    return path


def settings(table: str, optimizer: str, queries: int, seed: int = 0) -> RunSettings:
    return RunSettings(benchmark="nb201", dataset="cifar10", table=table, optimizer=optimizer,
                       params={}, seed=seed, max_queries=queries, sim_seconds=None, workers=1,
                       fitness=("valid_acc", 200), reported=("test_acc", 200),
                       time=("train_time_s", 200), chunk_rows=10**6, chunk_seconds=1e9)


def plain_loop(table: Table, optimizer: str, queries: int) -> float:
    """Seconds per evaluation of suggest -> lookup -> on_trial_complete, nothing else."""
    space = make_space("nb201")
    searcher = make_searcher(optimizer, space, seed=0, max_queries=queries)
    col = table.column_index("cifar10", "valid_acc", 200)
    rows = {k: i for i, k in enumerate(table.keys)}
    start = time.perf_counter()
    n = 0
    while True:
        config = searcher.suggest(f"t{n}")
        if config is None or config == "FINISHED":
            break
        key = space.key(space.from_native(config["arch"]))
        searcher.on_trial_complete(f"t{n}", {"fitness": float(table.values[rows[key], col])})
        n += 1
    return (time.perf_counter() - start) / max(n, 1)


def sim_loop(table: Table, spec: str, optimizer: str, queries: int) -> float:
    space = make_space("nb201")
    searcher = make_searcher(optimizer, space, seed=0, max_queries=queries)
    s = settings(spec, optimizer, queries)

    def lookup(keys):
        return table.query_many(keys, "cifar10", s.metrics())

    start = time.perf_counter()
    n = sum(1 for _ in simulate(searcher, space, lookup, s))
    return (time.perf_counter() - start) / max(n, 1)


def tabular_trial(spec: str, optimizer: str, queries: int, out: Path) -> float:
    """One tabular-mode Tune trial, end to end (minus Ray start-up and actor creation)."""
    writer = ResultsWriter(out, {"bench": True})
    progress = RunProgress(queries, rich=False, log_every_s=1e9)
    progress._line = lambda text: None  # keep the bench output clean
    start = time.perf_counter()
    errors = run_tabular([settings(spec, optimizer, queries)], writer, progress,
                         out / "tune", num_cpus=1)
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(errors)
    return elapsed / queries


def trial_mode(spec: str, queries: int, out: Path) -> float:
    from trainables.trial_mode import run_trials

    writer = ResultsWriter(out, {"bench": True})
    progress = RunProgress(queries, rich=False, log_every_s=1e9)
    progress._line = lambda text: None
    start = time.perf_counter()
    errors = run_trials([settings(spec, "random", queries)], writer, progress, out / "tune",
                        num_cpus=1)
    if errors:
        raise RuntimeError(errors)
    return (time.perf_counter() - start) / queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--trial-queries", type=int, default=40)
    parser.add_argument("--nb201", default=None, help="the NAS-Bench-201 CSV folder")
    args = parser.parse_args()

    import ray

    from trainables.table_actor import get_table_actor

    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.pop("RAY_ADDRESS", None)
    with tempfile.TemporaryDirectory(prefix="ednag-bench-") as tmp:
        tmp = Path(tmp)
        if args.nb201:
            from trainables.importers import import_table

            import_table("nb201", args.nb201).save(tmp / "nb201.parquet")
            spec = str(tmp / "nb201.parquet")
        else:
            spec = str(synthetic_table(tmp / "nb201.parquet"))
        table = Table.load(spec)
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
                 configure_logging=False, namespace="ednag-bench")
        try:
            ray.get(get_table_actor(spec).describe.remote())  # actor start-up is not per eval
            tabular_trial(spec, "random", 20, tmp / "warm")  # warm up Tune's worker
            print(f"{'optimizer':<22} {'plain us':>9} {'sim us':>9} {'tabular us':>11} "
                  f"{'sim/plain':>10} {'tabular/plain':>14}")
            ratios = {}
            fixed = {}
            small = max(1, args.queries // 5)
            for optimizer in OPTIMIZERS:
                plain = plain_loop(table, optimizer, args.queries)
                sim = sim_loop(table, spec, optimizer, args.queries)
                t_big = tabular_trial(spec, optimizer, args.queries, tmp / optimizer) * args.queries
                t_small = tabular_trial(spec, optimizer, small, tmp / f"{optimizer}-s") * small
                tab = (t_big - t_small) / (args.queries - small)
                fixed[optimizer] = t_small - tab * small
                ratios[optimizer] = tab / plain
                print(f"{optimizer:<22} {plain * 1e6:>9.0f} {sim * 1e6:>9.0f} {tab * 1e6:>11.0f} "
                      f"{sim / plain:>10.2f} {tab / plain:>14.2f}")
            print("fixed cost per tabular run (Tune trial start, actor handle, first report): "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in fixed.items()))
            trial = trial_mode(spec, args.trial_queries, tmp / "trial")
            print(f"trial mode (random, {args.trial_queries} trials): {trial * 1e3:.1f} ms per "
                  f"evaluation = {trial / plain_loop(table, 'random', args.queries):.0f}x plain")
        finally:
            ray.shutdown()
    print(" ".join(
        [f"tabular_over_plain_{name}={ratio:.2f}" for name, ratio in ratios.items()]
        + [f"trial_ms_per_eval={trial * 1e3:.1f}", f"queries={args.queries}"]))


if __name__ == "__main__":
    main()
