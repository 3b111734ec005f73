"""The ask/tell base contract, random search and regularized evolution."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from ednag.optimizers import WORST_FITNESS, BudgetError, RandomSearch, RegularizedEvolution
from ednag.spaces import make_space
from ednag.spaces.base import Decision, SearchSpace


class TinySpace(SearchSpace):
    """3 decisions x 3 options = 27 architectures; fitness = sum of choices (optimum (2,2,2))."""

    name = "tiny"
    decisions = tuple(Decision(f"d{i}", ("a", "b", "c")) for i in range(3))

    def to_native(self, choices):
        return "".join("abc"[c] for c in self.check(choices))

    def from_native(self, native):
        return self.check(tuple("abc".index(ch) for ch in native))


def fitness(choices):
    return float(sum(choices))


def drive(opt, fn=fitness, batch=False):
    """A plain ask/tell loop; returns the evaluated architectures in order."""
    order = []
    while not opt.finished:
        asked = opt.ask()
        if not asked:
            assert opt.finished, "an optimizer with nothing pending must propose or finish"
            break
        order.extend(asked)
        opt.tell([(a, fn(a)) for a in asked])
    return order


@pytest.mark.parametrize("cls", [RandomSearch, RegularizedEvolution])
def test_budget_is_exact_and_queries_distinct(cls):
    space = make_space("nb201")
    opt = cls(space, seed=3, max_queries=57)
    order = drive(opt)
    assert len(order) == 57 == opt.num_queries
    assert len({space.key(a) for a in order}) == 57
    assert opt.ask() == []


@pytest.mark.parametrize("cls", [RandomSearch, RegularizedEvolution])
def test_same_seed_same_run(cls):
    space = make_space("nasbench_graph")
    a = drive(cls(space, seed=11, max_queries=40))
    b = drive(cls(space, seed=11, max_queries=40))
    c = drive(cls(space, seed=12, max_queries=40))
    assert a == b
    assert a != c


@pytest.mark.parametrize("cls", [RandomSearch, RegularizedEvolution])
def test_best_is_the_best_evaluated_so_far(cls):
    opt = cls(TinySpace(), seed=0, max_queries=10)
    order = drive(opt)
    top = max(order, key=fitness)
    assert opt.best() == (top, fitness(top))
    assert opt.finished and len(order) == 10


def test_rea_climbs_a_smooth_landscape_better_than_random():
    """On NB201 with fitness = sum of choices (optimum 24), aging evolution's mutations climb:
    at 100 queries its best is on average a whole point above random search's (5 seeds)."""
    space = make_space("nb201")
    gaps = []
    for seed in range(5):
        rea = RegularizedEvolution(space, seed=seed, max_queries=100, population_size=10)
        rnd = RandomSearch(space, seed=seed, max_queries=100)
        drive(rea)
        drive(rnd)
        gaps.append(rea.best()[1] - rnd.best()[1])
    assert min(gaps) >= 0 and sum(gaps) / len(gaps) >= 1.0


def test_random_search_exhausts_space_without_budget():
    opt = RandomSearch(TinySpace(), seed=5)
    order = drive(opt)
    assert sorted(order) == sorted(TinySpace().enumerate())


def test_failed_evaluations_are_worst_and_do_not_hang():
    space = make_space("nb201")
    opt = RegularizedEvolution(space, seed=0, max_queries=30)
    order = drive(opt, fn=lambda a: float("nan") if a[0] == 0 else fitness(a))
    assert len(order) == 30
    failed = [a for a in order if a[0] == 0]
    assert failed and all(opt.lookup(a) == WORST_FITNESS for a in failed)


def test_tell_rejects_unasked_architecture():
    opt = RandomSearch(make_space("nb201"), seed=0, max_queries=5)
    with pytest.raises(BudgetError, match="was not asked"):
        opt.tell([((0, 0, 0, 0, 0, 0), 1.0)])


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_budget_is_named(bad):
    with pytest.raises(BudgetError, match="max_queries"):
        RandomSearch(make_space("nb201"), seed=0, max_queries=bad)


def test_rea_parameters_are_validated():
    space = make_space("nb201")
    with pytest.raises(ValueError, match="population_size"):
        RegularizedEvolution(space, population_size=1)
    with pytest.raises(ValueError, match="tournament_size"):
        RegularizedEvolution(space, population_size=5, tournament_size=6)


def test_rea_mutates_tournament_winner():
    """After the random phase every child differs from some population member in one slot."""
    space = make_space("nb201")
    opt = RegularizedEvolution(space, seed=1, max_queries=60, population_size=10)
    order = drive(opt)
    seen = set()
    for i, child in enumerate(order):
        if i >= 10:
            assert any(sum(x != y for x, y in zip(child, p, strict=True)) == 1 for p in seen)
        seen.add(child)


def test_rea_population_ages_out():
    space = make_space("nb201")
    opt = RegularizedEvolution(space, seed=2, max_queries=300, population_size=10)
    joined = []  # every member in the order it joined: free repeats at ask, children at tell
    while not opt.finished:
        asked = opt.ask()
        joined += [choices for choices, _ in opt.pop_repeats()] + asked
        opt.tell([(a, fitness(a)) for a in asked])
    assert len(joined) > 300, "no repeat joined the population: the test would be vacuous"
    # the population holds exactly the ten most recent members, oldest first
    assert [c for c, _ in opt.population] == joined[-10:]


def test_random_repeats_are_logged_when_allowed():
    opt = RandomSearch(TinySpace(), seed=0, max_queries=27, allow_repeats=True)
    drive(opt)
    repeats = opt.pop_repeats()
    assert repeats, "27 draws from 27 archs with replacement must repeat"
    assert all(r[1] == fitness(r[0]) for r in repeats)
    assert opt.pop_repeats() == []


def test_state_survives_pickle_mid_run():
    space = make_space("nb201")
    ref = drive(RegularizedEvolution(space, seed=4, max_queries=40))
    opt = RegularizedEvolution(space, seed=4, max_queries=40)
    order = []
    while len(order) < 17:
        asked = opt.ask()
        order.extend(asked)
        opt.tell([(a, fitness(a)) for a in asked])
    clone = pickle.loads(pickle.dumps(opt))
    order.extend(drive(clone))
    assert order == ref


def test_state_dict_round_trip():
    space = make_space("nb201")
    opt = RandomSearch(space, seed=9, max_queries=20)
    for _ in range(5):
        opt.tell([(a, 1.0) for a in opt.ask()])
    other = RandomSearch(space, seed=0, max_queries=20)
    other.load_state_dict(pickle.loads(pickle.dumps(opt.state_dict())))
    assert drive(other) == drive(opt)


def test_random_search_is_uniform_enough():
    space = make_space("nb201")
    opt = RandomSearch(space, seed=0, max_queries=3000)
    order = drive(opt, fn=lambda a: 0.0)
    counts = np.bincount([a[0] for a in order], minlength=5)
    assert counts.min() > 450 and counts.max() < 750


@pytest.mark.parametrize("name", ["random", "regularized_evolution", "ednag", "local_search",
                                  "bananas", "ednag_guided", "diffusionnag"])
def test_a_reserved_architecture_is_a_pending_query_until_told(name):
    """``reserve`` (a user's point in flight) holds a query no optimizer may propose."""
    from ednag.registry import OPTIMIZERS

    space = make_space("nb201")
    opt = OPTIMIZERS.get(name).target.load()(space, seed=0, max_queries=25)
    point = space.sample(np.random.default_rng(7))
    assert opt.reserve(point) and not opt.reserve(point)  # held once
    assert opt.remaining == 24 and opt.is_reserved(point)
    asked = []
    while len(asked) < 24:
        batch = opt.ask()
        assert batch, "the reserved point must not block the other queries"
        assert all(space.key(a) != space.key(point) for a in batch)
        asked += batch
        opt.tell([(a, float(sum(a))) for a in batch])
    assert not opt.finished and opt.ask() == []  # the budget is spent, the point still out
    opt.tell_external([(point, 99.0)])
    assert opt.finished and opt.num_queries == 25 and opt.best() == (point, 99.0)
    assert not opt.reserve(space.sample(np.random.default_rng(8)))  # no query left
