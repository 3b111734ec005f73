"""Tabular mode on Ray Tune: one Tune trial per (optimizer, seed) runs a
:class:`~ednag.experiment.simulator.Simulation` against the ``BenchmarkTable`` actor.

The trial reports its rows in chunks; a chunk at least ``checkpoint_seconds`` after the last
checkpoint carries a new one (the simulator and the searcher, taken at the same point). A worker
that dies (a SIGKILL, a lost node) is retried by Tune (``FailureConfig(max_failures)``) from its
last checkpoint (or from the start); the simulation is deterministic, so it reproduces the rows
after that checkpoint and :class:`TabularRowsCallback` drops the ones it has already written (by
``eval_index``): the finished run has exactly the rows of an uninterrupted one.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ray import tune

from ednag.experiment.settings import RunSettings
from ednag.experiment.simulator import Simulation, chunk_columns, eval_fields, local_lookup
from searchers.factory import build_searcher
from trainables.table_actor import columns_actor, get_table_actor

logger = logging.getLogger(__name__)

CHECKPOINT_FILE = "simulation.pkl"


def _save_checkpoint(sim: Simulation, searcher: Any) -> tune.Checkpoint:
    folder = tempfile.mkdtemp(prefix="ednag-sim-")
    with open(os.path.join(folder, CHECKPOINT_FILE), "wb") as handle:
        pickle.dump({"simulation": sim.state_dict(), "searcher": searcher}, handle,
                    protocol=pickle.HIGHEST_PROTOCOL)
    return tune.Checkpoint.from_directory(folder)


def _load_checkpoint(checkpoint: tune.Checkpoint) -> dict[str, Any]:
    with checkpoint.as_directory() as folder, open(os.path.join(folder, CHECKPOINT_FILE),
                                                   "rb") as handle:
        return pickle.load(handle)


def tabular_trainable(config: dict[str, Any]) -> None:
    """Tune function trainable: one simulated run; reports its rows in checkpointed chunks."""
    settings = RunSettings.from_dict(config["run"])
    space = settings.make_space()
    searcher = build_searcher(settings.optimizer_ref, settings.optimizer_kind, space,
                              seed=settings.seed, max_queries=settings.max_queries,
                              metric="fitness", mode="max", name=settings.optimizer,
                              **settings.params)
    actor = get_table_actor(settings.table, run_id=settings.run_id)
    # one actor call per run: the run's columns (n x 2-3 floats) and the keys, looked up
    # locally; a round trip per evaluation would cost more than random search itself
    keys, values = columns_actor(actor, settings.dataset, settings.metrics())
    lookup = local_lookup(keys, values, settings.benchmark)
    sim = Simulation(searcher, space, lookup, settings)
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:  # a retry after the worker died: continue where it left off
        saved = _load_checkpoint(checkpoint)
        searcher = saved["searcher"]
        sim = Simulation(searcher, space, lookup, settings)
        sim.load_state_dict(saved["simulation"])

    names = eval_fields(settings)
    constants = settings.constants()
    i_query, i_fitness = names.index("query_index"), names.index("fitness")
    chunk: list[tuple[Any, ...]] = []
    # a retry continues the run: its best so far comes from what it had already looked up
    best = max((float(v[0]) for v in sim.seen.values() if math.isfinite(v[0])),
               default=-math.inf)
    queries = len(sim.seen)
    clock = time.perf_counter
    last = last_checkpoint = loop_start = clock()

    def report(done: bool) -> None:
        nonlocal best, queries, last_checkpoint
        if chunk:
            queries = chunk[-1][i_query]
            fitness = np.fromiter((r[i_fitness] for r in chunk), np.float64, len(chunk))
            finite = fitness[np.isfinite(fitness)]  # status "ok" <=> finite fitness
            if finite.size:
                best = max(best, float(finite.max()))
        metrics = {"rows": chunk_columns(chunk, names, constants), "queries": queries,
                   "best_fitness": best if math.isfinite(best) else None, "done": done}
        if done:
            # the search loop's own seconds (this attempt): Tune's per-trial start-up and the
            # table fetch are not in it
            metrics["loop_s"] = clock() - loop_start
            tune.report(metrics)
            return
        if clock() - last_checkpoint < settings.checkpoint_seconds:
            tune.report(metrics)
            return
        last_checkpoint = clock()
        ckpt = _save_checkpoint(sim, searcher)
        try:
            tune.report(metrics, checkpoint=ckpt)
        finally:
            shutil.rmtree(ckpt.path, ignore_errors=True)

    while not sim.done:
        chunk.extend(sim.step())
        if len(chunk) >= settings.chunk_rows or clock() - last >= settings.chunk_seconds:
            report(False)
            chunk = []
            last = clock()
    report(True)


def trial_dirname(trial: Any) -> str:
    """A short trial folder name: ``<optimizer>-seed<seed>``."""
    run = trial.config["run"]
    return f"{run['optimizer']}-seed{run['seed']}"


class TabularRowsCallback(tune.Callback):
    """Driver side: writes each reported chunk as a Parquet part; marks finished runs.

    Rows carry ``eval_index``; a retried trial restarts from its last checkpoint and may
    report rows this callback already wrote: those are dropped."""

    def __init__(self, writer: Any, progress: Any) -> None:
        self.writer = writer
        self.progress = progress
        self._written: dict[tuple[str, int], int] = {}  # run -> next eval_index to write

    def on_trial_result(self, iteration, trials, trial, result, **info):  # noqa: ARG002
        run = trial.config["run"]
        optimizer, seed = run["optimizer"], int(run["seed"])
        # popped: Tune keeps the result as the trial's last result and JSON-encodes it into
        # every experiment checkpoint (Tune lets callbacks change it in place)
        columns = result.pop("rows", None) or {}
        index = columns.get("eval_index") or []
        start = self._written.get((optimizer, seed), 0)
        if index and index[0] < start:  # a retry repeats rows written before it died
            keep = [i for i, e in enumerate(index) if e >= start]
            columns = {name: [values[i] for i in keep] for name, values in columns.items()}
            index = columns["eval_index"]
        if index:
            if index[0] != start:
                logger.error("%s seed %s: rows jump from eval_index %d to %d (a lost "
                             "checkpoint?)", optimizer, seed, start, index[0])
            self.writer.write_columns(optimizer, seed, columns)
            self._written[(optimizer, seed)] = index[-1] + 1
        self.progress.update(optimizer, seed, result.get("queries", 0),
                             result.get("best_fitness"))
        if result.get("done"):
            self.writer.mark_done(optimizer, seed, {"queries": result.get("queries"),
                                                    "best_fitness": result.get("best_fitness"),
                                                    "loop_s": result.get("loop_s")})
            self.progress.finish(optimizer, seed, result.get("queries", 0),
                                 result.get("best_fitness"))

    def on_trial_recover(self, iteration, trials, trial, **info):  # noqa: ARG002
        run = trial.config["run"]
        self.progress.note(f"{run['optimizer']} seed {run['seed']}: worker failed, retrying "
                           "from its last checkpoint")

    def on_trial_error(self, iteration, trials, trial, **info):  # noqa: ARG002
        run = trial.config["run"]
        self.progress.fail(run["optimizer"], int(run["seed"]), "error")


def run_tabular(
    settings: Sequence[RunSettings], writer: Any, progress: Any, storage: Path, num_cpus: int,
    max_failures: int = 2,
) -> list[str]:
    """Run every simulation as a Tune trial; returns error messages of failed runs."""
    if not settings:
        return []
    shutil.rmtree(storage / "tabular", ignore_errors=True)
    callback = TabularRowsCallback(writer, progress)
    tuner = tune.Tuner(
        tune.with_resources(tabular_trainable, {"cpu": 1}),
        param_space={"run": tune.grid_search([s.to_dict() for s in settings])},
        tune_config=tune.TuneConfig(
            num_samples=1, max_concurrent_trials=max(1, min(num_cpus, len(settings))),
            reuse_actors=True, trial_dirname_creator=trial_dirname,
        ),
        run_config=tune.RunConfig(
            name="tabular", storage_path=str(storage), callbacks=[callback], verbose=0,
            failure_config=tune.FailureConfig(max_failures=max_failures),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
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
