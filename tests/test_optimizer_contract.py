"""The contract every registered optimizer keeps, parametrised over the registry (as Optuna does
for its samplers): a new optimizer gets these tests by registering.

- NaN, +-inf, a missing metric and a raised error (as Tune reports them to a searcher, and
  through real Tune for one optimizer of each kind) count as the worst fitness and never hang
  a generation;
- a space smaller than the budget runs out and ends the run cleanly;
- save/restore in the middle of a generation continues exactly as an uninterrupted run;
- snapshots are copies: continuing after a save never changes what was saved;
- budgets count distinct architectures; repeats are free and logged;
- the same seed gives the same sequence.
"""

from __future__ import annotations

import math
import pickle

import pytest

pytest.importorskip("ray")

from ray import tune  # noqa: E402
from toy import MergedToySpace, ToySpace, toy_fitness  # noqa: E402

from ednag.optimizers import WORST_FITNESS  # noqa: E402
from ednag.registry import OPTIMIZERS  # noqa: E402
from searchers.factory import make_searcher  # noqa: E402

NAMES = OPTIMIZERS.names()
SPACE = ToySpace()
ALL = list(SPACE.enumerate())


def _searcher(name: str, seed: int = 0, max_queries: int | None = 20):
    return make_searcher(name, SPACE, seed=seed, max_queries=max_queries, metric="fitness",
                         mode="max")


def _complete(searcher, trial_id: str, arch: str) -> None:
    searcher.on_trial_complete(trial_id, {"fitness": toy_fitness(SPACE.from_native(arch))})


def _drive(searcher, steps: int, pending: list[tuple[str, str]], counter: list[int],
           concurrency: int = 3, complete=_complete) -> list[str]:
    """Ask until ``concurrency`` trials are pending or the searcher waits, then ``complete``
    the oldest; ``steps`` times. Returns the suggested architectures in order."""
    seen = []
    for _ in range(steps):
        while len(pending) < concurrency:
            trial_id = f"t{counter[0]}"
            counter[0] += 1
            config = searcher.suggest(trial_id)
            if config is None or config == "FINISHED":
                break
            seen.append(config["arch"])
            pending.append((trial_id, config["arch"]))
        if not pending:
            break
        trial_id, arch = pending.pop(0)
        complete(searcher, trial_id, arch)
    return seen


def _run_to_end(searcher, concurrency: int = 3, complete=_complete) -> list[str]:
    return _drive(searcher, 10_000, [], [0], concurrency, complete)


# ---------------------------------------------------------------------------- budgets, seeds
@pytest.mark.parametrize("name", NAMES)
def test_budget_counts_distinct_architectures(name):
    searcher = _searcher(name, max_queries=20)
    suggested = _run_to_end(searcher)
    assert len(suggested) == len(set(suggested)) == 20  # each suggestion is a new query
    assert searcher.num_queries == 20
    assert searcher.suggest("after") == "FINISHED"
    for arch, value in searcher.drain_repeats():  # repeats are answered from the cache
        assert arch in suggested and value == toy_fitness(SPACE.from_native(arch))


@pytest.mark.parametrize("name", NAMES)
def test_architectures_that_share_a_key_are_one_query(name):
    """In a space whose key merges architectures (as isomorphic cells do), nothing is asked
    twice under one key, and the whole space (20 keys) can be spent."""
    space = MergedToySpace()
    searcher = make_searcher(name, space, seed=0, max_queries=20, metric="fitness",
                             mode="max")
    suggested = _run_to_end(searcher)
    keys = [space.key(space.from_native(a)) for a in suggested]
    assert len(keys) == len(set(keys)) <= 20
    if OPTIMIZERS.get(name).kind == "optimizer":
        assert len(keys) == 20


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_sequence(name):
    a = _run_to_end(_searcher(name, seed=7))
    b = _run_to_end(_searcher(name, seed=7))
    c = _run_to_end(_searcher(name, seed=8))
    assert a == b
    assert a != c


@pytest.mark.parametrize("name", NAMES)
def test_a_small_space_runs_out_cleanly(name):
    searcher = _searcher(name, max_queries=None)
    suggested = _run_to_end(searcher)
    assert len(suggested) == len(set(suggested)) <= len(ALL)
    assert searcher.suggest("after") == "FINISHED"
    if OPTIMIZERS.get(name).kind == "optimizer":  # ask/tell optimizers enumerate what is left
        assert len(suggested) == len(ALL)


# ---------------------------------------------------------------------------- save / restore
@pytest.mark.parametrize("name", NAMES)
def test_restore_mid_generation_continues_exactly(name, tmp_path):
    """Save with trials in flight, restore into a fresh searcher; once the in-flight trials
    report (under their old ids, as Tune re-runs them) the sequence is the uninterrupted one."""
    def finish(searcher, pending):
        for trial_id, arch in pending:
            searcher.on_trial_complete(trial_id,
                                       {"fitness": toy_fitness(SPACE.from_native(arch))})
        pending.clear()

    reference = _searcher(name, seed=3, max_queries=40)
    pending: list[tuple[str, str]] = []
    counter = [0]
    _drive(reference, 9, pending, counter)
    assert pending, "the save must happen with trials in flight"
    reference.save(str(tmp_path / "mid.pkl"))
    saved_pending, saved_counter = list(pending), [counter[0]]
    finish(reference, pending)
    expected = _drive(reference, 10_000, pending, counter)

    restored = _searcher(name, seed=99, max_queries=40)  # the state, not the seed, decides
    restored.restore(str(tmp_path / "mid.pkl"))
    finish(restored, saved_pending)
    assert _drive(restored, 10_000, [], saved_counter) == expected
    assert restored.num_queries == reference.num_queries == 40


@pytest.mark.parametrize("name", NAMES)
def test_snapshots_are_copies(name, tmp_path):
    searcher = _searcher(name, seed=5, max_queries=40)
    pending: list[tuple[str, str]] = []
    counter = [0]
    _drive(searcher, 7, pending, counter)
    path = tmp_path / "snap.pkl"
    searcher.save(str(path))
    saved = path.read_bytes()
    _drive(searcher, 10, pending, counter)  # the searcher goes on ...
    assert path.read_bytes() == saved  # ... the file is untouched
    optimizer = getattr(searcher, "optimizer", None)
    if optimizer is not None:  # ask/tell optimizers: state_dict() is a deep copy
        state = optimizer.state_dict()
        frozen = pickle.dumps({k: v for k, v in state.items() if k != "space"})
        optimizer.tell([(a, 1.0) for a in optimizer.ask()])
        _drive(searcher, 5, pending, counter)
        assert pickle.dumps({k: v for k, v in state.items() if k != "space"}) == frozen
    a, b = _searcher(name, max_queries=40), _searcher(name, max_queries=40)
    a.restore(str(path))
    b.restore(str(path))
    assert _drive(a, 6, [], [100]) == _drive(b, 6, [], [100])


# ---------------------------------------------------------------------------- failures in Tune
FAILURES = ("nan", "inf", "-inf", "missing", "raise")


def failure_kind(arch: str) -> str | None:
    """Which failure (if any) the toy trainable produces for ``arch``: one in three archs."""
    index = ALL.index(SPACE.from_native(arch))
    return FAILURES[index // 3 % len(FAILURES)] if index % 3 == 0 else None


def failing_result(arch: str) -> dict[str, float] | None:
    """What the toy trainable reports for ``arch`` (``None``: it raises)."""
    kind = failure_kind(arch)
    if kind == "raise":
        return None
    if kind == "missing":
        return {"other": 1.0}
    return {"fitness": {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(
        kind, toy_fitness(SPACE.from_native(arch)))}


def failing_trainable(config):
    result = failing_result(config["arch"])
    if result is None:
        raise RuntimeError("this architecture fails to train")
    tune.report(result)


#: optimizers whose failures also run through real Tune: one of each kind (an ask/tell
#: optimizer, a Tune searcher, a multi-objective optimizer); every optimizer is driven directly
#: with exactly the calls Tune makes (a Tune run costs seconds per optimizer on 2 cores)
THROUGH_TUNE = ("ednag", "optuna_tpe", "mo_ednag")


def _through_tune(searcher, tmp_path) -> list[str]:
    tuner = tune.Tuner(
        failing_trainable,
        tune_config=tune.TuneConfig(search_alg=searcher, num_samples=-1,
                                    max_concurrent_trials=3, reuse_actors=True),
        run_config=tune.RunConfig(storage_path=str(tmp_path), name="contract", verbose=0,
                                  failure_config=tune.FailureConfig(max_failures=0)),
    )
    return [r.config["arch"] for r in tuner.fit()]


def _report_as_tune_does(searcher, trial_id: str, arch: str) -> None:
    """Tune's call for a finished :func:`failing_trainable` trial: its result, or
    ``error=True`` if it raised."""
    result = failing_result(arch)
    if result is None:
        searcher.on_trial_complete(trial_id, None, error=True)
    else:
        searcher.on_trial_complete(trial_id, result)


@pytest.mark.parametrize(("name", "way"), [
    *[(name, "calls") for name in NAMES],
    *[pytest.param(name, "tune", marks=pytest.mark.ray) for name in THROUGH_TUNE]])
def test_failures_are_the_worst_fitness(name, way, request, tmp_path, monkeypatch):
    if way == "tune":
        request.getfixturevalue("ray_session")
        monkeypatch.setenv("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
    searcher = _searcher(name, seed=1, max_queries=18)
    archs = (_through_tune(searcher, tmp_path) if way == "tune"
             else _run_to_end(searcher, complete=_report_as_tune_does))
    assert len(archs) == len(set(archs)) == 18 == searcher.num_queries
    kinds = {failure_kind(a) for a in archs}
    assert kinds - {None}, "the run met no failure"
    for arch in archs:
        told = searcher.known_fitness(SPACE.from_native(arch))
        if failure_kind(arch) is None:
            assert told == toy_fitness(SPACE.from_native(arch))
        else:
            assert told == WORST_FITNESS, (arch, failure_kind(arch))
    if name == "optuna_tpe":  # failures reach Optuna as FAIL, not as a huge negative value
        import optuna

        study = searcher.inner._ot_study
        failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
        assert failed and all(t.value is None for t in failed)
        assert all(t.value > WORST_FITNESS for t in study.trials
                   if t.state == optuna.trial.TrialState.COMPLETE)
