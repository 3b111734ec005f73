"""NAS-Bench-201 written as a Ray Tune ``param_space`` (six ``tune.choice`` decisions) against the
native NB201 space, for the same optimizers, seeds and budget.

The generic path (``searchers.param_space.ParamSpaceSearch``, a mixed space of six categorical
parameters) should reach what the native space reaches: the reported value (200-epoch test
accuracy) of the best-by-validation architecture among the first ``--budget`` distinct queries,
mean and standard error over ``--seeds`` seeds. In-process (no Ray workers), reads
``../shared/benchmarks/nb201``. Ends with one ``key=value`` line.

    python bench/param_space_nb201.py [--seeds 30] [--budget 200] [--dataset cifar10]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from ray import tune

from ednag.spaces import NB201_OPS, make_space
from ednag.tables import import_table
from searchers import ParamSpaceSearch, make_searcher

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "nb201"


def run(search, to_key, values, budget: int) -> float:
    """Suggest/complete until ``budget`` distinct queries; the reported value of the best."""
    best = (-np.inf, np.nan)
    seen = set()
    i = 0
    while len(seen) < budget:
        config = search.suggest(f"t{i}")
        if config is None or config == "FINISHED":
            break
        key = to_key(config)
        fit, test = values[key]
        seen.add(key)
        best = max(best, (fit, test))
        search.on_trial_complete(f"t{i}", {"fitness": fit})
        i += 1
    return best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--optimizers", default="ednag,regularized_evolution")
    args = parser.parse_args()
    table = import_table("nb201", DATA)
    fit = table.column(args.dataset, "valid_acc", 200)
    test = table.column(args.dataset, "test_acc", 200)
    values = dict(zip(table.keys, zip(fit.tolist(), test.tolist(), strict=True), strict=True))
    space = make_space("nb201")
    edges = [d.name for d in space.decisions]
    param_space = {name: tune.choice(list(NB201_OPS)) for name in edges}

    def generic_key(config):
        return space.key(tuple(NB201_OPS.index(config[name]) for name in edges))

    def native_key(config):
        return space.key(space.from_native(config["arch"]))

    out = {}
    print(f"NB201 {args.dataset}, {args.budget} queries, {args.seeds} seeds: native space vs "
          "param_space (six tune.choice)")
    for name in args.optimizers.split(","):
        res = {"native": [], "param_space": []}
        for seed in range(args.seeds):
            native = make_searcher(name, space, seed=seed, max_queries=args.budget)
            res["native"].append(run(native, native_key, values, args.budget))
            generic = ParamSpaceSearch(param_space, metric="fitness", mode="max",
                                       optimizer=name, seed=seed, max_queries=args.budget)
            res["param_space"].append(run(generic, generic_key, values, args.budget))
        for kind, vals in res.items():
            mean, se = np.mean(vals), np.std(vals, ddof=1) / np.sqrt(len(vals))
            out[f"{name}_{kind}_mean"], out[f"{name}_{kind}_se"] = mean, se
            print(f"{name:<22} {kind:<12} {mean:.3f} ± {se:.3f}")
        gap = abs(out[f"{name}_native_mean"] - out[f"{name}_param_space_mean"])
        out[f"{name}_within_one_se"] = int(gap <= max(out[f"{name}_native_se"],
                                                      out[f"{name}_param_space_se"]))
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                   for k, v in out.items()))


if __name__ == "__main__":
    main()
