"""MO-TPE's sampler against Optuna's own TPE: the same proposals, the time of each, one run.

`mo_tpe` runs Optuna's independent TPE through :class:`FixedSpaceTPESampler`, which computes
each ask from counts over a table of the trials instead of one kernel per trial for every
candidate and decision (``ednag/optimizers/multi_objective/optuna_samplers.py`` and
``tpe_counts.py``). This script runs the `mo_tpe` optimizer twice per seed on a problem of ``bench/multi_objective.py``, once with that sampler
and once with ``optuna.samplers.TPESampler`` itself (same seed, same options), checks that both
made the same proposals and queried the same architectures, and prints each one's time and the
ratio.

    PYTHONPATH=. python bench/mo_tpe_speed.py [--problem macro-flops] [--seeds 2]
        [--first-seed 0] [--budget 150]

Ends with one line of ``key=value`` pairs: ``optuna_s``, ``ours_s`` (seconds per run, the mean
over seeds), ``speedup`` (their ratio), ``proposals`` (per run) and ``same=1``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from multi_objective import PROBLEMS, load_problem  # noqa: E402 - this folder

from ednag.optimizers.multi_objective.optuna_mo import MOTPE  # noqa: E402
from ednag.pareto import Evaluation  # noqa: E402
from ednag.spaces import make_space  # noqa: E402


class OptunasTPE(MOTPE):
    """`mo_tpe` on ``optuna.samplers.TPESampler`` itself: the baseline."""

    def _sampler(self, optuna: Any, seed: int, **params: Any) -> Any:
        return optuna.samplers.TPESampler(seed=seed, **params)


def run(cls: type[MOTPE], benchmark: str, dataset: str, seed: int, budget: int,
        index: dict, search: np.ndarray) -> tuple[list[int], int, float]:
    """Rows queried in order, proposals made and seconds taken by one run of ``cls``."""
    space = make_space(benchmark, dataset)
    start = time.perf_counter()
    opt = cls(space, seed=seed, max_queries=budget, num_objectives=search.shape[1])
    rows: list[int] = []
    while not opt.finished:
        told = []
        for arch in opt.ask():
            i = index[space.key(arch)]
            rows.append(i)
            vec = search[i]
            ev = (Evaluation(tuple(vec.tolist())) if np.all(np.isfinite(vec))
                  else Evaluation((), failed=True))
            told.append((arch, ev))
        opt.tell(told)
    return rows, opt.num_proposals, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problem", default="macro-flops", choices=sorted(PROBLEMS))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=150)
    args = parser.parse_args(argv)
    benchmark, dataset, index, search, _, _ = load_problem(args.problem)
    optuna_s, ours_s, proposals, same = [], [], [], True
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        rows_o, props_o, t_o = run(OptunasTPE, benchmark, dataset, seed, args.budget, index,
                                   search)
        rows, props, t = run(MOTPE, benchmark, dataset, seed, args.budget, index, search)
        same = same and rows == rows_o and props == props_o
        optuna_s.append(t_o)
        ours_s.append(t)
        proposals.append(props)
        print(f"seed {seed}: {props} proposals for {args.budget} queries; Optuna's TPE "
              f"{t_o:.1f} s, ours {t:.1f} s ({t_o / t:.1f}x); same queries: "
              f"{rows == rows_o and props == props_o}", flush=True)
    if not same:
        raise SystemExit("the two samplers' runs differ: the shortcut no longer matches "
                         "Optuna's TPE")
    print(f"optuna_s={np.mean(optuna_s):.2f} ours_s={np.mean(ours_s):.2f} "
          f"speedup={np.mean(optuna_s) / np.mean(ours_s):.2f} "
          f"proposals={np.mean(proposals):.0f} same=1")


if __name__ == "__main__":
    main()
