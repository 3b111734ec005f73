"""Predictor-guided EDNAG: free diffusions, top-k unseen queries per round, within budget."""

from __future__ import annotations

import numpy as np
import pytest
from test_local_search_bananas import NB201, drive, smooth

from ednag.optimizers import WORST_FITNESS, RandomSearch
from ednag.optimizers.bananas import MIN_BATCH_GAP, decisions_apart
from ednag.optimizers.ednag_guided import GuidedEDNAG
from ednag.optimizers.unseen import unseen_within
from ednag.predictors import PredictorError


def test_rounds_ask_k_distinct_unseen_architectures_within_budget():
    opt = GuidedEDNAG(NB201, seed=0, max_queries=37, batch_size=9, num_init=10)
    batches = drive(opt, smooth)  # checks: every batch new and distinct
    assert [len(b) for b in batches] == [10, 9, 9, 9]
    assert opt.num_queries == 37 and opt.rounds == 3


def test_failures_do_not_stop_it():
    opt = GuidedEDNAG(NB201, seed=1, max_queries=30)
    drive(opt, lambda a: WORST_FITNESS if a[1] == 0 else smooth(a))
    assert opt.num_queries == 30 and opt.best()[1] > WORST_FITNESS


def test_beats_random_search_on_a_smooth_landscape():
    budget, seeds = 40, range(5)

    def best(opt) -> float:
        drive(opt, smooth)
        return opt.best()[1]

    guided = np.median([best(GuidedEDNAG(NB201, seed=s, max_queries=budget)) for s in seeds])
    random = np.median([best(RandomSearch(NB201, seed=s, max_queries=budget)) for s in seeds])
    assert guided > random


def test_randomized_priors_reach_the_ensemble_and_stay_reproducible():
    """``predictor_params={"prior_scale": s}`` changes what a run asks (the spread now grows
    away from the data) and the run stays reproducible; the default ensemble has no priors."""

    def queries(**params) -> list:
        return drive(GuidedEDNAG(NB201, seed=2, max_queries=30, **params), smooth)

    default, prior = queries(), queries(predictor_params={"prior_scale": 3.0})
    assert prior == queries(predictor_params={"prior_scale": 3.0})
    assert prior[0] == default[0] and prior[1:] != default[1:]  # same random start
    assert default == queries(predictor_params={"prior_scale": 0.0})


def test_parameters_are_named():
    with pytest.raises(ValueError, match="its, ucb, exploit"):
        GuidedEDNAG(NB201, acquisition="ei")
    with pytest.raises(ValueError, match="diffusions_per_round must be an int >= 0"):
        GuidedEDNAG(NB201, diffusions_per_round=-1)
    with pytest.raises(ValueError, match=r"diffusions_per_round=0 .* needs num_random >= 1"):
        GuidedEDNAG(NB201, diffusions_per_round=0, num_random=0)
    with pytest.raises(ValueError, match="population_size"):
        GuidedEDNAG(NB201, population_size=1)


def test_patience_explores_after_rounds_without_a_better_result(monkeypatch):
    with pytest.raises(ValueError, match="patience must be an int >= 1 or None"):
        GuidedEDNAG(NB201, patience=0)
    explored = []
    real = GuidedEDNAG._explore

    def spy(self, model, k):
        batch = real(self, model, k)
        explored.append((self.rounds, batch))
        return batch

    monkeypatch.setattr(GuidedEDNAG, "_explore", spy)
    # a flat landscape: the first round sets the best, nothing beats it afterwards
    ten = {"batch_size": 10, "stall_rounds": None}  # ten queries a round, no stall quota
    opt = GuidedEDNAG(NB201, seed=0, max_queries=60, patience=2, **ten)
    batches = drive(opt, lambda a: 1.0)
    assert [r for r, _ in explored] == [3, 5]  # rounds 2-3 stale -> explore, 4-5 -> explore
    assert [b for _, b in explored] == [batches[3], batches[5]]
    assert opt.num_queries == 60
    off = GuidedEDNAG(NB201, seed=0, max_queries=60, **ten)
    assert drive(off, lambda a: 1.0)[:3] == batches[:3]  # the same until the first stall


def test_stall_quota_counts_rounds_without_a_better_result():
    with pytest.raises(ValueError, match="stall_rounds must be an int >= 1 or None"):
        GuidedEDNAG(NB201, stall_rounds=0)
    with pytest.raises(ValueError, match="stall_queries must be an int >= 1"):
        GuidedEDNAG(NB201, stall_rounds=2, stall_queries=0)
    with pytest.raises(ValueError, match="stall_prior_scale must be a finite number > 0"):
        GuidedEDNAG(NB201, stall_prior_scale=0.0)
    opt = GuidedEDNAG(NB201, stall_rounds=2, stall_queries=3)
    quotas = []
    for best in [1.0, 1.0, 1.0, 1.0, 2.0, 2.0]:
        opt._note_progress(best)
        quotas.append(opt._stall_quota(10))
    assert quotas == [0, 0, 3, 3, 0, 0]  # from the 2nd stale round on, until a better result
    opt._stale_rounds = 5
    assert opt._stall_quota(2) == 1  # at least one query stays with the plain ensemble
    on = GuidedEDNAG(NB201)  # on by default: 3 queries from the 4th stale round on
    assert (on.stall_rounds, on.stall_queries, on.stall_pool) == (4, 3, "both")
    off = GuidedEDNAG(NB201, stall_rounds=None)
    off._stale_rounds = on._stale_rounds = 4
    assert (on._stall_quota(5), off._stall_quota(5)) == (3, 0)


def test_a_second_search_after_a_stall_forgets_the_earlier_queries(monkeypatch):
    """``restart_rounds``: after that many stale rounds a second search chooses each round's
    queries outside the first search's stall quota; it starts with ``num_init`` random queries
    of its own, fits only on its own queries, never asks a known architecture, and starts
    afresh when it stalls as long itself; the same run until it starts."""
    with pytest.raises(ValueError, match="restart_rounds must be an int >= 1 or None"):
        GuidedEDNAG(NB201, restart_rounds=0)
    with pytest.raises(ValueError, match="restart_after must be an int >= 0"):
        GuidedEDNAG(NB201, restart_after=-1)
    default = GuidedEDNAG(NB201)
    assert (default.restart_rounds, default.restart_after, default.restart_predictor) == (
        6, 100, "gp")
    fitted_on, second = [], []
    real_search, real_restart = GuidedEDNAG._search_round, GuidedEDNAG._restart_round

    def search(self, history, k, plain=True, **kw):
        fitted_on.append(len(history))
        return real_search(self, history, k, plain, **kw)

    def restart(self, k, taken):
        second.append((k, len(taken)))
        return real_restart(self, k, taken)

    monkeypatch.setattr(GuidedEDNAG, "_search_round", search)
    monkeypatch.setattr(GuidedEDNAG, "_restart_round", restart)
    five = {"batch_size": 5, "stall_rounds": None, "diffusions_per_round": 1}
    opt = GuidedEDNAG(NB201, seed=0, max_queries=90, restart_rounds=2, restart_after=0, **five)
    batches = drive(opt, lambda a: 1.0)  # flat: nothing beats the first round
    # rounds of 5 after 10 random: the first search fits on 10, 15, 20 queries (2 stale
    # rounds); from then on it still fits on every query (25, 30, ...) but, without a stall
    # quota, leaves all 5 to the second search: 2 random rounds of its own, then fits on its
    # own 10, 15, 20 (stalled twice: afresh), random again ...
    assert fitted_on[:11] == [10, 15, 20, 25, 30, 35, 10, 40, 15, 45, 20]
    assert second[:3] == [(5, 0)] * 3
    assert opt.restarts == 3 and opt.num_queries == 90
    off = GuidedEDNAG(NB201, seed=0, max_queries=90, restart_rounds=None, **five)
    assert drive(off, lambda a: 1.0)[:3] == batches[:3]  # the same until it starts
    # with the stall quota (3 of 5 after 4 stale rounds) the first search keeps its quota
    second.clear()
    drive(GuidedEDNAG(NB201, seed=0, max_queries=60, restart_rounds=5, restart_after=0,
                      diffusions_per_round=1), lambda a: 1.0)
    assert second and set(second) == {(2, 3)}


def test_restart_patience_lets_the_second_search_stall_longer_before_it_starts_afresh(
        monkeypatch):
    """``restart_patience``: the second search's own stale rounds before it starts afresh
    (``None``: ``restart_rounds``, the run as before); checked like ``restart_rounds``."""
    with pytest.raises(ValueError, match="restart_patience must be an int >= 1 or None"):
        GuidedEDNAG(NB201, restart_patience=0)
    assert GuidedEDNAG(NB201).restart_patience is None
    fitted_on: list[int] = []
    real_search = GuidedEDNAG._search_round

    def search(self, history, k, plain=True, quota=None, **kw):
        fitted_on.append(len(history))
        return real_search(self, history, k, plain, quota, **kw)

    monkeypatch.setattr(GuidedEDNAG, "_search_round", search)
    five = {"batch_size": 5, "stall_rounds": None, "diffusions_per_round": 1,
            "restart_rounds": 2, "restart_after": 0}
    runs = {}
    for patience in (None, 2, 4):
        fitted_on.clear()
        opt = GuidedEDNAG(NB201, seed=0, max_queries=90, restart_patience=patience, **five)
        runs[patience] = (drive(opt, lambda a: 1.0), opt.restarts, fitted_on[:14])
    assert runs[None] == runs[2]  # None: as long as the first search waited
    batches, restarts, fits = runs[4]
    # the second search fits on its own 10, 15, 20 and, stalled only twice then, 25 more
    assert fits == [10, 15, 20, 25, 30, 35, 10, 40, 15, 45, 20, 50, 25, 55]
    assert restarts == 2 and batches[:9] == runs[None][0][:9]


def test_the_second_search_can_take_the_stall_quota_instead(monkeypatch):
    """``restart_takes="quota"``: while a second search runs, the first search keeps its plain
    picks and one of its stall quota (3 of 5: 2 plain, 1 quota) and the second takes the other
    two of the quota; with ``"plain"`` the first keeps only its quota; with ``"one"`` the
    second takes one query and the first the other four (one plain, three of its quota). Names
    are checked."""
    with pytest.raises(ValueError, match="restart_takes must be one of plain, quota, one; "
                                         "got 'all'"):
        GuidedEDNAG(NB201, restart_takes="all")
    assert GuidedEDNAG(NB201).restart_takes == "plain"
    first, second = [], []
    real_search, real_restart = GuidedEDNAG._search_round, GuidedEDNAG._restart_round

    def search(self, history, k, plain=True, quota=None, **kw):
        if len(history) == self.num_queries:  # the first search's rounds
            first.append((k, plain, quota))
        return real_search(self, history, k, plain, quota, **kw)

    def restart(self, k, taken):
        second.append((k, len(taken)))
        return real_restart(self, k, taken)

    monkeypatch.setattr(GuidedEDNAG, "_search_round", search)
    monkeypatch.setattr(GuidedEDNAG, "_restart_round", restart)
    for takes, during, share in (("quota", (3, True, 1), (2, 3)),
                                 ("plain", (5, False, None), (2, 3)),
                                 ("one", (4, True, None), (1, 4))):
        first.clear(), second.clear()
        opt = GuidedEDNAG(NB201, seed=0, max_queries=60, restart_rounds=5, restart_after=0,
                          diffusions_per_round=1, restart_takes=takes)
        drive(opt, lambda a: 1.0)  # flat: the second search runs from 40 queries on
        assert set(second) == {share} and opt.num_queries == 60
        assert first[:6] == [(5, True, None)] * 6 and set(first[6:]) == {during}


def test_the_second_search_waits_for_restart_after_queries(monkeypatch):
    """``restart_after``: however long the stall, no second search before that many queries
    are told (until then the run is the one without it); it starts at the first round after
    them, the stall counted from its beginning."""
    started = []
    real_start = GuidedEDNAG._start_restart

    def start(self):
        started.append(len(self.history))
        real_start(self)

    monkeypatch.setattr(GuidedEDNAG, "_start_restart", start)
    five = {"batch_size": 5, "stall_rounds": None, "diffusions_per_round": 1}
    opt = GuidedEDNAG(NB201, seed=0, max_queries=60, restart_rounds=2, restart_after=40, **five)
    batches = drive(opt, lambda a: 1.0)  # stale from the third round (20 queries) on
    assert started[0] == 40
    off = GuidedEDNAG(NB201, seed=0, max_queries=60, restart_rounds=None, **five)
    later = drive(off, lambda a: 1.0)
    assert later[:7] == batches[:7] and later[7] != batches[7]  # 10 random + 6 rounds of 5


def spy_fits(monkeypatch, cls) -> list[tuple[str, dict, dict, int]]:
    """Patch ``cls._fit`` to record every fit: (predictor, predictor_params, its extra
    parameters, rows fitted on)."""
    fits: list[tuple[str, dict, dict, int]] = []
    real_fit = cls._fit

    def fit(self, archs, y, **params):
        fits.append((self.predictor, dict(self.predictor_params), params, len(archs)))
        return real_fit(self, archs, y, **params)

    monkeypatch.setattr(cls, "_fit", fit)
    return fits


def test_the_second_search_can_fit_its_own_predictor(monkeypatch):
    """``restart_predictor``: the second search's rounds fit that predictor (its own
    defaults), the first search's its ``predictor``; an unknown name is refused by field."""
    with pytest.raises(ValueError, match="restart_predictor must be one of mlp_ensemble, gp "
                                         "or None; got 'svm'"):
        GuidedEDNAG(NB201, restart_predictor="svm")
    fits = spy_fits(monkeypatch, GuidedEDNAG)
    opt = GuidedEDNAG(NB201, seed=0, max_queries=60, restart_rounds=2, restart_after=0,
                      restart_predictor="gp", stall_rounds=None, diffusions_per_round=1)
    drive(opt, lambda a: 1.0)  # the second search starts at 20 queries, fits from 30 on
    first = [f for f in fits if f[0] == "mlp_ensemble"]
    second = [f for f in fits if f[0] == "gp"]
    assert [n for _, _, _, n in first] == list(range(10, 60, 5))  # every round, every query
    assert second and all(params == {} and n < 30 for _, params, _, n in second)
    assert first[0][1] == {"dtype": "float32"} and opt.predictor == "mlp_ensemble"


def test_the_stall_quota_can_fit_its_own_predictor(monkeypatch):
    """``stall_predictor``: the stall quota's spread model is that predictor (its own
    defaults, ``prior_scale`` the quota's), every other fit the search's ``predictor``; a
    second search's quota fits the second search's kind; an unknown name is refused."""
    with pytest.raises(ValueError, match="stall_predictor must be one of mlp_ensemble, gp "
                                         "or None; got 'svm'"):
        GuidedEDNAG(NB201, stall_predictor="svm")
    assert GuidedEDNAG(NB201).stall_predictor == "gp"  # the default since its screen
    fits = spy_fits(monkeypatch, GuidedEDNAG)
    opt = GuidedEDNAG(NB201, seed=0, max_queries=60, stall_rounds=2, stall_pool="priors",
                      stall_predictor="gp", restart_rounds=None, diffusions_per_round=1)
    drive(opt, lambda a: 1.0)  # stale from the second round on: the quota from the third
    spread = [f for f in fits if f[2]]
    plain = [f for f in fits if not f[2]]
    assert spread and all(kind == "gp" and params == {} and extra == {"prior_scale": 10.0}
                          for kind, params, extra, _ in spread)
    assert [n for kind, _, _, n in plain if kind == "mlp_ensemble"] == list(range(10, 60, 5))
    assert opt.predictor == "mlp_ensemble" and opt.predictor_params == {"dtype": "float32"}
    fits.clear()
    opt = GuidedEDNAG(NB201, seed=0, max_queries=80, stall_rounds=2, stall_pool="priors",
                      stall_predictor="mlp_ensemble", predictor="gp", restart_rounds=2,
                      restart_after=0, restart_predictor="gp", diffusions_per_round=1)
    drive(opt, lambda a: 1.0)  # the second search's own quota fits Gaussian processes
    assert opt.restarts and opt.stall_predictor == "mlp_ensemble"
    kinds = {(kind, bool(extra)) for kind, _, extra, _ in fits}
    assert kinds == {("gp", False), ("gp", True), ("mlp_ensemble", True)}


def test_the_first_search_can_switch_its_predictor_late(monkeypatch):
    """``late_predictor``: the first search's models are that predictor (its own defaults)
    once ``late_after`` queries are told, ``predictor`` before (off by default); an unknown
    name or a negative count is refused by field."""
    with pytest.raises(ValueError, match="late_predictor must be one of mlp_ensemble, gp "
                                         "or None; got 'svm'"):
        GuidedEDNAG(NB201, late_predictor="svm")
    with pytest.raises(ValueError, match="late_after"):
        GuidedEDNAG(NB201, late_predictor="gp", late_after=-1)
    assert GuidedEDNAG(NB201).late_predictor is None  # off by default
    fits = spy_fits(monkeypatch, GuidedEDNAG)
    opt = GuidedEDNAG(NB201, seed=0, max_queries=60, late_predictor="gp", late_after=30,
                      stall_rounds=None, restart_rounds=None, diffusions_per_round=1)
    drive(opt, lambda a: float(sum(a)))
    assert [(kind, params, n) for kind, params, _, n in fits] == (
        [("mlp_ensemble", {"dtype": "float32"}, n) for n in (10, 15, 20, 25)]
        + [("gp", {}, n) for n in (30, 35, 40, 45, 50, 55)])
    assert opt.predictor == "mlp_ensemble" and opt.predictor_params == {"dtype": "float32"}


def test_the_first_rounds_can_pick_by_another_acquisition(monkeypatch):
    """``early_acquisition``: the plain picks of the rounds that start before
    ``early_queries`` queries are told score their members by it, ``acquisition`` after; an
    unknown name or a negative count is refused by field; 30 queries unless told."""
    import ednag.optimizers.ednag_guided as guided

    with pytest.raises(ValueError, match="early_acquisition must be one of its, ucb, exploit "
                                         "or None; got 'ei'"):
        GuidedEDNAG(NB201, early_acquisition="ei")
    with pytest.raises(ValueError, match="early_queries"):
        GuidedEDNAG(NB201, early_acquisition="its", early_queries=-1)
    assert GuidedEDNAG(NB201).early_queries == 30
    kinds: list[tuple[int, str]] = []
    real = guided.acquire

    def spy(mean, std, kind, rng, beta=1.0):
        kinds.append((len(opt.history), kind))
        return real(mean, std, kind, rng, beta)

    monkeypatch.setattr(guided, "acquire", spy)
    opt = GuidedEDNAG(NB201, seed=0, max_queries=40, early_acquisition="its",
                      early_queries=25, stall_rounds=None, restart_rounds=None,
                      diffusions_per_round=1)
    drive(opt, lambda a: float(sum(a)))
    assert set(kinds) == {(10, "its"), (15, "its"), (20, "its"), (25, "ucb"), (30, "ucb"),
                          (35, "ucb")}
    asked = []
    for early in (None, "its"):  # with no early queries it changes nothing
        run = GuidedEDNAG(NB201, seed=3, max_queries=30, early_acquisition=early,
                          early_queries=0, diffusions_per_round=1)
        asked.append(drive(run, smooth))
    assert asked[0] == asked[1]


def test_the_first_rounds_can_pick_apart(monkeypatch):
    """``early_apart``: the plain picks of the rounds that start before ``early_queries``
    queries are told differ in at least that many decisions, distinct after; a count below 1
    is refused by field; off by default, and then every query is as before."""
    import ednag.optimizers.ednag_guided as guided

    with pytest.raises(ValueError, match="early_apart"):
        GuidedEDNAG(NB201, early_apart=0)
    assert GuidedEDNAG(NB201).early_apart is None
    rounds: list[tuple[int, int, list[tuple[int, ...]]]] = []
    real = guided.spread_top_k

    def spy(space, pool, scores, k, min_gap=MIN_BATCH_GAP, min_decisions=1):
        picks = real(space, pool, scores, k, min_gap, min_decisions)
        rounds.append((len(opt.history), min_decisions, picks))
        return picks

    monkeypatch.setattr(guided, "spread_top_k", spy)
    opt = GuidedEDNAG(NB201, seed=0, max_queries=40, early_apart=4, early_queries=25,
                      stall_rounds=None, restart_rounds=None, diffusions_per_round=1)
    drive(opt, lambda a: float(sum(a)))
    assert [(n, apart) for n, apart, _ in rounds] == [(10, 4), (15, 4), (20, 4), (25, 1),
                                                      (30, 1), (35, 1)]
    for _, apart, picks in rounds[:3]:  # a pool of hundreds allows four decisions apart
        assert all(decisions_apart(a, b) >= apart
                   for i, a in enumerate(picks) for b in picks[:i])
    asked = []
    for apart in (None, 3):  # with no early queries it changes nothing
        run = GuidedEDNAG(NB201, seed=3, max_queries=30, early_apart=apart, early_queries=0,
                          diffusions_per_round=1)
        asked.append(drive(run, smooth))
    assert asked[0] == asked[1]


def test_a_better_result_ends_the_second_search():
    opt = GuidedEDNAG(NB201, seed=1, max_queries=200, restart_rounds=2, restart_after=0,
                      stall_rounds=None, diffusions_per_round=1)
    while not opt._restart_keys:  # flat until the second search has asked something
        opt.tell([(a, 1.0) for a in opt.ask()])
    batch = opt.ask()
    opt.tell([(a, 2.0 if i == 0 else 1.0) for i, a in enumerate(batch)])
    opt.tell([(a, 1.0) for a in opt.ask()])
    assert opt._restart_keys is None and opt.restarts == 1  # one search again
    assert opt._stale_rounds == 0


def test_a_run_pickled_during_its_second_search_resumes_the_same():
    import pickle

    opt = GuidedEDNAG(NB201, seed=2, max_queries=70, restart_rounds=2, restart_after=0,
                      stall_rounds=None)
    while opt.num_queries < 40:
        opt.tell([(a, 1.0) for a in opt.ask()])
    assert opt._restart_keys is not None
    copy = pickle.loads(pickle.dumps(opt))
    assert drive(copy, smooth) == drive(opt, smooth)


def test_a_gaussian_process_can_guide_it_with_its_own_parameters():
    """``predictor="gp"``: every round fits a Gaussian process (the stall quota's second model
    with ``prior_scale`` as its amplitude), the run is reproducible and differs from the
    ensemble's; the ensemble's defaults do not apply to it, and names are checked at once."""
    from ednag.predictors import GaussianProcess

    def queries(**params) -> list:
        return drive(GuidedEDNAG(NB201, seed=3, max_queries=40, **params), smooth)

    gp = queries(predictor="gp")
    assert gp == queries(predictor="gp") and gp[1:] != queries()[1:]
    opt = GuidedEDNAG(NB201, predictor="gp")
    assert opt.predictor_params == {}
    archs = [NB201.sample(np.random.default_rng(i)) for i in range(12)]
    assert isinstance(opt._fit(archs, np.arange(12.0)), GaussianProcess)
    assert opt._fit(archs, np.arange(12.0), prior_scale=10.0).amplitude == 100.0
    with pytest.raises(PredictorError, match="predictor must be one of mlp_ensemble, gp; "
                                             "got 'xgb'"):
        GuidedEDNAG(NB201, predictor="xgb")
    with pytest.raises(PredictorError, match=r"unknown gp parameter\(s\) 'dtype'"):
        GuidedEDNAG(NB201, predictor="gp", predictor_params={"dtype": "float32"})


def test_its_ensembles_train_in_single_precision_unless_told():
    """``predictor_params`` lie over the guided defaults: float32 unless ``dtype`` is given,
    and a bad value is named before any query."""
    assert GuidedEDNAG(NB201).predictor_params == {"dtype": "float32"}
    told = GuidedEDNAG(NB201, predictor_params={"dtype": "float64", "steps": 40})
    assert told.predictor_params == {"dtype": "float64", "steps": 40}
    model = GuidedEDNAG(NB201, seed=1)._fit([NB201.sample(np.random.default_rng(i))
                                             for i in range(12)], np.arange(12.0))
    assert model.params[0][0].dtype == np.float32
    with pytest.raises(PredictorError, match="dtype must be one of float64, float32"):
        GuidedEDNAG(NB201, predictor_params={"dtype": "float16"})


def record_fits(monkeypatch) -> list[float]:
    """Spy on ``ednag_guided``'s ensemble factory: the ``prior_scale`` of every ensemble made
    (0 without priors), in order."""
    import ednag.optimizers.ednag_guided as guided

    made: list[float] = []
    real = guided.make_predictor
    monkeypatch.setattr(guided, "make_predictor", lambda name, seed, **params: (
        made.append(params.get("prior_scale", 0.0)), real(name, seed, **params))[1])
    return made


def record_picks(monkeypatch, *names: str) -> list[tuple]:
    """Spy on the stall quota's methods ``names`` of :class:`GuidedEDNAG`: per call, the round,
    the method, its quota (last argument), its picks and the first ten evaluated cells."""
    calls: list[tuple] = []
    for name in names:
        real = getattr(GuidedEDNAG, name)

        def spy(self, *args, _real=real, _name=name):
            picks = _real(self, *args)
            calls.append((self.rounds, _name, args[-1], picks,
                          [a for a, _ in self.history[:10]]))
            return picks

        monkeypatch.setattr(GuidedEDNAG, name, spy)
    return calls


def flat_run(**params) -> tuple[GuidedEDNAG, list[list[tuple[int, ...]]]]:
    """40 queries on a flat landscape (round 1 sets the best, rounds 2, 3, ... are stale; a
    quota of 2 from the second stale round on): the optimizer and its batches, each checked
    new and distinct."""
    opt = GuidedEDNAG(NB201, seed=0, max_queries=40, batch_size=5, diffusions_per_round=1,
                      **{"stall_rounds": 2, "stall_queries": 2, **params})
    return opt, drive(opt, lambda a: 1.0)


def test_stalled_rounds_take_some_queries_from_an_ensemble_with_priors(monkeypatch):
    made, spread = record_fits(monkeypatch), record_picks(monkeypatch, "_spread_picks")
    opt, batches = flat_run(stall_prior_scale=4.0, stall_pool="priors")
    assert [r for r, *_ in spread] == [3, 4, 5, 6]
    for r, _, _, picks, _ in spread:
        assert len(picks) == 2 and batches[r][-2:] == picks and len(batches[r]) == 5
    # the constructor's parameter check, one plain fit a round, one spread fit a stale round
    assert made.count(0.0) == 1 + opt.rounds and made.count(4.0) == 4
    assert flat_run(stall_rounds=None)[1][:3] == batches[:3]  # the same until the quota starts


def test_stalled_rounds_can_draw_from_mutants_of_the_best_instead(monkeypatch):
    """``stall_pool="mutants"``: the quota's picks are Thompson draws of the plain ensemble
    over one- or two-edit mutants of the ten best cells (no ensemble with priors is fitted)."""
    with pytest.raises(ValueError, match=r"stall_pool must be one of priors, mutants, both, "
                       r"diffusion, mutants\+diffusion; got 'x'"):
        GuidedEDNAG(NB201, stall_pool="x")
    made, drawn = record_fits(monkeypatch), record_picks(monkeypatch, "_mutant_picks")
    # with no random candidates every draw is a mutant of the ten best (the first ten on a
    # flat landscape)
    opt, batches = flat_run(num_random=0, stall_pool="mutants")
    assert [r for r, *_ in drawn] == [3, 4, 5, 6]
    for r, _, _, picks, best in drawn:
        assert len(picks) == 2 and batches[r][-2:] == picks and len(batches[r]) == 5
        for pick in picks:
            assert min(sum(x != y for x, y in zip(pick, b, strict=True)) for b in best) <= 2
    assert made.count(0.0) == 1 + opt.rounds and 10.0 not in made  # no prior ensemble
    off = flat_run(num_random=0, stall_rounds=None)[1]
    assert off[:3] == batches[:3]  # the same until the quota starts


def test_the_default_quota_takes_mutants_first_then_the_priors(monkeypatch):
    """``stall_pool="both"`` (the default): of a quota of 3, two picks come from the mutants
    of the best and one from the ensemble with priors, after the plain picks."""
    calls = record_picks(monkeypatch, "_mutant_picks", "_spread_picks")
    opt = GuidedEDNAG(NB201, seed=0, max_queries=35, diffusions_per_round=1, stall_rounds=2)
    batches = drive(opt, lambda a: 1.0)  # a flat landscape: rounds 2, 3, ... are stale
    assert [(r, n, q) for r, n, q, _, _ in calls] == [
        (r, n, q) for r in (3, 4, 5) for n, q in (("_mutant_picks", 2), ("_spread_picks", 1))]
    for r in (3, 4, 5):
        mutants, spread = (picks for rr, _, _, picks, _ in calls if rr == r)
        assert batches[r][2:] == mutants + spread and len(batches[r]) == 5


def test_every_predictor_fits_one_hot_plus_counts_unless_told():
    """The default code on NB201 is the one-hot code plus the operation counts; a score-model
    sampler (which diffuses in the one-hot code) and the multi-objective search keep the
    one-hot code; a param_space has no shared options; an explicit encoding wins; the same
    round's fits see the counts (35 columns on NB201)."""
    from ednag.optimizers.multi_objective.mo_ednag_guided import MOGuidedEDNAG
    from ednag.spaces import MixedSpace, Param

    assert GuidedEDNAG(NB201).encoder.name == "onehot+counts"
    assert GuidedEDNAG(NB201, predictor_encoding="onehot").encoder.name == "onehot"
    assert GuidedEDNAG(NB201, stall_pool="diffusion").encoder.name == "onehot"
    assert GuidedEDNAG(NB201, guided_samples=10).encoder.name == "onehot"
    assert MOGuidedEDNAG(NB201, num_objectives=2).encoder.name == "onehot"
    mixed = MixedSpace([Param("act", "categorical", ("relu", "gelu")),
                        Param("norm", "categorical", ("relu", "none")),
                        Param("depth", "ordinal", (1, 2, 3))])
    assert GuidedEDNAG(mixed).encoder.name == "onehot"  # ordinal: the Gaussian process's code
    with pytest.raises(ValueError, match="needs predictor_encoding='onehot', got "
                                         "'onehot\\+counts'"):
        GuidedEDNAG(NB201, stall_pool="diffusion", predictor_encoding="onehot+counts")
    with pytest.raises(PredictorError, match="onehot, path, onehot\\+counts"):
        GuidedEDNAG(NB201, predictor_encoding="counts")
    opt = GuidedEDNAG(NB201, seed=0, max_queries=20)
    drive(opt, lambda a: float(a.count(3)))
    assert opt.encoder([(3,) * 6]).shape == (1, 35)


def test_stalled_rounds_can_draw_from_a_score_model_guided_by_the_ensemble(monkeypatch):
    """``stall_pool="mutants+diffusion"``: of a quota of 3, two picks come from the mutants and
    one from DiffusionNAG's samples, guided by the round's own ensemble; the score model is
    trained once, at the first stale round, and no ensemble with priors is fitted."""
    import ednag.optimizers.guided_stall as stall

    with pytest.raises(ValueError, match="needs predictor_encoding='onehot', got 'path'"):
        GuidedEDNAG(NB201, stall_pool="diffusion", predictor_encoding="path")
    monkeypatch.setattr(stall, "STALL_TRAIN", 300)
    trained, guides = [], []
    real_train, real_samples = stall.train_score_model, stall.guided_samples
    monkeypatch.setattr(stall, "train_score_model", lambda *a: (
        trained.append(a[4]), real_train(*a))[1])
    monkeypatch.setattr(stall, "guided_samples", lambda score, model, *a, **kw: (
        guides.append(model), real_samples(score, model, *a, **kw))[1])
    made = record_fits(monkeypatch)
    calls = record_picks(monkeypatch, "_mutant_picks", "_diffusion_picks", "_spread_picks")
    opt = GuidedEDNAG(NB201, seed=0, max_queries=35, diffusions_per_round=1, stall_rounds=2,
                      stall_pool="mutants+diffusion")
    batches = drive(opt, lambda a: 1.0)  # a flat landscape: rounds 2, 3, ... are stale
    assert [(r, n, q) for r, n, q, _, _ in calls] == [
        (r, n, q) for r in (3, 4, 5) for n, q in (("_mutant_picks", 2), ("_diffusion_picks", 1))]
    for r in (3, 4, 5):
        mutants, sampled = (picks for rr, _, _, picks, _ in calls if rr == r)
        assert len(sampled) == 1 and batches[r][2:] == mutants + sampled
    assert trained == [300] and opt.stall_score is not None  # once, with its cells
    assert len(guides) == 3 and all(hasattr(m, "predict_grad") for m in guides)
    assert 10.0 not in made  # no ensemble with priors
    again = GuidedEDNAG(NB201, seed=0, max_queries=35, diffusions_per_round=1, stall_rounds=2,
                        stall_pool="mutants+diffusion")
    assert drive(again, lambda a: 1.0) == batches  # seeded: the same run again


def test_guided_samples_join_every_rounds_pool(monkeypatch):
    """``guided_samples=n``: every round, n samples of the score model guided by the round's
    ensemble join the candidates the acquisition ranks; off (0) by default."""
    import ednag.optimizers.guided_stall as stall

    with pytest.raises(ValueError, match="guided_samples"):
        GuidedEDNAG(NB201, guided_samples=-1)
    with pytest.raises(ValueError, match="needs predictor_encoding='onehot', got 'path'"):
        GuidedEDNAG(NB201, guided_samples=10, predictor_encoding="path")
    monkeypatch.setattr(stall, "STALL_TRAIN", 300)
    asked, extras = [], []
    real_samples, real_pool = stall.guided_samples, GuidedEDNAG._free_pool
    monkeypatch.setattr(stall, "guided_samples", lambda score, model, rng, n, *a, **kw: (
        asked.append(n), real_samples(score, model, rng, n, *a, **kw))[1])
    monkeypatch.setattr(GuidedEDNAG, "_free_pool", lambda self, *a, extra=None, **kw: (
        extras.append(extra), real_pool(self, *a, extra=extra, **kw))[1])
    opt = GuidedEDNAG(NB201, seed=0, max_queries=30, diffusions_per_round=1, stall_rounds=None,
                      guided_samples=40)
    drive(opt, smooth)  # checks: every batch new and distinct
    assert asked == [40] * opt.rounds and [len(e) for e in extras] == [40] * opt.rounds
    assert opt.stall_score is not None
    asked.clear()
    drive(GuidedEDNAG(NB201, seed=0, max_queries=30, diffusions_per_round=1,
                      stall_rounds=None), smooth)
    assert asked == []  # off by default


def test_a_run_pickled_before_stall_pool_resumes_with_the_priors():
    import pickle

    opt = GuidedEDNAG(NB201, seed=0, max_queries=40, diffusions_per_round=1, stall_rounds=2)
    opt.tell([(a, 1.0) for a in opt.ask()])
    del opt.stall_pool, opt.predictor, opt.restart_rounds  # as earlier releases pickled it
    del opt.restart_after, opt.restart_predictor, opt.restart_takes, opt.stall_predictor
    del opt.late_predictor, opt.late_after, opt.early_acquisition, opt.early_queries
    del opt.early_apart, opt.restart_nearby
    old = pickle.loads(pickle.dumps(opt))
    assert (old.stall_pool, old.predictor, old.restart_rounds, old.restart_after,
            old.restart_predictor, old.restart_takes, old.stall_predictor,
            old.late_predictor, old.early_acquisition, old.early_apart,
            old.restart_nearby) == (
        "priors", "mlp_ensemble", None, 0, None, "plain", None, None, None, None, None)
    drive(old, lambda a: 1.0)  # stale rounds draw their whole quota from the priors
    assert old.num_queries == 40


def test_global_diffusions_denoise_without_the_archive(monkeypatch):
    import ednag.optimizers.ednag_guided as guided

    with pytest.raises(ValueError, match="global_diffusions must be an int >= 0"):
        GuidedEDNAG(NB201, global_diffusions=-1)
    calls, mutations = [], []
    real_denoise, real_mutate = guided.denoise, guided.mutate_decoded
    monkeypatch.setattr(guided, "denoise", lambda x, f, ref_x, *a: (
        calls.append(ref_x is None), real_denoise(x, f, ref_x, *a))[1])
    monkeypatch.setattr(guided, "mutate_decoded", lambda *a: (
        mutations.append(1), real_mutate(*a))[1])
    opt = GuidedEDNAG(NB201, seed=0, max_queries=20, batch_size=10, diffusions_per_round=1,
                      global_diffusions=2)
    drive(opt, smooth)
    steps = opt.config.num_steps - 1 - opt.config.skip_steps  # generations per diffusion
    assert opt.rounds == 1
    assert calls == [False] * steps + [True] * 2 * steps  # anchored first, then the global two
    assert len(mutations) == steps  # archive mutation only in the anchored diffusion
    plain = GuidedEDNAG(NB201, seed=0, max_queries=20, diffusions_per_round=0,
                        global_diffusions=1, num_random=0)  # a valid way to turn anchors off
    assert drive(plain, smooth) and plain.num_queries == 20


def test_a_round_as_the_second_search_keeps_the_first_searchs_counters():
    """``_as_second`` runs a round on the second search's counters and predictor, hands its
    counters back and leaves the first search's as they were, also when the round raises."""
    opt = GuidedEDNAG(NB201, seed=0, max_queries=40, restart_predictor="gp")
    opt._best_seen, opt._stale_rounds = 91.0, 3
    seen = {}

    def round_() -> list:
        seen["inside"] = (opt._progress(), opt.predictor)
        opt._best_seen, opt._stale_rounds = 92.0, 0
        return ["pick"]

    picks, progress = opt._as_second((90.0, 5), round_)
    assert picks == ["pick"] and progress == (92.0, 0)
    assert seen["inside"] == ((90.0, 5), "gp")
    assert opt._progress() == (91.0, 3) and opt.predictor == "mlp_ensemble"

    def failing() -> list:
        opt._stale_rounds = 99
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        opt._as_second((90.0, 5), failing)
    assert opt._progress() == (91.0, 3) and opt.predictor == "mlp_ensemble"


def test_unseen_within_lists_the_nearer_cells_first():
    """``unseen_within``: every cell within ``radius`` decisions of the parents for which
    ``unseen`` holds, each once, the one-step neighbours of every parent first; cut at
    ``limit``."""
    zeros, ones = (0,) * 6, (1,) * 6
    one = unseen_within(NB201, [zeros], 1, lambda a: True, 10_000)
    assert one == NB201.neighbours(zeros) and len(one) == 6 * 4
    two = unseen_within(NB201, [zeros], 2, lambda a: a != zeros, 10_000)
    assert two[:24] == one and len(two) == 24 + 15 * 4 * 4  # 15 pairs of decisions
    assert all(sum(x != 0 for x in a) == 2 for a in two[24:])
    assert unseen_within(NB201, [zeros], 2, lambda a: a != zeros, 30) == two[:30]
    both = unseen_within(NB201, [zeros, ones], 1, lambda a: a[0] != 2, 10_000)
    assert both == [a for a in NB201.neighbours(zeros) + NB201.neighbours(ones) if a[0] != 2]


class _Linear:
    """A fake model: the mean is a weighted sum of the one-hot code, the spread zero."""

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = (np.asarray(x).reshape(len(x), 6, 5) * self.weights).sum(axis=(1, 2))
        return mean, np.zeros_like(mean)


def test_the_nearby_pick_is_the_best_rated_cell_near_the_three_best():
    """``_nearby_picks``: the unseen cell (not taken) with the best predicted mean within
    ``restart_nearby`` decisions of the archive's three best cells (the fourth's
    neighbourhood is not looked at)."""
    weights = np.zeros((6, 5))
    weights[:, 3] = np.arange(1, 7)  # option 3, the later the edge the better
    weights[:, 4] = 0.1
    model = _Linear(weights)
    archive = [(1.0, (0,) * 6), (0.9, (4,) * 6), (0.8, (2,) * 6), (0.7, (3,) * 6)]
    opt = GuidedEDNAG(NB201, seed=0, predictor_encoding="onehot")  # the model reads 30 columns
    assert opt._nearby_picks(model, archive, []) == [(4, 4, 4, 4, 3, 3)]  # 11.4
    assert opt._nearby_picks(model, archive, [(4, 4, 4, 4, 3, 3)]) == [(0, 0, 0, 0, 3, 3)]
    opt.restart_nearby = 1
    assert opt._nearby_picks(model, archive, []) == [(4, 4, 4, 4, 4, 3)]  # 6.5


def test_while_a_second_search_runs_the_first_asks_its_best_guess_nearby(monkeypatch):
    """``restart_nearby`` (2; ``None``: off): while a second search runs, the first search's
    stall quota keeps its two mutants and its spread pick is the nearby one; before the second
    search starts, and without the option, the quota is as before. Checked like the others."""
    with pytest.raises(ValueError, match="restart_nearby must be an int >= 1 or None"):
        GuidedEDNAG(NB201, restart_nearby=0)
    assert GuidedEDNAG(NB201).restart_nearby == 2
    calls = record_picks(monkeypatch, "_mutant_picks", "_nearby_picks", "_spread_picks")
    runs = {}
    for nearby in (2, None):
        calls.clear()
        opt = GuidedEDNAG(NB201, seed=0, max_queries=60, restart_rounds=5, restart_after=0,
                          diffusions_per_round=1, restart_nearby=nearby)
        batches = drive(opt, lambda a: 1.0)  # flat: the second search runs from 40 queries on
        runs[nearby] = batches, [(r, name) for r, name, *_ in calls]
    (on, on_calls), (off, off_calls) = runs[2], runs[None]
    # stale from round 2, a quota from round 5 (4 stale rounds), the second search from round 7
    quota = [(r, n) for r in (5, 6) for n in ("_mutant_picks", "_spread_picks")]
    assert off_calls == quota + [
        (r, n) for r in (7, 8, 9, 10) for n in ("_mutant_picks", "_spread_picks")]
    assert on_calls == quota + [
        (r, n) for r in (7, 8, 9, 10) for n in ("_mutant_picks", "_nearby_picks")]
    assert on[:7] == off[:7] and on[7] != off[7]
    assert all(len(b) == 5 for b in on[2:])
