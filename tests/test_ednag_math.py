"""EDNAG's formulas against hand-computed values, plus property tests (pure numpy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ednag.optimizers.evo_diffusion.arch_mutation import mutate_decoded, novel_mutation, tournament
from ednag.optimizers.evo_diffusion.ddim import ddim_sigma, ddim_step, row_normalise
from ednag.optimizers.evo_diffusion.estimator import estimate_x0, kernel
from ednag.optimizers.evo_diffusion.mappings import (
    energy,
    fitness_to_weights,
    paper_rescale,
    power,
    rank_normalise,
    spread_normalise,
)
from ednag.optimizers.evo_diffusion.mutation import mutate_population, polynomial_mutation
from ednag.optimizers.evo_diffusion.schedule import cosine_alphas, denoising_steps, step_alphas
from ednag.optimizers.evo_diffusion.selection import (
    diversity_scores,
    roulette,
    roulette_weights,
    select_diverse,
    select_elites,
    select_population,
)

finite = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


# ---------------------------------------------------------------------------- schedule
def test_schedule_endpoints_and_midpoint():
    a = cosine_alphas(100)
    assert a[0] == 1.0 and a[-1] == 0.0
    assert np.all(np.diff(a) < 0)
    assert cosine_alphas(3).tolist() == pytest.approx([1.0, 0.5, 0.0])
    # the reference values quoted in the spec, T = 100: t = 99 -> (0, 2.52e-4), t = 1 -> (0.99975, 1)
    steps = list(denoising_steps(100))
    assert len(steps) == 99
    t, alpha, alpha_prev = steps[0]
    assert (t, alpha) == (99, 0.0) and alpha_prev == pytest.approx(2.517e-4, rel=1e-3)
    assert steps[-1][0] == 1 and steps[-1][2] == 1.0 and steps[-1][1] == pytest.approx(0.99975, abs=1e-5)
    assert step_alphas(100, 0) == (steps[0][1], steps[0][2])
    with pytest.raises(ValueError, match="num_steps"):
        cosine_alphas(1)
    with pytest.raises(ValueError, match="step index"):
        step_alphas(10, 9)


# ---------------------------------------------------------------------------- mappings
def test_paper_rescale_pieces():
    acc = np.array([10.0, 40.0, 60.0, 72.0, 77.0, 82.0, 87.0, 94.37, 96.0])
    expected = [1.0, 13.0, 43.0, 69.0, 88.0, 123.0, 213.0, 477.8, 553.0]
    assert paper_rescale(acc).tolist() == pytest.approx(expected)
    # the dataset factor multiplies the accuracy first: 73.51 * 1.2 = 88.212 -> 249.36
    assert paper_rescale(np.array([73.51]), 1.2)[0] == pytest.approx(249.36, abs=0.01)


def test_energy_power_identity():
    f = np.array([2.0, 1.0, 0.0])
    assert energy(f, 1.0, 5.0).tolist() == pytest.approx([math.exp(5), math.exp(4), math.exp(3)])
    assert energy(f, 0.5, 0.0).tolist() == pytest.approx([1.0, math.exp(-2), math.exp(-4)])
    assert power(np.array([4.0, -1.0]), 2.0, 2.0).tolist() == [4.0, 0.0]
    g = fitness_to_weights(f, mapping="identity")
    assert g.tolist() == [2.0, 1.0, 0.0] and g is not f


def test_spread_and_rank_sharpenings():
    assert spread_normalise(np.array([90.0, 80.0, 85.0])).tolist() == [0.0, -1.0, -0.5]
    assert spread_normalise(np.array([3.0, 3.0])).tolist() == [0.0, 0.0]
    # ranks: 10 -> 0, 20 and 20 share 1.5, 30 -> 3; scaled by n - 1 = 3 and shifted to [-1, 0]
    assert rank_normalise(np.array([20.0, 10.0, 30.0, 20.0])).tolist() == pytest.approx(
        [0.5 - 1, -1.0, 0.0, 0.5 - 1]
    )
    with pytest.raises(ValueError, match="sharpening"):
        fitness_to_weights(np.ones(2), sharpening="sharp")
    with pytest.raises(ValueError, match="mapping"):
        fitness_to_weights(np.ones(2), mapping="softmax")


# ---------------------------------------------------------------------------- estimator
def test_estimator_two_points_by_hand():
    x = np.array([[0.0, 0.0], [1.0, 0.0]])
    g = np.array([1.0, 3.0])
    alpha = 0.5
    # k_01 = exp(-||x0 - sqrt(.5) x1||^2 / (2 * .5)) = exp(-0.5); k_10 = exp(-1); k_11 = exp(-(1-sqrt(.5))^2)
    k = kernel(x, alpha)
    assert k[0, 0] == pytest.approx(1.0)
    assert k[0, 1] == pytest.approx(math.exp(-0.5))
    assert k[1, 0] == pytest.approx(math.exp(-1.0))
    assert k[1, 1] == pytest.approx(math.exp(-((1 - math.sqrt(0.5)) ** 2)))
    x0 = estimate_x0(x, g, alpha, eps=0.0)
    w0 = np.array([1.0 * 1.0, 3.0 * math.exp(-0.5)])
    w1 = np.array([1.0 * math.exp(-1.0), 3.0 * k[1, 1]])
    assert x0[0, 0] == pytest.approx(w0[1] / w0.sum())
    assert x0[1, 0] == pytest.approx(w1[1] / w1.sum())
    assert x0[:, 1].tolist() == [0.0, 0.0]


def test_estimator_at_alpha_zero_is_the_weighted_mean():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4))
    g = rng.random(5)
    x0 = estimate_x0(x, g, 0.0, eps=0.0)
    expected = (g[:, None] * x).sum(0) / g.sum()
    assert np.allclose(x0, expected[None, :])


def test_estimator_floors_pull_far_members_onto_the_best():
    """The load-bearing 1e-9 floors: a member whose weight underflows and whose kernel to
    every other point underflows is pulled onto the best member, not left in place."""
    x = np.array([[1.0, -1.0, -1.0], [-1.0, 1.0, -1.0], [-1.0, -1.0, 1.0]])
    g = energy(np.array([90.0, 60.0, 85.0]), 1.0, 5.0)  # member 1 sits on the floor
    alpha = 0.99  # late step: the kernel between distinct members underflows
    with_floor = estimate_x0(x, g, alpha)
    # weights of member 1: best 148 eps, itself ~eps, member 2 ~1 eps -> ~98 % onto the best
    assert np.allclose(with_floor[1], x[0], atol=0.05)
    assert np.allclose(with_floor[2], x[2], atol=1e-3)  # its own weight dominates: stays
    without = estimate_x0(x, g, alpha, eps=0.0)
    assert np.allclose(without[1], x[1], atol=1e-6)  # without floors it stays where it is


def test_estimator_with_reference_points():
    x = np.zeros((2, 3))
    ref = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    x0 = estimate_x0(x, np.array([0.0, 0.0, 1.0]), 0.0, eps=0.0, ref=ref)
    assert np.allclose(x0, 1.0)
    with pytest.raises(ValueError, match="one weight per point"):
        estimate_x0(x, np.ones(2), 0.0, ref=ref)


# ---------------------------------------------------------------------------- DDIM
def test_ddim_sigma_by_hand_and_reference_values():
    a, ap, eta = 0.25, 0.5, 0.8
    assert ddim_sigma(a, ap, eta) == pytest.approx(eta * math.sqrt(0.5 / 0.75 * 0.5))
    assert ddim_sigma(0.99975, 1.0, 0.8) == 0.0
    # first step of T = 100: alpha = 0 -> sigma = 0.8 * sqrt(1 - alpha') ~ 0.7999
    alpha, alpha_prev = step_alphas(100, 0)
    assert ddim_sigma(alpha, alpha_prev, 0.8) == pytest.approx(0.7999, abs=1e-4)


def test_ddim_step_without_noise_by_hand():
    x = np.array([[1.0, -1.0]])
    x0 = np.array([[0.5, 0.0]])
    a, ap = 0.25, 0.5
    out = ddim_step(x, x0, a, ap, eta=0.0, noise=np.full((1, 2), 123.0))
    eps_hat = (x - 0.5 * x0) / math.sqrt(0.75)
    assert np.allclose(out, math.sqrt(0.5) * x0 + math.sqrt(0.5) * eps_hat)
    # the last step lands exactly on x0, whatever eta and the noise
    assert np.allclose(ddim_step(x, x0, 0.9, 1.0, 0.8, np.ones((1, 2))), x0)


def test_row_normalise():
    x = np.array([[0.0, 5.0, 10.0], [2.0, 2.0, 2.0]])
    assert row_normalise(x).tolist() == [[-1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]


# ---------------------------------------------------------------------------- mutation
def test_polynomial_mutation_by_hand():
    x = np.array([[0.0]])
    # u = 0.25, eta_m = 1: d1 = 0.5; delta = (0.5 + 0.5 * 0.25) ** 0.5 - 1
    delta = math.sqrt(0.625) - 1
    assert polynomial_mutation(x, np.array([[0.25]]), 1.0)[0, 0] == pytest.approx(2 * delta)
    # u = 0 sends any gene to the lower bound, u = 1 to the upper bound
    xs = np.array([[-0.3, 0.9]])
    assert polynomial_mutation(xs, np.zeros((1, 1)), 5.0) == pytest.approx(np.array([[-1.0, -1.0]]))
    assert polynomial_mutation(xs, np.ones((1, 1)), 5.0) == pytest.approx(np.array([[1.0, 1.0]]))


def test_member_mutation_keeps_every_argmax_but_gene_mutation_does_not():
    rng = np.random.default_rng(1)
    x = row_normalise(rng.standard_normal((200, 30)))
    rows = lambda m: m.reshape(-1, 6, 5).argmax(2)  # noqa: E731
    member = mutate_population(x, rng, rate=1.0, eta_m=5.0, mode="member")
    assert np.array_equal(rows(member), rows(x))  # the paper's trap, deliberately kept
    gene = mutate_population(x, rng, rate=1.0, eta_m=1.0, mode="gene", gene_rate=0.2)
    assert not np.array_equal(rows(gene), rows(x))
    untouched = mutate_population(x, rng, rate=0.0, eta_m=1.0, mode="gene")
    assert np.allclose(untouched, x)
    with pytest.raises(ValueError, match="mutation mode"):
        mutate_population(x, rng, 1.0, 1.0, mode="decoded")


# ---------------------------------------------------------------------------- selection
def test_elites_skip_fitness_ties_or_arch_duplicates():
    f = np.array([5.0, 9.0, 9.0, 7.0, 1.0])
    assert select_elites(f, 3).tolist() == [1, 3, 0]
    assert select_elites(f, 3, ids=["a", "b", "c", "d", "e"]).tolist() == [1, 2, 3]
    # too few distinct values: pad from the top of the ranking with other indices
    assert select_elites(np.array([3.0, 3.0, 3.0]), 2).tolist() == [0, 1]


def test_diverse_picks_respect_the_fitness_threshold_and_exclusions():
    f = np.array([100.0, 5.0, 50.0, 40.0])
    d = np.array([0.0, 1.0, 0.5, 0.7])
    # candidate 1 is below 10 % of the best, candidate 0 is excluded
    assert select_diverse(f, d, 2, exclude=[0]).tolist() == [3, 2]
    assert select_diverse(f, d, 3, exclude=[0]).tolist() == [3, 2, 1]


def test_roulette_weights_and_draws():
    w = roulette_weights(np.array([1.0, 2.0, 3.0]), np.zeros(3), floor=0.1)
    assert w.tolist() == pytest.approx([0.1, 0.55, 1.0])
    assert roulette_weights(np.ones(3), np.zeros(3)).tolist() == [1.0, 1.0, 1.0]
    rng = np.random.default_rng(0)
    picks = roulette(np.array([1.0, 0.0, 1.0, 1.0]), 3, rng, exclude=[2])
    assert sorted(picks.tolist()) == [0, 1, 3]  # zero weight still drawn when needed, bounded
    with pytest.raises(ValueError, match="cannot draw"):
        roulette(np.ones(3), 3, rng, exclude=[0])


def test_select_population_group_sizes_and_no_duplicates():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((20, 6))
    f = rng.random(20) * 100
    idx = select_population(x, f, 10, 2, 3, rng)
    assert idx.size == 10 and len(set(idx.tolist())) == 10
    assert set(idx[:2].tolist()) == set(np.argsort(-f)[:2].tolist())
    div = diversity_scores(x)
    assert div.min() == 0.0 and div.max() == 1.0
    with pytest.raises(ValueError, match="n_elite"):
        select_population(x, f, 4, 3, 2, rng)


# ---------------------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, (6, 8), elements=finite),
    arrays(np.float64, (6,), elements=st.floats(60, 95)),
    st.floats(0.0, 0.999),
    st.integers(0, 2**32 - 1),
)
def test_one_step_shapes_bounds_and_determinism(x, f, alpha, seed):
    def step(s: int) -> np.ndarray:
        rng = np.random.default_rng(s)
        g = fitness_to_weights(f, sharpening="paper_rescale")
        x0 = estimate_x0(x, g, alpha)
        out = row_normalise(ddim_step(x, x0, alpha, min(1.0, alpha + 0.1), 0.8, rng.standard_normal(x.shape)))
        return mutate_population(out, rng, 0.6, 5.0, "gene", 0.5)

    out = step(seed)
    assert out.shape == x.shape
    assert np.all(np.isfinite(out)) and out.min() >= -1.0 and out.max() <= 1.0
    assert np.array_equal(out, step(seed))


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (5, 7), elements=finite), st.integers(0, 2**32 - 1))
def test_estimates_stay_in_the_hull_of_the_points_and_zero(x, seed):
    # the eps in the denominator is an implicit extra point at 0 with weight eps
    g = np.random.default_rng(seed).random(5)
    x0 = estimate_x0(x, g, 0.5)
    tol = 1e-12 * (1.0 + np.abs(x).max())
    assert np.all(x0 <= np.maximum(x.max(0), 0.0) + tol)
    assert np.all(x0 >= np.minimum(x.min(0), 0.0) - tol)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, (12,), elements=st.floats(0, 100)),
    st.integers(0, 6),
    st.integers(0, 6),
    st.integers(0, 2**32 - 1),
)
def test_selection_always_distinct(f, n_elite, n_diverse, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((12, 3))
    idx = select_population(x, f, 8, min(n_elite, 4), min(n_diverse, 4), rng)
    assert len(set(idx.tolist())) == 8 and idx.min() >= 0 and idx.max() < 12


# ---------------------------------------------------------------------------- arch mutation
def test_tournament_picks_the_fittest_of_the_drawn():
    f = np.array([1.0, 5.0, 3.0, 4.0, 2.0])
    # a tournament as large as the pool always returns the best; size 1 is uniform
    assert all(tournament(f, 5, np.random.default_rng(s)) == 1 for s in range(10))
    assert all(tournament(f, 99, np.random.default_rng(s)) == 1 for s in range(10))
    picks = [tournament(f, 1, np.random.default_rng(s)) for s in range(400)]
    assert set(picks) == set(range(5))
    # size 2: the worst (index 0) can never win; the best wins 2/5 of the time
    picks = np.array([tournament(f, 2, np.random.default_rng(s)) for s in range(2000)])
    assert 0 not in picks
    assert abs(np.mean(picks == 1) - 0.4) < 0.05
    with pytest.raises(ValueError, match="no candidates"):
        tournament([], 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="size must be an int >= 1"):
        tournament(f, 0, np.random.default_rng(0))


def test_novel_mutation_redraws_known_children():
    draws = iter([(1,), (2,), (3,), (4,)])

    def mutate(parent, rng):
        return next(draws)

    known = {(1,), (2,)}
    assert novel_mutation((0,), mutate, known.__contains__, np.random.default_rng(0), 5) == (3,)
    draws = iter([(1,), (2,)])
    # no redraw allowed: the first (known) child is returned
    assert novel_mutation((0,), mutate, known.__contains__, np.random.default_rng(0), 0) == (1,)
    draws = iter([(1,), (2,)])
    # every redraw known: the last draw is returned
    assert novel_mutation((0,), mutate, known.__contains__, np.random.default_rng(0), 1) == (2,)


def test_mutate_decoded_rate_and_invalid_parents():
    archs = [(0,), None, (2,), (3,)]
    child = lambda p: (p[0] + 10,)  # noqa: E731
    assert mutate_decoded(archs, np.random.default_rng(0), 0.0, lambda i: archs[i], child) == {}
    out = mutate_decoded(archs, np.random.default_rng(0), 1.0, lambda i: archs[i], child)
    assert out == {0: (10,), 2: (12,), 3: (13,)}  # the invalid member (no parent) is kept
    sizes = [
        len(mutate_decoded([(0,)] * 10, np.random.default_rng(s), 0.3, lambda i: (0,), child))
        for s in range(300)
    ]
    assert abs(np.mean(sizes) - 3.0) < 0.3
