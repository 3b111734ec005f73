"""Predictor-guided multi-objective EDNAG: the front margin, the greedy batch, rounds within
budget, constraints and failures."""

from __future__ import annotations

import numpy as np
import pytest
from test_ednag_guided import spy_fits
from test_local_search_bananas import NB201

from ednag.optimizers.multi_objective import MORegularizedEvolution
from ednag.optimizers.multi_objective.mo_ednag_guided import (
    MO_BATCH_SIZE,
    MO_DIFFUSIONS_PER_ROUND,
    MO_MARGIN_UNITS,
    MO_PREDICTOR_DTYPE,
    MO_STALL_QUERIES,
    MO_STALL_ROUNDS,
    MOGuidedEDNAG,
    front_margin,
    front_units,
    greedy_front_batch,
    improved,
    objective_bests,
    target_to_value,
)
from ednag.pareto import Evaluation, hypervolume

RNG = np.random.default_rng(7)
W_ACC, W_COST = RNG.normal(size=(6, 5)), RNG.normal(size=(6, 5))


def two_objectives(arch) -> tuple[float, float]:
    """Two conflicting additive objectives over NB201's six edges (maximised)."""
    acc = float(sum(W_ACC[i, c] for i, c in enumerate(arch)))
    return acc, float(-sum(W_COST[i, c] for i, c in enumerate(arch))) - 0.5 * acc


def drive(opt, value) -> list[list]:
    batches = []
    while not opt.finished:
        batch = opt.ask()
        keys = [NB201.key(a) for a in batch]
        assert len(set(keys)) == len(keys)
        batches.append(batch)
        opt.tell([(a, value(a)) for a in batch])
    return batches


def test_front_margin_by_hand():
    front = np.array([[3.0, 1.0], [1.0, 3.0]])
    points = np.array([[4.0, 0.0], [2.0, 2.0], [0.5, 0.5], [3.0, 1.0]])
    # beyond by 1 (vs [3, 1]); beyond the knee by 1 (vs either); behind by 0.5; on the front: 0
    assert front_margin(points, front).tolist() == [1.0, 1.0, -0.5, 0.0]
    assert np.isinf(front_margin(points[:1], np.zeros((0, 2)))).all()


def test_greedy_batch_spreads_along_the_front():
    front = np.array([[1.0, 1.0]])
    # two near-copies beyond one end and one beyond the other end
    vectors = np.array([[3.0, 0.0], [2.9, 0.0], [0.0, 2.5]])
    assert greedy_front_batch(vectors, front, 2) == [0, 2]
    assert sorted(greedy_front_batch(vectors, front, 5)) == [0, 1, 2]


def test_rounds_ask_k_distinct_unseen_within_budget():
    opt = MOGuidedEDNAG(NB201, seed=0, max_queries=37, batch_size=9, num_objectives=2)
    batches = drive(opt, lambda a: Evaluation(two_objectives(a)))
    assert [len(b) for b in batches] == [10, 9, 9, 9]
    assert opt.num_queries == 37 and opt.rounds == 3


@pytest.mark.parametrize("units", ["ties", "values"])
def test_failures_never_stop_it(units):
    opt = MOGuidedEDNAG(NB201, seed=1, max_queries=40, num_objectives=2, margin_units=units)
    drive(opt, lambda a: Evaluation((), failed=True) if a[0] == 0
          else Evaluation(two_objectives(a)))
    assert opt.num_queries == 40 and len(opt.pareto_archive()) >= 1


def test_beats_mo_rea_on_hypervolume():
    budget, seeds = 60, range(4)
    ref = (-10.0, -10.0)

    def hv(opt) -> float:
        drive(opt, lambda a: Evaluation(two_objectives(a)))
        return hypervolume([ev.objectives for _, ev in opt.pareto_archive()], ref)

    guided = np.median([hv(MOGuidedEDNAG(NB201, seed=s, max_queries=budget, num_objectives=2))
                        for s in seeds])
    rea = np.median([hv(MORegularizedEvolution(NB201, seed=s, max_queries=budget,
                                               num_objectives=2)) for s in seeds])
    assert guided > rea


@pytest.mark.parametrize("units", ["ties", "values"])
def test_constraints_steer_the_rounds_to_feasible_architectures(units):
    def value(a) -> Evaluation:
        acc, cost = two_objectives(a)
        return Evaluation((acc, cost), violation=2.0 if a[0] in (0, 1, 2) else 0.0)

    opt = MOGuidedEDNAG(NB201, seed=0, max_queries=60, num_objectives=2, margin_units=units)
    batches = drive(opt, value)
    feasible_after_init = np.mean([a[0] not in (0, 1, 2) for b in batches[1:] for a in b])
    assert feasible_after_init > 0.6  # uniform sampling: 2 in 5
    assert all(opt.evaluation(a).violation == 0 for a, _ in opt.pareto_archive())


def test_it_keeps_its_measured_round_size_and_double_precision():
    """The single-objective defaults moved (5 queries, 2 diffusions, float32 ensembles); the
    multi-objective search keeps the values its tables were measured with unless asked (its
    stall quota takes 3 of its 10 queries a round after 3 rounds that add nothing to the
    front)."""
    opt = MOGuidedEDNAG(NB201, num_objectives=2)
    assert (opt.batch_size, opt.diffusions_per_round) == (MO_BATCH_SIZE, MO_DIFFUSIONS_PER_ROUND)
    assert opt.predictor_params == {"dtype": MO_PREDICTOR_DTYPE} == {"dtype": "float64"}
    assert (opt.stall_rounds, opt.stall_queries) == (MO_STALL_ROUNDS, MO_STALL_QUERIES) == (3, 3)
    assert opt.margin_units == MO_MARGIN_UNITS == "ties"
    asked = MOGuidedEDNAG(NB201, num_objectives=2, predictor_params={"dtype": "float32",
                                                                     "steps": 50})
    assert asked.predictor_params == {"dtype": "float32", "steps": 50}


def test_a_gaussian_process_can_model_every_objective():
    """``predictor="gp"``: one Gaussian process per objective, none of the ensemble's
    defaults; a run fills its budget and is reproducible."""
    from ednag.predictors import GaussianProcess

    def run() -> tuple:
        opt = MOGuidedEDNAG(NB201, seed=2, max_queries=40, num_objectives=2, predictor="gp")
        batches = drive(opt, lambda a: Evaluation(two_objectives(a)))
        return opt, batches

    (opt, batches), (_, again) = run(), run()
    assert opt.predictor_params == {} and opt.num_queries == 40 and batches == again
    archs = [NB201.sample(np.random.default_rng(i)) for i in range(12)]
    assert isinstance(opt._fit(archs, np.arange(12.0)), GaussianProcess)


def test_parameters_are_named():
    with pytest.raises(ValueError, match="its, ucb, exploit"):
        MOGuidedEDNAG(NB201, acquisition="ei", num_objectives=2)
    with pytest.raises(ValueError, match="patience is not supported"):
        MOGuidedEDNAG(NB201, patience=2, num_objectives=2)
    with pytest.raises(ValueError, match="stall_rounds must be an int >= 1 or None"):
        MOGuidedEDNAG(NB201, stall_rounds=0, num_objectives=2)
    with pytest.raises(ValueError, match="stall_pool must be 'priors' for mo_ednag_guided"):
        MOGuidedEDNAG(NB201, stall_pool="mutants", num_objectives=2)
    with pytest.raises(ValueError, match="guided_samples is not supported"):
        MOGuidedEDNAG(NB201, guided_samples=5, num_objectives=2)
    with pytest.raises(ValueError, match="early_acquisition is not supported"):
        MOGuidedEDNAG(NB201, early_acquisition="its", num_objectives=2)
    assert MOGuidedEDNAG(NB201, num_objectives=2).early_acquisition is None
    with pytest.raises(ValueError, match="early_apart is not supported"):
        MOGuidedEDNAG(NB201, early_apart=3, num_objectives=2)
    with pytest.raises(ValueError, match="restart_takes is not supported"):
        MOGuidedEDNAG(NB201, restart_takes="quota", num_objectives=2)
    with pytest.raises(ValueError, match="restart_nearby is not supported"):
        MOGuidedEDNAG(NB201, restart_nearby=2, num_objectives=2)
    assert MOGuidedEDNAG(NB201, num_objectives=2).restart_nearby is None
    with pytest.raises(ValueError, match="restart_rounds must be an int >= 1 or None"):
        MOGuidedEDNAG(NB201, restart_rounds=0, num_objectives=2)
    with pytest.raises(ValueError, match="num_objectives must be an int >= 1"):
        MOGuidedEDNAG(NB201, num_objectives=0)
    with pytest.raises(ValueError, match="told 1 objectives, the optimizer has 2"):
        opt = MOGuidedEDNAG(NB201, num_objectives=2, max_queries=5)
        opt.tell([(a, Evaluation((1.0,))) for a in opt.ask()])


def test_front_mutations_are_unseen_neighbours_of_the_front():
    opt = MOGuidedEDNAG(NB201, seed=3, max_queries=40, batch_size=5, front_mutations=5,
                        num_objectives=2)
    seen: list = []
    while not opt.finished:
        batch = opt.ask()
        if seen and len(seen) >= opt.num_init:
            front = [a for a, _ in opt.pareto_archive()]
            for arch in batch:
                assert NB201.key(arch) not in {NB201.key(a) for a in seen}
                assert min(sum(x != y for x, y in zip(arch, f, strict=True))
                           for f in front) == 1
        seen += batch
        opt.tell([(a, Evaluation(two_objectives(a))) for a in batch])
    assert opt.num_queries == 40


def test_front_mutations_is_checked():
    with pytest.raises(ValueError, match="front_mutations must be an int >= 0"):
        MOGuidedEDNAG(NB201, front_mutations=-1, num_objectives=2)


def test_margin_units_is_checked():
    with pytest.raises(ValueError, match="margin_units must be one of targets, values, mixed, "
                                         "ties; got 'hv'"):
        MOGuidedEDNAG(NB201, margin_units="hv", num_objectives=2)


def test_front_units_by_hand():
    """0 at the front's worst value, 1 at its best; an objective the front does not spread
    takes the range of every point, and 1 when they do not spread it either."""
    pts = np.array([[0.0, 5.0, 2.0], [4.0, 1.0, 2.0], [2.0, 3.0, 2.0]])
    lo, width = front_units(pts, pts[[1, 2]])
    assert lo.tolist() == [2.0, 1.0, 2.0] and width.tolist() == [2.0, 2.0, 1.0]
    lo, width = front_units(pts, pts[[0]])  # one front point: every point's range
    assert lo.tolist() == [0.0, 1.0, 2.0] and width.tolist() == [4.0, 4.0, 1.0]
    lo, width = front_units(pts, np.zeros((0, 3)))  # no front (nothing feasible): every point
    assert lo.tolist() == [0.0, 1.0, 2.0] and width.tolist() == [4.0, 4.0, 1.0]


def test_target_to_value_is_monotone_through_the_pairs():
    """Tied values share a target; between pairs the map is linear, beyond them it goes on
    with the slope across the outer tenth (here one segment) of the pairs."""
    targets = np.array([-1.5, -0.5, -0.5, 0.5, 1.5])
    values = np.array([0.0, 1.0, 1.0, 3.0, 7.0])
    f = target_to_value(targets, values)
    assert f(targets).tolist() == values.tolist()
    assert f(np.array([0.0, 2.0, -2.0])).tolist() == [2.0, 9.0, -0.5]
    assert np.all(np.diff(f(np.linspace(-3, 3, 61))) >= 0)
    assert target_to_value(np.array([0.3]), np.array([4.0]))(np.array([1.0, -1.0])).tolist() == [
        4.0, 4.0]


def test_margin_units_per_objective():
    """``ties`` puts in values the objectives whose queries share each value twice or more on
    average (here the cost with 3 levels), ``mixed`` all but the first, ``values`` all;
    ``targets`` none. An objective in values is scaled by the evaluated front's range and its
    map sends each query's target to its scaled value."""
    pts = np.column_stack([np.arange(12.0), -np.repeat([1.0, 2.0, 3.0], 4)])
    targets = np.column_stack([np.linspace(-2, 2, 12), np.repeat([1.0, 0.0, -1.0], 4)])
    front_idx = np.array([3, 7, 11])  # (3, -1), (7, -2), (11, -3)
    expected = {"targets": [False, False], "values": [True, True], "mixed": [False, True],
                "ties": [False, True]}
    for units, in_values in expected.items():
        opt = MOGuidedEDNAG(NB201, num_objectives=2, margin_units=units)
        got = opt._units(pts, targets, front_idx)
        for j, flag in enumerate(in_values):
            want = (pts[:, j] - pts[front_idx, j].min()) / np.ptp(pts[front_idx, j]) if flag \
                else targets[:, j]
            np.testing.assert_allclose(got.scaled[:, j], want)
            np.testing.assert_allclose(got.maps[j](targets[:, j]), want)


def test_ties_leave_objectives_without_ties_in_targets():
    """Two continuous objectives never tie: ``ties`` asks what ``targets`` asks. A cost with
    three levels ties from the start and changes the queries."""
    def value(a):
        return Evaluation(two_objectives(a))

    def tiered(a):
        acc, cost = two_objectives(a)
        return Evaluation((acc, float(np.round(cost / 3))))

    flat = {"seed": 4, "max_queries": 40, "batch_size": 5, "diffusions_per_round": 1,
            "num_objectives": 2}
    assert (drive(MOGuidedEDNAG(NB201, margin_units="ties", **flat), value)
            == drive(MOGuidedEDNAG(NB201, margin_units="targets", **flat), value))
    assert (drive(MOGuidedEDNAG(NB201, margin_units="ties", **flat), tiered)
            != drive(MOGuidedEDNAG(NB201, margin_units="targets", **flat), tiered))


def test_stall_quota_after_rounds_that_add_nothing_to_the_front(monkeypatch):
    """Rounds whose results join no evaluated first front count as stale; from
    ``stall_rounds`` of them on, ``stall_queries`` of the predictor's picks come from ensembles
    with randomized priors (one per objective), after the front mutants and the plain picks."""
    fits = spy_fits(monkeypatch, MOGuidedEDNAG)
    first: set[str] = set()

    def value(a) -> Evaluation:  # the ten random initial cells stay the front for good
        if len(first) < 10:
            first.add(NB201.key(a))
        return Evaluation((1.0, 1.0) if NB201.key(a) in first else (0.0, 0.0))

    kwargs = {"seed": 0, "max_queries": 60, "num_objectives": 2, "diffusions_per_round": 1}
    opt = MOGuidedEDNAG(NB201, stall_rounds=2, stall_queries=3, stall_prior_scale=4.0, **kwargs)
    batches = drive(opt, value)  # checks: every batch new and distinct
    assert [len(b) for b in batches] == [10] * 6 and opt.rounds == 5
    # round 1 sees a new front, rounds 2 and 3 are the first two stale ones: rounds 3-5 spread
    scales = [params.get("prior_scale", 0.0) for _, _, params, _ in fits]
    assert scales.count(4.0) == 2 * 3 and scales.count(0.0) == 2 * opt.rounds
    first.clear()
    off = MOGuidedEDNAG(NB201, stall_rounds=None, **kwargs)
    assert drive(off, value)[:3] == batches[:3]  # the same until the quota starts


def test_objective_bests_prefer_feasible_and_skip_failures():
    evs = [Evaluation((1.0, -5.0)), Evaluation((3.0, -9.0), violation=1.0),
           Evaluation((), failed=True), Evaluation((0.5, -1.0))]
    assert objective_bests(evs, 2).tolist() == [1.0, -1.0]  # the infeasible 3.0 left out
    assert objective_bests(evs[1:2], 2).tolist() == [3.0, -9.0]  # none feasible: all
    assert objective_bests(evs[2:3], 2) is None
    assert improved(np.array([1.0, 2.0]), None)
    assert improved(np.array([1.0, 2.5]), np.array([1.0, 2.0]))
    assert not improved(np.array([1.0, 2.0]), np.array([1.0, 2.0]))


def test_a_second_search_after_the_objectives_stall(monkeypatch):
    """``restart_rounds``: once no objective's best improved for that many rounds, a second
    search takes ``stall_queries`` of each round: ``num_init`` random queries of its own, then
    front rounds fitted on its own queries only (one front mutant each), never a known
    architecture, afresh when its own bests stall as long; off by default, and the same run
    until it starts; with ``restart_after``, not before that many queries."""
    default = MOGuidedEDNAG(NB201, num_objectives=2)
    assert (default.restart_rounds, default.restart_after, default.restart_predictor,
            default.stall_predictor, default.late_predictor, default.late_after) == (
        None, 0, None, None, "gp", 100)
    fitted_on: list[tuple[int, int]] = []
    real = MOGuidedEDNAG._front_round

    def front_round(self, evaluated, k, mutations, taken=frozenset()):
        fitted_on.append((len(evaluated), k))
        return real(self, evaluated, k, mutations, taken)

    monkeypatch.setattr(MOGuidedEDNAG, "_front_round", front_round)
    flat = {"batch_size": 5, "diffusions_per_round": 1, "num_objectives": 2}
    opt = MOGuidedEDNAG(NB201, seed=0, max_queries=80, restart_rounds=2, **flat)
    batches = drive(opt, lambda a: Evaluation((1.0, 1.0)))  # nothing ever improves
    # 10 random, then rounds of 5 fitted on 10 (the bests' first round) and 15; at 20 the
    # bests have not improved for 2 rounds, so the first search keeps 2 of 5 and the second
    # takes 3 (stall_queries): random for 4 rounds, then front rounds on its own 12, 15, 18
    # queries (its bests stale after 2 of them: afresh), random again, then 12 ...
    assert fitted_on[:4] == [(10, 5), (15, 5), (20, 2), (25, 2)]
    assert [n for n, k in fitted_on if k == 3] == [12, 15, 18, 12]
    assert opt.restarts == 2 and opt.num_queries == 80
    off = MOGuidedEDNAG(NB201, seed=0, max_queries=80, **flat)
    assert drive(off, lambda a: Evaluation((1.0, 1.0)))[:3] == batches[:3]
    fitted_on.clear()
    drive(MOGuidedEDNAG(NB201, seed=0, max_queries=50, restart_rounds=2, restart_after=30,
                        **flat), lambda a: Evaluation((1.0, 1.0)))
    assert fitted_on[:5] == [(10, 5), (15, 5), (20, 5), (25, 5), (30, 2)]


def test_the_second_search_can_fit_its_own_predictor(monkeypatch):
    fits = spy_fits(monkeypatch, MOGuidedEDNAG)
    opt = MOGuidedEDNAG(NB201, seed=0, max_queries=80, restart_rounds=2, batch_size=5,
                        diffusions_per_round=1, num_objectives=2, restart_predictor="gp")
    drive(opt, lambda a: Evaluation((1.0, 1.0)))
    gp = [n for p, _, _, n in fits if p == "gp"]
    assert gp and max(gp) < 20  # the second search's own queries (as above: 12, 15, 18)
    ensembles = [n for p, _, _, n in fits if p == "mlp_ensemble"]
    assert min(ensembles) == 10 and opt.predictor == "mlp_ensemble"


def test_gaussian_processes_after_late_after_queries(monkeypatch):
    """``late_predictor`` (``gp`` by default, from the 100th query): the first search's models
    are ensembles in double precision until ``late_after`` queries are told, Gaussian
    processes with their own defaults from then on; ``late_predictor=None`` keeps the
    ensembles."""
    fits = spy_fits(monkeypatch, MOGuidedEDNAG)
    flat = {"batch_size": 5, "diffusions_per_round": 1, "num_objectives": 2, "max_queries": 40,
            "stall_rounds": None}
    drive(MOGuidedEDNAG(NB201, seed=0, late_after=25, **flat),
          lambda a: Evaluation(two_objectives(a)))
    assert [(kind, params, n) for kind, params, _, n in fits] == (
        [("mlp_ensemble", {"dtype": "float64"}, n) for n in (10, 10, 15, 15, 20, 20)]
        + [("gp", {}, n) for n in (25, 25, 30, 30, 35, 35)])
    fits.clear()
    drive(MOGuidedEDNAG(NB201, seed=0, late_after=25, late_predictor=None, **flat),
          lambda a: Evaluation(two_objectives(a)))
    assert {kind for kind, _, _, _ in fits} == {"mlp_ensemble"} and len(fits) == 12


def test_a_new_best_objective_ends_the_second_search():
    opt = MOGuidedEDNAG(NB201, seed=1, max_queries=200, restart_rounds=2, batch_size=5,
                        diffusions_per_round=1, num_objectives=2)
    while opt._second is None or not opt._second.keys:
        opt.tell([(a, Evaluation((1.0, 1.0))) for a in opt.ask()])
    batch = opt.ask()
    opt.tell([(a, Evaluation((1.0, 2.0) if i == 0 else (1.0, 1.0)))
              for i, a in enumerate(batch)])
    opt.tell([(a, Evaluation((1.0, 1.0))) for a in opt.ask()])
    assert opt._second is None and opt.restarts == 1 and opt._bests_stale == 0


def test_a_run_pickled_during_its_second_search_resumes_the_same():
    import pickle

    opt = MOGuidedEDNAG(NB201, seed=2, max_queries=60, restart_rounds=1, batch_size=5,
                        diffusions_per_round=1, num_objectives=2)
    while opt._second is None or len(opt._second.keys) < 12:
        opt.tell([(a, Evaluation((1.0, 1.0))) for a in opt.ask()])

    def value(a):
        return Evaluation(two_objectives(a))

    copy = pickle.loads(pickle.dumps(opt))
    assert drive(copy, value) == drive(opt, value)
    old = MOGuidedEDNAG(NB201, seed=2, max_queries=30, num_objectives=2)
    old.tell([(a, value(a)) for a in old.ask()])
    state = old.__dict__.copy()
    for name in ("_second", "_bests", "_bests_stale", "restart_rounds", "restarts",
                 "margin_units"):
        state.pop(name, None)  # as releases before restart_rounds and margin_units pickled it
    old.__dict__.clear()
    old.__dict__.update(state)
    assert old._second is None and old.restart_rounds is None
    assert old.margin_units == "targets"  # the units it ran with
    drive(old, value)


def test_the_second_search_swaps_the_front_counters():
    """The multi-objective search's progress is its evaluated front and front-stale rounds:
    ``_as_second`` swaps those and leaves the objectives' bests alone."""
    opt = MOGuidedEDNAG(NB201, seed=0, max_queries=40, num_objectives=2)
    opt._front_keys, opt._stale_rounds, opt._bests_stale = frozenset({"a"}), 2, 4

    def round_() -> list:
        assert opt._progress() == (frozenset({"b"}), 1)
        opt._front_keys, opt._stale_rounds = frozenset({"b", "c"}), 0
        return []

    _, progress = opt._as_second((frozenset({"b"}), 1), round_)
    assert progress == (frozenset({"b", "c"}), 0)
    assert opt._progress() == (frozenset({"a"}), 2) and opt._bests_stale == 4
