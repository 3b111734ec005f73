"""Sample efficiency of every registered optimizer on NAS-Bench-201, at small query budgets.

Protocol (as ``bench/ednag_nb201.py``): fitness = 200-epoch validation accuracy (cifar10:
cifar10-valid; cifar100: x-valid); reported = 200-epoch test accuracy of the best-by-fitness
architecture among the first B distinct queries, mean ± standard error over seeds 0..n-1;
"optimum" = the share of seeds whose pick is the table's best-by-validation architecture.
Each (optimizer, seed) runs once with the largest budget and is scored on its prefixes (every
optimizer here asks the same architectures in the same order whatever its budget; a budget only
cuts the last batch).

Every name in :data:`ednag.registry.OPTIMIZERS` runs with its default parameters: ask/tell
optimizers in a plain ask/tell loop; ``searcher`` entries (Optuna TPE) through
:func:`searchers.factory.make_searcher` driven by the tabular simulator
(:func:`ednag.experiment.simulator.simulate`, one worker), repeats excluded. "ms/query" is the
optimizer's own time (ask + tell; for searchers the whole simulated loop, lookups included)
per distinct query at the largest budget, on one BLAS thread (as in a Ray worker).

    PYTHONPATH=. nice python bench/sample_efficiency.py [--seeds 20] [--budgets 50,100,200]
        [--datasets cifar10,cifar100] [--optimizers random,bananas,...]

Ends with one line of ``key=value`` pairs: ``<name>_mean_<budget>``, ``<name>_optimum_<budget>``
and ``<name>_ms_per_query``, each key prefixed with ``<dataset>.`` when several datasets ran.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core per run, as in a Ray worker
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's ednag, not another installed copy
    sys.path.insert(0, str(ROOT))

from ednag_nb201 import DATA, DATASETS, best_test, found_optimum, load_dataset  # noqa: E402
from ednag_nb201 import run as ask_tell_run  # noqa: E402

from ednag.registry import OPTIMIZERS, single_objective_optimizers  # noqa: E402
from ednag.spaces import make_space  # noqa: E402

Data = dict[str, tuple[float, float]]


def run_optimizer(name: str, seed: int, budget: int, data: Data) -> tuple[np.ndarray, float]:
    """One run of registered optimizer ``name``: per-query (fitness, test) rows in query order
    and the optimizer's seconds."""
    entry = OPTIMIZERS.get(name)
    space = make_space("nb201")
    if entry.kind == "optimizer":
        return ask_tell_run(entry.target.load()(space, seed=seed, max_queries=budget), data)
    return run_searcher(name, seed, budget, data)


def run_searcher(name: str, seed: int, budget: int, data: Data) -> tuple[np.ndarray, float]:
    """A ``searcher`` entry through the tabular simulator (one worker, no Ray cluster)."""
    from ednag.experiment.settings import RunSettings
    from ednag.experiment.simulator import local_lookup, simulate
    from searchers.factory import make_searcher

    space = make_space("nb201")
    keys = list(data)
    lookup = local_lookup(keys, np.array([data[k] for k in keys]), "nb201")
    settings = RunSettings(
        benchmark="nb201", dataset="bench", table="bench", optimizer=name, params={},
        seed=seed, max_queries=budget, sim_seconds=None, workers=1,
        fitness=("valid_acc", 200), reported=("test_acc", 200), time=None,
    )
    searcher = make_searcher(name, space, seed=seed, max_queries=budget)
    start = time.perf_counter()  # built (imports done) before the clock starts, as ask/tell
    rows = [(r["fitness"], r["reported"]) for r in simulate(searcher, space, lookup, settings)
            if not r["repeat"]]
    return np.asarray(rows), time.perf_counter() - start


def sem(values: np.ndarray) -> float:
    """Standard error of the mean (NaN for one value)."""
    return float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per optimizer (0..n-1)")
    parser.add_argument("--budgets", default="50,100,200", help="comma-separated query budgets")
    parser.add_argument("--datasets", default="cifar10,cifar100",
                        help=f"comma-separated NB201 datasets ({', '.join(DATASETS)})")
    parser.add_argument("--optimizers", default="",
                        help="comma-separated registered names (default: every one)")
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the NB201 CSVs")
    args = parser.parse_args(argv)
    budgets = sorted(int(b) for b in args.budgets.split(","))
    datasets = [d for d in args.datasets.split(",") if d]
    names = [n for n in args.optimizers.split(",") if n] or list(single_objective_optimizers())
    if args.seeds < 1 or not budgets or budgets[0] < 1:
        parser.error("--seeds and every budget must be positive")
    for dataset in datasets:
        if dataset not in DATASETS:
            parser.error(f"--datasets: {dataset!r} is not one of {', '.join(DATASETS)}")
    for name in names:
        if name not in OPTIMIZERS:
            parser.error(f"--optimizers: {name!r} is not one of {', '.join(OPTIMIZERS.names())}")
    if not (args.data / "valid200_perseed.csv").exists():
        parser.error(f"NAS-Bench-201 CSVs not found in {args.data}")

    summary: list[str] = []
    for dataset in datasets:
        data = load_dataset(args.data, dataset)
        best_fitness = max(f for f, _ in data.values())
        prefix = f"{dataset}." if len(datasets) > 1 else ""
        print(f"\nNB201 {dataset}, {args.seeds} seeds, budgets {budgets}", flush=True)
        print(f"{'optimizer':<22} {'budget':>6} {'mean':>7} {'± se':>6} {'std':>5} "
              f"{'optimum':>7} {'ms/query':>9}", flush=True)
        for name in names:
            scores = np.empty((args.seeds, len(budgets)))
            hits = np.empty((args.seeds, len(budgets)), dtype=bool)
            ms = np.empty(args.seeds)
            for seed in range(args.seeds):
                trace, spent = run_optimizer(name, seed, budgets[-1], data)
                if len(trace) < budgets[-1]:
                    raise RuntimeError(f"{name} seed {seed}: {len(trace)} queries of "
                                       f"{budgets[-1]}")
                scores[seed] = [best_test(trace, b) for b in budgets]
                hits[seed] = [found_optimum(trace, b, best_fitness) for b in budgets]
                ms[seed] = 1e3 * spent / len(trace)
            for j, b in enumerate(budgets):
                col = scores[:, j]
                print(f"{name:<22} {b:>6} {col.mean():>7.3f} {sem(col):>6.3f} {col.std():>5.2f} "
                      f"{hits[:, j].mean():>7.2f} {ms.mean():>9.2f}", flush=True)
                summary.append(f"{prefix}{name}_mean_{b}={col.mean():.3f}")
                summary.append(f"{prefix}{name}_optimum_{b}={hits[:, j].mean():.2f}")
            summary.append(f"{prefix}{name}_ms_per_query={ms.mean():.2f}")
    print(" ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
