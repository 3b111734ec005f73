"""DiffusionNAG, table-only: the score model learns its (label-free) training data, guidance by
the predictor's gradient moves samples toward a higher predicted value, and the optimizer asks
distinct unseen architectures within its budget, deterministically."""

from __future__ import annotations

import numpy as np
import pytest
from test_local_search_bananas import NB201, drive, smooth

from ednag.optimizers import WORST_FITNESS, RandomSearch
from ednag.optimizers.diffusionnag import DiffusionNAG
from ednag.optimizers.score_model import ScoreModel, alpha_bar
from ednag.predictors import MLPEnsemble, transform_targets
from ednag.predictors.encodings import onehot_encode
from ednag.spaces.base import MatrixEncoding

FAST = {"train_steps": 200}  # a quicker score model where its quality does not matter


def _constrained(n: int, seed: int = 0) -> list[tuple[int, ...]]:
    """NB201 cells with edge 0 == edge 1 and edge 5 not ``none``: 16 % of the space."""
    rng = np.random.default_rng(seed)
    out: list[tuple[int, ...]] = []
    while len(out) < n:
        arch = NB201.sample(rng)
        if arch[0] == arch[1] and arch[5] != 0:
            out.append(arch)
    return out


def _satisfies(arch: tuple[int, ...] | None) -> bool:
    return arch is not None and arch[0] == arch[1] and arch[5] != 0


def test_the_schedule_runs_from_signal_to_noise():
    a = alpha_bar(np.linspace(0.0, 1.0, 11))
    assert a[0] == pytest.approx(1.0) and a[-1] < 1e-3 and np.all(np.diff(a) < 0)


def test_score_model_learns_the_structure_of_its_training_data():
    data = 2.0 * onehot_encode(NB201, _constrained(2000)) - 1.0
    model = ScoreModel(data.shape[1], seed=0)
    before = np.mean([model.loss(data, np.random.default_rng(s)) for s in range(5)])
    losses = model.fit(data)
    after = np.mean([model.loss(data, np.random.default_rng(s)) for s in range(5)])
    assert after < 0.6 * before and losses[-100:].mean() < losses[:100].mean()
    archs = MatrixEncoding(NB201).decode_batch(model.sample(400, np.random.default_rng(1)))
    share = np.mean([_satisfies(a) for a in archs])
    assert share > 0.7  # 0.16 for uniform samples
    assert len(set(archs)) > 300  # samples the data's distribution, not a few points


def _fitted(seed: int = 0, n: int = 40) -> MLPEnsemble:
    rng = np.random.default_rng(seed)
    archs = [NB201.sample(rng) for _ in range(n)]
    model = MLPEnsemble(seed=seed)
    model.fit(onehot_encode(NB201, archs), transform_targets(np.array([smooth(a) for a in archs])))
    return model


def test_guidance_moves_samples_toward_a_higher_predicted_value():
    opt = DiffusionNAG(NB201, seed=0, num_samples=300)
    model = _fitted()
    means, truths = [], []
    for scale in (0.0, 1.0, 3.0):
        opt.rng = np.random.default_rng(5)  # the same noise for every scale
        archs = [a for a in opt.encoding.decode_batch(opt.generate(model, scale)) if a]
        means.append(model.predict(onehot_encode(NB201, archs))[0].mean())
        truths.append(np.mean([smooth(a) for a in archs]))
    assert means[0] < means[1] < means[2]
    assert truths[0] < truths[1] < truths[2]  # the predictor has learnt the landscape


def test_rounds_ask_k_distinct_unseen_architectures_within_budget():
    opt = DiffusionNAG(NB201, seed=0, max_queries=37, batch_size=9, score_params=FAST)
    batches = drive(opt, smooth)  # checks: every batch new and distinct
    assert [len(b) for b in batches] == [10, 9, 9, 9]
    assert opt.num_queries == 37 and opt.refits == 3 and opt.generated >= 9
    assert opt.score is not None and opt.score_losses is not None


def test_failures_never_train_the_predictor_and_do_not_stop_it():
    opt = DiffusionNAG(NB201, seed=1, max_queries=30, score_params=FAST)
    drive(opt, lambda a: WORST_FITNESS if a[1] == 0 else smooth(a))
    assert opt.num_queries == 30 and opt.best()[1] > WORST_FITNESS


def test_same_seed_same_sequence_on_nb201():
    def run(seed: int) -> list[list[tuple[int, ...]]]:
        return drive(DiffusionNAG(NB201, seed=seed, max_queries=30, score_params=FAST), smooth)

    assert run(4) == run(4) != run(5)


def test_a_gaussian_process_guides_the_samples_reproducibly():
    """``predictor="gp"``: the guide is the Gaussian process's exact input gradient; a run
    fills its budget, is reproducible and asks otherwise than with the ensemble."""
    from ednag.predictors import GaussianProcess

    def run(**params) -> tuple[DiffusionNAG, list]:
        opt = DiffusionNAG(NB201, seed=4, max_queries=30, score_params=FAST, **params)
        return opt, drive(opt, smooth)

    (opt, gp), (_, again) = run(predictor="gp"), run(predictor="gp")
    assert gp == again and gp[1:] != run()[1][1:] and opt.num_queries == 30
    assert isinstance(opt.fit_predictor(), GaussianProcess)


def test_beats_random_search_on_a_smooth_landscape():
    budget, seeds = 40, range(3)

    def best(opt) -> float:
        drive(opt, smooth)
        return opt.best()[1]

    ours = np.median(
        [best(DiffusionNAG(NB201, seed=s, max_queries=budget, score_params=FAST)) for s in seeds]
    )
    random = np.median([best(RandomSearch(NB201, seed=s, max_queries=budget)) for s in seeds])
    assert ours > random


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"acquisition": "ei"}, "acquisition must be one of its, ucb, exploit; got 'ei'"),
        ({"target": "log"}, "target must be one of quantile, raw"),
        ({"num_samples": 0}, "num_samples must be an int >= 1"),
        ({"sample_steps": 2.5}, "sample_steps must be an int >= 1"),
        ({"guidance_scale": -1.0}, "guidance_scale must be a finite number >= 0"),
        ({"eta": float("nan")}, "eta must be a finite number >= 0"),
        ({"score_params": {"hidden": ()}}, "hidden must be a tuple of positive ints"),
        ({"score_params": {"depth": 3}}, "depth"),
        ({"predictor_params": {"num_models": 0}}, "num_models must be an int >= 1"),
        ({"predictor": "xgb"}, "predictor must be one of mlp_ensemble, gp; got 'xgb'"),
        ({"predictor": "gp", "predictor_params": {"steps": 5}},
         r"unknown gp parameter\(s\) 'steps'; allowed: prior_scale"),
    ],
)
def test_options_are_checked_and_named(option, match):
    with pytest.raises((ValueError, TypeError), match=match):
        DiffusionNAG(NB201, **option)
