"""The registry's promise: an optimizer, a search space with its table and a trainable are each
one object plus one registration. Everything here is defined and registered in this file alone
and runs through ``ednag run`` in both modes; nothing else in the project knows about it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from ray import tune
from toy import ToySpace, space_for, toy_fitness, toy_table

from ednag.experiment.lock import run_lock
from ednag.experiment.settings import RunSettings
from ednag.optimizers import Optimizer, RandomSearch
from ednag.registry import (
    BENCHMARKS,
    OPTIMIZERS,
    TRAINABLES,
    BenchmarkEntry,
    OptimizerEntry,
    TrainableEntry,
)
from ednag.spaces.base import Choices
from trainables.run import run_experiment


class SweepOptimizer(Optimizer):
    """A throwaway optimizer: a seeded permutation of the space, two at a time."""

    name = "sweep"

    def __init__(self, space, seed=0, max_queries=None, batch: int = 2) -> None:
        super().__init__(space, seed, max_queries)
        self.batch = batch
        self.order = [tuple(int(v) for v in c) for c in
                      self.rng.permutation(list(space.enumerate()))]

    def _propose(self, remaining: int | None) -> list[Choices]:
        out = []
        while self.order and len(out) < self.batch:
            choices = self.order.pop()
            if self.lookup(choices) is None and not self.is_pending(choices):
                out.append(choices)
        return out

    def _observe(self, results) -> None:
        pass


class KillOnceRandomSearch(RandomSearch):
    """Random search whose worker process SIGKILLs itself once, after ``kill_after`` queries
    (the marker file says it already did)."""

    def __init__(self, space, seed=0, max_queries=None, kill_marker: str | None = None,
                 kill_after: int = 10) -> None:
        super().__init__(space, seed, max_queries)
        self.kill_marker = kill_marker
        self.kill_after = kill_after

    def _propose(self, remaining):
        if (self.kill_marker and self.num_queries >= self.kill_after
                and not os.path.exists(self.kill_marker)):
            Path(self.kill_marker).touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return super()._propose(remaining)


def kill_once_lookup(config: dict, run: dict) -> None:
    """A trainable whose process SIGKILLs itself once, at its fourth architecture."""
    settings = RunSettings.from_dict(run)
    folder = Path(settings.table).parent / "trials"
    folder.mkdir(exist_ok=True)
    (folder / config["arch"]).touch()
    marker = folder.parent / "killed"
    if len(list(folder.iterdir())) >= 4 and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    choices = ToySpace().from_native(config["arch"])
    tune.report({"fitness": toy_fitness(choices), "reported": 2 * toy_fitness(choices),
                 "train_time_s": None, "arch_key": config["arch"]})


@pytest.fixture
def toy_benchmark(tmp_path):
    """Benchmark ``toy_ext`` (space from tests/toy.py) with its table, registered for a test."""
    with BENCHMARKS.temporarily("toy_ext", BenchmarkEntry(space=space_for,
                                                          default_dataset="toyset")):
        yield toy_table(tmp_path / "toy.parquet", benchmark="toy_ext")


def _config(tmp_path: Path, table: Path, **changes) -> Path:
    raw = {"benchmark": "toy_ext", "table": str(table), "optimizers": {"sweep": {}},
           "seeds": 2, "budget": {"queries": 20}, "mode": "tabular", "workers": 2}
    raw.update(changes)
    path = tmp_path / f"exp-{len(list(tmp_path.glob('exp-*')))}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _rows(out: Path) -> pd.DataFrame:
    frame = pd.read_parquet(out / "results").drop(columns=["wall_time_s"])
    frame["optimizer"] = frame["optimizer"].astype(str)
    return frame.sort_values(["optimizer", "seed", "eval_index"]).reset_index(drop=True)


@pytest.mark.ray
@pytest.mark.parametrize("mode", ["tabular", "trial"])
def test_an_optimizer_and_a_space_registered_here_run_through_ednag_run(
        mode, ray_session, tmp_path, toy_benchmark):
    with OPTIMIZERS.temporarily("sweep", OptimizerEntry(SweepOptimizer, summary="a test")):
        config = _config(tmp_path, toy_benchmark, mode=mode,
                         optimizers={"sweep": {"batch": 3}, "random": {}})
        out, errors = run_experiment(config, out=tmp_path / mode, summary=False)
    assert errors == []
    from ednag.experiment.plan import run_id_of
    from trainables.table_actor import ACTOR_PREFIX, NAMESPACE

    left = [a["name"] for a in ray_session.util.list_named_actors(all_namespaces=True)
            if a["namespace"] == NAMESPACE
            and a["name"].startswith(f"{ACTOR_PREFIX}-{run_id_of(out)}-")]
    assert left == []  # the run released its table actors
    rows = _rows(out)
    assert set(rows["optimizer"]) == {"sweep", "random"}
    space = ToySpace()
    for (_, _), run in rows[~rows["repeat"]].groupby(["optimizer", "seed"]):
        assert run["arch_key"].nunique() == len(run) == 20
        assert run["fitness"].tolist() == [toy_fitness(space.from_native(a)) for a in run["arch"]]
    assert "sweep" not in OPTIMIZERS.names() and "toy_ext" in BENCHMARKS.names()


@pytest.mark.ray
def test_a_killed_tabular_worker_is_retried_to_the_same_rows(ray_session, tmp_path,  # noqa: ARG001
                                                              toy_benchmark):
    entry = OptimizerEntry(KillOnceRandomSearch, summary="dies once")
    with OPTIMIZERS.temporarily("kill_once", entry):
        marker = tmp_path / "killed"
        killed = _config(tmp_path, toy_benchmark, seeds=[3], workers=3,
                         optimizers={"kill_once": {"kill_marker": str(marker)}})
        out, errors = run_experiment(killed, out=tmp_path / "killed-run", summary=False,
                                     chunk_rows=4, checkpoint_seconds=0.0)
        assert marker.exists(), "the worker was never killed"
        plain = _config(tmp_path, toy_benchmark, seeds=[3], workers=3,
                        optimizers={"kill_once": {}})
        reference, ref_errors = run_experiment(plain, out=tmp_path / "plain-run",
                                               summary=False, chunk_rows=4)
    assert errors == [] and ref_errors == []
    pd.testing.assert_frame_equal(_rows(out), _rows(reference))
    assert len(_rows(out)) >= 20


@pytest.mark.ray
def test_a_killed_trial_is_retried_to_the_same_rows(ray_session, tmp_path,  # noqa: ARG001
                                                     toy_benchmark):
    entry = TrainableEntry(kill_once_lookup, summary="dies once")
    with TRAINABLES.temporarily("kill_once_lookup", entry):
        rows = {}
        for name in ("killed", "plain"):
            folder = tmp_path / name
            folder.mkdir()
            table = toy_table(folder / "toy.parquet", benchmark="toy_ext")
            if name == "plain":
                (folder / "killed").touch()  # never kill
            config = _config(folder, table, mode="trial", workers=1, seeds=[1],
                             trainable="kill_once_lookup",
                             budget={"queries": 8}, optimizers={"random": {}})
            out, errors = run_experiment(config, out=folder / "out", summary=False)
            assert errors == []
            rows[name] = _rows(out).drop(columns=["metric.train_time_s"], errors="ignore")
        assert len(list((tmp_path / "killed" / "trials").iterdir())) == 8
    pd.testing.assert_frame_equal(rows["killed"], rows["plain"])
    assert rows["plain"]["arch_key"].nunique() == 8


def test_two_runs_on_one_out_dir_refuse(tmp_path):
    config = Path(__file__).resolve().parents[1] / "configs" / "nasbench-graph.yaml"
    out = tmp_path / "busy"
    with run_lock(out):
        done = subprocess.run(
            [sys.executable, "-m", "ednag.cli", "run", str(config), "--out", str(out)],
            capture_output=True, text=True, timeout=120,
        )
    assert done.returncode == 2
    assert f"{out} is in use by another ednag run (pid {os.getpid()})" in done.stderr
