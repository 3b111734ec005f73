"""Sample efficiency of every registered optimizer on NAS-Bench-201, at small query budgets.

Protocol (as ``bench/ednag_nb201.py``): fitness = 200-epoch validation accuracy (cifar10:
cifar10-valid; cifar100 / ImageNet16-120: x-valid); reported = 200-epoch test accuracy of the
best-by-fitness architecture among the first B distinct queries, mean ± standard error over
seeds 0..n-1; "optimum" = the share of seeds whose incumbent has the table's best fitness (the
one definition, :mod:`ednag.results.optimum`, that ``analysis`` uses too). Each (optimizer,
seed) runs once with the largest budget and is scored on its prefixes (every optimizer here asks
the same architectures in the same order whatever its budget; a budget only cuts the last
batch).

Every single-objective name in :data:`ednag.registry.OPTIMIZERS` runs with its default
parameters, plus EDNAG's ``paper`` preset; a variant is written ``name[key=value;...]`` (values
parsed as YAML), e.g. ``ednag[config=paper]`` or ``ednag_guided[arch_mutation_rate=1.0]``.
Ask/tell optimizers run in a plain ask/tell loop; ``searcher`` entries (Optuna TPE) through
:func:`searchers.factory.make_searcher` driven by the tabular simulator
(:func:`ednag.experiment.simulator.simulate`, one worker), repeats excluded. "ms/query" is the
optimizer's own time (ask + tell; for searchers the whole simulated loop, lookups included)
per distinct query at the largest budget, on one BLAS thread (as in a Ray worker), with
``--workers`` runs in parallel (one per core).

    PYTHONPATH=. nice python bench/sample_efficiency.py [--seeds 100] [--budgets 50,100,200,500]
        [--datasets cifar10,cifar100,ImageNet16-120] [--optimizers random,bananas,...]
        [--first-seed 0] [--seeds-for bananas=30 ...] [--workers 2] [--markdown table.md]
        [--json runs.json] [--markdown-budgets 500] [--from-json runs.json]

``--from-json`` rebuilds the output of earlier ``--json`` runs without running anything; given
several files it joins them seed by seed (seeds 0-49 from one run, 50-99 from another), and a
seed that two files both hold must have the same values in both (runs are reproducible, so a
difference is an error, not a choice). A file records the budgets its run had, so files of
different budgets join on the budgets asked for (``--budgets 50,100,200`` reads those columns
of a 500-query run; a file written before the budgets were recorded must hold exactly
``--budgets``). ``--markdown-budgets`` limits the ``--markdown`` tables to some budgets (the
README's 500-query table: the runs' ``--json`` read back with ``--markdown-budgets 500``).
With ``--json F`` every finished run is also appended to ``F.partial`` as it finishes
(:mod:`run_journal`): the same command started again after a kill skips the runs it holds, and
the file is removed once ``F`` is written. ``bench/results/`` keeps the per-seed files the
README's tables came from.

Ends with one line of ``key=value`` pairs: ``<name>_mean_<budget>`` (test),
``<name>_valid_<budget>`` (the incumbent's fitness), ``<name>_optimum_<budget>`` and
``<name>_ms_per_query``, each key prefixed with ``<dataset>.`` when several datasets ran, and,
when ``optuna_tpe`` ran in the same run (not with ``--from-json``), ``<name>_ms_vs_tpe``: each
optimizer's time per query over TPE's.
``--markdown`` writes the README's tables from the same numbers (test, then the incumbent's
validation fitness), with the best mean at each budget in bold and a sentence per budget naming
the best optimizer, whatever it is.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core per run, as in a Ray worker
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's ednag, not another installed copy
    sys.path.insert(0, str(ROOT))

from ednag_nb201 import DATA, DATASETS, best_test, found_optimum, load_dataset  # noqa: E402
from ednag_nb201 import run as ask_tell_run  # noqa: E402
from run_journal import RunJournal, journal_path  # noqa: E402

from ednag.atomic import atomic_write_text  # noqa: E402
from ednag.registry import OPTIMIZERS, single_objective_optimizers  # noqa: E402
from ednag.spaces import make_space  # noqa: E402

Data = dict[str, tuple[float, float]]
#: variants run besides the registered defaults (the EDNAG paper's own settings)
EXTRA_VARIANTS: tuple[str, ...] = ("ednag[config=paper]",)


def full_run_names() -> list[str]:
    """What a run without ``--optimizers`` compares, in its order: every registered
    single-objective optimizer, then :data:`EXTRA_VARIANTS`."""
    return [*single_objective_optimizers(), *EXTRA_VARIANTS]


def parse_variant(spec: str) -> tuple[str, dict[str, Any]]:
    """``"name[key=value;...]"`` -> (registered name, parameters); values parsed as YAML."""
    import yaml

    name, bracket, rest = spec.partition("[")
    params: dict[str, Any] = {}
    if bracket:
        if not rest.endswith("]"):
            raise ValueError(f"variant {spec!r}: expected name[key=value;...]")
        for item in filter(None, rest[:-1].split(";")):
            key, eq, value = item.partition("=")
            if not eq:
                raise ValueError(f"variant {spec!r}: {item!r} is not key=value")
            params[key.strip()] = yaml.safe_load(value)
    if name not in OPTIMIZERS:
        raise ValueError(f"{name!r} is not one of {', '.join(OPTIMIZERS.names())}")
    return name, params


def run_optimizer(spec: str, seed: int, budget: int, data: Data) -> tuple[np.ndarray, float]:
    """One run of optimizer variant ``spec``: per-query (fitness, test) rows in query order
    and the optimizer's seconds."""
    name, params = parse_variant(spec)
    entry = OPTIMIZERS.get(name)
    space = make_space("nb201")
    if entry.kind == "optimizer":
        return ask_tell_run(entry.target.load()(space, seed=seed, max_queries=budget, **params),
                            data)
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


_DATA: dict[str, Data] = {}
#: what one run returns (:func:`_job`), and the names its journal line gives them
RUN_FIELDS: tuple[str, ...] = ("dataset", "name", "seed", "scores", "valid", "hits", "ms")


def _job(job: tuple[str, str, int, int, str]) -> tuple[str, str, int, list[float], list[float],
                                                       list[bool], float]:
    """One (dataset, variant, seed) run in a worker: test scores, incumbent fitness and hits
    at every budget."""
    dataset, spec, seed, top, budgets_text = job
    budgets = [int(b) for b in budgets_text.split(",")]
    data = _DATA[dataset]
    best_fitness = max(f for f, _ in data.values())
    trace, spent = run_optimizer(spec, seed, top, data)
    if len(trace) < top:
        raise RuntimeError(f"{spec} seed {seed}: {len(trace)} queries of {top}")
    return (dataset, spec, seed, [best_test(trace, b) for b in budgets],
            [float(np.nanmax(trace[:b, 0])) for b in budgets],
            [found_optimum(trace, b, best_fitness) for b in budgets], 1e3 * spent / len(trace))


def markdown_table(results: dict[str, dict[str, dict[str, Any]]], budgets: list[int],
                   metric: str = "scores") -> str:
    """A README table: every optimizer per dataset, mean ± SE, bold best; then who is best at
    each budget. ``metric="scores"`` (test of the best-by-validation architecture) adds the
    optimum share and ms per query; ``"valid"`` is the incumbent's fitness (validation)."""
    full = metric == "scores"
    lines = ["| dataset | optimizer | seeds | " + " | ".join(f"{b} queries" for b in budgets)
             + (" | ms per query |" if full else " |"),
             "|---|---|---|" + "---|" * len(budgets) + ("---|" if full else "")]
    verdicts = []
    for dataset, per_opt in results.items():
        means = {b: {o: float(np.mean(r[metric][:, j])) for o, r in per_opt.items()}
                 for j, b in enumerate(budgets)}
        for i, (opt, r) in enumerate(per_opt.items()):
            cells = []
            for j, b in enumerate(budgets):
                col = r[metric][:, j]
                text = f"{col.mean():.2f} ± {sem(col):.2f}" + (
                    f" ({100 * r['hits'][:, j].mean():.0f} %)" if full else "")
                cells.append(f"**{text}**" if np.isclose(means[b][opt], max(means[b].values()),
                                                         atol=5e-4) else text)
            lines.append(f"| {dataset if i == 0 else ''} | `{opt}` | {len(r[metric])} | "
                         + " | ".join(cells)
                         + (f" | {np.mean(r['ms']):.2f} |" if full else " |"))
        for j, b in enumerate(budgets):
            top = max(means[b].values())
            best = [o for o, m in means[b].items() if np.isclose(m, top, atol=5e-4)]
            ses = {o: sem(per_opt[o][metric][:, j]) for o in best}
            tied = [o for o, m in means[b].items() if o not in best
                    and top - m <= max(ses.values(), default=0.0)]
            verdicts.append(
                f"- {dataset}, {b} queries: best mean {top:.2f} by "
                + ", ".join(f"`{o}`" for o in best)
                + (f"; within one SE: {', '.join(f'`{o}`' for o in tied)}" if tied else ""))
    return "\n".join(lines) + "\n\n" + "\n".join(verdicts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per optimizer (0..n-1)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first..first+n-1 (screening on seeds the headline never "
                             "used); with --from-json, the first seed of a file that does not "
                             "list its seeds")
    parser.add_argument("--budgets", default="50,100,200", help="comma-separated query budgets")
    parser.add_argument("--datasets", default="cifar10,cifar100",
                        help=f"comma-separated NB201 datasets ({', '.join(DATASETS)})")
    parser.add_argument("--optimizers", default="",
                        help="comma-separated variants name[key=value;...] (default: every "
                             "single-objective one and ednag[config=paper]); with "
                             "--from-json, the variants of the files to show (default: all)")
    parser.add_argument("--seeds-for", action="append", default=[], metavar="NAME=N",
                        help="fewer (or more) seeds for one variant")
    parser.add_argument("--workers", type=int, default=1, help="runs in parallel")
    parser.add_argument("--markdown", type=Path, help="write the README table here")
    parser.add_argument("--json", type=Path, help="write per-seed values here")
    parser.add_argument("--markdown-budgets", default="",
                        help="comma-separated budgets the --markdown tables show (default: all)")
    parser.add_argument("--from-json", type=Path, nargs="+",
                        help="run nothing: read the per-seed values --json runs wrote (give "
                             "their --budgets; several files are joined seed by seed) and "
                             "print / write the tables from them")
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the NB201 CSVs")
    args = parser.parse_args(argv)
    budgets = sorted(int(b) for b in args.budgets.split(","))
    shown = sorted(int(b) for b in args.markdown_budgets.split(",") if b) or budgets
    if not set(shown) <= set(budgets):
        parser.error(f"--markdown-budgets {shown} must be among --budgets {budgets}")
    if args.from_json is not None:
        try:
            results = merge_results([(str(path), load_results(path, budgets, args.first_seed))
                                     for path in args.from_json])
        except ValueError as err:
            parser.error(f"--from-json: {err}")
        wanted = [n for n in args.optimizers.split(",") if n]
        if wanted:
            held = list(dict.fromkeys(n for per in results.values() for n in per))
            missing = [n for n in wanted if n not in held]
            if missing:
                parser.error(f"--optimizers: {', '.join(missing)} not in the files; they "
                             f"hold {', '.join(held)}")
            results = {d: {n: r for n, r in per.items() if n in wanted}
                       for d, per in results.items()}
        report(results, budgets, shown, args)
        return 0
    datasets = [d for d in args.datasets.split(",") if d]
    names = ([n for n in args.optimizers.split(",") if n]
             or full_run_names())
    if args.seeds < 1 or not budgets or budgets[0] < 1:
        parser.error("--seeds and every budget must be positive")
    for dataset in datasets:
        if dataset not in DATASETS:
            parser.error(f"--datasets: {dataset!r} is not one of {', '.join(DATASETS)}")
    for name in names:
        try:
            parse_variant(name)
        except ValueError as err:
            parser.error(f"--optimizers: {err}")
    seeds_for = {}
    for item in args.seeds_for:
        name, _, count = item.rpartition("=")
        if name not in names or not count.isdigit() or int(count) < 1:
            parser.error(f"--seeds-for {item!r}: expected NAME=N with NAME one of the variants")
        seeds_for[name] = int(count)
    if not (args.data / "valid200_perseed.csv").exists():
        parser.error(f"NAS-Bench-201 CSVs not found in {args.data}")

    for dataset in datasets:
        _DATA[dataset] = load_dataset(args.data, dataset)
    for name in names:  # import every optimizer now: forked workers then share this code
        OPTIMIZERS.get(parse_variant(name)[0]).target.load()
    text_budgets = ",".join(map(str, budgets))
    jobs = [(d, n, seed, budgets[-1], text_budgets) for d in datasets for n in names
            for seed in range(args.first_seed, args.first_seed + seeds_for.get(n, args.seeds))]
    # costly variants first, so the pool does not end on one long run
    jobs.sort(key=lambda j: OPTIMIZERS.get(parse_variant(j[1])[0]).kind != "searcher"
              and "guided" not in j[1] and "bananas" not in j[1] and "diffusion" not in j[1])
    results: dict[str, dict[str, dict[str, Any]]] = {
        d: {n: {"seeds": np.arange(args.first_seed,
                                   args.first_seed + seeds_for.get(n, args.seeds)),
                "scores": np.empty((seeds_for.get(n, args.seeds), len(budgets))),
                "valid": np.empty((seeds_for.get(n, args.seeds), len(budgets))),
                "hits": np.empty((seeds_for.get(n, args.seeds), len(budgets)), dtype=bool),
                "ms": np.empty(seeds_for.get(n, args.seeds))} for n in names}
        for d in datasets}
    journal = None
    if args.json:  # finished runs survive a kill: the same command resumes from them
        header = {"budgets": budgets, "jobs": sorted(list(j[:3]) for j in jobs)}
        try:
            journal = RunJournal(journal_path(args.json), header)
        except ValueError as err:
            parser.error(f"--json: {err}")
    done_before = {(r["dataset"], r["name"], r["seed"]): r for r in
                   (journal.finished if journal else [])}
    todo = [j for j in jobs if tuple(j[:3]) not in done_before]
    print(f"NB201 {', '.join(datasets)}; budgets {budgets}; {len(jobs)} runs on "
          f"{args.workers} worker(s)"
          + (f"; {len(jobs) - len(todo)} finished before, resumed from {journal.path}"
             if done_before else ""), flush=True)
    began = time.perf_counter()
    pool = (multiprocessing.get_context("fork").Pool(args.workers)
            if args.workers > 1 and todo else None)
    outputs = pool.imap_unordered(_job, todo) if pool else map(_job, todo)
    finished = [tuple(r[k] for k in RUN_FIELDS) for r in done_before.values()]
    for done, output in enumerate(outputs, 1):
        if journal:
            journal.add(dict(zip(RUN_FIELDS, output, strict=True)))
        finished.append(output)
        if done % 50 == 0 or done == len(todo):
            print(f"  {done}/{len(todo)} runs, {time.perf_counter() - began:.0f} s", flush=True)
    if pool:
        pool.close()
        pool.join()
    for dataset, name, seed, scores, valid, hits, ms in finished:
        slot, row = results[dataset][name], seed - args.first_seed
        slot["scores"][row], slot["valid"][row] = scores, valid
        slot["hits"][row], slot["ms"][row] = hits, ms
    if journal is not None:
        atomic_write_text(args.json, json.dumps(
            {"budgets": budgets, **{d: {n: {k: v.tolist() for k, v in r.items()}
                                        for n, r in per.items()}
                                    for d, per in results.items()}}))
        journal.remove()
    report(results, budgets, shown, args)
    return 0


#: the per-seed arrays of one (dataset, optimizer) in a ``--json`` file, and their dtypes
RESULT_KEYS: dict[str, type] = {"seeds": int, "scores": float, "valid": float, "hits": bool,
                                "ms": float}


#: the per-seed arrays that hold one column per budget
PER_BUDGET_KEYS = ("scores", "valid", "hits")


def load_results(path: Path, budgets: list[int],
                 first_seed: int = 0) -> dict[str, dict[str, dict[str, Any]]]:
    """The per-seed arrays a ``--json`` run wrote (``hits`` as booleans) at ``budgets``.

    A file that records its run's ``budgets`` may hold more: the columns of ``budgets`` are
    picked out (each must be among them). A file without that record must hold exactly
    ``len(budgets)`` columns, and one written before runs recorded their seeds holds seeds
    ``first_seed, first_seed + 1, ...``.
    """
    raw = json.loads(path.read_text())
    held = raw.pop("budgets", None)
    if held is not None and not set(budgets) <= set(held):
        raise SystemExit(f"{path}: holds budgets {held}; --budgets asks for "
                         f"{sorted(set(budgets) - set(held))} too")
    results = {d: {n: {k: np.asarray(v, dtype=RESULT_KEYS.get(k, float))
                       for k, v in r.items()} for n, r in per.items()} for d, per in raw.items()}
    width = len(budgets) if held is None else len(held)
    columns = None if held is None else [held.index(b) for b in budgets]
    for d, per in results.items():
        for n, r in per.items():
            if r["scores"].ndim != 2 or r["scores"].shape[1] != width:
                raise SystemExit(f"{path}: {d} {n} holds {r['scores'].shape[-1]} budgets, "
                                 + (f"--budgets gives {width}" if held is None
                                    else f"its record says {held}"))
            if columns is not None:
                for k in PER_BUDGET_KEYS:
                    r[k] = r[k][:, columns]
            r.setdefault("seeds", np.arange(first_seed, first_seed + len(r["scores"])))
    return results


def merge_results(parts: list[tuple[str, dict[str, dict[str, dict[str, Any]]]]]
                  ) -> dict[str, dict[str, dict[str, Any]]]:
    """Several runs' per-seed results ``(name, results)`` joined seed by seed, sorted by seed.

    A seed held by two runs must agree on scores, validation and hits (the runs are
    reproducible); its time per query comes from the first run that holds it. The optimizers
    come in a full run's order (the registry's, then ``ednag[config=paper]``), other variants
    after them in the order met, whichever file holds them. Raises
    ``ValueError`` naming the file, dataset, optimizer and seed otherwise.
    """
    merged: dict[str, dict[str, dict[str, Any]]] = {}
    origin: dict[tuple[str, str, int], str] = {}
    for name, results in parts:
        for d, per in results.items():
            for opt, r in per.items():
                slot = merged.setdefault(d, {}).setdefault(opt, {k: [] for k in RESULT_KEYS})
                for i, seed in enumerate(r["seeds"].tolist()):
                    if (d, opt, seed) in origin:
                        j = slot["seeds"].index(seed)
                        if not all(np.array_equal(slot[k][j], r[k][i],
                                                  equal_nan=RESULT_KEYS[k] is float)
                                   for k in ("scores", "valid", "hits")):
                            raise ValueError(f"{name}: {d} {opt} seed {seed} differs from "
                                             f"{origin[d, opt, seed]}")
                        continue
                    origin[d, opt, seed] = name
                    for k in RESULT_KEYS:
                        slot[k].append(r[k][i])
    canonical = full_run_names()
    for d, per in merged.items():
        for opt, slot in per.items():
            order = np.argsort(slot["seeds"], kind="stable")
            per[opt] = {k: np.asarray(v, dtype=RESULT_KEYS[k])[order] for k, v in slot.items()}
        # a run's order (the registry's, then ednag[config=paper]), then other variants as met
        ranked = sorted(enumerate(per), key=lambda t: (
            canonical.index(t[1]) if t[1] in canonical else len(canonical) + t[0]))
        merged[d] = {opt: per[opt] for _, opt in ranked}
    return merged


def report(results: dict[str, dict[str, dict[str, Any]]], budgets: list[int],
           shown: list[int], args: argparse.Namespace) -> None:
    """Print the per-dataset tables and the key=value line; write ``--markdown`` with the
    ``shown`` budgets only."""
    summary: list[str] = []
    datasets = list(results)
    for dataset in datasets:
        prefix = f"{dataset}." if len(datasets) > 1 else ""
        print(f"\nNB201 {dataset}, budgets {budgets}", flush=True)
        print(f"{'optimizer':<40} {'seeds':>5} {'budget':>6} {'mean':>7} {'± se':>6} "
              f"{'std':>5} {'valid':>7} {'optimum':>7} {'ms/query':>9}", flush=True)
        for name in results[dataset]:
            r = results[dataset][name]
            for j, b in enumerate(budgets):
                col = r["scores"][:, j]
                print(f"{name:<40} {len(col):>5} {b:>6} {col.mean():>7.3f} {sem(col):>6.3f} "
                      f"{col.std():>5.2f} {r['valid'][:, j].mean():>7.3f} "
                      f"{r['hits'][:, j].mean():>7.2f} "
                      f"{r['ms'].mean():>9.2f}", flush=True)
                summary.append(f"{prefix}{name}_mean_{b}={col.mean():.3f}")
                summary.append(f"{prefix}{name}_valid_{b}={r['valid'][:, j].mean():.3f}")
                summary.append(f"{prefix}{name}_optimum_{b}={r['hits'][:, j].mean():.2f}")
            summary.append(f"{prefix}{name}_ms_per_query={r['ms'].mean():.2f}")
        tpe = results[dataset].get("optuna_tpe")
        if tpe is not None and args.from_json is None:  # ratios within one run only
            for name, r in results[dataset].items():
                summary.append(f"{prefix}{name}_ms_vs_tpe="
                               f"{r['ms'].mean() / max(tpe['ms'].mean(), 1e-9):.2f}")
    if args.markdown:
        cols = [budgets.index(b) for b in shown]
        cut = {d: {n: {k: v[:, cols] if v.ndim == 2 else v for k, v in r.items()}
                   for n, r in per.items()} for d, per in results.items()}
        args.markdown.write_text(markdown_table(cut, shown) + "\n<!-- valid -->\n\n"
                                 + markdown_table(cut, shown, "valid"))
    print(" ".join(summary))


if __name__ == "__main__":
    sys.exit(main())
