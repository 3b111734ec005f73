"""The searchers as a Tune ``search_alg``: budgets, concurrency, interrupt and restore."""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
from pathlib import Path

import pytest

pytest.importorskip("ray.tune")

from ray import tune  # noqa: E402

from ednag.spaces import make_space  # noqa: E402
from searchers.factory import make_searcher  # noqa: E402

pytestmark = pytest.mark.ray

SMALL = {"ednag": {"population_size": 6}, "regularized_evolution": {"population_size": 5}}


def fitness_of(arch: str) -> float:
    return int(hashlib.sha256(arch.encode()).hexdigest()[:8], 16) / 2**32


def make_trainable(log_dir: Path, sleep_s: float = 0.0):
    """A lookup trainable that logs each evaluation (arch, fitness, start, end) to a file.

    Self-contained (stdlib and ``tune`` only): Ray workers cannot import this test module."""
    log_dir = str(log_dir)

    def trainable(config):
        import hashlib
        import json
        import os
        import time

        from ray import tune

        start = time.time()
        if sleep_s:
            time.sleep(sleep_s)
        digest = hashlib.sha256(config["arch"].encode()).hexdigest()
        fitness = int(digest[:8], 16) / 2**32  # = fitness_of(arch)
        record = {"arch": config["arch"], "fitness": fitness, "start": start, "end": time.time()}
        with open(os.path.join(log_dir, f"{time.time_ns()}-{os.getpid()}.json"), "w") as f:
            json.dump(record, f)
        tune.report({"fitness": fitness})

    return tune.with_resources(trainable, {"cpu": 0.5})


def evaluations(log_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(log_dir.glob("*.json"))]


def run_tuner(searcher, trainable, storage: Path, callbacks=()):
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=searcher, num_samples=-1, max_concurrent_trials=4, reuse_actors=True
        ),
        run_config=tune.RunConfig(
            storage_path=str(storage), name="exp", verbose=0, callbacks=list(callbacks)
        ),
    )
    return tuner.fit()


def final_searcher(name, space, storage: Path, **kw):
    """The searcher as Tune last saved it (the newest searcher-state file)."""
    searcher = make_searcher(name, space, **kw)
    newest = max(glob.glob(str(storage / "exp" / "searcher-state-*.pkl")))
    searcher.restore(newest)
    return searcher


#: one of each kind through real Tune (an optimizer asking one generation, a Tune searcher, one
#: waiting on a batch of predictor picks); every optimizer's budget is counted without Tune by
#: test_optimizer_contract.py::test_budget_counts_distinct_architectures
THROUGH_TUNE = ("ednag", "optuna_tpe", "bananas")


@pytest.mark.parametrize("name", THROUGH_TUNE)
def test_tune_run_spends_exactly_the_budget(ray_session, tmp_path, name):
    space = make_space("nb201")
    kw = dict(seed=3, max_queries=10, **SMALL.get(name, {}))
    log = tmp_path / "log"
    log.mkdir()
    run_tuner(make_searcher(name, space, **kw), make_trainable(log), tmp_path)
    evals = evaluations(log)
    assert len(evals) == 10
    assert len({space.key(space.from_native(e["arch"])) for e in evals}) == 10
    searcher = final_searcher(name, space, tmp_path, **kw)
    assert searcher.num_queries == 10
    assert searcher.suggest("more") == "FINISHED"


def test_a_whole_generation_runs_concurrently(ray_session, tmp_path):
    space = make_space("nb201")
    log = tmp_path / "log"
    log.mkdir()
    searcher = make_searcher("ednag", space, seed=0, max_queries=8, population_size=8)
    # long enough that a busy machine still starts a second trial before the first ends
    run_tuner(searcher, make_trainable(log, sleep_s=0.8), tmp_path)
    evals = evaluations(log)
    assert len(evals) == 8
    # the most evaluations running at one instant (some evaluation's start)
    overlap = max(sum(o["start"] <= e["start"] < o["end"] for o in evals) for e in evals)
    assert 1 < overlap <= 4  # several trials at once, never more than max_concurrent_trials


class AbortOnce(tune.Callback):
    """Raise on the driver at the k-th trial result, the first time only (flag file)."""

    def __init__(self, at: int, flag: Path) -> None:
        self.at, self.flag, self.seen = at, str(flag), 0

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.seen += 1
        if self.seen == self.at and not os.path.exists(self.flag):
            Path(self.flag).touch()
            raise RuntimeError("abort the experiment mid-generation")


@pytest.mark.parametrize("resume_unfinished", [True, False])
def test_interrupted_run_restores_and_finishes_the_budget(
    ray_session, tmp_path, monkeypatch, caplog, resume_unfinished
):
    """Abort on the driver mid-generation, then ``Tuner.restore``. With
    ``resume_unfinished=False`` Tune drops the trials that were in flight: the searcher must
    hand their architectures out again (else the generation barrier would never lift)."""
    # checkpoint the experiment at every step, so that the abort loses as little as possible
    monkeypatch.setenv("TUNE_GLOBAL_CHECKPOINT_S", "0")
    space = make_space("nb201")
    kw = dict(seed=1, max_queries=16, population_size=6)
    log = tmp_path / "log"
    log.mkdir()
    trainable = make_trainable(log, sleep_s=0.05)
    abort = AbortOnce(at=8, flag=tmp_path / "aborted")
    with pytest.raises(Exception, match="abort the experiment"):
        run_tuner(make_searcher("ednag", space, **kw), trainable, tmp_path, [abort])
    before = evaluations(log)
    assert 8 <= len(before) < 16

    tuner = tune.Tuner.restore(
        str(tmp_path / "exp"), trainable, resume_unfinished=resume_unfinished,
        resume_errored=True,
    )
    with caplog.at_level(logging.INFO, logger="searchers.base"):
        tuner.fit()
    if not resume_unfinished:
        assert "re-suggesting" in caplog.text
    evals = evaluations(log)
    assert len({space.key(space.from_native(e["arch"])) for e in evals}) == 16
    searcher = final_searcher("ednag", space, tmp_path, **kw)
    assert searcher.num_queries == 16 and searcher.optimizer.finished
    for e in before:  # every result of the first session is known to the optimizer
        assert searcher.optimizer.lookup(space.from_native(e["arch"])) == e["fitness"]
