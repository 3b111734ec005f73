"""Cost per evaluation of the harness, measured in one run.

For each optimizer, on the same in-memory table (a synthetic NAS-Bench-201 table, or the real
one with ``--nb201 DIR``):

* ``plain``: a bare Python loop, ``suggest`` -> numpy lookup -> ``on_trial_complete``;
* ``sim``: the tabular simulator (:func:`trainables.tabular.simulate`: event queue, rows) with
  the same in-process lookup;
* ``tabular``: tabular-mode Tune trials (``BenchmarkTable`` actor, batched lookups, chunked
  reports, the Parquet writer) timed end to end from ``run_tabular``.

Every figure is a marginal cost per evaluation, (T(Q) - T(Q/5)) / (4Q/5), the fastest of
``--repeats`` runs at each size: the fixed cost of starting a Tune trial (printed apart, per run)
is not spread over the evaluations, and all three are compared on the same queries (an
optimizer's own cost per query grows with the queries it has seen). Then trial mode (one Tune
trial per architecture) for random search. Ratios are against ``plain``; the target is tabular
<= 2x plain for random search (for the other optimizers the optimizer's own cost dominates).
Ends with one ``key=value`` line.

    python bench/harness.py [--queries 2000] [--tpe-queries 400] [--repeats 3]
        [--trial-queries 40] [--nb201 ../shared/benchmarks/nb201]
    BENCH_OPTIMIZERS=random,ednag python bench/harness.py   # a subset of the optimizers
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ednag.experiment.progress import RunProgress
from ednag.results.writer import ResultsWriter
from ednag.spaces import make_space
from ednag.tables.table import Table, make_meta
from searchers.factory import make_searcher
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
                       time=("train_time_s", 200), chunk_rows=2000, chunk_seconds=2.0)


def plain_loop(table: Table, optimizer: str, queries: int) -> float:
    """Seconds for ``queries`` rounds of suggest -> lookup -> on_trial_complete, nothing else."""
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
    return time.perf_counter() - start


def sim_loop(table: Table, spec: str, optimizer: str, queries: int) -> float:
    """Seconds for one simulated run of ``queries`` evaluations (rows built, not written)."""
    space = make_space("nb201")
    searcher = make_searcher(optimizer, space, seed=0, max_queries=queries)
    s = settings(spec, optimizer, queries)

    def lookup(keys):
        return table.query_many(keys, "cifar10", s.metrics())

    start = time.perf_counter()
    for _ in simulate(searcher, space, lookup, s):
        pass
    return time.perf_counter() - start


def tabular_trial(spec: str, optimizer: str, queries: int, out: Path) -> float:
    """Seconds for one tabular-mode Tune trial, end to end (minus Ray start-up and actor
    creation): rows reported in chunks of 2000 and written as Parquet parts."""
    writer = ResultsWriter(out, {"bench": True})
    progress = RunProgress(queries, rich=False, log_every_s=1e9)
    progress._line = lambda text: None  # keep the bench output clean
    start = time.perf_counter()
    errors = run_tabular([settings(spec, optimizer, queries)], writer, progress,
                         out / "tune", num_cpus=1)
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(errors)
    return elapsed


def trial_mode(spec: str, queries: int, out: Path) -> float:
    """Seconds per evaluation in trial mode (one Tune trial per architecture)."""
    from trainables.trial_runner import run_trials

    writer = ResultsWriter(out, {"bench": True})
    progress = RunProgress(queries, rich=False, log_every_s=1e9)
    progress._line = lambda text: None
    start = time.perf_counter()
    errors = run_trials([settings(spec, "random", queries)], writer, progress, out / "tune",
                        num_cpus=1)
    if errors:
        raise RuntimeError(errors)
    return (time.perf_counter() - start) / queries


def marginal(run: Callable[[int, int], float], queries: int, repeats: int) -> tuple[float, float]:
    """(seconds per evaluation between Q/5 and Q queries, fixed seconds per run): from the
    fastest of ``repeats`` timings ``run(q, repeat)`` at each size."""
    small = max(1, queries // 5)
    t_big = min(run(queries, r) for r in range(repeats))
    t_small = min(run(small, r) for r in range(repeats))
    per_eval = (t_big - t_small) / (queries - small)
    return per_eval, t_small - per_eval * small


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--tpe-queries", type=int, default=400,
                        help="queries for optuna_tpe (its own cost grows with the queries)")
    parser.add_argument("--repeats", type=int, default=3)
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
            from ednag.tables import import_table

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
            print(f"{'optimizer':<22} {'queries':>7} {'plain us':>9} {'sim us':>9} "
                  f"{'tabular us':>11} {'sim/plain':>10} {'tabular/plain':>14}")
            ratios = {}
            fixed = {}
            for optimizer in OPTIMIZERS:
                q = args.tpe_queries if optimizer == "optuna_tpe" else args.queries
                plain, _ = marginal(lambda n, r, o=optimizer: plain_loop(table, o, n), q,
                                    args.repeats)
                sim, _ = marginal(lambda n, r, o=optimizer: sim_loop(table, spec, o, n), q,
                                  args.repeats)
                tab, fixed[optimizer] = marginal(
                    lambda n, r, o=optimizer: tabular_trial(spec, o, n, tmp / f"{o}-{n}-{r}"),
                    q, args.repeats)
                ratios[optimizer] = tab / plain
                print(f"{optimizer:<22} {q:>7} {plain * 1e6:>9.0f} {sim * 1e6:>9.0f} "
                      f"{tab * 1e6:>11.0f} {sim / plain:>10.2f} {tab / plain:>14.2f}")
            print("fixed cost per tabular run (Tune trial start, actor handle, first report): "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in fixed.items()))
            trial = trial_mode(spec, args.trial_queries, tmp / "trial")
            plain_random = plain_loop(table, "random", args.queries) / args.queries
            print(f"trial mode (random, {args.trial_queries} trials): {trial * 1e3:.1f} ms per "
                  f"evaluation = {trial / plain_random:.0f}x plain")
        finally:
            ray.shutdown()
    print(" ".join(
        [f"tabular_over_plain_{name}={ratio:.2f}" for name, ratio in ratios.items()]
        + [f"trial_ms_per_eval={trial * 1e3:.1f}", f"queries={args.queries}",
           f"tpe_queries={args.tpe_queries}", f"repeats={args.repeats}"]))


if __name__ == "__main__":
    main()
