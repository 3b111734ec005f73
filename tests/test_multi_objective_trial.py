"""Multi-objective search in trial mode: a table through the ``lookup`` trainable, a user's own
function reporting two metrics, and the config checks that stay before Ray starts."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from toy import ToySpace, space_for, toy_fitness

from ednag.experiment.config import ConfigError, load_config
from ednag.experiment.plan import make_plan
from ednag.pareto import Evaluation
from ednag.registry import BENCHMARKS, BenchmarkEntry
from ednag.spaces.param_spec import config_of, space_from_spec
from ednag.tables.table import Table, make_meta

BOUND = 16.0  # latency <= BOUND
QUERIES = 8


def latency(choices) -> float:
    """Grows with every choice, as the accuracy does: a real trade-off."""
    return 10.0 + 3 * choices[0] + 2 * choices[1] + choices[2]


@pytest.fixture
def toy_mo(tmp_path) -> Path:
    """Benchmark ``toy_mo`` (64 architectures, tests/toy.py) and its table with a latency."""
    space = ToySpace()
    archs = [space.to_native(c) for c in space.enumerate()]
    fit = np.array([toy_fitness(c) for c in space.enumerate()])
    cols = {"toyset/acc": fit, "toyset/test": 2 * fit,
            "toyset/time": np.full(len(archs), 5.0),
            "toyset/latency": np.array([latency(c) for c in space.enumerate()])}
    meta = make_meta("toy_mo", "toy", ["toyset"], {"toyset": {
        "fitness": ("acc", None), "reported": ("test", None), "time": ("time", None)}},
        "toy table with a latency, for tests")
    path = tmp_path / "toy_mo.parquet"
    Table(archs, archs, cols, meta).save(path)
    with BENCHMARKS.temporarily("toy_mo", BenchmarkEntry(space=space_for,
                                                         default_dataset="toyset")):
        yield path


def _table_config(tmp_path: Path, table: Path, **changes) -> Path:
    raw = {"benchmark": "toy_mo", "table": str(table), "mode": "trial", "seeds": [0],
           "workers": 2, "budget": {"queries": QUERIES}, "max_failures": 0,
           "optimizers": {"mo_ednag": {"population_size": 6}, "random": {}},
           "objectives": {"acc": "max", "latency": "min"},
           "constraints": {"latency": f"<= {BOUND}"}}
    raw.update(changes)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


MODEL = '''
from ray import tune


def fit(config):
    """Two metrics of a stand-in model; three configurations fail in three ways."""
    x, y = config["x"], config["y"]
    if (x, y) == (3, 1):
        raise RuntimeError("this configuration crashes")
    if (x, y) == (0, 1):
        tune.report({"val_loss": float("nan"), "latency_ms": 5.0})
        return
    if (x, y) == (2, 0):
        tune.report({"val_loss": 1.0})  # no latency_ms: an objective not reported
        return
    tune.report({"val_loss": (x - 1) ** 2 + 0.5 * y, "latency_ms": 4.0 * x + y})
'''
SPACE = {"x": {"choice": [0, 1, 2, 3]}, "y": {"choice": [0, 1]}}  # 8 configurations
#: (x, y) -> the metric columns of its failed row (a crash measures nothing)
FAILING = {(3, 1): (math.nan, math.nan), (0, 1): (math.nan, 5.0), (2, 0): (1.0, math.nan)}


def _user_config(tmp_path: Path, **changes) -> Path:
    (tmp_path / "mo_model.py").write_text(textwrap.dedent(MODEL))
    raw = {"name": "mo-user", "mode": "trial", "trainable": "mo_model:fit",
           "param_space": SPACE, "budget": {"queries": 8}, "seeds": [0], "workers": 2,
           "max_failures": 0, "optimizers": {"mo_ednag": {"population_size": 4}},
           "objectives": {"val_loss": "min", "latency_ms": "max"},
           "constraints": {"latency_ms": "<= 10"}}
    raw.update(changes)
    raw = {k: v for k, v in raw.items() if v is not None}
    path = tmp_path / "mo-user.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _spy_searchers(monkeypatch) -> dict[str, object]:
    """The searcher the trial runner builds for each optimizer (it lives in the driver)."""
    from trainables import trial_runner

    built: dict[str, object] = {}
    real = trial_runner.build_searcher

    def spy(*args, **kwargs):
        searcher = real(*args, **kwargs)
        built[kwargs["name"]] = searcher
        return searcher

    monkeypatch.setattr(trial_runner, "build_searcher", spy)
    return built


# ---------------------------------------------------------------------------- config
def test_trial_mode_accepts_objectives_and_plans_like_tabular(tmp_path, toy_mo):
    config = load_config(_table_config(tmp_path, toy_mo))
    assert config.mode == "trial" and config.objectives == (("acc", None, "max"),
                                                            ("latency", None, "min"))
    trial = make_plan(config, tmp_path / "trial")
    tabular = make_plan(load_config(_table_config(tmp_path, toy_mo, mode="tabular")),
                        tmp_path / "tabular")
    for a, b in zip(trial.settings, tabular.settings, strict=True):
        assert a.params == b.params  # num_objectives set by the harness in both modes
        assert (a.fitness, a.reported, a.objectives, a.constraints) == (
            b.fitness, b.reported, b.objectives, b.constraints)
    assert trial.settings[0].params == {"population_size": 6, "num_objectives": 2}
    assert trial.settings[1].params == {}  # random takes no num_objectives
    assert trial.metadata["front"] == tabular.metadata["front"]
    assert trial.settings[0].trainable_ref == "trainables.lookup:lookup_trainable"


def test_trial_mode_keeps_the_table_checks(tmp_path, toy_mo):
    with pytest.raises(ConfigError, match=r"objectives.speed: not in the table"):
        make_plan(load_config(_table_config(
            tmp_path, toy_mo, objectives={"acc": "max", "speed": "min"}, constraints=None)),
            tmp_path / "a")
    with pytest.raises(ConfigError, match=r"no architecture in the table satisfies them all; "
                                          r"the closest one \(0-0-0\) has latency = 10"):
        make_plan(load_config(_table_config(tmp_path, toy_mo,
                                            constraints={"latency": "<= 5"})), tmp_path / "b")
    cases = [
        ({"objectives": {"acc": "up", "latency": "min"}}, "objectives.acc: mode must be one of"),
        ({"optimizers": ["ednag", "random"]}, "ednag optimize a single objective"),
        ({"objectives": None}, "constraints need objectives"),
        ({"trainable": "nb201_train"}, "need trainable: lookup .* 'nb201_train' reports only"),
    ]
    for change, match in cases:
        with pytest.raises(ConfigError, match=match):
            load_config(_table_config(tmp_path, toy_mo, **change))


def test_user_trainable_objectives_config(tmp_path):
    config = load_config(_user_config(tmp_path))
    assert config.objectives == (("val_loss", None, "min"), ("latency_ms", None, "max"))
    assert config.constraints == (("latency_ms", None, "<=", 10.0),)
    # fitness defaults to the first objective, its mode to that objective's
    assert config.fitness == ("val_loss", None) and config.fitness_mode == "min"
    named = load_config(_user_config(tmp_path, fitness="latency_ms"))
    assert named.fitness == ("latency_ms", None) and named.fitness_mode == "max"
    plan = make_plan(config, tmp_path / "out")
    assert [s.params for s in plan.settings] == [{"population_size": 4, "num_objectives": 2}]
    assert plan.settings[0].objectives == config.objectives
    cases = [
        ({"objectives": {"val_loss": "lower"}}, "objectives.val_loss: mode must be one of max, "
                                                "min, got 'lower'"),
        ({"optimizers": ["ednag"]}, "ednag optimize a single objective, but objectives names 2"),
        ({"objectives": None, "fitness": "val_loss"}, "constraints need objectives"),
        ({"objectives": {"val_loss@3": "min", "latency_ms": "max"}},
         r"objectives.val_loss@3: your trainable's metrics have no fidelity"),
        ({"fitness_mode": "max"}, "fitness_mode: 'max' contradicts objectives.val_loss: 'min'"),
        ({"objectives": None, "constraints": None}, "fitness is required with param_space"),
        ({"constraints": {"latency_ms": "< 10"}}, r'constraints.latency_ms: expected "<= x"'),
    ]
    for change, match in cases:
        with pytest.raises(ConfigError, match=match):
            load_config(_user_config(tmp_path, **change))


# ---------------------------------------------------------------------------- end to end
@pytest.mark.ray
def test_trial_mode_on_a_table_tells_evaluations_and_writes_the_columns(
        ray_session, tmp_path, toy_mo, monkeypatch):  # noqa: ARG001
    from analysis.fronts import front_meta, hv_per_seed, run_points, scale_of
    from analysis.load import load_results
    from trainables.run import run_experiment

    built = _spy_searchers(monkeypatch)
    out, errors = run_experiment(_table_config(tmp_path, toy_mo), out=tmp_path / "out",
                                 summary=False)
    assert errors == []
    rows = pd.read_parquet(out / "results")
    rows["optimizer"] = rows["optimizer"].astype(str)
    space = ToySpace()
    for row in rows.to_dict("records"):  # free repeats included
        choices = space.from_native(row["arch"])
        assert row["metric.acc"] == row["fitness"] == toy_fitness(choices)
        assert row["metric.latency"] == latency(choices)
        assert row["metric.violation"] == max(0.0, latency(choices) - BOUND)
        assert row["status"] == "ok" and row["reported"] == 2 * toy_fitness(choices)
    fresh = rows[~rows["repeat"]]
    assert sorted(fresh.groupby("optimizer")["query_index"].max().items()) == [
        ("mo_ednag", QUERIES), ("random", QUERIES)]
    assert (fresh["metric.violation"] > 0).any() and (fresh["metric.violation"] == 0).any()
    optimizer = built["mo_ednag"].optimizer  # told Evaluations, built with num_objectives
    assert optimizer.num_objectives == 2
    for arch in fresh.loc[fresh["optimizer"] == "mo_ednag", "arch"]:
        c = space.from_native(arch)
        assert optimizer.evaluation(c) == Evaluation((toy_fitness(c), -latency(c)),
                                                     max(0.0, latency(c) - BOUND))
    # the report's hypervolume: the feasible fresh queries on the reported objectives
    results = load_results(out)
    meta = front_meta(results)
    assert meta is not None and meta["objectives"] == [["test", None, "max"],
                                                        ["latency", None, "min"]]
    hv = hv_per_seed(run_points(results, meta), scale_of(meta), [QUERIES]).set_index(
        "optimizer")
    for name, group in fresh.groupby("optimizer"):
        pts = np.array([[2 * toy_fitness(space.from_native(a)),
                         -latency(space.from_native(a))] for a in group["arch"]])
        pts[group["metric.violation"].to_numpy() > 0] = np.nan
        assert hv.loc[name, "value"] == pytest.approx(scale_of(meta).normalised_hv(pts))
        assert hv.loc[name, "value"] > 0


@pytest.mark.ray
def test_a_users_function_with_two_objectives(ray_session, tmp_path, monkeypatch):  # noqa: ARG001
    from analysis.fronts import (
        empirical_front,
        front_meta,
        hv_per_seed,
        run_points,
        scale_of,
        write_front_report,
    )
    from analysis.load import load_results
    from trainables.run import run_experiment

    built = _spy_searchers(monkeypatch)
    out, errors = run_experiment(_user_config(tmp_path), out=tmp_path / "out", summary=False)
    assert errors == []
    rows = pd.read_parquet(out / "results")
    rows["optimizer"] = rows["optimizer"].astype(str)
    space, constants = space_from_spec(SPACE)
    optimizer = built["mo_ednag"].optimizer
    assert optimizer.num_objectives == 2
    fresh = rows[~rows["repeat"]]
    assert set(rows["optimizer"]) == {"mo_ednag"}
    assert len(fresh) == 8 and fresh["arch_key"].is_unique  # the whole space
    for row in fresh.to_dict("records"):
        config = config_of(space, constants, row["arch"])
        x, y = config["x"], config["y"]
        told = optimizer.evaluation(space.from_native(row["arch"]))
        if (x, y) in FAILING:  # still a row; never trains the optimizer
            assert row["status"] == "error" and told.failed, (x, y)
            measured = (row["metric.val_loss"], row["metric.latency_ms"])
            assert np.array_equal(measured, FAILING[(x, y)], equal_nan=True), (x, y)
            continue
        loss, lat = (x - 1) ** 2 + 0.5 * y, 4.0 * x + y
        assert row["status"] == "ok"
        assert row["fitness"] == -loss  # the first objective, minimised
        assert (row["metric.val_loss"], row["metric.latency_ms"]) == (loss, lat)
        assert row["metric.violation"] == max(0.0, lat - 10)
        assert told == Evaluation((-loss, lat), max(0.0, lat - 10))
    assert fresh.loc[fresh["status"] == "error", "fitness"].isna().sum() == 2  # crash, NaN loss
    columns = ["metric.val_loss", "metric.latency_ms", "metric.violation"]
    for _, row in rows[rows["repeat"]].iterrows():  # free repeats carry the same columns
        first = fresh[fresh["arch_key"] == row["arch_key"]].iloc[0]
        assert np.array_equal(row[columns].to_numpy(float), first[columns].to_numpy(float),
                              equal_nan=True)
        if first["status"] == "ok":
            assert row["fitness"] == first["fitness"]  # maximised, as the first row's
    # no table, no true front: the report normalises by the best front of every run
    results = load_results(out)
    meta = front_meta(results)
    assert meta is not None and meta["empirical"]
    points = run_points(results, meta)
    feasible = [((x - 1) ** 2 + 0.5 * y, 4.0 * x + y) for x in range(4) for y in range(2)
                if (x, y) not in FAILING and 4.0 * x + y <= 10]
    found = empirical_front(points)
    assert sorted(map(tuple, found["points"])) == sorted(
        (-loss, lat) for loss, lat in feasible
        if not any(-l2 >= -loss and t2 >= lat and (l2, t2) != (loss, lat) for l2, t2 in feasible))
    hv = hv_per_seed(points, scale_of(meta | found), [8])
    assert hv["value"].tolist() == [pytest.approx(1.0)]  # the only run found the whole front
    report = write_front_report(results, tmp_path, [8], {}, "mo-user")
    assert report is not None and "best front found by any run" in report[2]
    assert "scored on the metrics the optimizers saw" in report[2]  # not called "reported"
