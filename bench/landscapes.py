"""Every registered optimizer on TransNAS-Bench-101 (micro and macro, seven tasks each), on
NAS-Bench-Macro and on NAS-Bench-Graph (arxiv, cora, photo), at a fixed budget of distinct
queries.

Protocol: in-process, no Ray: each optimizer's searcher (``searchers.factory.make_searcher``)
replays the table through ``ednag.experiment.simulator.simulate`` (one worker), with the
table's default fitness and reported metrics; the score of a run is the reported value of the
best-by-fitness architecture among its first ``--queries`` distinct queries (TransNAS: the final
validation metric is both; NAS-Bench-Macro: fitness = training 0's test accuracy, reported =
the mean of trainings 1 and 2). The same seeds 0..N-1 for every optimizer; mean ± standard
error over seeds (``--first-seed`` moves them, for screening on seeds the README's tables
never used; optimizers may be variants ``name[key=value;...]`` as in
``bench/sample_efficiency.py``); "table best" = the best reported value in the table, "best-by-fitness" =
the reported value of the table's best-by-fitness architecture; (x%) = the share of seeds
whose pick is a best-by-fitness architecture; "[k runs short]" = k runs ended before the budget
(a searcher that stops early is scored on the queries it made).

    nice python -m bench.landscapes [--seeds 10] [--first-seed 0] [--queries 100]
        [--only transnas_micro,...] [--tasks normal,...]
        [--optimizers 'ednag,ednag[arch_mutation_rate=0.7]']
        [--against regularized_evolution] [--json runs.json]

(run from the repository root: ``-m`` imports this checkout's packages).

Prints one Markdown table and ends with one line of ``key=value`` pairs
(``<benchmark>_<task>_<optimizer>_mean_<queries>=...`` for the reported value and
``..._fitness_<queries>=...`` for the fitness of the same pick). ``--against NAME`` adds a
table of every other optimizer's paired difference from ``NAME`` (the same seeds), with the
seeds better / worse; ``--json F`` keeps every seed's pick (rewritten after each task, so a
killed run keeps the tasks it finished).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ednag.atomic import atomic_write_text
from ednag.experiment.settings import RunSettings
from ednag.experiment.simulator import simulate
from ednag.registry import BENCHMARKS, OPTIMIZERS, single_objective_optimizers
from ednag.spaces import make_space
from ednag.tables import Table, import_table
from ednag.tables.importers.transnas import TASK_METRICS
from searchers.factory import make_searcher

sys.path.insert(0, str(Path(__file__).resolve().parent))  # this folder: the variant syntax
from sample_efficiency import parse_variant, sem  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
#: benchmark -> (folder under the shared benchmarks, or None: the tables inside the installed
#: ``nas-bench-graph`` wheel; datasets)
LANDSCAPES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "transnas_micro": ("transnas-bench-101", tuple(TASK_METRICS)),
    "transnas_macro": ("transnas-bench-101", tuple(TASK_METRICS)),
    "nasbench_macro": ("nas-bench-macro", ("cifar10",)),
    "nasbench_graph": (None, ("arxiv", "cora", "photo")),
}


def run_settings(table: Table, benchmark: str, dataset: str, optimizer: str, seed: int,
                 queries: int, params: dict | None = None) -> RunSettings:
    """The settings of one simulated run with the table's default metrics."""
    defaults = table.defaults(dataset)
    return RunSettings(
        benchmark=benchmark, dataset=dataset, table="-", optimizer=optimizer,
        params=dict(params or {}),
        seed=seed, max_queries=queries, sim_seconds=None, workers=1,
        fitness=defaults["fitness"], reported=defaults["reported"], time=defaults["time"],
        space_ref=str(BENCHMARKS.get(benchmark).space),
    )


def run_once(table: Table, benchmark: str, dataset: str, name: str, seed: int,
             queries: int, params: dict | None = None) -> list[tuple[str, float, float]]:
    """(arch key, fitness, reported) of each distinct query of one run of registered
    optimizer ``name`` with ``params``, in order."""
    params = dict(params or {})
    settings = run_settings(table, benchmark, dataset, name, seed, queries, params)
    space = make_space(benchmark, dataset)
    searcher = make_searcher(name, space, seed=seed, max_queries=queries, **params)
    cols = table.column_indices(dataset, settings.metrics())
    index = {key: i for i, key in enumerate(table.keys)}
    values = table.values[:, cols].tolist()

    def lookup(keys: list[str]) -> list[list[float]]:
        return [values[index[k]] for k in keys]

    return [(row["arch_key"], row["fitness"], row["reported"])
            for row in simulate(searcher, space, lookup, settings) if not row["repeat"]]


def score(trace: list[tuple[str, float, float]], queries: int) -> tuple[float, float]:
    """(reported value, fitness) of the best-by-fitness architecture among the first
    ``queries`` distinct queries (the earliest on ties)."""
    head = trace[:queries]
    best = max(range(len(head)), key=lambda i: (head[i][1], -i))
    return head[best][2], head[best][1]


def _fmt(value: float, scale: float) -> str:
    return f"{value:.4f}" if abs(scale) < 2 else f"{value:.2f}"


def paired(values: Sequence[float], base: Sequence[float]) -> tuple[float, float, int, int]:
    """Mean and standard error of ``values - base`` (seed by seed), and the seeds where it is
    above / below zero."""
    diff = np.asarray(values, dtype=np.float64) - np.asarray(base, dtype=np.float64)
    return float(diff.mean()), sem(diff), int(np.sum(diff > 0)), int(np.sum(diff < 0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per optimizer (0..n-1)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first..first+n-1 (screening on seeds the tables never used)")
    parser.add_argument("--queries", type=int, default=100, help="distinct queries per run")
    parser.add_argument("--data", type=Path, default=SHARED,
                        help="the shared benchmarks folder (holds transnas-bench-101/ and "
                             "nas-bench-macro/)")
    parser.add_argument("--only", default=",".join(LANDSCAPES),
                        help=f"comma-separated benchmarks among {', '.join(LANDSCAPES)}")
    parser.add_argument("--tasks", default="",
                        help="comma-separated tasks (datasets) of those benchmarks to run "
                             "(default: all of them)")
    parser.add_argument("--optimizers", default=",".join(single_objective_optimizers()),
                        help="comma-separated registered optimizers or variants "
                             "name[key=value;...]")
    parser.add_argument("--against", default="",
                        help="one of --optimizers: also print every other optimizer's paired "
                             "difference from it")
    parser.add_argument("--json", type=Path, default=None,
                        help="write every seed's reported value and fitness to this file")
    args = parser.parse_args(argv)
    benchmarks = [b for b in args.only.split(",") if b]
    optimizers = [o for o in args.optimizers.split(",") if o]
    unknown = [b for b in benchmarks if b not in LANDSCAPES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; allowed: {', '.join(LANDSCAPES)}")
    allowed_tasks = list(dict.fromkeys(t for b in benchmarks for t in LANDSCAPES[b][1]))
    tasks = [t for t in args.tasks.split(",") if t] or allowed_tasks
    unknown = [t for t in tasks if t not in allowed_tasks]
    if unknown:
        parser.error(f"unknown task(s) {', '.join(unknown)} for {', '.join(benchmarks)}; "
                     f"allowed: {', '.join(allowed_tasks)}")
    bad = [o for o in optimizers if o.partition("[")[0] not in OPTIMIZERS.names()]
    if bad:
        parser.error(f"unknown optimizer(s) {', '.join(bad)}; allowed: "
                     f"{', '.join(OPTIMIZERS.names())}")
    try:  # every variant parsed once, before any table is loaded
        variants = {spec: parse_variant(spec) for spec in optimizers}
    except ValueError as err:
        parser.error(str(err))
    if args.seeds < 1 or args.queries < 1:
        parser.error("--seeds and --queries must be positive")
    if args.against and args.against not in optimizers:
        parser.error(f"--against {args.against!r} is not among --optimizers; allowed: "
                     f"{', '.join(optimizers)}")
    if args.against and len(optimizers) < 2:
        parser.error(f"--against {args.against!r} needs another optimizer in --optimizers")

    start = time.perf_counter()
    pairs: list[str] = []
    seconds = {name: 0.0 for name in optimizers}
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    per_seed: dict[str, dict[str, dict[str, dict[str, list[float]]]]] = {}
    against: list[str] = []
    print(f"{args.queries} distinct queries, seeds {seeds[0]}-{seeds[-1]}; mean ± s.e. of the "
          "reported value of the best-by-fitness architecture; (x%) = share of seeds whose "
          "pick is a best-by-fitness architecture; [k runs short] = runs that stopped before "
          "the budget\n")
    print("| benchmark | task | reported | table best | best-by-fitness | "
          + " | ".join(optimizers) + " |")
    print("|---|---|---|---|---|" + "---|" * len(optimizers))
    for benchmark in benchmarks:
        folder, datasets = LANDSCAPES[benchmark]
        datasets = tuple(d for d in datasets if d in tasks)
        if not datasets:
            continue
        table = import_table(benchmark, None if folder is None else args.data / folder)
        for dataset in datasets:
            reported = table.defaults(dataset)["reported"]
            fitness = table.defaults(dataset)["fitness"]
            fit_col = table.column(dataset, *fitness)
            rep_col = table.column(dataset, *reported)
            best_fit = float(np.max(fit_col))
            best_rep = float(np.max(rep_col))
            oracle = float(rep_col[int(np.argmax(fit_col))])
            cells = []
            for name in optimizers:
                registered, params = variants[name]
                t0 = time.perf_counter()
                traces = [run_once(table, benchmark, dataset, registered, seed, args.queries,
                                   params)
                          for seed in seeds]
                seconds[name] += time.perf_counter() - t0
                runs = [score(trace, args.queries) for trace in traces]
                spent = np.array([min(len(trace), args.queries) for trace in traces])
                values = np.array([r for r, _ in runs])
                per_seed.setdefault(benchmark, {}).setdefault(dataset, {})[name] = {
                    "seeds": list(seeds), "reported": values.tolist(),
                    "fitness": [f for _, f in runs]}
                hit = np.mean([f >= best_fit for _, f in runs])
                short = "" if spent.min() == args.queries else (
                    f" [{np.sum(spent < args.queries)} runs short, mean {spent.mean():.0f} q]")
                cells.append(f"{_fmt(values.mean(), best_rep)} ± {_fmt(sem(values), best_rep)} "
                             f"({hit:.0%}){short}")
                pairs.append(f"{benchmark}_{dataset}_{name}_mean_{args.queries}="
                             f"{values.mean():.6g}")
                pairs.append(f"{benchmark}_{dataset}_{name}_fitness_{args.queries}="
                             f"{np.mean([f for _, f in runs]):.6g}")
            print(f"| {benchmark} | {dataset} | {reported[0]} | {_fmt(best_rep, best_rep)} | "
                  f"{_fmt(oracle, best_rep)} | "
                  + " | ".join(cells) + " |", flush=True)
            if args.against:
                task = per_seed[benchmark][dataset]
                diffs = [paired(task[n]["reported"], task[args.against]["reported"])
                         for n in optimizers if n != args.against]
                digits = 4 if abs(best_rep) < 2 else 3  # a difference: one digit more
                against.append(f"| {benchmark} | {dataset} | " + " | ".join(
                    f"{m:+.{digits}f} ± {se:.{digits}f} ({up}/{down})"
                    for m, se, up, down in diffs) + " |")
            if args.json is not None:
                atomic_write_text(args.json, json.dumps(
                    {"queries": args.queries, "runs": per_seed}))
    if against:
        others = [n for n in optimizers if n != args.against]
        print(f"\nminus {args.against}, seed by seed: mean ± s.e. (seeds above / below)\n")
        print("| benchmark | task | " + " | ".join(others) + " |")
        print("|---|---|" + "---|" * len(others))
        print("\n".join(against))
    print()
    timing = " ".join(f"{name}_seconds={s:.1f}" for name, s in seconds.items())
    print(" ".join(pairs) + f" seeds={args.seeds} queries={args.queries} {timing} "
          f"total_seconds={time.perf_counter() - start:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
