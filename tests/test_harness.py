"""The harness: the simulated clock, the results writer, tabular and trial mode, resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from ednag.experiment.config import ConfigError
from ednag.experiment.settings import TIME_COLUMN, RunSettings
from ednag.experiment.simulator import Simulation, chunk_columns, eval_fields, simulate
from ednag.registry import single_objective_optimizers
from ednag.results.schema import META_CONFIG, META_SCHEMA_VERSION, META_VERSIONS, RESULT_SCHEMA
from ednag.results.writer import ResultsWriter
from ednag.spaces.base import Choices, Decision, SearchSpace
from ednag.tables.synthetic import synthetic_nb201 as make_synthetic_nb201
from ednag.tables.table import Table
from searchers.factory import make_searcher
from trainables.run import run_experiment

# ---------------------------------------------------------------------------- a tiny space


class TinySpace(SearchSpace):
    """3 decisions x 3 options = 27 architectures, native form "a-b-c"."""

    name = "tiny"
    decisions = tuple(Decision(f"d{i}", ("x", "y", "z")) for i in range(3))

    def to_native(self, choices: Choices) -> str:
        return "-".join(str(c) for c in choices)

    def from_native(self, native: str) -> Choices:
        return self.check(tuple(int(v) for v in native.split("-")))


def tiny_values(space: SearchSpace) -> dict[str, np.ndarray]:
    """key -> (fitness, reported, time); the optimum is 2-2-2 (fitness = sum of choices
    plus a small tie-breaker)."""
    out = {}
    for choices in space.enumerate():
        fit = sum(choices) + 0.01 * choices[0] + 0.001 * choices[1]
        out[space.key(choices)] = np.array([fit, 2 * fit, 10.0 + 3 * choices[2] + choices[0]])
    return out


def dict_lookup(values: dict[str, np.ndarray]):
    calls = []

    def lookup(keys):
        calls.append(len(keys))
        return np.stack([values[k] for k in keys])

    lookup.calls = calls
    return lookup


def settings(optimizer: str, seed: int = 0, workers: int = 1, **kw) -> RunSettings:
    base = dict(benchmark="tiny", dataset="toy", table="-", optimizer=optimizer, params={},
                seed=seed, max_queries=27, sim_seconds=None, workers=workers,
                fitness=("acc", None), reported=("test", None), time=("time", None))
    base.update(kw)
    return RunSettings(**base)


def run_tiny(optimizer: str, seed: int = 0, workers: int = 1, params=None, **kw):
    space = TinySpace()
    s = settings(optimizer, seed, workers, params=params or {}, **kw)
    searcher = make_searcher(optimizer, space, seed=seed, max_queries=s.max_queries,
                             **(params or {}))
    values = tiny_values(space)
    lookup = dict_lookup(values)
    rows = list(simulate(searcher, space, lookup, s, clock=lambda: 0.0))
    return rows, values, lookup


TINY_PARAMS = {"ednag": {"population_size": 6}, "regularized_evolution": {"population_size": 4}}


def _params(name):
    return TINY_PARAMS.get(name, {})


# ---------------------------------------------------------------------------- simulator
@pytest.mark.parametrize("optimizer", single_objective_optimizers())
def test_each_optimizer_spends_the_budget_in_distinct_rows(optimizer):
    rows, values, _ = run_tiny(optimizer, params=_params(optimizer), max_queries=12)
    fresh = [r for r in rows if not r["repeat"]]
    # honest budget: every new architecture is one query, counted once, and exactly 12
    assert [r["query_index"] for r in fresh] == list(range(1, 13))
    assert len({r["arch_key"] for r in fresh}) == 12
    for r in rows:  # what the row says is what the table holds
        assert r["reported"] == values[r["arch_key"]][1]
        if not r["repeat"]:
            assert r["fitness"] == values[r["arch_key"]][0]
    assert [r["eval_index"] for r in rows] == list(range(len(rows)))


@pytest.mark.parametrize("optimizer", single_objective_optimizers())
@pytest.mark.parametrize("workers", [1, 4])
def test_same_seed_same_rows(optimizer, workers):
    a, _, _ = run_tiny(optimizer, seed=3, workers=workers, params=_params(optimizer),
                       max_queries=15)
    b, _, _ = run_tiny(optimizer, seed=3, workers=workers, params=_params(optimizer),
                       max_queries=15)
    assert a == b
    assert sum(not r["repeat"] for r in a) == 15


def test_simulated_time_is_the_tables_training_time():
    rows, values, lookup = run_tiny("random", seed=1)
    times = [values[r["arch_key"]][2] for r in rows]
    assert [r["sim_time_s"] for r in rows] == pytest.approx(list(np.cumsum(times)))
    assert [r[TIME_COLUMN] for r in rows] == times
    assert lookup.calls == [1] * 27  # one worker: one lookup per evaluation


def test_parallel_workers_overlap_and_batch_lookups():
    rows, values, lookup = run_tiny("random", seed=1, workers=4)
    times = [values[r["arch_key"]][2] for r in rows]
    sim = [r["sim_time_s"] for r in rows]
    assert sim == sorted(sim)  # results arrive in simulated-completion order
    assert sum(times) / 4 <= sim[-1] < sum(times) / 2
    assert lookup.calls[0] == 4  # the first round fills all four workers with one lookup
    assert sum(lookup.calls) == 27
    # each evaluation took exactly its training time: replay the event queue
    busy = []
    for r, t in zip(rows, times, strict=True):
        start = r["sim_time_s"] - t
        busy = [b for b in busy if b > start + 1e-9]
        assert len(busy) < 4
        busy.append(r["sim_time_s"])


def test_sim_seconds_budget_stops_the_clock():
    rows, _, _ = run_tiny("random", seed=2, workers=2, sim_seconds=60.0)
    assert rows and all(r["sim_time_s"] <= 60.0 for r in rows)
    assert len(rows) < 27


def test_constant_cost_without_a_time_metric():
    rows, _, _ = run_tiny("random", time=None, sim_time_per_eval=2.5, max_queries=5)
    assert [r["sim_time_s"] for r in rows] == [2.5, 5.0, 7.5, 10.0, 12.5]
    assert TIME_COLUMN not in rows[0]


def test_barrier_leaves_workers_idle_until_a_completion():
    """EDNAG proposes a generation at a time: with more workers than members, the extra
    workers idle (no lookups beyond the generation) instead of spinning."""
    rows, _, lookup = run_tiny("ednag", workers=16, params={"population_size": 4}, max_queries=12)
    assert max(lookup.calls) <= 4
    assert sum(not r["repeat"] for r in rows) == 12


# ---------------------------------------------------------------------------- writer
def test_writer_parts_schema_and_metadata(tmp_path):
    rows, _, _ = run_tiny("random", max_queries=6)
    writer = ResultsWriter(tmp_path, {"name": "t", "optimum": {"value": 1.0}})
    writer.write_rows("random", 0, rows[:3])
    writer.write_rows("random", 0, rows[3:])
    writer.write_rows("random", 1, [dict(r, seed=1) for r in rows])
    parts = writer.parts("random", 0)
    assert [p.name for p in parts] == ["seed=0-part-00000.parquet", "seed=0-part-00001.parquet"]
    meta = pq.read_schema(parts[0]).metadata
    assert META_SCHEMA_VERSION in meta and META_VERSIONS in meta
    assert b'"optimum"' in meta[META_CONFIG]
    frame = pd.read_parquet(tmp_path / "results")
    assert set(frame.columns) == set(RESULT_SCHEMA.names) | {TIME_COLUMN}
    assert len(frame) == 12 and set(frame["optimizer"]) == {"random"}
    assert not list(tmp_path.rglob(".*.tmp"))
    writer.mark_done("random", 0, {})
    assert writer.is_done("random", 0) and not writer.is_done("random", 1)
    writer.clear_run("random", 0)
    assert writer.parts("random", 0) == [] and not writer.is_done("random", 0)
    assert len(writer.parts("random", 1)) == 1
    with pytest.raises(ValueError, match="unknown column"):
        writer.write_rows("random", 2, [dict(rows[0], colour="red")])


def test_columnar_chunks_write_the_same_rows(tmp_path):
    """The tabular trial's path (tuples -> column chunks -> write_columns) gives exactly the
    rows of :func:`simulate` written with write_rows."""
    rows, values, _ = run_tiny("regularized_evolution", seed=5, workers=3,
                               params=_params("regularized_evolution"))
    space = TinySpace()
    s = settings("regularized_evolution", seed=5, workers=3,
                 params=_params("regularized_evolution"))
    searcher = make_searcher(s.optimizer, space, seed=5, max_queries=s.max_queries,
                             **_params("regularized_evolution"))
    tuples = list(Simulation(searcher, space, dict_lookup(values), s, clock=lambda: 0.0).run())
    names, constants = eval_fields(s), s.constants()
    assert [dict(constants, **dict(zip(names, t, strict=True))) for t in tuples] == rows
    by_rows, by_columns = ResultsWriter(tmp_path / "r", {}), ResultsWriter(tmp_path / "c", {})
    by_rows.write_rows("regularized_evolution", 5, rows[:10])
    by_rows.write_rows("regularized_evolution", 5, rows[10:])
    for chunk in (tuples[:10], tuples[10:]):
        by_columns.write_columns("regularized_evolution", 5, chunk_columns(chunk, names, constants))
    assert by_columns.write_columns("regularized_evolution", 5,
                                    chunk_columns([], names, constants)) is None
    a, b = read_rows(tmp_path / "r"), read_rows(tmp_path / "c")
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == len(rows) and a["fitness"].tolist() == [r["fitness"] for r in rows]
    with pytest.raises(ValueError, match="differ in length"):
        by_columns.write_columns("regularized_evolution", 5,
                                 {"optimizer": ["regularized_evolution"], "arch": ["a", "b"]})
    with pytest.raises(ValueError, match="rows of optimizer random written to run"):
        by_columns.write_columns("regularized_evolution", 5,
                                 chunk_columns(tuples[:2], names, settings("random").constants()))


# ---------------------------------------------------------------------------- through Ray
@pytest.fixture(scope="module")
def synthetic_nb201(tmp_path_factory) -> Path:
    """A full NAS-Bench-201 table with made-up values (no ../shared needed)."""
    path = tmp_path_factory.mktemp("table") / "nb201-synthetic.parquet"
    make_synthetic_nb201().save(path)
    return path


def experiment(tmp_path: Path, table: Path, **changes) -> Path:
    raw = {"benchmark": "nb201", "table": str(table), "dataset": "cifar10",
           "optimizers": {"random": {}, "regularized_evolution": {"population_size": 5}},
           "seeds": 2, "budget": {"queries": 30}, "mode": "tabular", "workers": 2}
    raw.update(changes)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def read_rows(out: Path) -> pd.DataFrame:
    frame = pd.read_parquet(out / "results").drop(columns=["wall_time_s"])
    frame["optimizer"] = frame["optimizer"].astype(str)
    return frame.sort_values(["optimizer", "seed", "eval_index"]).reset_index(drop=True)


@pytest.mark.ray
def test_tabular_run_end_to_end(ray_session, tmp_path, synthetic_nb201):  # noqa: ARG001
    config = experiment(tmp_path, synthetic_nb201)
    out, errors = run_experiment(config, out=tmp_path / "a", summary=False)
    assert errors == []
    rows = read_rows(out)
    assert set(rows.columns) == set(RESULT_SCHEMA.names) - {"wall_time_s"} | {TIME_COLUMN}
    per_run = rows[~rows["repeat"]].groupby(["optimizer", "seed"])["query_index"].max()
    assert (per_run == 30).all() and len(per_run) == 4
    table = Table.load(synthetic_nb201)
    expected = table.query(rows["arch_key"], "cifar10", "test_acc", 200)
    assert np.allclose(rows["reported"], expected)
    meta = pq.read_schema(next((out / "results").rglob("*.parquet"))).metadata
    assert b"optimum" in meta[META_CONFIG]
    # same seed, same rows (a second, independent run)
    again, _ = run_experiment(config, out=tmp_path / "b", summary=False)
    pd.testing.assert_frame_equal(rows, read_rows(again))
    # a finished run is not overwritten without --resume
    with pytest.raises(ConfigError, match="--resume"):
        run_experiment(config, out=tmp_path / "a", summary=False)


@pytest.mark.ray
def test_killed_run_resumes_to_the_same_rows(ray_session, tmp_path, synthetic_nb201,  # noqa: ARG001
                                             monkeypatch):
    config = experiment(tmp_path, synthetic_nb201, budget={"queries": 40})
    full, _ = run_experiment(config, out=tmp_path / "full", chunk_rows=8, summary=False)

    real_write = ResultsWriter.write_columns  # what the tabular rows callback calls
    written = []

    def crashing_write(self, optimizer, seed, columns):
        if len(written) >= 9:
            raise RuntimeError("simulated kill")
        written.append((optimizer, seed))
        return real_write(self, optimizer, seed, columns)

    monkeypatch.setattr(ResultsWriter, "write_columns", crashing_write)
    with pytest.raises(Exception, match="simulated kill"):
        run_experiment(config, out=tmp_path / "cut", chunk_rows=8, summary=False)
    monkeypatch.setattr(ResultsWriter, "write_columns", real_write)
    cut = tmp_path / "cut"
    partial = pd.read_parquet(cut / "results")
    assert 0 < len(partial) < len(read_rows(full))
    done_before = {p.name for p in (cut / "state" / "done").rglob("*.json")}
    run_experiment(config, out=cut, resume=True, chunk_rows=8, summary=False)
    pd.testing.assert_frame_equal(read_rows(full), read_rows(cut))
    assert len(done_before) < 4 and len(list((cut / "state" / "done").rglob("*.json"))) == 4


@pytest.mark.ray
def test_trial_mode_is_reproducible_with_one_concurrent_trial(ray_session, tmp_path,  # noqa: ARG001
                                                              synthetic_nb201):
    config = experiment(tmp_path, synthetic_nb201, mode="trial", workers=1, seeds=[4],
                        optimizers={"regularized_evolution": {"population_size": 3}},
                        budget={"queries": 6})
    a, errors = run_experiment(config, out=tmp_path / "a", summary=False)
    assert errors == []
    b, _ = run_experiment(config, out=tmp_path / "b", summary=False)
    rows = read_rows(a)
    assert rows["query_index"].max() == 6 and rows["status"].eq("ok").all()
    assert rows["sim_time_s"].isna().all()
    pd.testing.assert_frame_equal(rows, read_rows(b))
    table = Table.load(synthetic_nb201)
    assert np.allclose(rows["fitness"][~rows["repeat"]],
                       table.query(rows["arch_key"][~rows["repeat"]], "cifar10", "valid_acc", 200))


def test_config_errors_before_ray_starts(tmp_path, synthetic_nb201):
    cases = [
        ({"optimizers": {"random": {"temperature": 3}}}, "optimizers.random"),
        ({"optimizers": {"regularized_evolution": {"population_size": 1}}},
         "optimizers.regularized_evolution"),
        ({"dataset": "mnist"}, "dataset"),
        ({"fitness": "valid_acc@12"}, "fitness"),
        ({"reported": "top5"}, "reported"),
        ({"benchmark": "nasbench_graph"}, "benchmark"),
    ]
    for change, key in cases:
        with pytest.raises(ConfigError) as err:
            run_experiment(experiment(tmp_path, synthetic_nb201, **change),
                           out=tmp_path / "out", summary=False)
        assert str(err.value).startswith(f"{key}:"), str(err.value)
    assert not (tmp_path / "out" / "results").exists()


@pytest.mark.ray
@pytest.mark.parametrize("copy_lags", [False, True], ids=["synced", "background-copy-lags"])
def test_trial_mode_interrupted_run_resumes_with_tuner_restore(ray_session, tmp_path,  # noqa: ARG001
                                                               synthetic_nb201, monkeypatch,
                                                               copy_lags):
    """Kill a trial-mode run (a driver-side callback raises once after some rows are written),
    then --resume (Tuner.restore): every query counted once, the old rows kept. With
    ``copy_lags`` Tune's background copy of its staged checkpoint never ran (a loaded machine):
    the rows on disk still match the checkpoint the resume starts from."""
    from ray.train._internal.storage import _FilesystemSyncer

    from trainables import trial_runner as trial_mode

    monkeypatch.setenv("TUNE_GLOBAL_CHECKPOINT_S", "0")  # checkpoint the experiment every step
    budget = 12
    config = experiment(tmp_path, synthetic_nb201, mode="trial", workers=2, seeds=[1],
                        optimizers={"random": {}}, budget={"queries": budget})
    real = trial_mode.TrialRowsCallback.on_trial_result
    calls = []

    def crashing(self, iteration, trials, trial, result, **info):
        calls.append(1)
        if len(calls) == 6:
            raise RuntimeError("simulated kill")
        return real(self, iteration, trials, trial, result, **info)

    with monkeypatch.context() as patch:
        patch.setattr(trial_mode.TrialRowsCallback, "on_trial_result", crashing)
        if copy_lags:
            patch.setattr(_FilesystemSyncer, "sync_up", lambda self, *a, **k: False)
        out, errors = run_experiment(config, out=tmp_path / "cut", summary=False)
    assert errors and "simulated kill" in errors[0]
    before = read_rows(out)
    assert 0 < len(before) < budget
    _, errors = run_experiment(config, out=out, resume=True, summary=False)
    assert errors == []
    rows = read_rows(out)
    fresh = rows[~rows["repeat"]]
    assert fresh["arch_key"].nunique() == len(fresh) == budget
    assert sorted(fresh["query_index"]) == list(range(1, budget + 1))
    assert rows["eval_index"].tolist() == list(range(len(rows)))
    kept = before.merge(rows, on=["eval_index", "arch", "fitness"], how="left", indicator=True)
    assert (kept["_merge"] == "both").all()


def test_a_dying_run_copies_only_a_complete_staged_checkpoint(tmp_path):
    """The crash path's copy: the four checkpoint files of the newest session, the state JSON
    last; nothing when the callback state is older than the state JSON (a save that failed
    half-way), and never Tune's temporary files."""
    import os

    from trainables.trial_runner import copy_staged_checkpoint

    staged, target = tmp_path / "staged", tmp_path / "experiment"
    staged.mkdir()
    target.mkdir()
    assert not copy_staged_checkpoint(str(staged), target)  # nothing staged yet
    names = {"experiment_state-S.json": "state", "searcher-state-S.pkl": "searcher",
             "search_gen_state-S.json": "gen", "callback-states-S.pkl": "callbacks",
             ".1234-tmp-callback-states-S.pkl": "partial", "tuner.pkl": "tuner"}
    for name, text in names.items():
        (staged / name).write_text(text)
    state = staged / "experiment_state-S.json"
    old = state.stat().st_mtime_ns - 10**9
    os.utime(staged / "callback-states-S.pkl", ns=(old, old))  # older than the state JSON
    assert not copy_staged_checkpoint(str(staged), target)
    assert list(target.iterdir()) == []
    os.utime(staged / "callback-states-S.pkl", ns=(state.stat().st_mtime_ns,) * 2)
    assert copy_staged_checkpoint(str(staged), target)
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["experiment_state-S.json", "searcher-state-S.pkl", "search_gen_state-S.json",
         "callback-states-S.pkl"])
    assert (target / "experiment_state-S.json").read_text() == "state"
    assert not copy_staged_checkpoint(None, target)
    assert not copy_staged_checkpoint(str(staged), None)


def test_ctrl_c_stops_a_trial_mode_run_instead_of_marking_it_done(monkeypatch):
    """Tune's graceful SIGINT handler makes ``fit()`` return as if finished; the runner turns
    it off for the fit (restoring the caller's setting) so Ctrl-C raises."""
    import inspect
    import os

    import ray.tune.tune as tune_module

    from trainables.trial_runner import TUNE_SIGINT, ctrl_c_raises

    assert TUNE_SIGINT in inspect.getsource(tune_module._setup_signal_catching)
    monkeypatch.delenv(TUNE_SIGINT, raising=False)
    with ctrl_c_raises():
        assert os.environ[TUNE_SIGINT] == "1"
    assert TUNE_SIGINT not in os.environ
    monkeypatch.setenv(TUNE_SIGINT, "0")
    with pytest.raises(KeyboardInterrupt), ctrl_c_raises():
        raise KeyboardInterrupt
    assert os.environ[TUNE_SIGINT] == "0"
