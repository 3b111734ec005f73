"""Local search climbs and restarts; BANANAS asks distinct unseen architectures within its
budget and beats random search on a smooth landscape."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from toy import ToySpace, toy_fitness

from ednag.optimizers import WORST_FITNESS, RandomSearch
from ednag.optimizers.bananas import Bananas, acquire, top_k
from ednag.optimizers.local_search import LocalSearch
from ednag.spaces import make_space

NB201 = make_space("nb201")


def rugged(arch: tuple[int, ...]) -> float:
    """A deterministic landscape with many local optima (a hash of the architecture)."""
    digest = hashlib.sha256(repr(arch).encode()).digest()
    return int.from_bytes(digest[:4], "little") / 2**32


_W = np.random.default_rng(123).normal(size=(6, 5))
_PAIR = np.random.default_rng(321).normal(scale=0.3, size=(5, 5))


def smooth(arch: tuple[int, ...]) -> float:
    """A smooth synthetic NB201 landscape: one weight per (edge, op) plus a small interaction
    of consecutive edges."""
    return float(sum(_W[e, o] for e, o in enumerate(arch))
                 + sum(_PAIR[arch[e], arch[e + 1]] for e in range(5)))


def drive(opt, fn) -> list[list[tuple[int, ...]]]:
    """Ask/tell to the end; returns the batches asked, checking each is new and distinct."""
    batches = []
    seen: set[tuple[int, ...]] = set()
    while not opt.finished:
        batch = opt.ask()
        if not batch:  # the space ran out
            assert opt.finished, "asked nothing before the end"
            break
        assert len(set(batch)) == len(batch) and not seen & set(batch)
        seen |= set(batch)
        batches.append(batch)
        opt.tell([(a, fn(a)) for a in batch])
    return batches


# ---------------------------------------------------------------------------- local search
@pytest.mark.parametrize("move", ["best", "first"])
def test_local_search_climbs_to_the_optimum_of_a_unimodal_space(move):
    opt = LocalSearch(ToySpace(), seed=0, num_init=2, move=move)
    drive(opt, toy_fitness)
    assert opt.num_queries == 64  # ran out the space cleanly
    assert opt.local_optima[0][0] == (3, 3, 3)  # the first climb ends at the optimum
    assert opt.restarts >= 1


@pytest.mark.parametrize("move", ["best", "first"])
def test_local_search_stops_only_at_local_optima_and_restarts(move):
    opt = LocalSearch(NB201, seed=1, max_queries=400, move=move)
    drive(opt, rugged)
    assert len(opt.local_optima) >= 2 and opt.restarts == len(opt.local_optima)
    for arch, fitness in opt.local_optima:
        assert fitness == rugged(arch)
        assert all(rugged(nb) <= fitness for nb in NB201.neighbours(arch)), arch
        assert all(opt.lookup(nb) is not None for nb in NB201.neighbours(arch))
    assert opt.moves >= len(opt.local_optima)  # it climbed, not just restarted


def test_local_search_best_move_asks_the_whole_neighbourhood_at_once():
    opt = LocalSearch(NB201, seed=0, max_queries=100, num_init=5)
    batches = drive(opt, smooth)
    assert len(batches[0]) == 5  # the random start
    assert len(batches[1]) == len(NB201.neighbours(batches[0][0]))  # one full neighbourhood
    first = LocalSearch(NB201, seed=0, max_queries=40, num_init=5, move="first")
    assert all(len(b) == 1 for b in drive(first, smooth)[1:])


def test_local_search_parameters_are_named():
    with pytest.raises(ValueError, match="best, first"):
        LocalSearch(NB201, move="steepest")
    with pytest.raises(ValueError, match="num_init"):
        LocalSearch(NB201, num_init=0)


# ---------------------------------------------------------------------------- bananas
def test_bananas_asks_distinct_unseen_architectures_within_budget():
    opt = Bananas(NB201, seed=0, max_queries=43, num_init=10, batch_size=10)
    batches = drive(opt, smooth)
    assert opt.num_queries == 43
    assert [len(b) for b in batches] == [10, 10, 10, 10, 3]
    assert opt.refits == 4


def test_bananas_survives_failures_and_never_trains_on_them():
    def failing(arch):
        return WORST_FITNESS if arch[0] == 0 else smooth(arch)

    opt = Bananas(NB201, seed=2, max_queries=40)
    drive(opt, failing)
    assert opt.num_queries == 40
    assert opt.best()[1] > WORST_FITNESS


def test_bananas_beats_random_search_on_a_smooth_landscape():
    """Median over 5 seeds of the best fitness found with 40 queries (can fail)."""
    budget, seeds = 40, range(5)

    def best(opt) -> float:
        drive(opt, smooth)
        return opt.best()[1]

    bananas = np.median([best(Bananas(NB201, seed=s, max_queries=budget)) for s in seeds])
    random = np.median([best(RandomSearch(NB201, seed=s, max_queries=budget)) for s in seeds])
    optimum = max(smooth(a) for a in NB201.enumerate())
    assert bananas > random, (bananas, random, optimum)
    assert optimum - bananas < 0.5 * (optimum - random)


def test_acquisitions():
    rng = np.random.default_rng(0)
    mean, std = np.array([1.0, 2.0, 0.0]), np.array([0.0, 0.5, 3.0])
    assert acquire(mean, std, "exploit", rng).tolist() == [1.0, 2.0, 0.0]
    assert acquire(mean, std, "ucb", rng, beta=2.0).tolist() == [1.0, 3.0, 6.0]
    its = acquire(mean, std, "its", np.random.default_rng(1))
    assert its[0] == 1.0 and np.array_equal(its, acquire(mean, std, "its",
                                                         np.random.default_rng(1)))
    assert top_k(np.array([0.5, 2.0, 2.0, -1.0]), 3).tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match="its, ucb, exploit"):
        acquire(mean, std, "ei", rng)


def test_bananas_parameters_are_named():
    with pytest.raises(ValueError, match="its, ucb, exploit"):
        Bananas(NB201, acquisition="ei")
    with pytest.raises(ValueError, match="mutation, all"):
        Bananas(NB201, candidates="grid")
    with pytest.raises(ValueError, match="predictor must be one of mlp_ensemble, gp; got 'xgb'"):
        Bananas(NB201, predictor="xgb")
    with pytest.raises(ValueError, match="onehot, path"):
        Bananas(NB201, encoding="adjacency")
    with pytest.raises(ValueError, match="batch_size"):
        Bananas(NB201, batch_size=0)


@pytest.mark.parametrize("kw", [{"encoding": "path"}, {"candidates": "all"},
                                {"acquisition": "exploit"}, {"acquisition": "ucb"}])
def test_bananas_options_run(kw):
    opt = Bananas(NB201, seed=0, max_queries=25, **kw)
    drive(opt, smooth)
    assert opt.num_queries == 25
