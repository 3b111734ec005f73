"""Normalised hypervolume of the multi-objective optimizers on tabular benchmarks.

Protocol (EvoXBench-style): the optimizer sees the search objectives (NB201: 200-epoch
cifar10-valid accuracy; NAS-Bench-Macro: the seed-0 training's test accuracy) and the cost
(pixel3 latency, parameters or FLOPs); the front of the first B distinct queries is scored on
the reported objectives (NB201: 200-epoch test accuracy; NAS-Bench-Macro: the mean of the other
two trainings) and the same cost, as its hypervolume divided by that of the table's true front
(:class:`ednag.pareto.FrontScale`: each objective scaled to [0, 1] over the true front, the
reference point 0.1 below its nadir). Mean ± standard error over seeds 0..n-1; every run is a
plain ask/tell loop (one worker), run once at the largest budget and scored on its prefixes.

    PYTHONPATH=. nice python bench/multi_objective.py [--seeds 10] [--budgets 100,200,500]
        [--problems nb201-latency,nb201-params,macro-flops] [--optimizers mo_ednag,nsga2,...]
        [--first-seed 0] [--json out.json]

An optimizer may be a variant, ``name[key=value;...]`` as in ``bench/sample_efficiency.py``
(``--optimizers 'mo_ednag[archive_size=30]'``); ``--first-seed 100`` screens on seeds the
tables in the README never used. With ``--json F`` every finished run is also kept in
``F.partial`` (:mod:`run_journal`): the same command started again after a kill resumes there.

Ends with one line of ``key=value`` pairs ``<problem>.<optimizer>.hv_<budget>`` (the mean) and
``<problem>.<optimizer>.s_per_run``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from run_journal import RunJournal, journal_path  # noqa: E402 - this folder
from sample_efficiency import parse_variant  # noqa: E402 - this folder, the variant syntax

from ednag.atomic import atomic_write_text  # noqa: E402
from ednag.pareto import Evaluation, FrontScale, hv_curve  # noqa: E402
from ednag.registry import OPTIMIZERS  # noqa: E402
from ednag.spaces import make_space  # noqa: E402
from ednag.tables import import_table  # noqa: E402

SHARED = ROOT.parent / "shared" / "benchmarks"
if not SHARED.is_dir():
    SHARED = Path("/work/shared/benchmarks")

# name -> (benchmark, folder, dataset, search objectives, reported objectives); each objective
# (metric, fidelity, mode)
PROBLEMS = {
    "nb201-latency": ("nb201", "nb201", "cifar10",
                      [("valid_acc", 200, "max"), ("latency_ms_pixel3", None, "min")],
                      [("test_acc", 200, "max"), ("latency_ms_pixel3", None, "min")]),
    "nb201-params": ("nb201", "nb201", "cifar10",
                     [("valid_acc", 200, "max"), ("params_mb", None, "min")],
                     [("test_acc", 200, "max"), ("params_mb", None, "min")]),
    "macro-flops": ("nasbench_macro", "nas-bench-macro", "cifar10",
                    [("test_acc_seed0", None, "max"), ("flops", None, "min")],
                    [("test_acc_seeds12", None, "max"), ("flops", None, "min")]),
}
OPTIMIZERS_DEFAULT = ("mo_ednag", "nsga2", "mo_tpe", "mo_rea", "nag", "random")


def maximised(table, dataset, objectives) -> np.ndarray:
    cols = [table.column(dataset, m, f) * (1.0 if mode == "max" else -1.0)
            for m, f, mode in objectives]
    return np.column_stack(cols)


def load_problem(name: str):
    benchmark, folder, dataset, search, reported = PROBLEMS[name]
    table = import_table(benchmark, str(SHARED / folder))
    s, r = maximised(table, dataset, search), maximised(table, dataset, reported)
    index = {key: i for i, key in enumerate(table.keys)}
    return benchmark, dataset, index, s, r, FrontScale.from_points(r)


def run(spec: str, benchmark: str, dataset: str, seed: int, budget: int, index, search,
        reported) -> tuple[np.ndarray, float]:
    """Reported points of the distinct queries of optimizer variant ``spec`` in query order,
    and the seconds taken."""
    name, params = parse_variant(spec)
    entry = OPTIMIZERS.get(name)
    space = make_space(benchmark, dataset)
    cls = entry.target.load()
    start = time.perf_counter()
    if name == "random":
        opt = cls(space, seed=seed, max_queries=budget, **params)
    else:
        opt = cls(space, seed=seed, max_queries=budget, num_objectives=search.shape[1],
                  **params)
    rows: list[int] = []
    while not opt.finished:
        batch = opt.ask()
        told = []
        for arch in batch:
            i = index[space.key(arch)]
            rows.append(i)
            vec = search[i]
            if name == "random":
                told.append((arch, float(vec[0])))
            elif np.all(np.isfinite(vec)):
                told.append((arch, Evaluation(tuple(vec.tolist()))))
            else:
                told.append((arch, Evaluation((), failed=True)))
        opt.tell(told)
    return reported[np.asarray(rows, dtype=np.int64)], time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budgets", default="100,200,500")
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS_DEFAULT))
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first_seed .. first_seed + seeds - 1")
    parser.add_argument("--json", default=None, help="write the per-seed values here")
    args = parser.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    out: dict[str, float] = {}
    per_seed: dict[str, dict[str, list[list[float]]]] = {}
    problems = args.problems.split(",")
    unknown = [p for p in problems if p not in PROBLEMS]
    if unknown:
        parser.error(f"--problems: unknown {', '.join(unknown)}; allowed: {', '.join(PROBLEMS)}")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    journal = None
    if args.json:  # finished runs survive a kill: the same command resumes from them
        header = {"budgets": budgets, "problems": problems,
                  "optimizers": args.optimizers.split(","), "seeds": list(seeds)}
        try:
            journal = RunJournal(journal_path(Path(args.json)), header)
        except ValueError as err:
            parser.error(f"--json: {err}")
        if journal.finished:
            print(f"{len(journal.finished)} runs finished before, resumed from {journal.path}",
                  flush=True)
    done_before = {(r["problem"], r["name"], r["seed"]): (r["hv"], r["seconds"])
                   for r in (journal.finished if journal else [])}
    for problem in problems:
        benchmark, dataset, index, search, reported, scale = load_problem(problem)
        print(f"{problem}: reference point (maximised units) "
              f"{tuple(round(v, 4) for v in scale.reference_point)}, true-front HV "
              f"{scale.true_hv:.4f}", flush=True)
        per_seed[problem] = {}
        for name in args.optimizers.split(","):
            curves, seconds = [], 0.0
            for seed in seeds:
                if (problem, name, seed) in done_before:
                    curve, s = done_before[problem, name, seed]
                else:
                    pts, s = run(name, benchmark, dataset, seed, max(budgets), index, search,
                                 reported)
                    curve = hv_curve(pts, scale, budgets)
                    if journal:
                        journal.add({"problem": problem, "name": name, "seed": seed,
                                     "hv": curve, "seconds": s})
                curves.append(curve)
                seconds += s
            arr = np.asarray(curves)
            per_seed[problem][name] = arr.tolist()
            cells = []
            for j, b in enumerate(budgets):
                mean = float(arr[:, j].mean())
                se = float(arr[:, j].std(ddof=1) / np.sqrt(len(arr))) if len(arr) > 1 else 0.0
                out[f"{problem}.{name}.hv_{b}"] = round(mean, 4)
                cells.append(f"{b}: {mean:.4f} ± {se:.4f}")
            out[f"{problem}.{name}.s_per_run"] = round(seconds / args.seeds, 2)
            print(f"  {name:10s} " + "  ".join(cells) + f"  ({seconds / args.seeds:.1f} s/run)",
                  flush=True)
    if journal is not None:
        atomic_write_text(args.json, json.dumps({"budgets": budgets, "hv": per_seed}))
        journal.remove()
    print(" ".join(f"{k}={v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
