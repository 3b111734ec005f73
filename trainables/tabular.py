"""Tabular mode: one Tune trial per (optimizer, seed) replays a benchmark table on a simulated
clock.

:func:`simulate` is the simulator (no Ray): ``W`` simulated workers on an event queue, as in
Syne Tune's simulator backend. Whenever a worker is free the searcher's ``suggest`` is called;
the suggestions of one round are looked up in one batch; each evaluation finishes after the
table's training time for its architecture (or ``sim_time_per_eval`` seconds when the table has
no time metric, as NAS-Bench-Graph, or the entry is missing); results reach the searcher's
``on_trial_complete`` in simulated-completion order (ties: submission order). ``None`` from
``suggest`` (a generation barrier) leaves the worker idle until the next completion.

The run stops when ``max_queries`` distinct architectures have been evaluated, when the searcher
is finished, or at the first completion past ``sim_seconds`` (evaluations still running then
are dropped: every row has ``sim_time_s <= sim_seconds``). Everything is deterministic given the
seed: the same seed and ``W`` give the same rows.

:func:`tabular_trainable` is the Tune function trainable that runs one simulation against the
``BenchmarkTable`` actor and reports its rows in chunks; :class:`TabularRowsCallback` writes
them on the driver; :func:`run_tabular` ties them together.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ednag.spaces.base import SearchSpace

FINISHED = "FINISHED"  # ray.tune.search.Searcher.FINISHED
TIME_COLUMN = "metric.train_time_s"

Lookup = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class RunSettings:
    """Everything one (optimizer, seed) run needs; plain data, shipped to the Tune trial."""

    benchmark: str
    dataset: str
    table: str
    optimizer: str
    params: dict[str, Any]
    seed: int
    max_queries: int | None
    sim_seconds: float | None
    workers: int
    fitness: tuple[str, Any]
    reported: tuple[str, Any]
    time: tuple[str, Any] | None
    sim_time_per_eval: float = 1.0
    chunk_rows: int = 2000
    chunk_seconds: float = 2.0
    extra: dict[str, Any] = field(default_factory=dict)

    def metrics(self) -> list[tuple[str, Any]]:
        """The table columns looked up per architecture: fitness, reported[, time]."""
        refs = [tuple(self.fitness), tuple(self.reported)]
        return refs + ([tuple(self.time)] if self.time is not None else [])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSettings:
        data = dict(data)
        for key in ("fitness", "reported", "time"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data)


@dataclass
class _Running:
    trial_id: str
    arch: str
    key: str
    generation: int | None
    values: np.ndarray


def simulate(
    searcher: Any,
    space: SearchSpace,
    lookup: Lookup,
    settings: RunSettings,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[dict[str, Any]]:
    """Run one search on the simulated clock; yields one result row per evaluation.

    ``searcher`` follows the Ray Tune ``Searcher`` calls (``suggest`` returning
    ``{"arch": native, "generation": g}``, ``None`` or ``"FINISHED"``; ``on_trial_complete``);
    ``drain_repeats()`` rows (free repeats) are emitted where they occur. ``lookup(keys)``
    returns an (n, m) array of ``settings.metrics()`` values for n architecture keys.
    """
    start = clock()
    workers = settings.workers
    has_time = settings.time is not None
    base = {"benchmark": settings.benchmark, "dataset": settings.dataset,
            "optimizer": settings.optimizer, "seed": int(settings.seed)}
    seen: dict[str, np.ndarray] = {}  # arch_key -> looked-up values
    events: list[tuple[float, int, _Running]] = []
    now = 0.0
    seq = 0
    eval_index = 0
    last_generation: int | None = None
    searcher_done = False
    drain = getattr(searcher, "drain_repeats", None)

    def row(arch: str, key: str, values: np.ndarray, repeat: bool, generation: int | None,
            fitness: float | None = None) -> dict[str, Any]:
        nonlocal eval_index
        fit = float(values[0]) if fitness is None else float(fitness)
        out = dict(base)
        out.update(
            eval_index=eval_index, query_index=len(seen), arch=arch, arch_key=key,
            fitness=fit, reported=float(values[1]), repeat=repeat, generation=generation,
            status="ok" if math.isfinite(fit) else "error", sim_time_s=now,
            wall_time_s=clock() - start,
        )
        if has_time:
            out[TIME_COLUMN] = float(values[2])
        eval_index += 1
        return out

    def repeat_rows() -> Iterator[dict[str, Any]]:
        if drain is None:
            return
        for arch, fitness in drain():
            key = space.key(space.from_native(arch))
            values = seen.get(key)
            if values is None:  # answered from a cache the harness never filled: look it up
                values = np.asarray(lookup([key]), dtype=np.float64)[0]
            yield row(arch, key, values, True, last_generation, fitness)

    while True:
        # every free worker asks for work; one lookup for the whole round
        batch: list[tuple[int, str, str, str, int | None]] = []
        issued = len(seen) + len(events)
        while not searcher_done and len(events) + len(batch) < workers:
            if settings.max_queries is not None and issued + len(batch) >= settings.max_queries:
                break
            trial_id = f"t{seq:07d}"
            suggestion = searcher.suggest(trial_id)
            if suggestion is None:
                break
            if suggestion == FINISHED:
                searcher_done = True
                break
            arch = str(suggestion["arch"])
            last_generation = suggestion.get("generation")
            batch.append((seq, trial_id, arch, space.key(space.from_native(arch)),
                          last_generation))
            seq += 1
        yield from repeat_rows()
        if batch:
            values = np.asarray(lookup([b[3] for b in batch]), dtype=np.float64)
            for (order, trial_id, arch, key, gen), vals in zip(batch, values, strict=True):
                cost = float(vals[2]) if has_time else math.nan
                if not (math.isfinite(cost) and cost >= 0):
                    cost = settings.sim_time_per_eval
                heapq.heappush(events, (now + cost, order, _Running(trial_id, arch, key, gen, vals)))
        if not events:
            return  # finished, budget spent, or a barrier with nothing left to wait for
        finish, _, done = heapq.heappop(events)
        if settings.sim_seconds is not None and finish > settings.sim_seconds:
            return
        now = finish
        seen[done.key] = done.values
        fitness = float(done.values[0])
        searcher.on_trial_complete(done.trial_id, {"fitness": fitness, "arch": done.arch})
        yield row(done.arch, done.key, done.values, False, done.generation)
        yield from repeat_rows()


def _local_lookup(keys: Sequence[str], values: np.ndarray, benchmark: str) -> Lookup:
    index = {key: i for i, key in enumerate(keys)}

    def lookup(batch: list[str]) -> np.ndarray:
        try:
            return values[[index[k] for k in batch]]
        except KeyError as err:
            from trainables.table import TableError

            raise TableError(f"{benchmark}: unknown architecture key {err.args[0]!r}") from None

    return lookup


def rows_to_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Row dicts -> a dict of column lists (compact to ship in a Tune result)."""
    names = list(dict.fromkeys(k for r in rows for k in r))
    return {name: [r.get(name) for r in rows] for name in names}


def columns_to_rows(columns: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    return [{name: columns[name][i] for name in names} for i in range(n)]


# ---------------------------------------------------------------------------- Tune wiring
def tabular_trainable(config: dict[str, Any]) -> None:
    """Tune function trainable: one simulated run; reports its rows in chunks."""
    from ray import tune

    from ednag.spaces import make_space
    from searchers.registry import make_searcher
    from trainables.table_actor import columns_actor, get_table_actor

    settings = RunSettings.from_dict(config["run"])
    space = make_space(settings.benchmark, settings.dataset)
    searcher = make_searcher(settings.optimizer, space, seed=settings.seed,
                             max_queries=settings.max_queries, metric="fitness", mode="max",
                             **settings.params)
    actor = get_table_actor(settings.table)
    refs = settings.metrics()
    # one actor call per run: the run's columns (n x 2-3 floats) and the keys, looked up
    # locally; a round trip per evaluation would cost more than random search itself
    keys, values = columns_actor(actor, settings.dataset, refs)
    lookup = _local_lookup(keys, values, settings.benchmark)

    chunk: list[dict[str, Any]] = []
    best = -math.inf
    queries = 0
    last = time.perf_counter()

    def report(done: bool) -> None:
        tune.report({"rows": rows_to_columns(chunk), "queries": queries,
                     "best_fitness": best if math.isfinite(best) else None, "done": done})

    for result in simulate(searcher, space, lookup, settings):
        chunk.append(result)
        queries = result["query_index"]
        if result["status"] == "ok":
            best = max(best, result["fitness"])
        if len(chunk) >= settings.chunk_rows or time.perf_counter() - last >= settings.chunk_seconds:
            report(False)
            chunk = []
            last = time.perf_counter()
    report(True)


def trial_dirname(trial: Any) -> str:
    """A short trial folder name: ``<optimizer>-seed<seed>``."""
    run = trial.config["run"]
    return f"{run['optimizer']}-seed{run['seed']}"


def _make_callback_class():
    from ray.tune import Callback

    class TabularRowsCallback(Callback):
        """Driver side: writes each reported chunk as a Parquet part; marks finished runs."""

        def __init__(self, writer: Any, progress: Any) -> None:
            self.writer = writer
            self.progress = progress

        def on_trial_result(self, iteration, trials, trial, result, **info):  # noqa: ARG002
            run = trial.config["run"]
            optimizer, seed = run["optimizer"], int(run["seed"])
            columns = result.get("rows") or {}
            self.writer.write_rows(optimizer, seed, columns_to_rows(columns))
            self.progress.update(optimizer, seed, result.get("queries", 0),
                                 result.get("best_fitness"))
            if result.get("done"):
                self.writer.mark_done(optimizer, seed, {"queries": result.get("queries"),
                                                        "best_fitness": result.get("best_fitness")})
                self.progress.finish(optimizer, seed, result.get("queries", 0),
                                     result.get("best_fitness"))

        def on_trial_error(self, iteration, trials, trial, **info):  # noqa: ARG002
            run = trial.config["run"]
            self.progress.fail(run["optimizer"], int(run["seed"]), "error")

    return TabularRowsCallback


def run_tabular(
    settings: Sequence[RunSettings], writer: Any, progress: Any, storage: Path, num_cpus: int
) -> list[str]:
    """Run every simulation as a Tune trial; returns error messages of failed runs."""
    import shutil

    from ray import tune

    if not settings:
        return []
    shutil.rmtree(storage / "tabular", ignore_errors=True)
    callback = _make_callback_class()(writer, progress)
    tuner = tune.Tuner(
        tune.with_resources(tabular_trainable, {"cpu": 1}),
        param_space={"run": tune.grid_search([s.to_dict() for s in settings])},
        tune_config=tune.TuneConfig(
            num_samples=1, max_concurrent_trials=max(1, min(num_cpus, len(settings))),
            reuse_actors=True, trial_dirname_creator=trial_dirname,
        ),
        run_config=tune.RunConfig(
            name="tabular", storage_path=str(storage), callbacks=[callback], verbose=0,
            failure_config=tune.FailureConfig(max_failures=0),
        ),
    )
    # without Tune's loggers the result grid cannot read per-trial metrics back: the rows are
    # in our Parquet parts, so its warning is noise
    quiet = logging.getLogger("ray.tune.analysis.experiment_analysis")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        grid = tuner.fit()
    finally:
        quiet.setLevel(level)
    errors = []
    for result in grid:
        if result.error is not None:
            run = result.config["run"] if result.config else {}
            errors.append(f"{run.get('optimizer')} seed {run.get('seed')}: {result.error}")
    return errors
