"""The NAG-style conditional generator (``nag``): conditioning, targets in the front's gaps,
determinism, failures and option errors. The registry-wide contracts live in
``test_optimizer_contract.py`` and ``test_multi_objective.py``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ednag.optimizers.multi_objective.nag import NAG, ConditionalGenerator
from ednag.pareto import Evaluation
from ednag.spaces import make_space

SPACE = make_space("nb201")  # 6 decisions x 5 options


def accuracy(arch) -> float:
    """A synthetic accuracy: larger option indices are better ..."""
    return float(sum(arch))


def cost(arch) -> float:
    """... and cost more (a different weighting, so the front has many points)."""
    return float(sum(c * c for c in arch))


def toy_eval(arch) -> Evaluation:
    return Evaluation((accuracy(arch), -cost(arch)))


def _trained(seed: int = 0, n: int = 300, **params) -> NAG:
    opt = NAG(SPACE, seed=seed, num_objectives=2, **params)
    rng = np.random.default_rng(seed)
    archs = {SPACE.key(a): a for a in (SPACE.sample(rng) for _ in range(n))}
    opt.tell_external([(a, toy_eval(a)) for a in archs.values()])
    opt.fit_generator()
    return opt


@pytest.mark.parametrize("normalisation", ["rank", "minmax"])
def test_samples_follow_the_target(normalisation):
    opt = _trained(normalisation=normalisation)
    high, _ = opt.sample(np.array([[1.0, 0.0]]), 200)  # accurate, expensive
    low, _ = opt.sample(np.array([[0.0, 1.0]]), 200)  # cheap, inaccurate
    acc_high = np.mean([accuracy(a) for a in high[0]])
    acc_low = np.mean([accuracy(a) for a in low[0]])
    assert acc_high > acc_low + 6.0  # the range of the accuracy is 0..24
    assert np.mean([cost(a) for a in high[0]]) > np.mean([cost(a) for a in low[0]])


def test_the_generator_fits_its_data():
    opt = _trained()
    assert opt.losses is not None and opt.losses[-1] < 0.9 * opt.losses[0]  # 0.86 when fitted
    gen = ConditionalGenerator((3, 2), num_conditions=1, seed=0, steps=300)
    cond = np.array([[0.0], [1.0]] * 10)
    choices = np.array([[0, 1], [2, 0]] * 10)
    gen.fit(cond, choices, np.ones(20), np.random.default_rng(0))
    probs = gen.probabilities(np.array([[0.0], [1.0]]))
    assert probs.shape == (2, 2, 3)
    assert probs[:, 1, 2].max() == 0.0  # decision 1 has two options: column 2 is masked
    assert probs.argmax(axis=2).tolist() == [[0, 1], [2, 0]]
    assert probs[0, 0, 0] > 0.9 and probs[1, 0, 2] > 0.9


def test_targets_fill_the_largest_gap():
    opt = NAG(SPACE, seed=0, num_objectives=2, normalisation="minmax", target_shift=0.0,
              target_noise=0.0)
    # a front with one wide hole between (0.2, 0.8) and (0.8, 0.2), plus a dominated point
    points = {(0, 0, 0, 0, 0, 0): (0.0, 1.0), (0, 0, 0, 0, 0, 1): (0.1, 0.9),
              (0, 0, 0, 0, 0, 2): (0.2, 0.8), (0, 0, 0, 0, 0, 3): (0.8, 0.2),
              (0, 0, 0, 0, 0, 4): (0.9, 0.1), (0, 0, 0, 0, 1, 0): (1.0, 0.0),
              (0, 0, 0, 0, 1, 1): (0.1, 0.1)}
    opt.tell_external([(a, Evaluation(v)) for a, v in points.items()])
    opt.fit_generator()
    centres, weights = opt.front_gaps()
    best = centres[int(np.argmax(weights))]
    assert np.allclose(best, [0.5, 0.5])
    targets = opt.choose_targets(200)
    unique, counts = np.unique(targets.round(9), axis=0, return_counts=True)
    assert np.allclose(unique[np.argmax(counts)], [0.5, 0.5])  # the hole is asked for most
    assert counts.max() > 1.5 * np.sort(counts)[-2]
    shifted = NAG(SPACE, seed=0, num_objectives=2, normalisation="minmax", target_shift=0.1,
                  target_noise=0.0)
    shifted.tell_external([(a, Evaluation(v)) for a, v in points.items()])
    shifted.fit_generator()
    centres = shifted.front_gaps()[0]
    moved = shifted.choose_targets(50) - 0.1  # each target: a candidate moved toward better
    assert all(np.isclose(centres, t).all(axis=1).any() for t in moved)


def _run(seed: int, budget: int = 40, evaluate=toy_eval, **params) -> tuple[NAG, list]:
    opt = NAG(SPACE, seed=seed, max_queries=budget, num_objectives=2, train_steps=60,
              **params)
    seen = []
    while not opt.finished:
        batch = opt.ask()
        seen += batch
        opt.tell([(a, evaluate(a)) for a in batch])
    return opt, seen


def test_same_seed_same_run_and_budget_in_distinct_keys():
    opt, a = _run(3)
    _, b = _run(3)
    _, c = _run(4)
    assert a == b and a != c
    assert len({SPACE.key(x) for x in a}) == len(a) == opt.num_queries == 40
    assert opt.refits == 3 and opt.generated > 0  # 10 random, then three generated rounds


def test_failures_and_infeasible_ones():
    def evaluate(arch):
        if arch[0] == 1:
            return Evaluation((), math.inf, failed=True)
        return Evaluation((accuracy(arch), -cost(arch)), violation=float(arch[1] == 4))

    opt, seen = _run(0, budget=60, evaluate=evaluate)
    assert any(a[0] == 1 for a in seen)  # some failed ...
    archs, _, _ = opt._training_set()
    assert all(a[0] != 1 for a in archs)  # ... and never trained the generator
    front = opt.pareto_archive()
    assert front and all(ev.feasible for _, ev in front)


def test_single_objective_asks_beyond_the_best():
    opt = NAG(SPACE, seed=0, max_queries=60, train_steps=80)
    while not opt.finished:
        opt.tell([(a, accuracy(a)) for a in opt.ask()])
    assert opt.targets is not None and (opt.targets > 1.0).all()
    assert opt.best()[1] >= 22  # the optimum is 24; random 60 of 15,625 rarely passes 20


@pytest.mark.parametrize(("option", "value", "message"), [
    ("num_init", 0, "num_init must be an int >= 1"),
    ("batch_size", 2.5, "batch_size must be an int >= 1"),
    ("num_samples", True, "num_samples must be an int >= 1"),
    ("train_steps", -1, "train_steps must be an int >= 1"),
    ("hidden", (), "hidden must be a non-empty list of ints >= 1"),
    ("hidden", (64, 0), "hidden must be a non-empty list of ints >= 1"),
    ("lr", 0.0, r"lr must be a finite number > 0"),
    ("temperature", math.inf, r"temperature must be a finite number > 0"),
    ("target_shift", -0.1, r"target_shift must be a finite number >= 0"),
    ("condition_noise", "a", r"condition_noise must be a finite number >= 0"),
    ("weighting", "best", r"weighting must be one of rank, uniform, got 'best'"),
    ("normalisation", "z", r"normalisation must be one of rank, minmax, got 'z'"),
    ("score", "area", r"score must be one of crowding, hv, got 'area'"),
    ("num_objectives", 0, r"num_objectives must be an int >= 1"),
])
def test_bad_options_name_the_option_and_the_allowed_values(option, value, message):
    with pytest.raises(ValueError, match=message):
        NAG(SPACE, seed=0, **{option: value})
