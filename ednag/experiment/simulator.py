"""The tabular simulator: a searcher replays a benchmark table on a simulated clock (no Ray).

``W`` simulated workers on an event queue, as in Syne Tune's simulator backend. Whenever a worker
is free the searcher's ``suggest`` is called; the suggestions of one round are looked up in one
batch; each evaluation finishes after the table's training time for its architecture (or
``sim_time_per_eval`` seconds when the table has no time metric, or the entry is missing);
results reach the searcher's ``on_trial_complete`` in simulated-completion order (ties:
submission order). ``None`` from ``suggest`` (a generation barrier) leaves the worker idle
until the next completion.

The run stops when ``max_queries`` distinct architectures have been evaluated, when the
searcher is finished, or at the first completion past ``sim_seconds`` (evaluations still
running then are dropped: every row has ``sim_time_s <= sim_seconds``). Everything is
deterministic given the seed: the same seed and ``W`` give the same rows.

:class:`Simulation` advances one round per :meth:`~Simulation.step`; between steps its state
(:meth:`~Simulation.state_dict`) and the searcher together are a checkpoint from which a
restarted worker continues with exactly the rows an uninterrupted run would have produced.
"""

from __future__ import annotations

import copy
import heapq
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ednag.experiment.settings import (
    TIME_COLUMN,
    VIOLATION_COLUMN,
    RunSettings,
    metric_column,
    objective_columns,
    objective_vector,
)
from ednag.spaces.base import SearchSpace
from ednag.tables.table import TableError

FINISHED = "FINISHED"  # ray.tune.search.Searcher.FINISHED

#: keys -> their (n, m) values: a float array, or n lists of m python floats
Lookup = Callable[[list[str]], "np.ndarray | list[list[float]]"]

#: the per-evaluation fields of a row, in the order :class:`Simulation` produces them
#: (then ``TIME_COLUMN`` when the run has a time metric)
EVAL_FIELDS: tuple[str, ...] = (
    "eval_index", "query_index", "arch", "arch_key", "fitness", "reported", "repeat",
    "generation", "status", "sim_time_s", "wall_time_s",
)


def eval_fields(settings: RunSettings) -> tuple[str, ...]:
    """The names of the values in each row tuple of a run (a multi-objective run adds one
    ``metric.<name>`` column per objective / constraint metric and ``metric.violation``)."""
    names = EVAL_FIELDS + ((TIME_COLUMN,) if settings.time is not None else ())
    if settings.objectives:
        names += tuple(metric_column(m, f) for m, f in settings.extra_metrics())
        names += (VIOLATION_COLUMN,)
    return names


class Simulation:
    """One search on the simulated clock, one round at a time (see the module docstring).

    ``searcher`` follows the Ray Tune ``Searcher`` calls (``suggest`` returning
    ``{"arch": native, "generation": g}``, ``None`` or ``"FINISHED"``; ``on_trial_complete``);
    its ``drain_repeats()`` rows (free repeats) are emitted where they occur. ``lookup(keys)``
    returns an (n, m) array of ``settings.metrics()`` values for n architecture keys.
    """

    _STATE = ("seen", "events", "now", "seq", "eval_index", "last_generation",
              "searcher_done", "done")

    def __init__(self, searcher: Any, space: SearchSpace, lookup: Lookup,
                 settings: RunSettings, clock: Callable[[], float] = time.perf_counter) -> None:
        self.searcher = searcher
        self.space = space
        self.lookup = lookup
        self.settings = settings
        self.clock = clock
        self.seen: dict[str, list[float]] = {}  # arch_key -> looked-up values
        # (finish time, submission order, trial id, arch, key, generation, values); the order
        # is unique, so ties never compare the rest
        self.events: list[tuple[float, int, str, str, str, int | None, list[float]]] = []
        self.now = 0.0
        self.seq = 0
        self.eval_index = 0
        self.last_generation: int | None = None
        self.searcher_done = False
        self.done = False
        self._wall_offset = 0.0
        self._start = clock()
        self._has_time = settings.time is not None
        self._drain = getattr(searcher, "drain_repeats", None)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """A copy of the simulator's state between two steps (the searcher is saved apart)."""
        state = {name: copy.deepcopy(getattr(self, name)) for name in self._STATE}
        state["wall"] = self._wall()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for name in self._STATE:
            setattr(self, name, copy.deepcopy(state[name]))
        self._wall_offset = float(state["wall"])
        self._start = self.clock()

    def _wall(self) -> float:
        return self._wall_offset + self.clock() - self._start

    # ------------------------------------------------------------------ rows
    def _row(self, arch: str, key: str, values: list[float], repeat: bool,
             generation: int | None, fitness: float) -> tuple[Any, ...]:
        out = (self.eval_index, len(self.seen), arch, key, fitness, values[1], repeat,
               generation, "ok" if math.isfinite(fitness) else "error", self.now, self._wall())
        self.eval_index += 1
        out = out + (values[2],) if self._has_time else out
        if self.settings.objectives:
            out += tuple(objective_columns(self.settings, values).values())
        return out

    def _repeat_rows(self) -> list[tuple[Any, ...]]:
        if self._drain is None:
            return []
        rows = []
        for arch, fitness in self._drain():
            key = self.space.key(self.space.from_native(arch))
            values = self.seen.get(key)
            if values is None:  # answered from a cache the harness never filled: look it up
                values = float_rows(self.lookup([key]))[0]
            rows.append(self._row(arch, key, values, True, self.last_generation, float(fitness)))
        return rows

    # ------------------------------------------------------------------ one round
    def step(self) -> list[tuple[Any, ...]]:
        """Free workers ask (one lookup for the round), then the next evaluation completes.
        Returns the rows of this round (values of :func:`eval_fields`); sets :attr:`done`."""
        if self.done:
            return []
        settings = self.settings
        max_queries = settings.max_queries
        batch: list[tuple[int, str, str, str, int | None]] = []
        issued = len(self.seen) + len(self.events)
        while not self.searcher_done and len(self.events) + len(batch) < settings.workers:
            if max_queries is not None and issued + len(batch) >= max_queries:
                break
            trial_id = f"t{self.seq:07d}"
            suggestion = self.searcher.suggest(trial_id)
            if suggestion is None:
                break
            if suggestion == FINISHED:
                self.searcher_done = True
                break
            arch = str(suggestion["arch"])
            self.last_generation = suggestion.get("generation")
            batch.append((self.seq, trial_id, arch, self.space.key(self.space.from_native(arch)),
                          self.last_generation))
            self.seq += 1
        rows = self._repeat_rows()
        if batch:
            looked_up = float_rows(self.lookup([b[3] for b in batch]))
            if len(looked_up) != len(batch):
                raise ValueError(f"lookup returned {len(looked_up)} rows for {len(batch)} keys")
            for (order, trial_id, arch, key, gen), vals in zip(batch, looked_up, strict=True):
                cost = vals[2] if self._has_time else math.nan
                if not (math.isfinite(cost) and cost >= 0):
                    cost = settings.sim_time_per_eval
                heapq.heappush(self.events, (self.now + cost, order, trial_id, arch, key, gen,
                                             vals))
        if not self.events:
            self.done = True  # finished, budget spent, or a barrier with nothing to wait for
            return rows
        finish, _, trial_id, arch, key, gen, vals = heapq.heappop(self.events)
        if settings.sim_seconds is not None and finish > settings.sim_seconds:
            self.done = True
            return rows
        self.now = finish
        self.seen[key] = vals
        fitness = vals[0]
        result: dict[str, Any] = {"fitness": fitness, "arch": arch}
        if settings.objectives:
            result["objectives"], result["violation"] = objective_vector(settings, vals)
        self.searcher.on_trial_complete(trial_id, result)
        rows.append(self._row(arch, key, vals, False, gen, fitness))
        rows.extend(self._repeat_rows())
        return rows

    def run(self) -> Iterator[tuple[Any, ...]]:
        """Every remaining row, step by step."""
        while not self.done:
            yield from self.step()


def simulate(searcher: Any, space: SearchSpace, lookup: Lookup, settings: RunSettings,
             clock: Callable[[], float] = time.perf_counter) -> Iterator[dict[str, Any]]:
    """A whole simulated run as row dicts (the run's constant columns included)."""
    base = settings.constants()
    names = eval_fields(settings)
    for values in Simulation(searcher, space, lookup, settings, clock).run():
        row = dict(base)
        row.update(zip(names, values, strict=True))
        yield row


def float_rows(looked_up: np.ndarray | list[list[float]]) -> list[list[float]]:
    """A lookup's answer as lists of python floats (a list of lists is taken as it is)."""
    if isinstance(looked_up, list) and (not looked_up or isinstance(looked_up[0], list)):
        return looked_up
    return np.asarray(looked_up, dtype=np.float64).tolist()


def local_lookup(keys: Sequence[str], values: np.ndarray, benchmark: str) -> Lookup:
    """A lookup over a run's columns held in this process, as lists of python floats (what
    the rows hold), so an evaluation costs a dict look-up and no numpy call."""
    index = {key: i for i, key in enumerate(keys)}
    rows = np.asarray(values, dtype=np.float64).tolist()

    def lookup(batch: list[str]) -> list[list[float]]:
        try:
            return [rows[index[k]] for k in batch]
        except KeyError as err:
            raise TableError(f"{benchmark}: unknown architecture key {err.args[0]!r}") from None

    return lookup


def chunk_columns(chunk: Sequence[tuple[Any, ...]], names: Sequence[str],
                  constants: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Row tuples -> a dict of column lists (compact to ship in a Tune result; transposed in
    C, no per-row dicts)."""
    n = len(chunk)
    columns = {name: [value] * n for name, value in constants.items()}
    if n:
        columns.update(zip(names, map(list, zip(*chunk, strict=True)), strict=True))
    else:
        columns.update((name, []) for name in names)
    return columns
