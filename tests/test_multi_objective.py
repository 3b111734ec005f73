"""Multi-objective search: config validation before Ray, optimizers told objective vectors
through their searchers, a tabular run end to end, and the front analysis."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from ednag.experiment.config import ConfigError, load_config
from ednag.pareto import Evaluation, non_dominated_ranks
from ednag.registry import OPTIMIZERS, multi_objective_optimizers
from ednag.spaces import make_space

ROOT = Path(__file__).resolve().parents[1]
MULTI = [n for n in multi_objective_optimizers() if n != "random"]


def _config(tmp_path: Path, **raw) -> Path:
    base = {"benchmark": "nb201", "table": str(tmp_path), "optimizers": ["mo_ednag"],
            "budget": {"queries": 10}, "objectives": {"valid_acc@200": "max",
                                                      "latency_ms_pixel3": "min"}}
    base.update(raw)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(base, sort_keys=False))
    return path


# ---------------------------------------------------------------------------- config errors
def test_objectives_parse_in_order(tmp_path):
    config = load_config(_config(tmp_path, constraints={"latency_ms_pixel3": "<= 10"}))
    assert config.objectives == (("valid_acc", 200, "max"), ("latency_ms_pixel3", None, "min"))
    assert config.constraints == (("latency_ms_pixel3", None, "<=", 10.0),)
    assert config.multi_objective


def test_a_mode_other_than_min_or_max_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"objectives.valid_acc@200: mode must be one of "
                                          r"max, min, got 'up'"):
        load_config(_config(tmp_path, objectives={"valid_acc@200": "up", "x": "min"}))


def test_a_bad_constraint_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r'constraints.latency_ms_pixel3: expected "<= x"'):
        load_config(_config(tmp_path, constraints={"latency_ms_pixel3": "< ten"}))


def test_single_objective_optimizer_given_two_objectives_names_the_multi_ones(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(_config(tmp_path, optimizers=["ednag", "nsga2"]))
    assert "ednag optimize a single objective" in str(err.value)
    assert "multi-objective optimizers: " + ", ".join(multi_objective_optimizers()) in str(
        err.value)


def test_all_means_every_multi_objective_optimizer(tmp_path):
    config = load_config(_config(tmp_path, optimizers="all"))
    assert list(config.optimizers) == list(multi_objective_optimizers())


def test_num_objectives_is_set_by_the_harness(tmp_path):
    with pytest.raises(ConfigError, match="num_objectives"):
        load_config(_config(tmp_path, optimizers={"mo_rea": {"num_objectives": 3}}))


def test_table_checks_name_the_metric_and_the_closest_architecture(tmp_path, nb201_dir):
    from ednag.experiment.plan import make_plan

    def plan(**raw):
        return make_plan(load_config(_config(tmp_path, table=str(nb201_dir), **raw)),
                         tmp_path / "out")

    with pytest.raises(ConfigError, match=r"objectives.latency_ms_nowhere: not in the table.*"
                                          r"latency_ms_pixel3"):
        plan(objectives={"valid_acc@200": "max", "latency_ms_nowhere": "min"})
    with pytest.raises(ConfigError, match=r"no architecture in the table satisfies them all; "
                                          r"the closest one .* has latency_ms_pixel3 = "):
        plan(constraints={"latency_ms_pixel3": "<= 0.001"})
    p = plan(constraints={"latency_ms_pixel3": "<= 10"})
    assert p.settings[0].params == {"num_objectives": 2}
    assert p.settings[0].fitness == ("valid_acc", 200)
    assert p.settings[0].reported == ("test_acc", 200)  # search on validation, report test
    front = p.metadata["front"]
    assert front["objectives"][0] == ["test_acc", 200, "max"]
    pts = np.asarray(front["points"])
    assert (non_dominated_ranks(pts) == 0).all() and -pts[:, 1].max() <= 10


# ---------------------------------------------------------------------------- optimizers
def _drive_vectors(name: str, seed: int, budget: int = 24, violation=lambda a: 0.0):
    """Run a registered optimizer's searcher, telling two objectives per result."""
    pytest.importorskip("ray")
    from searchers.factory import make_searcher

    space = make_space("nb201")
    params = {} if name == "random" else {"num_objectives": 2}
    if name == "nsga2":
        params["population_size"] = 6
    searcher = make_searcher(name, space, seed=seed, max_queries=budget, **params)
    seen, i = [], 0
    while True:
        config = searcher.suggest(f"t{i}")
        i += 1
        if config == "FINISHED":
            break
        assert config is not None, "one trial at a time never hits a barrier"
        arch = space.from_native(config["arch"])
        seen.append(arch)
        searcher.on_trial_complete(f"t{i - 1}", {
            "fitness": float(sum(arch)), "objectives": [float(sum(arch)), -float(arch[0])],
            "violation": violation(arch)})
    return searcher, seen


@pytest.mark.parametrize("name", multi_objective_optimizers())
def test_multi_objective_contract(name):
    """Budget in distinct keys, same seed same sequence, vectors reach the optimizer."""
    searcher, seen = _drive_vectors(name, seed=1)
    keys = [make_space("nb201").key(a) for a in seen]
    assert len(keys) == len(set(keys)) == 24
    again = _drive_vectors(name, seed=1)[1]
    assert again == seen
    if name != "random":
        opt = searcher.optimizer
        ev = opt.evaluation(seen[0])
        assert ev == Evaluation((float(sum(seen[0])), -float(seen[0][0])))


@pytest.mark.parametrize("name", MULTI)
def test_infeasible_ones_rank_below_feasible_ones(name):
    searcher, seen = _drive_vectors(name, seed=0, violation=lambda a: float(a[0] == 0))
    opt = searcher.optimizer
    assert any(a[0] != 0 for a in seen)  # some feasible architecture was evaluated
    front = opt.pareto_archive()  # (a[0] = 0 would be the best second objective)
    assert front and all(ev.feasible for _, ev in front)


@pytest.mark.parametrize("name", MULTI)
def test_a_scalar_for_two_objectives_is_an_error_and_a_failure_is_not(name):
    opt = OPTIMIZERS.get(name).target.load()(make_space("nb201"), seed=0, max_queries=4,
                                             num_objectives=2)
    batch = opt.ask()
    opt.tell([(batch[0], math.nan)])  # a failed evaluation: fine whatever m is
    assert opt.evaluation(batch[0]).failed
    if len(batch) > 1:
        with pytest.raises(ValueError, match="has 2 objectives"):
            opt.tell([(batch[1], 1.0)])


# ---------------------------------------------------------------------------- end to end
def test_ednag_run_and_report_multi_objective(tmp_path, nb201_dir):
    out = tmp_path / "run"
    env_path = str(ROOT)
    cmd = [sys.executable, "-m", "ednag.cli", "run", str(ROOT / "configs/nb201-cifar10-latency.yaml"),
           "--out", str(out), "--set", f"table={nb201_dir}", "--set", "seeds=2",
           "--set", "budget.queries=30", "--set", "optimizers=[mo_ednag,mo_rea,random]",
           "--set", 'constraints={latency_ms_pixel3: "<= 12"}']
    env = {"PYTHONPATH": env_path, "RAY_USAGE_STATS_ENABLED": "0", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    import pandas as pd

    rows = pd.read_parquet(out / "results")
    assert {"metric.latency_ms_pixel3", "metric.valid_acc@200", "metric.violation"} <= set(
        rows.columns)
    assert (rows.loc[rows["metric.latency_ms_pixel3"] <= 12, "metric.violation"] == 0).all()
    assert (rows.loc[rows["metric.latency_ms_pixel3"] > 12, "metric.violation"] > 0).all()
    assert rows.groupby(["optimizer", "seed"], observed=True)["query_index"].max().eq(30).all()
    done = subprocess.run([sys.executable, "-m", "ednag.cli", "report", str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = pd.read_csv(out / "report" / "hv_summary.csv")
    assert set(summary["optimizer"]) == {"mo_ednag", "mo_rea", "random"}
    assert summary["mean"].between(0, 1).all()
    assert (out / "report" / "hv_tests.csv").is_file()
    html = (out / "report" / "report.html").read_text()
    assert "normalised hypervolume" in html and "reference point" in html


@pytest.mark.parametrize("include_pruned", [False, True])
def test_the_fixed_search_space_is_optunas_intersection(include_pruned):
    """Our samplers' shortcut answers what Optuna's intersection search space would, trial by
    trial, through failed, pruned and finished trials."""
    import optuna
    from optuna.search_space import IntersectionSearchSpace
    from optuna.trial import TrialState

    from ednag.optimizers.multi_objective.optuna_samplers import FixedSearchSpace

    dists = {f"d{i}": optuna.distributions.CategoricalDistribution([0, 1, 2]) for i in range(12)}
    study = optuna.create_study(directions=["maximize", "maximize"])
    ours, optunas = FixedSearchSpace(dists, include_pruned), IntersectionSearchSpace(include_pruned)
    for state in [TrialState.FAIL, TrialState.PRUNED, None, TrialState.FAIL, None]:
        trial = study.ask(dists)
        assert ours.calculate(study) == optunas.calculate(study)
        if state is None:
            study.tell(trial, [1.0, 2.0])
        else:
            study.tell(trial, state=state)
        assert ours.calculate(study) == optunas.calculate(study)
        assert list(ours.calculate(study)) == list(optunas.calculate(study))  # same order


@pytest.mark.parametrize("objectives,multivariate", [(2, None), (2, True), (1, None)])
def test_the_fixed_space_tpe_proposes_what_optunas_tpe_does(objectives, multivariate):
    """The sampler that splits once per ask asks for the same parameters as Optuna's own TPE,
    ask by ask, through repeats of a small space, failed, pruned, infeasible and still-running
    trials (the constant liar), with several objectives and with one."""
    import optuna
    from optuna.trial import TrialState

    from ednag.optimizers.multi_objective.optuna_samplers import (
        ONE_SPLIT_PER_ASK,
        FixedSpaceTPESampler,
    )

    assert optuna.__version__.startswith("5.") == ONE_SPLIT_PER_ASK  # the shortcut is tested
    dists = {f"d{i}": optuna.distributions.CategoricalDistribution([0, 1, 2]) for i in range(4)}
    params = {"seed": 3, "n_startup_trials": 5, "multivariate": multivariate}
    studies = [optuna.create_study(directions=["maximize"] * objectives, sampler=sampler)
               for sampler in (optuna.samplers.TPESampler(**params),
                               FixedSpaceTPESampler(dists, **params))]
    running: list[list] = [[], []]
    asked = [[], []]
    for step in range(150):
        for k, study in enumerate(studies):
            trial = study.ask(dists)
            asked[k].append(trial.params)
            a = [trial.params[f"d{i}"] for i in range(4)]
            if step % 7 == 3:  # left running for two asks
                running[k].append((trial, a))
                continue
            if step % 11 == 5:
                study.tell(trial, state=TrialState.FAIL)
            elif step % 13 == 6:
                study.tell(trial, state=TrialState.PRUNED)
            else:
                trial.set_constraint("violation", float(a[0] == 2 and a[3] == 2))
                study.tell(trial, [float(sum(a)), -float(a[1] * a[2])][:objectives])
            if step % 7 == 5:
                late, b = running[k].pop()
                late.set_constraint("violation", 0.0)
                study.tell(late, [float(b[0]), float(b[3])][:objectives])
        assert asked[0] == asked[1], f"ask {step}"
    repeats = len(asked[1]) - len({tuple(p.values()) for p in asked[1]})
    assert repeats > 50  # the small space made the samplers repeat
