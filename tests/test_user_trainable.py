"""``ednag run`` on a user's own trainable (``trainable: module:function``) with a YAML
``param_space``: the spec, the config checks, and a run of several optimizers head to head."""

from __future__ import annotations

import json
import math
import textwrap

import pandas as pd
import pytest
import yaml
from ray import tune

from ednag.experiment.config import ConfigError, load_config
from ednag.spaces.param_spec import ParamSpecError, config_of, space_from_spec
from searchers.param_space import space_from_param_space
from trainables.run import run_experiment

MODEL = '''
from ray import tune


def fit(config):
    """A stand-in for training: a loss with its minimum at lr=0.01, width=64, depth=3."""
    import math

    assert config["opt"] == {"name": "sgd"}, config  # constants arrive nested
    if config["width"] == 128 and config["depth"] == 4:
        raise RuntimeError("this configuration crashes")  # a failed trial: the worst fitness
    base = (math.log10(config["lr"]) + 2) ** 2 + (config["depth"] - 3) ** 2 / 4
    base += {32: 0.5, 64: 0.0, 128: 0.25}[config["width"]] + config["dropout"]
    for step in range(1, 4):
        tune.report({"loss": base + 1.0 / step, "test_loss": base + 0.1})
'''

SPACE = {"lr": {"loguniform": ["1e-4", "1e-1"]}, "width": {"choice": [32, 64, 128]},
         "depth": {"randint": [1, 5]}, "dropout": {"quniform": [0.0, 0.5, 0.1]},
         "opt": {"name": "sgd"}}


def _write(tmp_path, **overrides):
    (tmp_path / "my_model.py").write_text(textwrap.dedent(MODEL))
    config = {"name": "mine", "mode": "trial", "trainable": "my_model:fit",
              "param_space": SPACE, "fitness": "loss", "fitness_mode": "min",
              "reported": "test_loss", "budget": {"queries": 6}, "seeds": 1, "workers": 2,
              "optimizers": {"ednag": {"population_size": 4}, "optuna_tpe": {}}}
    config.update(overrides)
    config = {k: v for k, v in config.items() if v is not None}
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_yaml_spec_is_the_same_space_as_tune_domains():
    spec = {"a": {"choice": ["x", "y"]}, "b": {"randint": [1, 5]}, "c": {"qrandint": [0, 10, 5]},
            "d": {"lograndint": [1, 100]}, "e": {"qlograndint": [1, 64, 8]},
            "f": {"uniform": [0, 1]}, "g": {"quniform": [0, 1, 0.25]},
            "h": {"loguniform": [1e-4, 1e-1]}, "i": {"qloguniform": [1e-3, 1.0, 1e-3]},
            "n": {"m": {"uniform": [-1, 1]}, "k": 3}}
    ours, constants = space_from_spec(spec)
    tunes, tune_constants = space_from_param_space({
        "a": tune.choice(["x", "y"]), "b": tune.randint(1, 5), "c": tune.qrandint(0, 10, 5),
        "d": tune.lograndint(1, 100), "e": tune.qlograndint(1, 64, 8),
        "f": tune.uniform(0, 1), "g": tune.quniform(0, 1, 0.25),
        "h": tune.loguniform(1e-4, 1e-1), "i": tune.qloguniform(1e-3, 1.0, 1e-3),
        "n": {"m": tune.uniform(-1, 1), "k": 3}})
    assert ours.params == tunes.params and constants == tune_constants == {"n/k": 3}
    values = {p.name: p.values for p in ours.params}
    assert values["b"] == (1, 2, 3, 4)  # randint: upper exclusive
    assert values["c"] == (0, 5, 10) and values["g"] == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert values["e"] == (8, 16, 24, 32, 40, 48, 56, 64)  # quantized: upper inclusive


def test_quantized_integer_domains_include_the_upper_bound():
    space, _ = space_from_param_space({"q": tune.qrandint(1, 5, 1)})  # as Tune samples it
    assert space.params[0].values == (1, 2, 3, 4, 5)


def test_spec_errors_name_the_key():
    for spec, match in [
        ({"lr": {"logunifrom": [0, 1]}}, r"unknown domain 'logunifrom' \(did you mean "
         r"loguniform\?\); allowed: choice, randint"),
        ({"lr": {"grid_search": [1, 2]}}, r"\['lr'\]: grid_search is not supported"),
        ({"a": {"b": {"sample_from": "f"}}}, r"\['a/b'\]: sample_from is not supported"),
        ({"lr": {"uniform": [1]}}, r"\['lr'\]: expected uniform: \[lower, upper\]"),
        ({"lr": {"loguniform": [0, 1]}}, r"\['lr'\]: loguniform: a log domain needs lower > 0"),
        ({"d": {"randint": [3, 3]}}, r"\['d'\]: randint: the range \[3, 3\) holds no value"),
        ({"w": {"choice": []}}, r"\['w'\]: choice needs a non-empty list"),
        ({"x": 1}, "no search domain"),
    ]:
        with pytest.raises(ParamSpecError, match=match):
            space_from_spec(spec)


def test_config_checks(tmp_path):
    path = _write(tmp_path)
    config = load_config(path)
    assert config.user_trainable and config.fitness == ("loss", None)
    assert config.fitness_mode == "min" and str(tmp_path) in config.search_path
    cases = [
        ({"param_space": None}, "trainable 'my_model:fit' .*needs param_space"),
        ({"trainable": None}, "param_space needs trainable: module:function"),
        ({"benchmark": "nb201"}, "benchmark and param_space exclude each other"),
        ({"fitness": None}, "fitness is required with param_space"),
        ({"fitness_mode": "down"}, "fitness_mode: unknown value 'down'; allowed: max, min"),
        ({"budget": {"sim_seconds": 10}}, "sim_seconds needs mode: tabular"),
        ({"param_space": {"lr": {"randn": [0, 1]}}}, r"randn is not supported"),
        ({"scheduler": {"asha": {}}}, "scheduler.asha.max_t is required with param_space"),
    ]
    for overrides, match in cases:
        with pytest.raises(ConfigError, match=match):
            load_config(_write(tmp_path, **overrides))
    nb201 = tmp_path / "t.yaml"
    nb201.write_text(yaml.safe_dump({"benchmark": "nasbench_graph", "optimizers": ["random"],
                                     "budget": {"queries": 5}, "fitness_mode": "min"}))
    with pytest.raises(ConfigError, match="fitness_mode needs param_space"):
        load_config(nb201)


def test_missing_module_or_function_fails_before_ray(tmp_path):
    for trainable, match in [("nowhere_module:fit", "cannot import module 'nowhere_module'"),
                             ("my_model:train", "module 'my_model' has no function 'train'")]:
        out = tmp_path / f"out-{trainable.replace(':', '-')}"
        with pytest.raises(ConfigError, match=match):
            run_experiment(_write(tmp_path, trainable=trainable), out=out, summary=False)


@pytest.mark.ray
def test_an_optimizer_and_a_tune_searcher_tune_the_users_model(tmp_path, ray_session):
    # the module lies beside the config only: Ray workers get it by value (one of each kind of
    # optimizer: every registered one searches a param_space in test_param_space.py)
    out, errors = run_experiment(_write(tmp_path), out=tmp_path / "out", summary=False)
    assert errors == []
    rows = pd.read_parquet(out / "results")
    space, constants = space_from_spec(SPACE)
    assert set(rows.optimizer) == {"ednag", "optuna_tpe"}
    for name, group in rows[~rows.repeat].groupby("optimizer"):
        assert len(group) == 6 and group.arch_key.is_unique, name
        for row in group.to_dict("records"):
            config = config_of(space, constants, row["arch"])
            assert json.loads(row["arch"]) == space.values(space.from_native(row["arch"]))
            if config["width"] == 128 and config["depth"] == 4:
                assert row["status"] == "error" and math.isnan(row["fitness"])
                continue
            base = (math.log10(config["lr"]) + 2) ** 2 + (config["depth"] - 3) ** 2 / 4
            base += {32: 0.5, 64: 0.0, 128: 0.25}[config["width"]] + config["dropout"]
            # the last report's loss, negated (minimised); test_loss is only reported
            assert row["fitness"] == pytest.approx(-(base + 1 / 3))
            assert row["reported"] == pytest.approx(base + 0.1)
            assert row["metric.loss_e3"] == pytest.approx(-(base + 1 / 3))
