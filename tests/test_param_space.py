"""Any registered ask/tell optimizer over a Ray Tune ``param_space`` (searchers.param_space)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ray import tune
from ray.tune.search import ConcurrencyLimiter

from ednag.optimizers.bananas import MIN_BATCH_GAP
from ednag.predictors.encodings import onehot_encode
from ednag.registry import OPTIMIZERS
from ednag.spaces import MixedEncoding, MixedSpace, make_encoding
from searchers import EDNAGSearch, ParamSpaceSearch
from searchers.param_space import ParamSpaceError, flatten, space_from_param_space, to_param
from searchers.trial_book import TrialBook

ASK_TELL = [name for name, entry in OPTIMIZERS.items() if entry.kind == "optimizer"]

SPACE = {
    "lr": tune.loguniform(1e-4, 1e-1),
    "width": tune.choice([16, 32, 64, 128]),
    "depth": tune.randint(1, 6),
    "model": {"dropout": tune.uniform(0.0, 0.5), "act": "relu"},
    "epochs": 3,
}


def score(config: dict) -> float:
    """A smooth objective with its best at lr=1e-2.5, width=64, depth=3, dropout=0.2."""
    return float(-(math.log10(config["lr"]) + 2.5) ** 2 - (config["depth"] - 3) ** 2 / 4
                 - (config["model"]["dropout"] - 0.2) ** 2 * 4
                 - (0 if config["width"] == 64 else 0.5))


def drive(search, n: int) -> list[dict]:
    """Suggest / complete one at a time until ``n`` trials or FINISHED."""
    configs = []
    for i in range(n):
        config = search.suggest(f"t{i}")
        if config is None or config == "FINISHED":
            break
        configs.append(config)
        search.on_trial_complete(f"t{i}", {"score": score(config)})
    return configs


# ---------------------------------------------------------------------------- conversion
def test_each_tune_domain_becomes_the_right_levels():
    assert to_param("a", tune.choice(["x", 3, None])).values == ("x", 3, None)
    assert to_param("a", tune.randint(1, 5)).values == (1, 2, 3, 4)  # upper exclusive
    assert to_param("a", tune.qrandint(0, 10, 5)).values == (0, 5, 10)  # upper inclusive
    assert to_param("a", tune.quniform(0.0, 1.0, 0.25)).values == (0.0, 0.25, 0.5, 0.75, 1.0)
    uniform = to_param("a", tune.uniform(0.0, 1.0), resolution=11).values
    assert uniform == tuple(np.linspace(0, 1, 11))
    log = np.asarray(to_param("a", tune.loguniform(1e-4, 1e-1), resolution=7).values)
    assert log[0] == pytest.approx(1e-4) and log[-1] == pytest.approx(1e-1)
    assert np.allclose(log[1:] / log[:-1], 10 ** 0.5)  # evenly spaced in the log
    big = to_param("a", tune.lograndint(1, 100_000), resolution=50).values
    assert big[0] == 1 and big[-1] == 99_999 and len(big) <= 50
    assert all(isinstance(v, int) for v in big) and list(big) == sorted(set(big))
    qlog = to_param("a", tune.qloguniform(1, 1000, 1), resolution=20).values
    assert all(float(v).is_integer() for v in qlog)


def test_nested_dicts_and_constants_flatten_and_come_back():
    domains, constants = flatten(SPACE)
    assert sorted(domains) == ["depth", "lr", "model/dropout", "width"]
    assert constants == {"model/act": "relu", "epochs": 3}
    search = EDNAGSearch(SPACE, metric="score", mode="max", seed=0)
    config = search.suggest("t0")
    assert config["model"]["act"] == "relu" and config["epochs"] == 3
    assert set(config) == {"lr", "width", "depth", "model", "epochs"}
    assert 1e-4 <= config["lr"] <= 1e-1 and config["width"] in (16, 32, 64, 128)


@pytest.mark.parametrize(("space", "match"), [
    ({"a": tune.grid_search([1, 2])}, r"param_space\['a'\]: grid_search"),
    ({"m": {"b": tune.sample_from(lambda _: 1)}}, r"param_space\['m/b'\]: sample_from"),
    ({"a": tune.randn(0, 1)}, r"param_space\['a'\]: randn"),
    ({"a": [tune.choice([1, 2])]}, r"param_space\['a'\]: search domains inside a list"),
    ({"a": 1, "b": "x"}, "no search domain"),
])
def test_unsupported_param_spaces_name_the_key(space, match):
    with pytest.raises(ParamSpaceError, match=match):
        space_from_param_space(space)


def test_bad_searcher_options_are_named():
    with pytest.raises(ValueError, match="unknown optimizer 'bo'; allowed: "):
        ParamSpaceSearch(SPACE, optimizer="bo")
    with pytest.raises(ValueError, match="optuna_tpe.*allowed here: random"):
        ParamSpaceSearch(SPACE, optimizer="optuna_tpe")
    with pytest.raises(ValueError, match="mode must be one of max, min"):
        EDNAGSearch(SPACE, metric="score", mode="maximum")
    search = EDNAGSearch(SPACE, metric="score", mode="max")
    with pytest.raises(ValueError, match="built with mode='max', but TuneConfig asks for "
                                         "mode='min'"):
        search.set_search_properties("score", "min", {})
    with pytest.raises(RuntimeError, match="has no param_space"):
        EDNAGSearch(metric="score", mode="max").suggest("t0")


def test_mixed_encoding_round_trips_and_normalises():
    space, _ = space_from_param_space(SPACE, resolution=33)
    enc = make_encoding(space)
    assert isinstance(space, MixedSpace) and isinstance(enc, MixedEncoding)
    assert enc.dim == 4 + 1 + 1 + 1  # one-hot width block, three coordinates
    rng = np.random.default_rng(0)
    for _ in range(20):
        choices = space.sample(rng)
        assert enc.decode(enc.encode(choices)) == choices
        assert space.from_native(space.to_native(choices)) == choices
    x = rng.normal(0, 3, (5, enc.dim))
    normed = enc.normalise(x)
    assert normed.min() >= -1 and normed.max() <= 1
    assert enc.decode_batch(normed) == enc.decode_batch(x)  # argmax and clipping agree


# ---------------------------------------------------------------------------- searching
@pytest.mark.parametrize("name", ASK_TELL)
def test_every_ask_tell_optimizer_searches_a_param_space(name):
    search = ParamSpaceSearch(SPACE, metric="score", mode="max", optimizer=name, seed=1,
                              max_queries=25)
    configs = drive(search, 100)
    assert len(configs) == 25 and search.suggest("after") == "FINISHED"
    flat = [repr(sorted(flatten(c)[1].items())) for c in configs]
    assert len(set(flat)) == 25  # distinct configurations: a repeat is never run twice
    again = drive(ParamSpaceSearch(SPACE, metric="score", mode="max", optimizer=name, seed=1,
                                   max_queries=25), 100)
    assert again == configs  # seeded


@pytest.mark.parametrize("name", ["bananas", "ednag_guided", "diffusionnag"])
def test_a_predictor_round_spreads_its_batch_over_the_ranges(name):
    """A round's batch never spends two queries on near-identical levels of a continuous range
    (it once sent ten learning rates within 3 % of one another)."""
    search = ParamSpaceSearch(SPACE, metric="score", mode="max", optimizer=name, seed=0,
                              max_queries=30)
    drive(search, 30)
    opt = search.optimizer
    archs = [a for a, _ in opt.history]
    k = opt.batch_size
    for start in (10, 10 + k):  # the two rounds after the ten random queries
        codes = onehot_encode(opt.space, archs[start:start + k])
        gaps = np.abs(codes[:, None, :] - codes[None, :, :]).max(axis=2)
        assert gaps[~np.eye(k, dtype=bool)].min() >= MIN_BATCH_GAP, (name, start)


def test_points_to_evaluate_come_first_and_known_rewards_are_not_rerun():
    point = {"lr": 0.001, "width": 64, "depth": 3, "model": {"dropout": 0.2, "act": "relu"},
             "epochs": 3}
    search = EDNAGSearch(SPACE, metric="score", mode="max", seed=0, points_to_evaluate=[point])
    assert search.suggest("t0") == point
    search.on_trial_complete("t0", {"score": 1.0})
    assert search.num_queries == 1 and search.optimizer.best()[1] == 1.0
    known = EDNAGSearch(SPACE, metric="score", mode="min", seed=0, points_to_evaluate=[point],
                        evaluated_rewards=[0.5])
    assert known.num_queries == 1 and known.optimizer.best()[1] == -0.5  # minimised
    assert known.suggest("t0") != point


SMALL = {"w": tune.choice([1, 2, 3]), "d": tune.choice([1, 2])}


def test_points_respect_the_concurrency_limit_the_budget_and_run_once():
    points = [{"w": 1, "d": 1}, {"w": 2, "d": 1}, {"w": 1, "d": 1}]  # the third repeats the first
    search = ParamSpaceSearch(SMALL, metric="s", mode="max", optimizer="random", seed=0,
                              max_queries=4, max_concurrent=2, points_to_evaluate=points)
    assert search.suggest("a") == points[0] and search.suggest("b") == points[1]
    assert search.suggest("c") is None  # two in flight: the limit holds for points too
    search.on_trial_complete("a", {"s": 1.0})
    handed, ids = {"b": points[1]}, iter(range(100))
    run = [points[0], points[1]]
    while handed:  # run to the end: the searcher never has more than two in flight
        while isinstance(config := search.suggest(tid := f"x{next(ids)}"), dict):
            handed[tid] = config
            run.append(config)
            assert len(handed) <= 2
        trial_id, config = handed.popitem()
        search.on_trial_complete(trial_id, {"s": float(config["w"])})
    # four distinct configurations: the repeated point is not run again, the budget kept
    assert len(run) == 4 == len({(c["w"], c["d"]) for c in run}) == search.num_queries
    assert search.suggest("z") == "FINISHED"


def test_a_points_reward_takes_the_mode_tune_gives_later():
    search = ParamSpaceSearch(SMALL, optimizer="random", seed=0,
                              points_to_evaluate=[{"w": 1, "d": 1}], evaluated_rewards=[0.9])
    search.set_search_properties("loss", "min", {})
    assert search.optimizer.best()[1] == -0.9  # minimised: a loss of 0.9 is -0.9 fitness


def test_bad_points_are_refused_before_any_trial_runs():
    with pytest.raises(ParamSpaceError, match=r"points_to_evaluate\[1\].*9"):
        ParamSpaceSearch(SMALL, metric="s", mode="max", points_to_evaluate=[
            {"w": 1, "d": 1}, {"w": 9, "d": 1}])
    with pytest.raises(ParamSpaceError, match=r"points_to_evaluate\[0\].*'d'"):
        ParamSpaceSearch(SMALL, metric="s", mode="max", points_to_evaluate=[{"w": 2}])


def test_a_point_in_flight_at_save_counts_under_its_old_trial_id(tmp_path):
    search = ParamSpaceSearch(SMALL, metric="s", mode="max", optimizer="random", seed=0,
                              points_to_evaluate=[{"w": 1, "d": 1}])
    assert search.suggest("t0") == {"w": 1, "d": 1}
    search.save(str(tmp_path / "s.pkl"))
    restored = ParamSpaceSearch(SMALL, metric="s", mode="max", optimizer="random", seed=0)
    restored.restore(str(tmp_path / "s.pkl"))
    restored.on_trial_complete("t0", {"s": 0.5})  # Tune re-ran the trial under its old id
    assert restored.num_queries == 1
    assert all(restored.suggest(f"n{i}") != {"w": 1, "d": 1} for i in range(3))


def test_a_param_space_given_twice_is_refused_by_tune():
    search = ParamSpaceSearch(SMALL, metric="s", mode="max")
    assert search.set_search_properties(None, None, {"x": tune.uniform(0, 1)}) is False
    assert search.set_search_properties(None, None, {"epochs": 3}) is True


def test_failures_are_the_worst_result():
    search = EDNAGSearch(SPACE, metric="score", mode="max", seed=0, max_queries=3)
    search.suggest("a")
    search.on_trial_complete("a", {"score": float("nan")})
    search.suggest("b")
    search.on_trial_complete("b", error=True)
    search.suggest("c")
    search.on_trial_complete("c", {"other": 1})
    assert search.suggest("d") == "FINISHED"
    assert search.optimizer.best()[1] == -1e12


def test_save_and_restore_continue_exactly(tmp_path):
    a = EDNAGSearch(SPACE, metric="score", mode="max", seed=4, max_queries=40)
    drive(a, 13)
    a.save(str(tmp_path / "s.pkl"))
    rest = [a.suggest(f"x{i}") for i in range(3)]
    b = EDNAGSearch(SPACE, metric="score", mode="max", seed=99)
    b.restore(str(tmp_path / "s.pkl"))
    assert [b.suggest(f"x{i}") for i in range(3)] == rest


def test_ednag_beats_random_search_on_a_smooth_mixed_objective():
    """At 60 trials, EDNAGSearch's best is above random search's on average over 30 seeds
    (measured: a gap of 0.12, about 3.5 standard errors)."""
    gaps = []
    for seed in range(30):
        ednag = EDNAGSearch(SPACE, metric="score", mode="max", seed=seed, max_queries=60)
        rnd = ParamSpaceSearch(SPACE, metric="score", mode="max", optimizer="random",
                               seed=seed, max_queries=60)
        gaps.append(max(score(c) for c in drive(ednag, 60))
                    - max(score(c) for c in drive(rnd, 60)))
    assert np.mean(gaps) > 0, gaps


@pytest.mark.ray
def test_through_tune_with_param_space_and_a_concurrency_limiter(ray_session, tmp_path):  # noqa: ARG001
    def trainable(config):
        tune.report({"score": score(config)})

    search = ConcurrencyLimiter(EDNAGSearch(seed=3), max_concurrent=3)
    tuner = tune.Tuner(
        trainable, param_space=SPACE,
        tune_config=tune.TuneConfig(search_alg=search, metric="score", mode="max",
                                    num_samples=18, reuse_actors=True),
        run_config=tune.RunConfig(storage_path=str(tmp_path), name="ps", verbose=0),
    )
    grid = tuner.fit()
    configs = [r.config for r in grid]
    assert len(configs) == 18 and not grid.errors
    assert all(c["epochs"] == 3 and c["model"]["act"] == "relu" for c in configs)
    assert len({repr(sorted(flatten(c)[1].items())) for c in configs}) == 18
    assert grid.get_best_result().metrics["score"] == max(score(c) for c in configs)


@pytest.mark.parametrize("name", ASK_TELL)
def test_nb201_as_six_choices_searches_exactly_like_the_native_space(name):
    """Six tune.choice decisions over NB201's operations give the native space's sequence."""
    from ednag.spaces import NB201_OPS, make_space
    from ednag.tables.synthetic import synthetic_nb201
    from searchers import make_searcher

    space = make_space("nb201")
    table = synthetic_nb201()
    fit = dict(zip(table.keys, table.column("cifar10", "valid_acc", 200).tolist(), strict=True))
    edges = [d.name for d in space.decisions]
    native = make_searcher(name, space, seed=2, max_queries=60)
    generic = ParamSpaceSearch({e: tune.choice(list(NB201_OPS)) for e in edges},
                               metric="fitness", mode="max", optimizer=name, seed=2,
                               max_queries=60)
    for i in range(60):
        a, b = native.suggest(f"t{i}"), generic.suggest(f"t{i}")
        choices = tuple(NB201_OPS.index(b[e]) for e in edges)
        assert space.from_native(a["arch"]) == choices, i
        value = fit[space.key(choices)]
        native.on_trial_complete(f"t{i}", {"fitness": value})
        generic.on_trial_complete(f"t{i}", {"fitness": value})


def test_a_point_whose_old_trial_reports_again_is_not_handed_out_twice(tmp_path):
    search = ParamSpaceSearch(SMALL, metric="s", mode="max", optimizer="random", seed=0,
                              max_queries=2, max_concurrent=1,
                              points_to_evaluate=[{"w": 1, "d": 1}])
    assert search.suggest("t0") == {"w": 1, "d": 1}
    search.save(str(tmp_path / "s.pkl"))
    restored = ParamSpaceSearch(SMALL, metric="s", mode="max", optimizer="random", seed=0)
    restored.restore(str(tmp_path / "s.pkl"))
    restored.on_trial_result("t0", {"s": 0.1})  # Tune re-runs t0: it is live again
    assert restored.suggest("n0") is None  # the limit of one holds, no second copy
    restored.on_trial_complete("t0", {"s": 0.5})
    assert restored.num_queries == 1
    assert restored.suggest("n1") not in ({"w": 1, "d": 1}, None)


def test_a_searcher_pickled_before_the_trial_book_restores(tmp_path):
    import pickle

    search = ParamSpaceSearch(SMALL, metric="s", mode="max", optimizer="random", seed=0,
                              points_to_evaluate=[{"w": 1, "d": 1}])
    assert search.suggest("t0") == {"w": 1, "d": 1}
    assert isinstance(search.suggest("t1"), dict)
    state = dict(search.__dict__)  # as the previous release pickled it: plain dicts
    book = state.pop("_point_trials")
    state.update(_point_trials=book.live, _point_orphans={}, _point_stale={})
    inner = dict(state["_inner"].__dict__)
    trials = inner.pop("_trials")
    inner.update(_live=trials.live, _orphans={}, _stale={})
    state["_inner"] = type(search._inner).__new__(type(search._inner))
    state["_inner"].__dict__.update(inner)
    old = type(search).__new__(type(search))
    old.__dict__.update(state)
    path = tmp_path / "old.pkl"
    path.write_bytes(pickle.dumps({"class": "ParamSpaceSearch", "state": dict(state)}))
    restored = ParamSpaceSearch(SMALL, metric="s", mode="max", optimizer="random", seed=0)
    restored.restore(str(path))
    restored.on_trial_complete("t0", {"s": 0.5})  # both trials still count under old ids
    restored.on_trial_complete("t1", {"s": 0.2})
    assert restored.num_queries == 2
    again = pickle.loads(pickle.dumps(old))  # Tuner.restore unpickles the object itself
    assert isinstance(again._point_trials, TrialBook) and len(again._point_trials) == 1
    assert isinstance(again._inner._trials, TrialBook) and len(again._inner._trials) == 1


def test_an_optimizer_trial_whose_old_trial_reports_again_is_not_handed_out_twice(tmp_path):
    search = ParamSpaceSearch(SMALL, metric="s", mode="max", optimizer="random", seed=0,
                              max_queries=3, max_concurrent=1)
    first = search.suggest("t0")
    search.save(str(tmp_path / "s.pkl"))
    restored = ParamSpaceSearch(SMALL, metric="s", mode="max", optimizer="random", seed=0)
    restored.restore(str(tmp_path / "s.pkl"))
    restored.on_trial_result("t0", {"s": 0.1})  # Tune re-runs t0: live again in the optimizer
    assert restored.suggest("n0") is None  # the limit of one holds, no second copy
    restored.on_trial_complete("t0", {"s": 0.5})
    assert restored.num_queries == 1 and restored.suggest("n1") not in (first, None)
