"""The EDNAG ask/tell optimizer: budgets, repeats, failures, restore, spaces, config errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from ednag.optimizers import EDNAG, WORST_FITNESS
from ednag.optimizers.evo_diffusion import PAPER, EDNAGConfig, resolve_config
from ednag.spaces import make_space


def toy_fitness(arch: tuple[int, ...]) -> float:
    """A deterministic landscape with a single optimum at (3, 3, ..., 3)."""
    return 100.0 - sum((c - 3) ** 2 for c in arch) - 0.01 * sum(arch)


def drive(opt: EDNAG, fitness=toy_fitness, max_calls: int = 10_000) -> list[tuple[int, ...]]:
    """Plain ask/tell loop; returns every architecture asked, in order."""
    asked: list[tuple[int, ...]] = []
    for _ in range(max_calls):
        if opt.finished:
            return asked
        batch = opt.ask()
        assert batch, "ask() returned [] with nothing pending before the budget was spent"
        asked.extend(batch)
        opt.tell([(a, fitness(a)) for a in batch])
    raise AssertionError("the run did not finish")


@pytest.mark.parametrize("preset", ["default", "paper"])
@pytest.mark.parametrize("budget", [1, 37, 150])
def test_budget_is_exact_and_no_architecture_is_asked_twice(preset, budget):
    space = make_space("nb201")
    opt = EDNAG(space, seed=5, max_queries=budget, config=preset)
    asked = drive(opt)
    keys = [space.key(a) for a in asked]
    assert len(keys) == budget == opt.num_queries
    assert len(set(keys)) == len(keys)
    assert opt.ask() == []


def test_restarts_and_free_repeats_when_the_schedule_is_short():
    space = make_space("nb201")
    opt = EDNAG(space, seed=1, max_queries=300, num_steps=3, skip_steps=0, population_size=6)
    drive(opt)
    assert opt.num_queries == 300
    assert opt.restarts > 0
    repeats = opt.pop_repeats()
    assert repeats and all(opt.lookup(a) == f for a, f in repeats)


def test_generation_barrier():
    opt = EDNAG(make_space("nb201"), seed=0, max_queries=100, population_size=10)
    first = opt.ask()
    assert 1 <= len(first) <= 10 and opt.generation == 0
    opt.tell([(first[0], 1.0)])
    assert opt.ask() == []  # still waiting for the rest of the generation
    opt.tell([(a, 1.0) for a in first[1:]])
    second = opt.ask()
    assert second and opt.generation >= 1


def test_failed_evaluations_are_worst_and_never_hang():
    space = make_space("nb201")
    opt = EDNAG(space, seed=2, max_queries=120)
    asked = drive(opt, fitness=lambda a: float("nan") if a[0] == 0 else toy_fitness(a))
    failed = [a for a in asked if a[0] == 0]
    assert failed and all(opt.lookup(a) == WORST_FITNESS for a in failed)
    assert opt.best()[1] > WORST_FITNESS and opt.best()[0][0] != 0
    # every evaluation failing must not hang either
    opt = EDNAG(space, seed=3, max_queries=80)
    assert len(drive(opt, fitness=lambda a: float("inf"))) == 80


def test_paper_encoding_invalid_members_cost_no_query():
    space = make_space("nb201")
    opt = EDNAG(space, seed=0, max_queries=50, config="paper")
    first = opt.ask()
    # (5/7)^6 ~ 13 % of Gaussian members decode to a valid cell: invalid ones are not asked
    assert 0 < len(first) < opt.config.population_size
    assert len(opt.history) == opt.generation  # the current generation is not logged yet
    opt.tell([(a, toy_fitness(a)) for a in first])
    assert len(opt.history) == opt.generation + 1
    assert all(h["valid_rate"] < 1.0 for h in opt.history)
    drive(opt)
    assert opt.num_queries == 50


def test_fitness_guidance_beats_the_initial_population():
    space = make_space("nb201")
    opt = EDNAG(space, seed=0, max_queries=150)
    drive(opt)
    assert opt.best()[0] == (3, 3, 3, 3, 3, 3)


def test_nasbench_graph_space_works():
    space = make_space("nasbench_graph")
    opt = EDNAG(space, seed=0, max_queries=120)
    asked = drive(opt)
    assert len({space.key(a) for a in asked}) == 120
    assert all(space.is_valid(a) for a in asked)


def test_same_seed_same_run_other_seed_other_run():
    space = make_space("nb201")
    a = drive(EDNAG(space, seed=11, max_queries=90))
    b = drive(EDNAG(space, seed=11, max_queries=90))
    c = drive(EDNAG(space, seed=12, max_queries=90))
    assert a == b and a != c


@pytest.mark.parametrize("via", ["pickle", "state_dict"])
def test_restore_in_the_middle_of_a_generation(via):
    space = make_space("nb201")
    budget = 120
    reference = drive(EDNAG(space, seed=7, max_queries=budget))

    opt = EDNAG(space, seed=7, max_queries=budget)
    asked: list[tuple[int, ...]] = []
    for _ in range(3):  # a few full generations
        batch = opt.ask()
        asked += batch
        opt.tell([(a, toy_fitness(a)) for a in batch])
    batch = opt.ask()
    asked += batch
    assert len(batch) >= 2
    opt.tell([(batch[0], toy_fitness(batch[0]))])  # partial tell
    if via == "pickle":
        opt = pickle.loads(pickle.dumps(opt))
    else:
        state = pickle.loads(pickle.dumps(opt.state_dict()))
        fresh = EDNAG(space, seed=0, max_queries=budget)
        fresh.load_state_dict(state)
        opt = fresh
    opt.tell([(a, toy_fitness(a)) for a in batch[1:]])
    asked += drive(opt)
    assert asked == reference


def test_state_dict_is_a_snapshot():
    opt = EDNAG(make_space("nb201"), seed=0, max_queries=60)
    batch = opt.ask()
    opt.tell([(a, toy_fitness(a)) for a in batch])
    state = opt.state_dict()
    rest = drive(opt)
    opt.load_state_dict(state)
    assert drive(opt) == rest


# ---------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("mutation_rate", 1.5, r"mutation_rate must be a number in \[0, 1\]"),
        ("elite_rate", -0.1, r"elite_rate must be a number in \[0, 1\]"),
        ("temperature", 0.0, "temperature must be a finite number > 0"),
        ("population_size", 1, "population_size must be an int >= 2"),
        ("num_steps", 1, "num_steps must be an int >= 2"),
        ("mapping", "softmax", "mapping must be one of energy, power, identity"),
        ("encoding", "graph", "encoding must be one of onehot, nb201_paper"),
        ("mutation_mode", "arch", "mutation_mode must be one of member, gene"),
        ("skip_steps", 99, r"skip_steps must be in \[0, num_steps - 2"),
        ("eta", 2.0, r"eta must be a number in \[0, 1\]"),
        ("arch_mutation_rate", 1.2, r"arch_mutation_rate must be a number in \[0, 1\]"),
        (
            "arch_mutation_parent",
            "elite",
            "arch_mutation_parent must be one of member, population, archive",
        ),
        ("tournament_size", 0, "tournament_size must be an int >= 1"),
        ("arch_mutation_tries", -1, "arch_mutation_tries must be an int >= 0"),
    ],
)
def test_config_validation_names_the_parameter(field, value, match):
    with pytest.raises(ValueError, match=match):
        EDNAGConfig(**{field: value})


def test_population_smaller_than_its_elites_and_diversity_picks():
    with pytest.raises(ValueError, match="population_size=10 is smaller than its elites"):
        EDNAGConfig(population_size=10, elite_rate=0.6, diversity_rate=0.5)


def test_presets_and_overrides():
    assert resolve_config("paper") is PAPER
    assert resolve_config(None, population_size=12).population_size == 12
    with pytest.raises(ValueError, match="unknown EDNAG preset 'fast'"):
        resolve_config("fast")
    with pytest.raises(ValueError, match="unknown EDNAG parameter"):
        EDNAG(make_space("nb201"), population_size=10, popsize=3)
    with pytest.raises(ValueError, match="needs the nb201 space"):
        EDNAG(make_space("nasbench_graph"), config="paper")


def test_paper_preset_mutation_never_changes_a_decoded_architecture():
    """The documented trap, kept on purpose in the faithful preset."""
    opt = EDNAG(make_space("nb201"), seed=0, config="paper")
    rng = np.random.default_rng(0)
    from ednag.optimizers.evo_diffusion.mutation import mutate_population

    x = rng.standard_normal((30, 56))
    before = opt.encoding.decode_batch(x)
    after = opt.encoding.decode_batch(mutate_population(x, rng, 1.0, 5.0, "member"))
    assert before == after


# ---------------------------------------------------------------------------- arch mutation
def _one_decision_apart(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1


@pytest.mark.parametrize("parent", ["archive", "population"])
def test_arch_mutation_children_are_neighbours_of_their_parents(parent):
    """With rate 1 every denoised member is the re-encoded one-decision mutation of an
    archive (or population) member; the encoding decodes back to that child."""
    space = make_space("nb201")
    opt = EDNAG(
        space, seed=4, max_queries=400, arch_mutation_rate=1.0, arch_mutation_parent=parent
    )
    checked = 0
    while not opt.finished:
        batch = opt.ask()
        if not batch:
            break
        opt.tell([(a, toy_fitness(a)) for a in batch])
        if opt._batch is not None or opt.population is None or opt._needs_init:
            continue
        pool = [a for _, a in opt.archive] if parent == "archive" else list(opt._pop_archs)
        x = opt._denoise(opt.population, opt._pop_fitness)
        archs = opt.encoding.decode_batch(x)
        x2, archs2 = opt._mutate_architectures(x, archs)
        assert opt.encoding.decode_batch(x2) == archs2
        assert np.all(np.abs(x2) <= 1.0)
        for child in archs2:
            assert any(_one_decision_apart(child, p) for p in pool)
        checked += 1
        if checked == 5:
            break
    assert checked == 5


def test_arch_mutation_off_leaves_the_denoised_batch_alone():
    space = make_space("nb201")
    opt = EDNAG(space, seed=0, max_queries=100, arch_mutation_rate=0.0)
    drive(opt)
    x = np.random.default_rng(0).standard_normal((8, opt.encoding.dim))
    archs = opt.encoding.decode_batch(x)
    x_off, archs_off = opt._mutate_architectures(x.copy(), list(archs))
    assert np.array_equal(x_off, x) and archs_off == archs  # rate 0: nothing changes


def test_arch_mutation_on_replaces_every_member_by_a_one_decision_child():
    space = make_space("nb201")
    opt = EDNAG(space, seed=0, max_queries=100, arch_mutation_rate=1.0,
                arch_mutation_parent="member")
    drive(opt)
    x = np.random.default_rng(0).standard_normal((8, opt.encoding.dim))
    archs = opt.encoding.decode_batch(x)
    x2, archs2 = opt._mutate_architectures(x, archs)
    assert all(_one_decision_apart(a, b) for a, b in zip(archs, archs2, strict=True))


def test_arch_mutation_novelty_redraws_avoid_known_children():
    """With redraws, children of a member are unseen whenever an unseen neighbour exists."""
    space = make_space("nb201")
    opt = EDNAG(
        space,
        seed=3,
        max_queries=200,
        arch_mutation_rate=1.0,
        arch_mutation_parent="member",
        arch_mutation_tries=50,
    )
    asked = drive(opt)

    def seen(arch):
        return sum(opt.lookup(n) is not None for n in space.neighbours(arch))

    # an evaluated parent whose neighbourhood is mostly, but not fully, explored
    parent = max((a for a in asked if seen(a) <= len(space.neighbours(a)) - 4), key=seen)
    assert seen(parent) >= 4
    x = np.repeat(opt.encoding.encode(parent).reshape(1, -1), 8, axis=0)
    _, children = opt._mutate_architectures(x, [parent] * 8)
    assert len(children) == 8
    assert all(opt.lookup(c) is None for c in children)


def test_default_with_arch_mutation_beats_its_ablation_on_a_toy_landscape():
    """The decoded-architecture corrector finds the toy optimum with fewer queries."""
    space = make_space("nb201")

    def best_after(rate: float) -> float:
        scores = []
        for seed in range(6):
            opt = EDNAG(space, seed=seed, max_queries=60, arch_mutation_rate=rate)
            drive(opt)
            scores.append(opt.best()[1])
        return float(np.mean(scores))

    assert best_after(0.5) > best_after(0.0)


def test_short_parameter_aliases():
    from ednag.optimizers.evo_diffusion.config import resolve_config

    assert resolve_config("default", population=20).population_size == 20
    assert resolve_config("paper", steps=50).num_steps == 50
    with pytest.raises(ValueError, match="not both"):
        resolve_config("default", population=20, population_size=10)
