"""Trial mode: one Tune trial per architecture, the searcher as Tune's ``search_alg``.

Per (optimizer, seed) one ``Tuner`` runs the run's trainable (a registered one, by default
:func:`~trainables.lookup.lookup_trainable`) with ``max_concurrent_trials = workers``,
``reuse_actors=True`` and ``FailureConfig(max_failures)``: a trial whose worker dies is retried. The driver-side
:class:`TrialRowsCallback` turns every trial result (and error) into a row, adds the searcher's
free repeats (``drain_repeats()``), and writes the rows as a Parquet part at each of Tune's
experiment checkpoints (and at the end), so the rows on disk always match a saved checkpoint.

A multi-objective run's searcher is told an :class:`~ednag.pareto.Evaluation`: the ``lookup``
trainable reports the objectives, the violation and the rows' ``metric.<name>`` columns
(:mod:`trainables.objectives`); for a user's function the callback computes them from its
reported metrics and writes them into Tune's result, which is what the searcher is told when
the trial completes (a missing or NaN objective: a failed evaluation, an ``error`` row).

``--resume`` uses ``Tuner.restore``. Tune saves the searcher's and this callback's state in one
experiment checkpoint, staged in a scratch folder and copied to the experiment folder in the
background. A run that dies inside a step (an exception in Tune's loop) keeps the rows of its
last checkpoint: the callback copies the staged checkpoint itself and drops the rows that came
after it, whose trials Tune and the restored searcher redo. On restore the callback deletes any
part newer than the checkpoint it resumes from (a kill during Tune's background copy).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ray import tune
from ray.tune.callback import CallbackList
from ray.tune.execution.tune_controller import TuneController
from ray.tune.search import Searcher, SearchGenerator

from ednag.experiment.settings import TIME_COLUMN, RunSettings
from ednag.registry import Ref
from searchers.base import OBJECTIVES_KEY, VIOLATION_KEY
from searchers.factory import build_searcher
from trainables.objectives import (
    failed_result,
    measured,
    objective_result,
    reported_values,
    row_columns,
)

logger = logging.getLogger(__name__)

#: Tune's switch for its own SIGINT handler
TUNE_SIGINT = "TUNE_DISABLE_SIGINT_HANDLER"


@contextlib.contextmanager
def ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C stops ``ednag run`` instead of Tune's graceful stop, which returns from
    ``fit()`` as if the run had finished (it would then be marked done, and ``--resume`` would
    skip it). Tune's last periodic checkpoint and the rows written up to it are what
    ``--resume`` continues from."""
    before = os.environ.get(TUNE_SIGINT)
    os.environ[TUNE_SIGINT] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(TUNE_SIGINT, None)
        else:
            os.environ[TUNE_SIGINT] = before


class TrialRowsCallback(tune.Callback):
    """Driver side: one row per finished trial (and per free repeat) of one run."""

    #: inside Tune's step (between on_step_begin and on_step_end); a class default, so a
    #: callback pickled before it existed restores too
    _in_step = False

    def __init__(self, writer: Any, settings: RunSettings, searcher: Any, progress: Any) -> None:
        self.writer = writer
        self.settings = settings
        self.searcher = searcher
        self.progress = progress
        self._eval_index = 0
        self._seen: dict[str, tuple[float, float | None]] = {}  # key -> (reported, time)
        self._best: float | None = None
        self._parts: list[str] = []
        self._buffer: list[dict[str, Any]] = []
        self._wall_offset = 0.0
        self._start = time.monotonic()
        self._last_generation: int | None = None
        self._space: Any = None
        #: trial id -> its latest result (and per-epoch fitness) until it completes
        self._latest: dict[str, dict[str, Any]] = {}
        self._metrics = result_metrics(settings)
        #: a multi-objective run's row columns, and their values per arch_key (free repeats)
        self._column_names = row_columns(settings) if settings.objectives else ()
        self._columns: dict[str, dict[str, float]] = {}

    # ------------------------------------------------------------------ helpers
    @property
    def space(self) -> Any:
        if self._space is None:
            self._space = self.settings.make_space()
        return self._space

    def _row(self, arch: str, key: str, fitness: float, reported: float, train_time: float | None,
             repeat: bool, generation: int | None, status: str,
             extra: dict[str, float] | None = None) -> None:
        s = self.settings
        row = {
            "benchmark": s.benchmark, "dataset": s.dataset, "optimizer": s.optimizer,
            "seed": int(s.seed), "eval_index": self._eval_index, "query_index": len(self._seen),
            "arch": arch, "arch_key": key, "fitness": fitness, "reported": reported,
            "repeat": repeat, "generation": generation, "status": status, "sim_time_s": None,
            "wall_time_s": self._wall_offset + time.monotonic() - self._start,
        }
        if s.time is not None or train_time is not None:
            row[TIME_COLUMN] = train_time
        row.update(extra or {})
        self._eval_index += 1
        self._buffer.append(row)

    def _evaluated(self, trial: Any, result: dict[str, Any] | None, status: str) -> None:
        arch = str(trial.config.get("arch"))
        generation = trial.config.get("generation")
        self._last_generation = generation
        result = result or {}
        key = result.get("arch_key") or self.space.key(self.space.from_native(arch))
        if key in self._seen:
            # After Tuner.restore an in-flight architecture may be evaluated twice (Tune
            # re-runs its trial and the searcher re-issues it); the searcher keeps the first
            # result, and so do the rows: one query, one row.
            logger.info("ignoring a second result for %s (already counted)", arch)
            return
        fitness = _float(result.get("fitness"))
        reported = _float(result.get("reported"))
        train_time = result.get("train_time_s")
        self._seen[key] = (reported, train_time)
        ok = math.isfinite(fitness)
        columns: dict[str, float] = {}
        if self.settings.objectives:
            found = result if OBJECTIVES_KEY in result else failed_result(self.settings)
            ok = ok and measured(found)
            columns = self._columns[key] = {k: found.get(k) for k in self._column_names}
        if status == "ok" and ok and (self._best is None or fitness > self._best):
            self._best = fitness
        self._row(arch, key, fitness, reported, train_time, False, generation,
                  status if ok else "error", extra={**columns, **(result.get("_epochs") or {})})
        self.progress.update(self.settings.optimizer, self.settings.seed, len(self._seen),
                             self._best)

    def _drain(self) -> None:
        drain = getattr(self.searcher, "drain_repeats", None)
        if drain is None:
            return
        sign = self._metrics[2]  # the searcher gives the metric's own units: maximise them
        for arch, value in drain():
            key = self.space.key(self.space.from_native(arch))
            reported, train_time = self._seen.get(key, (math.nan, None))
            self._row(arch, key, sign * float(value), reported, train_time, True,
                      self._last_generation, "ok", extra=self._columns.get(key))

    def flush(self) -> None:
        """Write buffered rows (and the searcher's pending repeats) as one part."""
        self._drain()
        self._write()

    def _write(self) -> None:
        """Write buffered rows as one part."""
        if self._buffer:
            path = self.writer.write_rows(self.settings.optimizer, self.settings.seed,
                                          self._buffer)
            self._parts.append(path.name)
            self._buffer = []

    # ------------------------------------------------------------------ Tune hooks
    def on_trial_result(self, iteration, trials, trial, result, **info):  # noqa: ARG002
        """A trial may report once (a lookup) or every epoch (training): keep its latest
        result and its per-epoch fitness; the row is written when the trial completes."""
        fitness_key, reported_key, sign, epoch_key = self._metrics
        epochs = dict(self._latest.get(trial.trial_id, {}).get("_epochs", {}))
        fitness = sign * _float(result.get(fitness_key))
        if epoch_key in result:
            name = "valid_acc" if fitness_key == "fitness" else fitness_key
            epochs[f"metric.{name}_e{int(result[epoch_key])}"] = fitness
            epochs["metric.epochs"] = float(result[epoch_key])
        keep = {"fitness": fitness, "reported": result.get(reported_key),
                **{k: result.get(k) for k in ("train_time_s", "arch_key")}}
        if self.settings.objectives:
            if self.settings.extra.get("user_trainable"):
                # in place: Tune tells the searcher the trial's last result as changed here
                result.update(objective_result(self.settings,
                                               reported_values(self.settings, result)))
            keep.update((k, result.get(k))
                        for k in (OBJECTIVES_KEY, VIOLATION_KEY, *self._column_names))
        self._latest[trial.trial_id] = {**keep, "_epochs": epochs}

    def on_trial_complete(self, iteration, trials, trial, **info):  # noqa: ARG002
        self._evaluated(trial, self._latest.pop(trial.trial_id, None), "ok")
        self._drain()

    def on_trial_recover(self, iteration, trials, trial, **info):  # noqa: ARG002
        self.progress.note(f"{self.settings.optimizer} seed {self.settings.seed}: trial "
                           f"{trial.trial_id} ({trial.config.get('arch')}) failed, retrying")

    def on_trial_error(self, iteration, trials, trial, **info):  # noqa: ARG002
        latest = self._latest.pop(trial.trial_id, None)
        self._evaluated(trial, {"_epochs": (latest or {}).get("_epochs")}, "error")

    def on_step_begin(self, iteration, trials, **info):  # noqa: ARG002
        self._in_step = True

    def on_step_end(self, iteration, trials, **info):  # noqa: ARG002
        self._in_step = False
        self._drain()

    def on_experiment_end(self, trials, **info):  # noqa: ARG002
        if self._in_step:
            # Tune's loop raised inside a step: no final checkpoint follows. Keep the last one
            # (its rows are written) and leave the rows since to the resumed run, which redoes
            # their trials; its background copy may lag, so copy the checkpoint now.
            dropped, self._buffer = len(self._buffer), []
            # no trial yet: no row either, nothing to keep
            target = next((Path(t.storage.experiment_fs_path) for t in trials
                           if getattr(t, "storage", None) is not None), None)
            try:
                copied = copy_staged_checkpoint(getattr(self.searcher, "staged_dir", None),
                                                target)
            except OSError as err:  # never hide the error that ended the run
                copied = f"no ({err})"
            logger.info("run died inside a step: %d unsaved rows left to the resumed run, "
                        "staged checkpoint copied: %s", dropped, copied)
            return
        self.flush()
        self.progress.finish(self.settings.optimizer, self.settings.seed, len(self._seen),
                             self._best)

    # ------------------------------------------------------------------ checkpointing
    def get_state(self) -> dict[str, Any]:
        """Saved with the searcher's state in Tune's experiment checkpoint (saved just
        before): the buffered rows are written now, so the parts match it; the searcher's
        repeats not yet drained stay in it and are written once, after a restore too."""
        self._write()
        return {
            "eval_index": self._eval_index, "seen": dict(self._seen), "best": self._best,
            "columns": dict(self._columns),
            "parts": list(self._parts), "last_generation": self._last_generation,
            "latest": dict(self._latest),
            "wall": self._wall_offset + time.monotonic() - self._start,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Back to the checkpoint: drop the parts written after it (Tune redoes those trials)."""
        self._eval_index = state["eval_index"]
        self._seen = dict(state["seen"])
        self._columns = dict(state.get("columns", {}))
        self._best = state["best"]
        self._parts = list(state["parts"])
        self._last_generation = state["last_generation"]
        self._latest = dict(state.get("latest", {}))
        self._wall_offset = state["wall"]
        self._start = time.monotonic()
        self._buffer = []
        self.writer.clear_run(self.settings.optimizer, self.settings.seed, keep=self._parts)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_space"] = None
        return state


#: Tune's experiment checkpoint files, in the order they are copied (the state JSON, which a
#: resume looks for first, last)
CHECKPOINT_FILES = (Searcher.CKPT_FILE_TMPL, SearchGenerator.CKPT_FILE_TMPL,
                    CallbackList.CKPT_FILE_TMPL, TuneController.CKPT_FILE_TMPL)


def copy_staged_checkpoint(staged_dir: str | None, experiment_dir: Path | None) -> bool:
    """Copy Tune's staged experiment checkpoint (searcher, search generator and callback state,
    then the state JSON) into the experiment folder, each file atomically. False, copying
    nothing, when a folder is unknown or the checkpoint is incomplete: its callback state is
    older than its state JSON (the save failed half-way; Tune never publishes those)."""
    if not staged_dir or experiment_dir is None:
        return False
    source, target = Path(staged_dir), Path(experiment_dir)
    if not source.is_dir() or not target.is_dir() or source.resolve() == target.resolve():
        return False
    prefix, suffix = TuneController.CKPT_FILE_TMPL.split("{}")
    states = sorted(source.glob(f"{prefix}*{suffix}"))
    if not states:
        return False
    session = states[-1].name[len(prefix):-len(suffix)]  # the newest session's
    callbacks = source / CallbackList.CKPT_FILE_TMPL.format(session)
    if not callbacks.is_file() or callbacks.stat().st_mtime_ns < states[-1].stat().st_mtime_ns:
        return False
    for item in (source / name.format(session) for name in CHECKPOINT_FILES):
        if item.is_file():
            partial = target / f".{item.name}.copying"
            shutil.copyfile(item, partial)
            os.replace(partial, target / item.name)
    return True


def result_metrics(settings: RunSettings) -> tuple[str, str, float, str]:
    """(fitness key, reported key, sign, epoch key) of a run's trial results: the registered
    trainables report ``fitness``/``reported`` per ``epoch``; a user's function reports its
    own metrics (negated for ``fitness_mode: min``, so the rows' fitness is maximised) per
    ``training_iteration``."""
    if not settings.extra.get("user_trainable"):
        return "fitness", "reported", 1.0, "epoch"
    sign = -1.0 if settings.extra.get("fitness_mode") == "min" else 1.0
    return settings.fitness[0], settings.reported[0], sign, "training_iteration"


def _float(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def make_scheduler(spec: dict[str, Any] | None, metric: str = "fitness", mode: str = "max",
                   time_attr: str = "epoch"):
    """Tune's trial scheduler of a config's ``scheduler`` section (``None``: FIFO)."""
    if not spec:
        return None
    from ray.tune.schedulers import ASHAScheduler

    asha = spec["asha"]
    return ASHAScheduler(time_attr=time_attr, metric=metric, mode=mode, max_t=asha["max_t"],
                         grace_period=asha["grace_period"],
                         reduction_factor=asha["reduction_factor"])


def _trial_dirname(trial: Any) -> str:
    return trial.trial_id


def run_trials(
    todo: list[RunSettings], writer: Any, progress: Any, storage: Path, num_cpus: int,
    resume: bool = False,
) -> list[str]:
    """One ``Tuner`` per (optimizer, seed); returns error messages of failed runs."""
    # a trainable that reports no fitness metric is a failed evaluation (the worst fitness),
    # not a reason for Tune to abort the whole experiment
    os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
    errors: list[str] = []
    quiet = logging.getLogger("ray.tune.analysis.experiment_analysis")
    for s in todo:
        path = storage / f"trial-{s.optimizer}-seed{s.seed}"
        resources = s.extra.get("resources") or {"cpu": min(1.0, num_cpus / max(1, s.workers))}
        fixed: dict[str, Any] = {"run": s.to_dict()}
        metric, mode, time_attr = "fitness", "max", "epoch"
        if s.extra.get("user_trainable"):
            from trainables.user_function import load_user_function

            fixed["fn"] = load_user_function(s.extra["user_trainable"],
                                             s.extra.get("search_path", ()))
            metric, mode = s.fitness[0], s.extra.get("fitness_mode", "max")
            time_attr = "training_iteration"
        trainable = tune.with_resources(
            tune.with_parameters(Ref.parse(s.trainable_ref).load(), **fixed), resources)
        if resume and tune.Tuner.can_restore(str(path)):
            progress.note(f"{s.optimizer} seed {s.seed}: resuming from {path}")
            # errored trials stay errored (their rows are written, the searcher was told);
            # trials in flight at the kill are re-run by Tune or re-suggested by the searcher
            tuner = tune.Tuner.restore(str(path), trainable)
        else:
            shutil.rmtree(path, ignore_errors=True)
            writer.clear_run(s.optimizer, s.seed)
            searcher = build_searcher(s.optimizer_ref, s.optimizer_kind, s.make_space(),
                                      seed=s.seed, max_queries=s.max_queries, metric=metric,
                                      mode=mode, name=s.optimizer, **s.params)
            callback = TrialRowsCallback(writer, s, searcher, progress)
            tuner = tune.Tuner(
                trainable,
                tune_config=tune.TuneConfig(
                    search_alg=searcher, num_samples=-1, max_concurrent_trials=s.workers,
                    reuse_actors=True, trial_dirname_creator=_trial_dirname,
                    scheduler=make_scheduler(s.extra.get("scheduler"), metric, mode, time_attr),
                ),
                run_config=tune.RunConfig(
                    name=path.name, storage_path=str(storage), callbacks=[callback], verbose=0,
                    failure_config=tune.FailureConfig(
                        max_failures=int(s.extra.get("max_failures", 0))),
                ),
            )
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            with ctrl_c_raises():
                tuner.fit()
        except KeyboardInterrupt:
            progress.note(f"{s.optimizer} seed {s.seed}: interrupted, not finished; run the "
                          "same command with --resume to continue it")
            raise
        except Exception as err:  # noqa: BLE001 - reported per run, the others go on
            errors.append(f"{s.optimizer} seed {s.seed}: {err}")
            continue
        finally:
            quiet.setLevel(level)
        writer.mark_done(s.optimizer, s.seed, {"mode": "trial"})
    return errors
