"""Every single-objective ask/tell optimizer on a mixed Ray Tune ``param_space``.

The space and the smooth objective of ``tests/test_param_space.py`` (a log-uniform learning
rate, a choice of width, an integer depth, a uniform dropout; best score 0): each optimizer runs
through ``searchers.ParamSpaceSearch`` for ``--budget`` trials per seed, in-process, and the
best score is averaged over ``--seeds`` seeds (mean ± SE), with the optimizer's own time per
query. ``ednag`` runs as ``EDNAGSearch`` (its param_space settings). A variant is written as in
``bench/sample_efficiency.py``: ``name[key=value;...]`` (``ednag_guided[acquisition=its]``).
Ends with one ``key=value`` line.

    python bench/param_space_mixed.py [--seeds 30] [--first-seed 0] [--budget 60] \
        [--optimizers a,b[key=v]]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from sample_efficiency import parse_variant  # noqa: E402 - this folder, as the variant syntax
from test_param_space import SPACE, drive, score  # noqa: E402

from ednag.registry import OPTIMIZERS  # noqa: E402
from searchers import EDNAGSearch, ParamSpaceSearch  # noqa: E402

DEFAULT = [name for name, entry in OPTIMIZERS.items()
           if entry.kind == "optimizer" and entry.single_objective]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first_seed .. first_seed + seeds - 1")
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--optimizers", default=",".join(DEFAULT))
    args = parser.parse_args()
    out: dict[str, float] = {}
    print(f"mixed param_space of tests/test_param_space.py, {args.budget} trials, "
          f"seeds {args.first_seed}-{args.first_seed + args.seeds - 1}: best score (0 is the "
          f"optimum), mean ± SE")
    for spec in args.optimizers.split(","):
        name, options = parse_variant(spec)
        best, seconds = [], 0.0
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            kind = EDNAGSearch if name == "ednag" else ParamSpaceSearch  # as users get it
            search = kind(SPACE, metric="score", mode="max", optimizer=name, seed=seed,
                          max_queries=args.budget, **options)
            start = time.perf_counter()
            configs = drive(search, args.budget)  # scoring costs microseconds
            seconds += time.perf_counter() - start
            best.append(max(score(c) for c in configs))
        label = spec  # as sample_efficiency.py names its keys
        mean, se = float(np.mean(best)), float(np.std(best, ddof=1) / np.sqrt(len(best)))
        ms = 1000 * seconds / (args.seeds * args.budget)
        out[f"{label}_mean"], out[f"{label}_se"], out[f"{label}_ms_per_query"] = mean, se, ms
        print(f"{spec:<32} {mean:8.3f} ± {se:.3f}   {ms:6.1f} ms/query")
    best_label = max((k for k in out if k.endswith("_mean")), key=out.__getitem__)
    print(f"best: {best_label[:-5]}")
    print(" ".join(f"{k}={v:.4f}" for k, v in out.items()))


if __name__ == "__main__":
    main()
