"""MO-TPE from counts (``ednag/optimizers/multi_objective/tpe_counts.py``) against Optuna's own
split, Parzen estimators and whole sampler."""

from __future__ import annotations

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

from optuna.distributions import CategoricalDistribution  # noqa: E402
from optuna.trial import TrialState, create_trial  # noqa: E402

from ednag.optimizers.multi_objective import optuna_samplers, tpe_counts  # noqa: E402

pytestmark = pytest.mark.skipif(not optuna_samplers.ONE_SPLIT_PER_ASK,
                                reason="the counts path follows Optuna 5's private helpers")

DIRECTIONS = ["maximize", "minimize", "maximize"]


def _random_trials(seed: int, objectives: int, count: int) -> list:
    """Finished trials over a grid of few objective vectors (many repeats and ties), some
    pruned, some infeasible, numbered in order."""
    rng = np.random.default_rng(seed)
    dists = {f"d{i}": CategoricalDistribution([0, 1, 2]) for i in range(3)}
    trials = []
    for number in range(count):
        params = {f"d{i}": int(c) for i, c in enumerate(rng.integers(0, 3, 3))}
        pruned = rng.random() < 0.05
        violation = float(rng.integers(1, 4)) if rng.random() < 0.1 else 0.0
        trial = create_trial(
            state=TrialState.PRUNED if pruned else TrialState.COMPLETE,
            values=None if pruned else rng.integers(0, 4, objectives).astype(float).tolist(),
            params=params, distributions=dists,
            constraints={"violation": violation} if not pruned or violation else None)
        trial.number = number
        trials.append(trial)
    return trials


def _table(trials: list, objectives: int, order: np.ndarray) -> tpe_counts.TrialTable:
    table = tpe_counts.TrialTable([3, 3, 3], objectives)
    for i in order:
        t = trials[i]
        table.add(t.number, tpe_counts.COMPLETE if t.state == TrialState.COMPLETE
                  else tpe_counts.PRUNED, sum(v for v in t.constraints.values() if v > 0),
                  [t.params[f"d{d}"] for d in range(3)], t.values)
    return table


@pytest.mark.parametrize("objectives", [2, 3])
@pytest.mark.parametrize("seed", range(3))
def test_the_split_is_optunas(objectives, seed):
    """Good and bad sets equal Optuna's ``_split_trials`` at every size of the good set, with
    repeated vectors, ties broken by hypervolume or by order, pruned and infeasible trials,
    and trials added out of order."""
    from optuna._hypervolume.hssp import _solve_hssp
    from optuna.samplers._tpe.sampler import _get_reference_point, _split_trials
    from optuna.study._multi_objective import _calculate_nondomination_rank

    trials = _random_trials(seed, objectives, 300)
    order = np.arange(len(trials))
    order[100:110] = order[100:110][::-1]  # some finish after later trials
    table = _table(trials, objectives, order)
    assert table.numbers.tolist() == list(range(len(trials)))
    study = optuna.create_study(directions=DIRECTIONS[:objectives])
    signs = np.asarray([-1.0 if d == "maximize" else 1.0 for d in DIRECTIONS[:objectives]])
    cache = tpe_counts.RankCache()
    for n_below in (0, 1, 2, 3, 5, 8, 13, 30, 31, 60, 150, 290, 300):
        below, above = _split_trials(study, trials, n_below)
        ours_below, ours_above = tpe_counts.split(
            table, signs, n_below, cache, _calculate_nondomination_rank, _solve_hssp,
            _get_reference_point)
        assert table.numbers[ours_below].tolist() == [t.number for t in below], n_below
        assert table.numbers[ours_above].tolist() == [t.number for t in above], n_below


@pytest.mark.parametrize("kernels", [0, 1, 7, 30, 400])
@pytest.mark.parametrize("good", [True, False])
@pytest.mark.parametrize("prior_weight", [1.0, 0.3])
def test_the_parzen_estimator_is_optunas(kernels, good, prior_weight):
    """Same draws from the same random state, and the same log density up to rounding, as
    Optuna's ``_ParzenEstimator`` of one categorical decision (the good set's equal weights
    and the bad set's default ones)."""
    from optuna.samplers._tpe.parzen_estimator import (
        _ParzenEstimator,
        _ParzenEstimatorParameters,
    )
    from optuna.samplers._tpe.sampler import default_weights

    observed = np.random.default_rng(kernels).integers(0, 4, kernels)
    space = {"x": CategoricalDistribution([0, 1, 2, 3])}
    parameters = _ParzenEstimatorParameters(prior_weight, True, False, default_weights, False)
    raw = (np.ones(kernels) if good
           else _ParzenEstimator._call_weights_func(default_weights, kernels))
    optunas = _ParzenEstimator({"x": observed}, space, parameters, raw)
    ours = tpe_counts.CategoricalParzen.of(observed, tpe_counts.KernelWeights(raw, prior_weight),
                                           4, prior_weight)
    a, b = np.random.RandomState(5), np.random.RandomState(5)
    for _ in range(3):
        expected = optunas.sample(a, 24)["x"]
        np.testing.assert_array_equal(ours.sample(b, 24), expected)
    x = np.arange(4, dtype=float)
    np.testing.assert_allclose(ours.log_pdf(x), optunas.log_pdf({"x": x}), rtol=1e-12)


def test_a_near_tie_is_left_to_optunas_sums():
    """Candidates whose acquisitions differ by rounding alone are a tie; a clear gap is not."""
    samples = np.array([0.0, 1.0, 1.0, 2.0])
    assert tpe_counts.near_tie(samples, np.array([0.5, 0.5 + 1e-14, 0.1, 0.2]))
    assert not tpe_counts.near_tie(samples, np.array([0.5, 0.6, 0.6, 0.2]))
    assert not tpe_counts.near_tie(samples, np.array([0.1, 0.6, 0.6 - 1e-14, 0.2]))  # same choice
    assert tpe_counts.near_tie(samples, np.array([-np.inf, 0.6, 0.5, 0.2]))


@pytest.mark.parametrize("objectives", [2, 3])
def test_the_counts_path_asks_what_optunas_tpe_asks_in_a_long_run(objectives):
    """Ask by ask over 250 asks of a 27-architecture space (nearly every ask a repeat, so the
    bad set takes Optuna's decaying weights and the good set grows to 25), the sampler on
    counts proposes what ``optuna.samplers.TPESampler`` proposes."""
    dists = {f"d{i}": CategoricalDistribution([0, 1, 2]) for i in range(3)}
    samplers = (optuna.samplers.TPESampler(seed=11), optuna_samplers.FixedSpaceTPESampler(
        dists, seed=11))
    studies = [optuna.create_study(directions=DIRECTIONS[:objectives], sampler=s)
               for s in samplers]
    used = []
    original = optuna_samplers.FixedSpaceTPESampler._sample_from_counts

    def counted(self, *args, **kwargs):
        used.append(1)
        return original(self, *args, **kwargs)

    optuna_samplers.FixedSpaceTPESampler._sample_from_counts = counted
    try:
        for step in range(250):
            asked = []
            for study in studies:
                trial = study.ask(dists)
                a = [trial.params[f"d{i}"] for i in range(3)]
                asked.append(a)
                trial.set_constraint("violation", float(a == [2, 2, 2]))
                values = [float(a[0] + a[1]), float(a[2] * a[1]), float(a[0] == a[2])]
                study.tell(trial, values[:objectives])
            assert asked[0] == asked[1], f"ask {step}"
    finally:
        optuna_samplers.FixedSpaceTPESampler._sample_from_counts = original
    assert len(used) > 3 * 200  # the counts path made the proposals


@pytest.mark.parametrize("size,good_share", [(10, 0.3), (30, 0.1), (26, 0.0), (500, 0.1),
                                             (500, 0.6)])
def test_the_bad_set_weights_are_optunas_totalled_per_choice(size, good_share):
    """The bad set's weights per choice, from the table's counts and the good rows alone,
    equal Optuna's ``default_weights`` (normalised with the prior) summed over the bad rows,
    also after a row is inserted out of order."""
    from optuna.samplers._tpe.sampler import default_weights

    rng = np.random.default_rng(size)
    table = tpe_counts.TrialTable([3, 5], 2)
    numbers = np.arange(size)
    if size > 20:
        numbers[[5, 9]] = numbers[[9, 5]]
    for number in numbers:
        table.add(int(number), tpe_counts.COMPLETE, 0.0, rng.integers(0, [3, 5]).tolist(),
                  [0.0, 0.0])
    good = np.flatnonzero(rng.random(size) < good_share)
    bad = np.setdiff1d(np.arange(size), good)
    raw = np.append(default_weights(bad.size), 0.7)
    raw /= raw.sum()
    totals, prior_share, good_counts = tpe_counts.bad_set_weights(table, good, 0.7)
    assert prior_share == pytest.approx(raw[-1], rel=1e-12)
    for d, k in enumerate([3, 5]):
        expected = np.bincount(table.choices[bad, d], weights=raw[:-1], minlength=k)
        np.testing.assert_allclose(totals[d], expected, rtol=1e-12, atol=1e-15)
        cells = good_counts[table.offsets[d]: table.offsets[d + 1]]
        assert cells.tolist() == np.bincount(table.choices[good, d], minlength=k).tolist()
