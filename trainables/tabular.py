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

#: keys -> their (n, m) values: a float array, or n lists of m python floats
Lookup = Callable[[list[str]], "np.ndarray | list[list[float]]"]


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


#: the per-evaluation fields of a row, in the order :func:`simulate_tuples` yields them
#: (then ``TIME_COLUMN`` when the run has a time metric)
EVAL_FIELDS: tuple[str, ...] = (
    "eval_index", "query_index", "arch", "arch_key", "fitness", "reported", "repeat",
    "generation", "status", "sim_time_s", "wall_time_s",
)


def eval_fields(settings: RunSettings) -> tuple[str, ...]:
    """The names of the values in each tuple :func:`simulate_tuples` yields."""
    return EVAL_FIELDS + ((TIME_COLUMN,) if settings.time is not None else ())


def run_constants(settings: RunSettings) -> dict[str, Any]:
    """The columns that are the same in every row of a run."""
    return {"benchmark": settings.benchmark, "dataset": settings.dataset,
            "optimizer": settings.optimizer, "seed": int(settings.seed)}


def simulate(
    searcher: Any,
    space: SearchSpace,
    lookup: Lookup,
    settings: RunSettings,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[dict[str, Any]]:
    """Run one search on the simulated clock; yields one result row (dict) per evaluation.

    ``searcher`` follows the Ray Tune ``Searcher`` calls (``suggest`` returning
    ``{"arch": native, "generation": g}``, ``None`` or ``"FINISHED"``; ``on_trial_complete``);
    ``drain_repeats()`` rows (free repeats) are emitted where they occur. ``lookup(keys)``
    returns an (n, m) array of ``settings.metrics()`` values for n architecture keys.
    """
    base = run_constants(settings)
    names = eval_fields(settings)
    for values in simulate_tuples(searcher, space, lookup, settings, clock):
        row = dict(base)
        row.update(zip(names, values, strict=True))
        yield row


def simulate_tuples(
    searcher: Any,
    space: SearchSpace,
    lookup: Lookup,
    settings: RunSettings,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[tuple[Any, ...]]:
    """:func:`simulate` without the dicts: one tuple per evaluation with the values of
    :func:`eval_fields` (the run's constant columns are left out). Cheap to collect in
    chunks and transpose into columns."""
    start = clock()
    workers = settings.workers
    has_time = settings.time is not None
    max_queries = settings.max_queries
    sim_seconds = settings.sim_seconds
    isfinite = math.isfinite
    seen: dict[str, list[float]] = {}  # arch_key -> looked-up values (python floats)
    # (finish time, submission order, trial id, arch, key, generation, values); the order is
    # unique, so ties never compare the rest
    events: list[tuple[float, int, str, str, str, int | None, list[float]]] = []
    now = 0.0
    seq = 0
    eval_index = 0
    last_generation: int | None = None
    searcher_done = False
    drain = getattr(searcher, "drain_repeats", None)

    def row(arch: str, key: str, values: list[float], repeat: bool, generation: int | None,
            fitness: float) -> tuple[Any, ...]:
        nonlocal eval_index
        out = (eval_index, len(seen), arch, key, fitness, values[1], repeat, generation,
               "ok" if isfinite(fitness) else "error", now, clock() - start)
        eval_index += 1
        return out + (values[2],) if has_time else out

    def repeat_rows() -> Iterator[tuple[Any, ...]]:
        for arch, fitness in drain():
            key = space.key(space.from_native(arch))
            values = seen.get(key)
            if values is None:  # answered from a cache the harness never filled: look it up
                values = _float_rows(lookup([key]))[0]
            yield row(arch, key, values, True, last_generation, float(fitness))

    while True:
        # every free worker asks for work; one lookup for the whole round
        batch: list[tuple[int, str, str, str, int | None]] = []
        issued = len(seen) + len(events)
        while not searcher_done and len(events) + len(batch) < workers:
            if max_queries is not None and issued + len(batch) >= max_queries:
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
        if drain is not None:
            yield from repeat_rows()
        if batch:
            looked_up = _float_rows(lookup([b[3] for b in batch]))
            if len(looked_up) != len(batch):
                raise ValueError(f"lookup returned {len(looked_up)} rows for {len(batch)} keys")
            for (order, trial_id, arch, key, gen), vals in zip(batch, looked_up, strict=True):
                cost = vals[2] if has_time else math.nan
                if not (isfinite(cost) and cost >= 0):
                    cost = settings.sim_time_per_eval
                heapq.heappush(events, (now + cost, order, trial_id, arch, key, gen, vals))
        if not events:
            return  # finished, budget spent, or a barrier with nothing left to wait for
        finish, _, trial_id, arch, key, gen, vals = heapq.heappop(events)
        if sim_seconds is not None and finish > sim_seconds:
            return
        now = finish
        seen[key] = vals
        fitness = vals[0]
        searcher.on_trial_complete(trial_id, {"fitness": fitness, "arch": arch})
        yield row(arch, key, vals, False, gen, fitness)
        if drain is not None:
            yield from repeat_rows()


def _float_rows(looked_up: np.ndarray | list[list[float]]) -> list[list[float]]:
    """A lookup's answer as lists of python floats (a list of lists is taken as it is)."""
    if isinstance(looked_up, list) and (not looked_up or isinstance(looked_up[0], list)):
        return looked_up
    return np.asarray(looked_up, dtype=np.float64).tolist()


def _local_lookup(keys: Sequence[str], values: np.ndarray, benchmark: str) -> Lookup:
    """A lookup over a run's columns held in this process, as lists of python floats (what
    the rows hold), so an evaluation costs a dict look-up and no numpy call."""
    index = {key: i for i, key in enumerate(keys)}
    rows = np.asarray(values, dtype=np.float64).tolist()

    def lookup(batch: list[str]) -> list[list[float]]:
        try:
            return [rows[index[k]] for k in batch]
        except KeyError as err:
            from trainables.table import TableError

            raise TableError(f"{benchmark}: unknown architecture key {err.args[0]!r}") from None

    return lookup


def chunk_columns(chunk: Sequence[tuple[Any, ...]], names: Sequence[str],
                  constants: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Tuples of :func:`simulate_tuples` -> a dict of column lists (compact to ship in a
    Tune result; transposed in C, no per-row dicts)."""
    n = len(chunk)
    columns = {name: [value] * n for name, value in constants.items()}
    if n:
        columns.update(zip(names, map(list, zip(*chunk, strict=True)), strict=True))
    else:
        columns.update((name, []) for name in names)
    return columns


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

    names = eval_fields(settings)
    constants = run_constants(settings)
    i_query, i_fitness = names.index("query_index"), names.index("fitness")
    chunk: list[tuple[Any, ...]] = []
    best = -math.inf
    queries = 0
    chunk_rows, chunk_seconds = settings.chunk_rows, settings.chunk_seconds
    clock = time.perf_counter
    last = clock()

    def report(done: bool) -> None:
        nonlocal best, queries
        if chunk:
            queries = chunk[-1][i_query]
            fitness = np.fromiter((r[i_fitness] for r in chunk), np.float64, len(chunk))
            finite = fitness[np.isfinite(fitness)]  # status "ok" <=> finite fitness
            if finite.size:
                best = max(best, float(finite.max()))
        tune.report({"rows": chunk_columns(chunk, names, constants), "queries": queries,
                     "best_fitness": best if math.isfinite(best) else None, "done": done})

    for values in simulate_tuples(searcher, space, lookup, settings):
        chunk.append(values)
        if len(chunk) >= chunk_rows or clock() - last >= chunk_seconds:
            report(False)
            chunk = []
            last = clock()
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
            # popped: Tune keeps the result as the trial's last result and JSON-encodes it
            # into every experiment checkpoint (Tune lets callbacks change it in place)
            self.writer.write_columns(optimizer, seed, result.pop("rows", None) or {})
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
