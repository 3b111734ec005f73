"""Cost per evaluation of the harness against a plain Python loop, measured in one run.

For each optimizer, on the same in-memory table (a synthetic NAS-Bench-201 table, or the real
one with ``--nb201 DIR``), over the same ``Q`` evaluations:

* ``plain``: a bare Python loop, ``suggest`` -> dict lookup -> ``on_trial_complete``;
* ``sim``: the tabular simulator (:class:`ednag.experiment.simulator.Simulation`: event queue,
  rows) with the same in-process lookup;
* ``tabular``: a tabular-mode Tune trial (``BenchmarkTable`` actor, rows reported in
  checkpointed chunks, the Parquet writer on the driver): the seconds of its search loop, which
  the trial measures itself (``loop_s``), so Tune's fixed start-up cost per trial (printed
  apart) is neither spread over the evaluations nor subtracted from a noisy total.

``Q`` is large (10,000 evaluations; 1,000 for Optuna TPE, whose own cost grows with its
trials; 300 for the predictor-based optimizers, whose own tens of milliseconds per query
dominate) so each figure is seconds of work, not milliseconds. Every timing is repeated
``--repeats`` times and the fastest of each is kept (noise on a shared machine only ever adds
time): the ratio is fastest tabular / fastest plain, printed with the range of the pairwise
ratios (each repeat's tabular against the same repeat's plain loop) as its spread. The target
is tabular <= 2x plain. Then trial mode (one Tune trial per architecture) for random
search. Ends with one ``key=value`` line.

    python bench/harness.py [--queries 10000] [--tpe-queries 1000] [--repeats 3]
        [--trial-queries 40] [--nb201 ../shared/benchmarks/nb201]
    BENCH_OPTIMIZERS=random,ednag python bench/harness.py   # a subset of the optimizers
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

from ednag.experiment.progress import RunProgress
from ednag.experiment.settings import RunSettings
from ednag.experiment.simulator import Simulation, local_lookup
from ednag.registry import OPTIMIZERS, single_objective_optimizers
from ednag.results.writer import ResultsWriter
from ednag.spaces import make_space
from ednag.tables.synthetic import synthetic_nb201
from ednag.tables.table import Table
from searchers.factory import make_searcher
from trainables.run import ray_session
from trainables.tabular import run_tabular


def synthetic_table(path: Path) -> Path:
    synthetic_nb201().save(path)
    return path


def settings(table: str, optimizer: str, queries: int, seed: int = 0) -> RunSettings:
    entry = OPTIMIZERS.get(optimizer)
    return RunSettings(benchmark="nb201", dataset="cifar10", table=table, optimizer=optimizer,
                       params={}, seed=seed, max_queries=queries, sim_seconds=None, workers=1,
                       fitness=("valid_acc", 200), reported=("test_acc", 200),
                       time=("train_time_s", 200), space_ref="ednag.spaces.nb201:space_for",
                       optimizer_ref=str(entry.target), optimizer_kind=entry.kind,
                       chunk_rows=2000, chunk_seconds=2.0)


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
    keys, values = table.keys, table.values[:, table.column_indices("cifar10", s.metrics())]
    lookup = local_lookup(keys, values, "nb201")
    start = time.perf_counter()
    for _ in Simulation(searcher, space, lookup, s).run():
        pass
    return time.perf_counter() - start


def tabular_trial(spec: str, optimizer: str, queries: int, out: Path) -> tuple[float, float]:
    """(seconds of the trial's search loop, seconds of the whole ``run_tabular`` call) for one
    tabular-mode Tune trial of ``queries`` evaluations."""
    writer = ResultsWriter(out, {"bench": True})
    progress = RunProgress(queries, rich=False, log_every_s=1e9)
    progress._line = lambda text: None  # keep the bench output clean
    start = time.perf_counter()
    errors = run_tabular([settings(spec, optimizer, queries)], writer, progress,
                         out / "tune", num_cpus=1)
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(errors)
    return float(writer.done_summary(optimizer, 0)["loop_s"]), elapsed


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--tpe-queries", type=int, default=1_000,
                        help="queries for optuna_tpe (its own cost grows with the queries)")
    parser.add_argument("--slow-queries", type=int, default=300,
                        help="queries for the predictor-based optimizers (bananas, "
                             "ednag_guided: tens of ms of their own per query)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trial-queries", type=int, default=40)
    parser.add_argument("--nb201", default=None, help="the NAS-Bench-201 CSV folder")
    args = parser.parse_args()
    names = [n for n in os.environ.get("BENCH_OPTIMIZERS", ",".join(single_objective_optimizers())).split(",")
             if n]



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
        os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
        with ray_session({"num_cpus": 2}):
            tabular_trial(spec, "random", 20, tmp / "warm")  # warm up Tune and the actor
            print(f"{'optimizer':<22} {'queries':>7} {'plain us':>9} {'sim us':>9} "
                  f"{'tabular us':>11} {'tab/plain':>12} {'pairwise range':>15}")
            ratios: dict[str, float] = {}
            pairs: dict[str, list[float]] = {}
            fixed: dict[str, float] = {}
            for optimizer in names:
                q = {"optuna_tpe": args.tpe_queries, "bananas": args.slow_queries,
                     "ednag_guided": args.slow_queries}.get(optimizer, args.queries)
                plain, sim, tab = [], [], []
                for r in range(args.repeats):
                    plain.append(plain_loop(table, optimizer, q) / q)
                    sim.append(sim_loop(table, spec, optimizer, q) / q)
                    loop_s, total = tabular_trial(spec, optimizer, q, tmp / f"{optimizer}-{r}")
                    tab.append(loop_s / q)
                    fixed[optimizer] = min(fixed.get(optimizer, math.inf), total - loop_s)
                pairs[optimizer] = [t / p for t, p in zip(tab, plain, strict=True)]
                ratios[optimizer] = min(tab) / min(plain)
                print(f"{optimizer:<22} {q:>7} {min(plain) * 1e6:>9.1f} {min(sim) * 1e6:>9.1f} "
                      f"{min(tab) * 1e6:>11.1f} {ratios[optimizer]:>12.2f} "
                      f"{min(pairs[optimizer]):>8.2f}-{max(pairs[optimizer]):<6.2f}")
            print("fixed cost per tabular run (Tune trial start, table fetch, last report): "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in fixed.items()))
            trial = trial_mode(spec, args.trial_queries, tmp / "trial")
            plain_random = plain_loop(table, "random", args.queries) / args.queries
            print(f"trial mode (random, {args.trial_queries} trials): {trial * 1e3:.1f} ms per "
                  f"evaluation = {trial / plain_random:.0f}x plain")
    worst = max(ratios.values())
    print(" ".join(
        [f"tabular_over_plain_{name}={v:.2f}" for name, v in ratios.items()]
        + [f"tabular_over_plain_{name}_range={min(v):.2f}-{max(v):.2f}"
           for name, v in pairs.items()]
        + [f"trial_ms_per_eval={trial * 1e3:.1f}", f"queries={args.queries}",
           f"tpe_queries={args.tpe_queries}", f"slow_queries={args.slow_queries}",
           f"repeats={args.repeats}",
           f"target=2.0 ok={int(worst <= 2.0)}"]))


if __name__ == "__main__":
    main()
