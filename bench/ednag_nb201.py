"""EDNAG vs random search vs regularized evolution on NAS-Bench-201, at equal budgets.

Protocol: fitness = 200-epoch validation accuracy (cifar10: cifar10-valid; cifar100 and
ImageNet16-120: x-valid); reported = 200-epoch test accuracy of the best-by-fitness
architecture among the first B distinct queries; "optimum" = the share of seeds whose pick is
the table's best-by-fitness architecture; a plain
Python ask/tell loop (no Ray). Each (optimizer, seed) runs once with the largest budget and is
scored on its prefixes: every optimizer here asks the same architectures in the same order
whatever its budget (a budget only cuts the last batch), so a prefix is the smaller run.

    python bench/ednag_nb201.py [--seeds 20] [--budgets 100,200,500] [--preset default]
                                [--dataset cifar10|cifar100|ImageNet16-120]

Ends with one line of key=value pairs (at 200 queries, or the budget closest to it).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ednag.optimizers import EDNAG, Optimizer, RandomSearch, RegularizedEvolution
from ednag.results.optimum import found_optimum as reaches_optimum
from ednag.spaces import make_space

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "nb201"
DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")


def load_dataset(folder: Path, dataset: str) -> dict[str, tuple[float, float]]:
    """arch key -> (validation accuracy, test accuracy), via the shared NB201 importer."""
    from ednag.tables.importers.nb201_csv import import_nb201_csv

    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
    table = import_nb201_csv(folder)
    fit = table.column(dataset, "valid_acc", 200)
    test = table.column(dataset, "test_acc", 200)
    return {key: (float(f), float(t)) for key, f, t in zip(table.keys, fit, test, strict=True)}


def run(opt: Optimizer, data: dict[str, tuple[float, float]]) -> tuple[np.ndarray, float]:
    """Ask/tell until the budget is spent: (per-query (fitness, test) rows, optimizer seconds)."""
    key = opt.space.key
    trace: list[tuple[float, float]] = []
    spent = 0.0
    while not opt.finished:
        t0 = time.perf_counter()
        batch = opt.ask()
        spent += time.perf_counter() - t0
        if not batch:
            raise RuntimeError(f"{opt.name} returned no architecture before its budget")
        answers = []
        for arch in batch:
            fit, test = data[key(arch)]
            trace.append((fit, test))
            answers.append((arch, fit))
        t0 = time.perf_counter()
        opt.tell(answers)
        spent += time.perf_counter() - t0
    return np.asarray(trace), spent


def best_test(trace: np.ndarray, budget: int) -> float:
    """Test accuracy of the best-by-fitness architecture among the first ``budget`` queries."""
    head = trace[:budget]
    return float(head[int(np.argmax(head[:, 0])), 1])


def found_optimum(trace: np.ndarray, budget: int, best_fitness: float) -> bool:
    """Whether the incumbent of the first ``budget`` queries has the table's best fitness
    (the definition ``analysis`` uses too: :mod:`ednag.results.optimum`)."""
    return bool(reaches_optimum(np.nanmax(trace[:budget, 0]), best_fitness))


def make_factories(preset: str) -> dict[str, Callable[[int, int], Optimizer]]:
    space = make_space("nb201")
    return {
        "ednag": lambda seed, b: EDNAG(space, seed=seed, max_queries=b, config=preset),
        "random": lambda seed, b: RandomSearch(space, seed=seed, max_queries=b),
        "rea": lambda seed, b: RegularizedEvolution(
            space, seed=seed, max_queries=b, population_size=10, tournament_size=3
        ),
    }


def generation_ms(data: dict[str, tuple[float, float]], preset: str) -> float:
    """Optimizer time (ask + tell, no evaluation) of one EDNAG generation, P=30, 8x7 encoding."""
    space = make_space("nb201")
    opt = EDNAG(
        space, seed=0, max_queries=1000, config=preset, population_size=30, encoding="nb201_paper"
    )
    _, spent = run(opt, data)
    return 1e3 * spent / max(opt.generation + 1, 1)


def random_suggest_ms(data: dict[str, tuple[float, float]]) -> float:
    opt = RandomSearch(make_space("nb201"), seed=0, max_queries=2000)
    _, spent = run(opt, data)
    return 1e3 * spent / opt.num_queries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per optimizer (0..n-1)")
    parser.add_argument("--budgets", default="100,200,500", help="comma-separated query budgets")
    parser.add_argument("--preset", default="default", help="EDNAG preset (default, paper)")
    parser.add_argument("--dataset", default="cifar10", choices=DATASETS, help="NB201 dataset")
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the NB201 CSVs")
    args = parser.parse_args(argv)
    budgets = sorted(int(b) for b in args.budgets.split(","))
    if args.seeds < 1 or not budgets or budgets[0] < 1:
        parser.error("--seeds and every budget must be positive")
    if not (args.data / "valid200_perseed.csv").exists():
        parser.error(f"NAS-Bench-201 CSVs not found in {args.data}")

    data = load_dataset(args.data, args.dataset)
    best_fitness = max(f for f, _ in data.values())
    factories = make_factories(args.preset)
    results: dict[str, np.ndarray] = {}
    found: dict[str, np.ndarray] = {}
    print(f"NB201 {args.dataset}, {args.seeds} seeds, EDNAG preset {args.preset!r}")
    print(f"{'optimizer':<10} {'budget':>6} {'mean':>7} {'std':>6} {'sem':>6} {'optimum':>8}")
    for name, factory in factories.items():
        scores = np.empty((args.seeds, len(budgets)))
        hits = np.empty((args.seeds, len(budgets)), dtype=bool)
        for seed in range(args.seeds):
            trace, _ = run(factory(seed, budgets[-1]), data)
            scores[seed] = [best_test(trace, b) for b in budgets]
            hits[seed] = [found_optimum(trace, b, best_fitness) for b in budgets]
        results[name], found[name] = scores, hits
        for j, b in enumerate(budgets):
            col = scores[:, j]
            sem = col.std(ddof=1) / np.sqrt(col.size) if col.size > 1 else float("nan")
            print(
                f"{name:<10} {b:>6} {col.mean():>7.3f} {col.std():>6.2f} {sem:>6.3f} "
                f"{hits[:, j].mean():>8.2f}"
            )
    j = int(np.argmin([abs(b - 200) for b in budgets]))
    gen_ms = generation_ms(data, args.preset)
    rnd_ms = random_suggest_ms(data)
    ednag = results["ednag"][:, j]
    print(
        f"ednag_mean={ednag.mean():.3f} "
        f"random_mean={results['random'][:, j].mean():.3f} "
        f"rea_mean={results['rea'][:, j].mean():.3f} "
        f"ednag_optimum_rate={found['ednag'][:, j].mean():.2f} "
        f"generation_ms={gen_ms:.3f} random_suggest_ms={rnd_ms:.4f} budget={budgets[j]} "
        f"dataset={args.dataset}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
