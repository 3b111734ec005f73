"""Pareto math against hand-computed values (maximising everywhere)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ednag.pareto import (
    Evaluation,
    FrontScale,
    crowding_distance,
    dominates,
    evaluation_arrays,
    hv_contributions,
    hv_curve,
    hypervolume,
    non_dominated_ranks,
    pareto_mask,
    rank_scores,
)

STAIR = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])


def test_dominance():
    assert dominates([2, 2], [1, 2])
    assert not dominates([2, 2], [2, 2])
    assert not dominates([3, 1], [1, 3])


def test_ranks_of_nested_fronts():
    pts = np.vstack([STAIR, [[1.0, 1.0], [0.5, 0.5], [2.0, 1.0]]])
    # front 0: the stair; (2,1) is dominated by (2,2) and (3,1); (1,1) by (2,1); (.5,.5) last
    assert non_dominated_ranks(pts).tolist() == [0, 0, 0, 2, 3, 1]
    assert pareto_mask(pts).tolist() == [True, True, True, False, False, False]


def test_pareto_mask_matches_the_sort_on_random_points():
    rng = np.random.default_rng(0)
    for m in (2, 3):
        pts = rng.integers(0, 6, size=(60, m)).astype(float)  # many ties and duplicates
        assert (pareto_mask(pts) == (non_dominated_ranks(pts) == 0)).all()


def test_constraints_rank_every_feasible_point_first():
    pts = np.array([[10.0, 10.0], [1.0, 1.0], [0.0, 0.0], [9.0, 9.0], [5.0, 5.0]])
    viol = np.array([2.0, 0.0, 0.0, 0.5, np.inf])  # (10,10) infeasible, (5,5) failed
    assert non_dominated_ranks(pts, viol).tolist() == [3, 0, 1, 2, 4]


def test_crowding_distance_by_hand():
    d = crowding_distance(STAIR)
    assert np.isinf(d[0]) and np.isinf(d[2])
    assert d[1] == pytest.approx(2.0)  # (3-1)/2 + (3-1)/2
    four = np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0]])
    # (1,2): (3-0)/4 + (4-1)/4 = 1.5 ; (3,1): (4-1)/4 + (2-0)/4 = 1.25
    assert crowding_distance(four)[1:3].tolist() == pytest.approx([1.5, 1.25])


def test_hypervolume_2d_by_hand():
    assert hypervolume(STAIR, [0, 0]) == pytest.approx(6.0)
    assert hypervolume(STAIR, [1, 1]) == pytest.approx(1.0)  # only (2,2) is above (1,1)
    assert hypervolume(np.vstack([STAIR, [[0.5, 0.5]]]), [0, 0]) == pytest.approx(6.0)
    assert hypervolume([[5.0, -1.0]], [0, 0]) == 0.0  # not above the reference point


def test_hypervolume_3d_by_hand():
    assert hypervolume([[1.0, 2.0, 3.0]], [0, 0, 0]) == pytest.approx(6.0)
    assert hypervolume([[2.0, 1.0, 1.0], [1.0, 2.0, 1.0]], [0, 0, 0]) == pytest.approx(3.0)
    assert hypervolume([[1.0, 1.0, 2.0], [2.0, 2.0, 1.0]], [0, 0, 0]) == pytest.approx(5.0)


def test_hypervolume_matches_a_grid_count():
    """Exact volume on integer points = the number of unit cells dominated."""
    rng = np.random.default_rng(1)
    pts = rng.integers(1, 6, size=(7, 3)).astype(float)
    cells = 0
    for c in itertools.product(range(5), repeat=3):
        corner = np.array(c, dtype=float) + 1  # the cell's upper corner
        cells += bool(np.any(np.all(pts >= corner, axis=1)))
    assert hypervolume(pts, [0, 0, 0]) == pytest.approx(cells)


def test_hv_contributions_by_hand():
    assert hv_contributions(STAIR, [0, 0]).tolist() == pytest.approx([1.0, 1.0, 1.0])
    pts = np.vstack([STAIR, [[1.0, 1.0]]])  # a dominated point adds nothing
    assert hv_contributions(pts, [0, 0])[3] == 0.0


def test_rank_scores_order_front_then_spread():
    pts = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [1.0, 1.0]])
    s = rank_scores(pts)
    assert s.max() == 1.0 and s[3] == 0.0
    assert s[0] == s[2] == 1.0 and s[1] < 1.0  # boundary points are the least crowded
    h = rank_scores(pts, kind="hv")
    assert h[3] == 0.0 and min(h[:3]) > h[3]
    v = rank_scores(pts, violation=[1.0, 0, 0, 0])  # infeasible: below the dominated point
    assert v[0] == 0.0 and v[3] > 0.0
    with pytest.raises(ValueError, match="kind must be one of crowding, hv"):
        rank_scores(pts, kind="bad")


def test_failed_evaluations_rank_last():
    evs = [Evaluation((1.0, 1.0)), Evaluation((), failed=True), Evaluation((0.0, 0.0), 3.0)]
    pts, viol = evaluation_arrays(evs, 2)
    assert np.isinf(viol[1]) and viol[2] == 3.0
    assert non_dominated_ranks(pts, viol).tolist() == [0, 2, 1]


def test_front_scale_normalises_by_the_true_front():
    table = np.vstack([STAIR, [[1.0, 1.0], [2.0, 1.0]]])
    flat = FrontScale.from_points(table, margin=0.0)
    assert flat.ideal == (3.0, 3.0) and flat.nadir == (1.0, 1.0)
    assert flat.reference_point == (1.0, 1.0)
    # scaled front (0,1), (.5,.5), (1,0); with the reference at the nadir only (.5,.5) counts
    assert flat.true_hv == pytest.approx(0.25)
    assert flat.normalised_hv([[2.0, 2.0]]) == pytest.approx(1.0)
    scale = FrontScale.from_points(table, margin=0.1)
    assert scale.reference_point == pytest.approx((0.8, 0.8))
    # against (-.1,-.1): 1.1*0.1 + 0.6*0.5 + 0.1*0.5 = 0.46
    assert scale.true_hv == pytest.approx(0.46)
    assert scale.normalised_hv(STAIR) == pytest.approx(1.0)
    assert scale.normalised_hv([[2.0, 2.0]]) == pytest.approx(0.36 / 0.46)
    # a one-point front is flat in every objective: the stated reference is where the
    # hypervolume is measured from, margin raw units below it
    single = FrontScale.from_points([[5.0, -3.0]], margin=0.1)
    assert single.reference_point == pytest.approx((4.9, -3.1))
    assert single.normalised_hv([[5.0, -3.0]]) == pytest.approx(1.0)
    assert hv_curve([[2.0, 2.0], [3.0, 1.0], [1.0, 3.0]], scale, [1, 3, 10]) == pytest.approx(
        [0.36 / 0.46, 1.0, 1.0]
    )
