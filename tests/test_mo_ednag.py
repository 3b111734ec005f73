"""The multi-objective EDNAG's own choices: its defaults and its front-sized archive."""

from __future__ import annotations

import pytest

from ednag.optimizers.evo_diffusion.config import DEFAULT, PAPER
from ednag.optimizers.multi_objective.mo_ednag import MO_DEFAULTS, MOEDNAG
from ednag.pareto import Evaluation
from ednag.spaces import make_space


def _trade_off(arch) -> Evaluation:
    """Two objectives in pure conflict: every distinct sum is its own point of one front."""
    total = float(sum(arch))
    return Evaluation((total, -total))


def _run(budget: int = 60, **params) -> MOEDNAG:
    opt = MOEDNAG(make_space("nb201"), seed=0, max_queries=budget, num_objectives=2, **params)
    while not opt.finished:
        opt.tell([(a, _trade_off(a)) for a in opt.ask()])
    return opt


def test_the_defaults_are_the_default_preset_with_the_multi_objective_fields():
    opt = MOEDNAG(make_space("nb201"), num_objectives=2)
    assert opt.config == DEFAULT.replace(**MO_DEFAULTS)
    assert MOEDNAG(make_space("nb201"), config="default", num_objectives=2).config == opt.config
    assert MOEDNAG(make_space("nb201"), num_objectives=2, archive_size=4).config.archive_size == 4
    assert MOEDNAG(make_space("nb201"), config="paper", num_objectives=2).config == PAPER


def test_the_archive_is_the_whole_first_front_when_that_is_larger():
    opt = _run()
    front = {opt.space.key(a) for a, _ in opt.pareto_archive()}
    assert len(front) > MO_DEFAULTS["archive_size"]
    assert len(opt.archive) == len(front)
    assert {opt.space.key(a) for _, a in opt.archive} == front

    capped = _run(front_archive=False)
    assert len(capped.archive) == MO_DEFAULTS["archive_size"]


def test_front_archive_must_be_a_bool():
    with pytest.raises(ValueError, match="front_archive must be a bool"):
        MOEDNAG(make_space("nb201"), num_objectives=2, front_archive="yes")
