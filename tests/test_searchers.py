"""The searcher adapters driven by hand (no Ray runtime): suggest / complete / save / restore."""

from __future__ import annotations

import hashlib
import logging
import math
import os
import pickle

import pytest

pytest.importorskip("ray.tune")

from ray.tune.search import Searcher  # noqa: E402

from ednag.optimizers import WORST_FITNESS, RandomSearch, RegularizedEvolution  # noqa: E402
from ednag.registry import OPTIMIZERS, single_objective_optimizers  # noqa: E402
from ednag.spaces import make_space  # noqa: E402
from searchers.ask_tell import AskTellSearcher  # noqa: E402
from searchers.dedupe import INNER_METRIC, DedupeSearcher  # noqa: E402
from searchers.factory import make_searcher  # noqa: E402
from searchers.optuna_tpe import make_optuna_tpe  # noqa: E402

FINISHED = Searcher.FINISHED
SMALL = {"ednag": {"population_size": 6}, "regularized_evolution": {"population_size": 5}}


def fitness_of(arch: str) -> float:
    """A deterministic synthetic fitness in [0, 1)."""
    return int(hashlib.sha256(arch.encode()).hexdigest()[:8], 16) / 2**32


def ednag(max_queries=30, seed=0, **kw):
    return make_searcher("ednag", make_space("nb201"), seed=seed, max_queries=max_queries,
                         population_size=6, **kw)


def run_to_end(searcher, limit=10_000):
    """Suggest and complete one trial at a time; returns the suggested archs in order."""
    archs = []
    for i in range(limit):
        config = searcher.suggest(f"t{i}")
        if config == FINISHED:
            return archs
        assert config is not None, "one trial at a time never hits a barrier"
        archs.append(config["arch"])
        searcher.on_trial_complete(f"t{i}", {"fitness": fitness_of(config["arch"])})
    raise AssertionError("no FINISHED")


# ---------------------------------------------------------------------- AskTellSearcher
@pytest.mark.parametrize("name", single_objective_optimizers())
def test_every_searcher_spends_exactly_its_budget(name):
    space = make_space("nb201")
    searcher = make_searcher(name, space, seed=1, max_queries=14, **SMALL.get(name, {}))
    archs = run_to_end(searcher)
    assert len(archs) == 14
    assert len({space.key(space.from_native(a)) for a in archs}) == 14
    assert searcher.suggest("after") == FINISHED
    assert searcher.num_queries == 14


def test_configs_carry_arch_and_generation():
    searcher = ednag()
    config = searcher.suggest("a")
    assert set(config) == {"arch", "generation"}
    make_space("nb201").from_native(config["arch"])  # a real NB201 string
    assert config["generation"] == 0
    rea = make_searcher("regularized_evolution", make_space("nb201"), seed=0, max_queries=3)
    assert rea.suggest("a")["generation"] is None


def test_generation_barrier_returns_none_until_all_results_are_in():
    searcher = ednag(max_queries=40)
    first = []
    while True:
        config = searcher.suggest(f"g0-{len(first)}")
        if config is None:
            break
        first.append(config)
    assert 1 < len(first) <= 6 and {c["generation"] for c in first} == {0}
    for i, config in enumerate(first[:-1]):
        searcher.on_trial_complete(f"g0-{i}", {"fitness": fitness_of(config["arch"])})
        assert searcher.suggest(f"wait-{i}") is None  # still one result missing
    searcher.on_trial_complete(f"g0-{len(first) - 1}", {"fitness": 0.5})
    nxt = searcher.suggest("g1-0")
    assert nxt is not None and nxt != FINISHED and nxt["generation"] >= 1


def test_finished_after_budget_and_none_while_last_results_pending():
    searcher = make_searcher("random", make_space("nb201"), seed=0, max_queries=3)
    configs = [searcher.suggest(f"t{i}") for i in range(3)]
    assert all(isinstance(c, dict) for c in configs)
    assert searcher.suggest("t3") is None  # budget handed out, results pending
    for i in range(3):
        searcher.on_trial_complete(f"t{i}", {"fitness": 0.1})
    assert searcher.suggest("t4") == FINISHED
    assert searcher.suggest("t5") == FINISHED


@pytest.mark.parametrize(
    "result, error",
    [(None, True), ({"fitness": 0.9}, True), ({}, False), ({"fitness": math.nan}, False),
     ({"fitness": "0.3"}, False), ({"fitness": math.inf}, False), ({"other": 1.0}, False),
     (None, False)],
)
def test_failed_trials_count_as_worst_fitness(result, error):
    searcher = make_searcher("random", make_space("nb201"), seed=0, max_queries=2)
    config = searcher.suggest("t0")
    searcher.on_trial_complete("t0", result=result, error=error)
    choices = make_space("nb201").from_native(config["arch"])
    assert searcher.optimizer.lookup(choices) == WORST_FITNESS
    assert searcher.suggest("t1") is not None  # the run goes on


def test_mode_min_negates_for_the_optimizer_and_back_for_repeats():
    space = make_space("nb201")
    searcher = AskTellSearcher(RandomSearch(space, seed=0, max_queries=2), metric="loss",
                               mode="min")
    config = searcher.suggest("t0")
    searcher.on_trial_complete("t0", {"loss": 0.25})
    choices = space.from_native(config["arch"])
    assert searcher.optimizer.lookup(choices) == -0.25
    searcher.optimizer._record_repeat(choices, -0.25)
    assert searcher.drain_repeats() == [(config["arch"], 0.25)]
    assert searcher.drain_repeats() == []


def test_metric_and_mode_from_tune_config():
    space = make_space("nb201")
    searcher = AskTellSearcher(RandomSearch(space, seed=0, max_queries=2))
    with pytest.raises(RuntimeError, match="metric"):
        searcher.suggest("t0")
    assert searcher.set_search_properties("acc", "max", {}) is True
    assert (searcher.metric, searcher.mode) == ("acc", "max")
    searcher.suggest("t0")
    searcher.on_trial_complete("t0", {"acc": 0.7})
    assert searcher.optimizer.best()[1] == 0.7
    with pytest.raises(ValueError, match="mode='max'.*mode='min'"):
        searcher.set_search_properties(None, "min", {})
    with pytest.raises(ValueError, match="mode must be one of max, min"):
        AskTellSearcher(RandomSearch(space), metric="acc", mode="maximise")


def test_max_concurrent_limits_live_trials():
    searcher = make_searcher("random", make_space("nb201"), seed=0, max_queries=10)
    assert searcher.set_max_concurrency(2) is True
    assert searcher.suggest("a") and searcher.suggest("b")
    assert searcher.suggest("c") is None
    searcher.on_trial_complete("a", {"fitness": 0.1})
    assert searcher.suggest("d") is not None
    with pytest.raises(ValueError, match="max_concurrent"):
        searcher.set_max_concurrency(0)


def test_unknown_and_repeated_completions_are_ignored():
    searcher = make_searcher("random", make_space("nb201"), seed=0, max_queries=3)
    searcher.on_trial_complete("never-suggested", {"fitness": 1.0})
    searcher.suggest("t0")
    searcher.on_trial_complete("t0", {"fitness": 0.2})
    searcher.on_trial_complete("t0", {"fitness": 0.9})
    assert searcher.optimizer.best()[1] == 0.2 and searcher.num_queries == 1


def test_ednag_repeats_are_drained_with_their_cached_fitness():
    searcher = ednag(max_queries=40, seed=3)
    run_to_end(searcher)
    repeats = searcher.drain_repeats()
    assert repeats, "EDNAG re-visits architectures within 40 queries"
    for native, value in repeats:
        assert value == fitness_of(native)
    assert searcher.drain_repeats() == []


# ---------------------------------------------------------------------- save / restore
def _hand_out(searcher, prefix, n):
    out = {}
    for i in range(n):
        config = searcher.suggest(f"{prefix}{i}")
        if not isinstance(config, dict):
            break
        out[f"{prefix}{i}"] = config
    return out


def _finish(searcher, pending, start=0):
    """Complete ``pending`` then run to the end with batches; returns suggested archs."""
    for tid, config in pending.items():
        searcher.on_trial_complete(tid, {"fitness": fitness_of(config["arch"])})
    archs, i = [], start
    while True:
        batch = _hand_out(searcher, f"r{i}-", 4)
        i += 1
        if not batch:
            assert searcher.suggest(f"end{i}") == FINISHED
            return archs
        for tid, config in batch.items():
            archs.append(config["arch"])
            searcher.on_trial_complete(tid, {"fitness": fitness_of(config["arch"])})


@pytest.mark.parametrize("name", ["ednag", "regularized_evolution", "optuna_tpe"])
def test_save_restore_mid_generation_continues_identically(name, tmp_path):
    def build():
        return make_searcher(name, make_space("nb201"), seed=5, max_queries=24,
                             **SMALL.get(name, {}))

    first = build()
    run_to_end_budget = _hand_out(first, "a", 9)
    for tid in list(run_to_end_budget)[:5]:
        first.on_trial_complete(tid, {"fitness": fitness_of(run_to_end_budget.pop(tid)["arch"])})
    pending = _hand_out(first, "b", 3)
    pending.update(run_to_end_budget)  # handed out, results not yet in: mid-generation
    path = tmp_path / "state.pkl"
    first.save(str(path))
    assert os.listdir(tmp_path) == ["state.pkl"]  # the temp file was replaced

    second = build()
    second.restore(str(path))
    uninterrupted = _finish(first, pending)
    restored = _finish(second, pending)
    assert restored == uninterrupted and uninterrupted
    assert second.num_queries == first.num_queries == 24


def test_restore_refuses_a_state_of_another_searcher(tmp_path):
    path = tmp_path / "s.pkl"
    ednag().save(str(path))
    rea = make_searcher("regularized_evolution", make_space("nb201"), seed=0, max_queries=5)
    with pytest.raises(ValueError, match="RegularizedEvolution|EDNAG"):
        rea.restore(str(path))
    tpe = make_searcher("optuna_tpe", make_space("nb201"), seed=0, max_queries=5)
    with pytest.raises(ValueError, match="AskTellSearcher"):
        tpe.restore(str(path))


@pytest.mark.parametrize("name", ["ednag", "optuna_tpe"])
def test_trials_lost_on_restore_are_suggested_again(name, tmp_path):
    space = make_space("nb201")
    searcher = make_searcher(name, space, seed=2, max_queries=12, **SMALL.get(name, {}))
    lost = _hand_out(searcher, "lost", 3)
    assert len(lost) == 3
    path = tmp_path / "s.pkl"
    searcher.save(str(path))
    restored = make_searcher(name, space, seed=2, max_queries=12, **SMALL.get(name, {}))
    restored.restore(str(path))
    # the old trial ids never report: the searcher must hand their archs out again
    archs = _finish(restored, {})
    assert {c["arch"] for c in lost.values()} <= set(archs)
    assert restored.num_queries == 12
    assert len({space.key(space.from_native(a)) for a in archs}) == 12
    # a late result under an old id is ignored, not counted twice
    restored.on_trial_complete("lost0", {"fitness": 2.0})
    assert restored.num_queries == 12


def test_a_restored_trial_that_does_report_is_used(tmp_path):
    searcher = ednag(max_queries=12)
    handed = _hand_out(searcher, "x", 10)
    path = tmp_path / "s.pkl"
    searcher.save(str(path))
    restored = ednag(max_queries=12)
    restored.restore(str(path))
    for tid, config in handed.items():  # Tune re-runs them under their old ids
        restored.on_trial_complete(tid, {"fitness": fitness_of(config["arch"])})
    assert restored.num_queries == len(handed)
    assert restored.suggest("next") is not None


def test_a_restored_trial_that_reports_counts_against_the_concurrency_limit(tmp_path):
    searcher = make_searcher("random", make_space("nb201"), seed=0, max_queries=10)
    searcher.set_max_concurrency(2)
    handed = {tid: searcher.suggest(tid) for tid in ("a", "b")}
    searcher.save(str(tmp_path / "s.pkl"))
    restored = make_searcher("random", make_space("nb201"), seed=0, max_queries=10)
    restored.restore(str(tmp_path / "s.pkl"))
    restored.set_max_concurrency(2)
    for tid in handed:  # Tune re-runs both; they report before they finish
        restored.on_trial_result(tid, {"fitness": 0.1})
    assert restored.num_live == 2 and restored.suggest("c") is None
    restored.on_trial_complete("a", {"fitness": 0.1})
    new = restored.suggest("c")
    assert new is not None and new["arch"] not in {c["arch"] for c in handed.values()}


def test_a_checkpoint_saved_before_the_trial_book_keeps_its_orphans(tmp_path):
    searcher = make_searcher("random", make_space("nb201"), seed=0, max_queries=10)
    handed = {tid: searcher.suggest(tid) for tid in ("a", "b")}
    state = searcher._state()
    book = state.pop("_trials")  # the previous release's form: three dicts
    state.update(_live=book.live, _orphans={}, _stale={})
    path = tmp_path / "old.pkl"
    path.write_bytes(pickle.dumps({"class": type(searcher).__name__, "state": state}))
    restored = make_searcher("random", make_space("nb201"), seed=0, max_queries=10)
    restored.restore(str(path))
    assert not hasattr(restored, "_live") and set(restored._trials.orphans) == {"a", "b"}
    restored.on_trial_complete("a", {"fitness": 0.3})  # a re-run under its old id counts
    assert restored.num_queries == 1
    restored.optimizer._propose = lambda remaining: []  # nothing new: hand "b" out again
    assert restored.suggest("c") == handed["b"]


def test_search_domains_in_tunes_param_space_are_refused():
    from ray import tune

    searcher = make_searcher("random", make_space("nb201"), seed=0, max_queries=3)
    assert searcher.set_search_properties("fitness", "max", {"table": "nb201"}) is True
    assert searcher.set_search_properties(
        "fitness", "max", {"opt": {"lr": tune.uniform(0, 1)}}) is False


# ---------------------------------------------------------------------- DedupeSearcher
class ScriptedInner(Searcher):
    """A fake third-party searcher that proposes a fixed list of decision tuples."""

    def __init__(self, script):
        super().__init__(metric=INNER_METRIC, mode="max")
        self.script = list(script)
        self.told: dict[str, float] = {}
        self.asked: list[str] = []

    def suggest(self, trial_id):
        if not self.script:
            return FINISHED
        self.asked.append(trial_id)
        return {"choices": self.script.pop(0)}

    def on_trial_complete(self, trial_id, result=None, error=False):
        assert trial_id in self.asked and trial_id not in self.told
        self.told[trial_id] = ("FAIL" if error else "PRUNED" if result is None
                               else result[INNER_METRIC])


def dedupe(script, space=None, **kw):
    space = space or make_space("nb201")
    inner = ScriptedInner(script)
    kw.setdefault("max_queries", 10)
    searcher = DedupeSearcher(inner, space, lambda cfg: cfg["choices"], metric="fitness",
                              mode=kw.pop("mode", "max"), **kw)
    return searcher, inner


A, B, C = (0, 0, 0, 0, 0, 1), (1, 2, 3, 4, 0, 1), (2, 2, 2, 2, 2, 2)


def test_dedupe_answers_repeats_from_the_cache():
    space = make_space("nb201")
    searcher, inner = dedupe([A, A, B, A, B, C])
    assert searcher.suggest("t0")["arch"] == space.to_native(A)
    searcher.on_trial_complete("t0", {"fitness": 0.4})
    assert searcher.suggest("t1")["arch"] == space.to_native(B)  # A answered without a trial
    assert inner.told == {"dedupe_0": 0.4, "dedupe_1": 0.4}
    searcher.on_trial_complete("t1", {"fitness": 0.6})
    assert searcher.suggest("t2")["arch"] == space.to_native(C)
    assert inner.told["dedupe_3"] == 0.4 and inner.told["dedupe_4"] == 0.6
    assert searcher.drain_repeats() == [(space.to_native(A), 0.4), (space.to_native(A), 0.4),
                                       (space.to_native(B), 0.6)]
    assert searcher.num_queries == 2


def test_dedupe_repeat_of_an_architecture_in_flight_waits_for_its_result():
    searcher, inner = dedupe([A, A, B])
    searcher.suggest("t0")
    assert searcher.suggest("t1")["arch"] == make_space("nb201").to_native(B)
    assert inner.told == {}
    searcher.on_trial_complete("t0", {"fitness": 0.3})
    assert inner.told == {"dedupe_0": 0.3, "dedupe_1": 0.3}


def test_dedupe_budget_of_distinct_queries_finishes():
    searcher, inner = dedupe([A, B, A, C], max_queries=2)
    assert searcher.suggest("t0") and searcher.suggest("t1")
    assert searcher.suggest("t2") is None  # budget handed out, results pending
    searcher.on_trial_complete("t0", {"fitness": 0.1})
    searcher.on_trial_complete("t1", {"fitness": 0.2})
    assert searcher.suggest("t3") == FINISHED
    assert len(inner.asked) == 2  # never asked beyond the budget


def test_dedupe_runaway_repeats_stop_with_a_warning(caplog):
    searcher, inner = dedupe([A] + [A] * 50, max_consecutive_repeats=20)
    searcher.suggest("t0")
    searcher.on_trial_complete("t0", {"fitness": 0.1})
    with caplog.at_level(logging.WARNING, logger="searchers.dedupe"):
        assert searcher.suggest("t1") == FINISHED
    assert "20 proposals in a row" in caplog.text
    assert len(inner.told) == 21


def test_dedupe_invalid_architectures_are_pruned_trials_without_a_query():
    space = make_space("nasbench_graph", "cora")
    skip = space.ops.index("skip")
    valid = (3, 0, 1, skip, skip)
    searcher, inner = dedupe([(0, skip, skip, skip, skip), valid], space=space)
    assert searcher.suggest("t0")["arch"] == space.to_native(valid)
    assert inner.told == {"dedupe_0": "PRUNED"}
    assert searcher.num_invalid == 1 and searcher.num_queries == 0


def test_dedupe_failures_reach_the_inner_searcher_as_failed_trials():
    searcher, inner = dedupe([A, B, A])
    searcher.suggest("t0")
    searcher.on_trial_complete("t0", {"fitness": float("nan")})
    searcher.suggest("t1")
    searcher.on_trial_complete("t1", error=True)
    assert searcher.suggest("t2") == FINISHED  # A again: answered from the cache, then done
    assert inner.told == {"dedupe_0": "FAIL", "dedupe_1": "FAIL", "dedupe_2": "FAIL"}
    assert searcher.known_fitness(A) == WORST_FITNESS


def test_dedupe_rejects_configs_outside_the_space():
    searcher, _ = dedupe([(9, 9, 9, 9, 9, 9)])
    with pytest.raises(ValueError, match="not an architecture of nb201.*out of range"):
        searcher.suggest("t0")


def test_dedupe_inner_finished_and_mode_min():
    searcher, inner = dedupe([A], mode="min")
    searcher.suggest("t0")
    assert searcher.suggest("t1") is None  # inner done, one result pending
    searcher.on_trial_complete("t0", {"fitness": 0.3})
    assert inner.told == {"dedupe_0": -0.3}  # the inner searcher always maximises
    assert searcher.suggest("t2") == FINISHED


# ---------------------------------------------------------------------- Optuna TPE
def test_optuna_tpe_is_seeded_and_reproducible():
    space = make_space("nasbench_graph", "cora")

    def archs(seed):
        return run_to_end(make_optuna_tpe(space, seed=seed, max_queries=25, n_startup_trials=5))

    first = archs(7)
    assert first == archs(7) and len(first) == 25
    assert first != archs(8)
    assert all(space.is_valid(space.from_native(a)) for a in first)


def test_optuna_tpe_uses_safe_parameter_names():
    searcher = make_optuna_tpe(make_space("nb201"), seed=0, max_queries=3)
    searcher.suggest("t0")
    trial = next(iter(searcher.inner._ot_trials.values()))
    assert sorted(trial.params) == [f"d{i}" for i in range(6)]


def test_searcher_state_pickles_small(tmp_path):
    searcher = ednag(max_queries=30)
    run_to_end(searcher)
    path = tmp_path / "s.pkl"
    searcher.save(str(path))
    assert path.stat().st_size < 200_000
    assert pickle.loads(path.read_bytes())["class"] == "AskTellSearcher"


# ---------------------------------------------------------------------- registry
def test_registry_names_and_errors():
    space = make_space("nb201")
    with pytest.raises(ValueError, match="unknown optimizer 'bo'; allowed: " + ", ".join(OPTIMIZERS.names())):
        make_searcher("bo", space, seed=0, max_queries=3)
    with pytest.raises(ValueError, match="'pop'.*regularized_evolution.*population_size"):
        make_searcher("regularized_evolution", space, seed=0, max_queries=3, pop=4)
    with pytest.raises(ValueError, match="'n_trials'.*optuna_tpe.*n_startup_trials"):
        make_searcher("optuna_tpe", space, seed=0, max_queries=3, n_trials=4)
    with pytest.raises(ValueError, match="bogus"):
        make_searcher("ednag", space, seed=0, max_queries=3, bogus=1)
    searcher = make_searcher("regularized_evolution", space, seed=0, max_queries=3,
                             population_size=4, mode="min", metric="loss")
    assert isinstance(searcher.optimizer, RegularizedEvolution)
    assert (searcher.metric, searcher.mode, searcher.optimizer.population_size) == (
        "loss", "min", 4)


def test_package_imports_without_ray():
    import subprocess
    import sys

    code = "import sys, searchers; searchers.optimizer_names(); assert 'ray' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
