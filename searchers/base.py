"""Bookkeeping shared by every architecture searcher: trials in flight, fitness, save/restore.

A subclass only decides *what* to evaluate next (:meth:`ArchSearcher._propose`), whether an
architecture still waits for its result (:meth:`ArchSearcher._is_outstanding`) and what to do
with a result (:meth:`ArchSearcher._tell`). This base class turns that into the Ray Tune
``Searcher`` contract:

* ``suggest`` returns ``{"arch": native, "generation": int | None}``, ``None`` ("not now", e.g.
  at a generation barrier or when ``max_concurrent`` trials are live) or ``Searcher.FINISHED``;
* ``on_trial_complete`` turns a Tune result into a fitness (maximised): an errored trial, a
  missing or non-finite metric counts as :data:`WORST_FITNESS`, so a failure never stalls a run;
  ``mode="min"`` negates the metric;
* ``save``/``restore`` pickle the whole state atomically (temp file + ``os.replace``).

Restores. Tune saves the experiment state and the searcher state together, then re-runs the
trials that were unfinished *under their old trial ids* -- unless they were lost: trials stopped
by an aborted experiment are stored as finished and never re-run, and
``resume_unfinished=False`` skips them. A restored searcher therefore keeps the trials that were
in flight as *orphans*: a result under an orphan's id is accepted as usual, and whenever the
searcher would otherwise have to wait (``_propose`` returns ``None``), it hands an orphan's
architecture out again under the new trial id. Whichever copy reports first is told; the other is
ignored. No handed-out architecture is lost and none is counted twice (one query = one distinct
architecture); at worst an architecture Tune was re-running anyway is evaluated twice.
"""

from __future__ import annotations

import logging
import math
import pickle
from abc import abstractmethod
from collections.abc import Mapping
from numbers import Real
from typing import Any

from ray.tune.search import Searcher
from ray.tune.search.sample import Domain

from ednag.atomic import atomic_pickle
from ednag.optimizers.base import WORST_FITNESS
from ednag.pareto import Evaluation
from ednag.spaces.base import Choices, SearchSpace
from searchers.trial_book import TrialBook

logger = logging.getLogger(__name__)

MODES = ("max", "min")

#: what ``_propose`` returns to say "the search is over"
FINISHED = Searcher.FINISHED


def fitness_from_result(
    result: dict[str, Any] | None, error: bool, metric: str, mode: str
) -> float:
    """The maximised fitness of a finished trial: the metric (negated for ``mode="min"``), or
    :data:`WORST_FITNESS` for an errored trial or a missing, non-numeric or non-finite metric."""
    if error or not result:
        return WORST_FITNESS
    value = result.get(metric)
    if isinstance(value, bool) or not isinstance(value, Real):
        return WORST_FITNESS
    value = float(value)
    if not math.isfinite(value):
        return WORST_FITNESS
    return value if mode == "max" else -value


#: keys of a multi-objective result: the objectives, already in the maximise orientation, and
#: the total constraint violation (>= 0; 0 = feasible)
OBJECTIVES_KEY = "objectives"
VIOLATION_KEY = "violation"


def evaluation_from_result(result: dict[str, Any]) -> Evaluation:
    """The :class:`~ednag.pareto.Evaluation` of a multi-objective result (``failed`` when an
    objective is missing, non-numeric or non-finite)."""
    values = result.get(OBJECTIVES_KEY)
    violation = result.get(VIOLATION_KEY, 0.0)
    try:
        objs = tuple(float(v) for v in values)
        violation = float(violation)
    except (TypeError, ValueError):
        return Evaluation((), math.inf, failed=True)
    if not objs or not all(math.isfinite(v) for v in objs) or math.isnan(violation):
        return Evaluation((), math.inf, failed=True)
    return Evaluation(objs, max(0.0, violation))


def metric_value(fitness: float, mode: str) -> float:
    """The metric value that :func:`fitness_from_result` maps to ``fitness``."""
    return fitness if mode == "max" else -fitness


def holds_domain(value: Any) -> bool:
    """Whether a (nested) Tune config holds a search domain (``tune.choice``, ...)."""
    if isinstance(value, Domain):
        return True
    if isinstance(value, Mapping):
        return any(holds_domain(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(holds_domain(v) for v in value)
    return False


def check_metric_mode(metric: str | None, mode: str | None) -> None:
    if metric is not None and (not isinstance(metric, str) or not metric):
        raise ValueError(f"metric must be a non-empty string, got {metric!r}")
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")


class StagedSearcher(Searcher):
    """The checkpointing shared by this package's searchers: an atomic pickle of the state
    (``save``/``restore``, keeping the ``max_concurrent`` Tune set in this session; trials in
    flight at save time become orphans), states pickled by earlier releases brought up to date
    (:meth:`_upgrade`), and the folder Tune staged its experiment checkpoint in.

    Tune writes the experiment checkpoint (trial states, searcher, callbacks) to a staging
    folder and copies it to the experiment folder in the background; a run that dies between
    the two would resume from an older checkpoint than the rows written for the newer one.
    ``trainables.trial_runner`` copies the staged checkpoint itself then."""

    #: the folder of the last checkpoint saved or restored in this session
    staged_dir: str | None = None
    _max_concurrent: int | None = None

    def _state(self) -> dict[str, Any]:
        """Everything to pickle (subclasses may replace entries with smaller forms)."""
        return dict(self.__dict__)

    def _load_state(self, state: dict[str, Any]) -> None:
        self.__setstate__(state)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Tuner.restore unpickles the searcher itself, which may predate this release
        self.__dict__.update(self._upgrade(state))

    @staticmethod
    def _upgrade(state: dict[str, Any]) -> dict[str, Any]:
        """A state pickled by an earlier release, brought up to date (unchanged here)."""
        return state

    def orphan_live_trials(self) -> None:
        """After a restore: the trials in flight at save time become orphans."""

    def save(self, checkpoint_path: str) -> None:
        atomic_pickle({"class": type(self).__name__, "state": self._state()}, checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as handle:
            saved = pickle.load(handle)
        if not isinstance(saved, dict) or saved.get("class") != type(self).__name__:
            found = saved.get("class") if isinstance(saved, dict) else type(saved).__name__
            raise ValueError(
                f"{checkpoint_path} holds a {found!r} state, not a {type(self).__name__!r} one"
            )
        keep_concurrency = self._max_concurrent
        self._load_state(saved["state"])
        if keep_concurrency is not None:
            self.set_max_concurrency(keep_concurrency)
        self.orphan_live_trials()

    def save_to_dir(self, checkpoint_dir: str, session_str: str = "default") -> None:
        super().save_to_dir(checkpoint_dir, session_str)
        self.staged_dir = checkpoint_dir

    def restore_from_dir(self, checkpoint_dir: str) -> None:
        super().restore_from_dir(checkpoint_dir)
        self.staged_dir = checkpoint_dir  # this session's staging folder (not the saved one)


class ArchSearcher(StagedSearcher):
    """Base class of the searchers in this package (see the module docstring)."""

    def __init__(
        self,
        space: SearchSpace,
        *,
        metric: str | None = None,
        mode: str | None = None,
        max_concurrent: int | None = None,
    ) -> None:
        check_metric_mode(metric, mode)
        super().__init__(metric=metric, mode=mode)
        self.space = space
        self._max_concurrent: int | None = None
        if max_concurrent is not None:
            self.set_max_concurrency(max_concurrent)
        #: trial id -> architecture: live, orphaned by a restore, or handed out again
        self._trials: TrialBook[Choices] = TrialBook()
        #: free repeats since the last drain: (native, metric value)
        self._repeats: list[tuple[str, float]] = []

    # ------------------------------------------------------------------ Tune properties
    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict, **spec: Any
    ) -> bool:
        """Take ``metric``/``mode`` from ``TuneConfig`` where the constructor left them unset;
        a value that contradicts the constructor's is an error (never a silent flip)."""
        check_metric_mode(metric, mode)
        for name, given in (("metric", metric), ("mode", mode)):
            own = getattr(self, f"_{name}")
            if given is not None and own is not None and given != own:
                raise ValueError(
                    f"{type(self).__name__} was built with {name}={own!r}, but TuneConfig "
                    f"asks for {name}={given!r}; pass the same {name} to both (or to one)"
                )
        self._metric = self._metric or metric
        self._mode = self._mode or mode
        # False when the param_space holds search domains: this searcher searches its own
        # space, so Tune refuses them ("unresolved parameters") instead of leaving them unset
        return not holds_domain(config)

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        """Limit the trials handed out and not yet completed (Tune's ``max_concurrent_trials``
        reaches here through ``ConcurrencyLimiter``, which then defers to this searcher)."""
        if isinstance(max_concurrent, bool) or not isinstance(max_concurrent, int):
            raise ValueError(f"max_concurrent must be a positive int, got {max_concurrent!r}")
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be a positive int, got {max_concurrent!r}")
        self._max_concurrent = max_concurrent
        return True

    # ------------------------------------------------------------------ suggest / complete
    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:
        if self._metric is None or self._mode is None:
            raise RuntimeError(
                f"{type(self).__name__} has no metric/mode: pass metric= and mode= to it or "
                "to tune.TuneConfig (metric='fitness', mode='max')"
            )
        if self._max_concurrent is not None and len(self._trials) >= self._max_concurrent:
            return None
        proposal = self._propose()
        if proposal is None:
            proposal = self._reissue_orphan()
            if proposal is None:
                return None
        if proposal == FINISHED:
            return FINISHED
        choices, generation = proposal
        self._trials.hand_out(trial_id, choices)
        return {"arch": self.space.to_native(choices), "generation": generation}

    def _reissue_orphan(self) -> tuple[Choices, int | None] | None:
        """Hand out again an architecture whose trial a restore may have lost (its old trial
        id still counts if Tune does re-run that trial)."""
        orphan = self._trials.take_orphan(self._is_outstanding)
        if orphan is None:
            return None
        old_id, choices = orphan
        logger.info("re-suggesting %s (trial %s was in flight when the searcher was saved)",
                    self.space.to_native(choices), old_id)
        return choices, self._generation_of(choices)

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        """A trial in flight at save time that reports after a restore is live again: it
        counts against ``max_concurrent`` and is not handed out a second time."""
        self._trials.revive(trial_id)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        choices = self._trials.complete(trial_id)
        if choices is None:
            logger.debug("ignoring completion of unknown or already told trial %s", trial_id)
            return
        if not self._is_outstanding(choices):
            logger.debug("ignoring a second result for %s", self.space.to_native(choices))
            return
        fitness: Any = fitness_from_result(result, error, self._metric or "",
                                           self._mode or "max")
        if not error and result and OBJECTIVES_KEY in result and self._multi_objective:
            fitness = evaluation_from_result(result)
        self._tell(choices, fitness)

    #: whether ``_tell`` takes an Evaluation for a result with ``objectives``
    _multi_objective = False

    def drain_repeats(self) -> list[tuple[str, float]]:
        """Architectures answered from the cache since the last call: ``(native, value)``, the
        value in the metric's own units (negated back for ``mode="min"``)."""
        out, self._repeats = self._repeats, []
        return out

    def _log_repeat(self, choices: Choices, fitness: float) -> None:
        self._repeats.append(
            (self.space.to_native(choices), metric_value(fitness, self._mode or "max"))
        )

    @property
    def num_live(self) -> int:
        """Trials handed out in this session and not yet completed."""
        return len(self._trials)

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def _propose(self) -> tuple[Choices, int | None] | str | None:
        """The next ``(architecture, generation)`` to evaluate, ``None`` to wait, or
        :data:`FINISHED`. The architecture is outstanding until :meth:`_tell`."""

    @abstractmethod
    def _is_outstanding(self, choices: Choices) -> bool:
        """Whether ``choices`` was proposed and still waits for its result."""

    @abstractmethod
    def _tell(self, choices: Choices, fitness: float) -> None:
        """The maximised fitness of an outstanding architecture."""

    def _generation_of(self, choices: Choices) -> int | None:
        """The generation an outstanding architecture belongs to (for re-suggestions)."""
        return None

    # ------------------------------------------------------------------ save / restore
    @staticmethod
    def _upgrade(state: dict[str, Any]) -> dict[str, Any]:
        """A state pickled before :class:`TrialBook` held three dicts of trials."""
        return TrialBook.upgrade(state, "_trials", "_live", "_orphans", "_stale")

    def orphan_live_trials(self) -> None:
        """After a restore: trials in flight at save time may or may not be re-run by Tune
        (see the module docstring), so they become orphans."""
        self._trials.orphan_all()
