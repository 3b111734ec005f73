"""A two-node Ray cluster on one machine (two ``ray start``): losing the worker node in the
middle of ``ednag run`` costs only its in-flight trials, which are retried on the head node;
the run finishes with exactly the queries of an uninterrupted one."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_job_submit import _processes, free_port, ray_cli, stop_head, with_descendants

from ednag.spaces import make_space
from ednag.tables.synthetic import synthetic_nb201
from searchers.factory import make_searcher

BUDGET = 18


def _node_pids(node_manager_port: int) -> set[int]:
    """The raylet of the node with this port and every process below it."""
    procs = _processes()
    return with_descendants(
        {pid for pid, (_, cmd) in procs.items()
         if "raylet" in cmd and f"--node_manager_port={node_manager_port}" in cmd}, procs)


def _failure_report(output: str) -> str:
    """What a failed run says about nodes and errors first (a CI log keeps a message's start),
    then the end of its output."""
    keys = ("marked dead", "Error:", "Error(", "Traceback")
    notable = list(dict.fromkeys(line.strip()[:300] for line in output.splitlines()
                                 if any(k in line for k in keys)))
    return "\n".join(["notable lines:", *notable[:25], "end of output:", output[-4000:]])


@pytest.mark.slow
@pytest.mark.ray
def test_losing_the_worker_node_costs_only_its_in_flight_trials(tmp_path):
    ray = ray_cli()
    if ray is None:
        pytest.skip("the `ray` command line is not available (install ray[default])")
    temp_dir = Path(tempfile.mkdtemp(prefix="ednag-2n-", dir="/tmp"))
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    env.update(RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="1",  # a second node; both on 127.0.0.1
               RAY_USAGE_STATS_ENABLED="0",
               # a killed raylet refuses the health check at once, so it is found dead within
               # ~5 s; a live node starved of CPU (2 cores, another test beside) gets 10 s per
               # check, so it is never taken for dead
               RAY_health_check_period_ms="1000", RAY_health_check_failure_threshold="5",
               RAY_health_check_timeout_ms="10000")
    env.setdefault("RAY_AUTH_MODE", "disabled")
    gcs_port, worker_nm_port = free_port(), free_port()

    def private() -> list[str]:  # every node its own ports: nothing collides on one machine
        # workers bind ports the OS picks, not `ray start`'s shared 10002-19999 range
        return ["--disable-usage-stats", "--min-worker-port=0", "--max-worker-port=0",
                f"--metrics-export-port={free_port()}",
                f"--dashboard-agent-listen-port={free_port()}",
                f"--dashboard-agent-grpc-port={free_port()}",
                f"--runtime-env-agent-port={free_port()}"]

    head = [ray, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={gcs_port}",
            "--num-cpus=1", "--include-dashboard=false", f"--temp-dir={temp_dir}",
            f"--ray-client-server-port={free_port()}", *private()]
    worker = [ray, "start", f"--address=127.0.0.1:{gcs_port}", "--node-ip-address=127.0.0.1",
              "--num-cpus=2", f"--node-manager-port={worker_nm_port}",
              f"--object-manager-port={free_port()}", *private()]
    table_path = tmp_path / "nb201.parquet"
    table = synthetic_nb201()
    table.save(table_path)
    config = tmp_path / "two-nodes.yaml"
    config.write_text(yaml.safe_dump({
        "benchmark": "nb201", "table": str(table_path), "optimizers": {"random": {}},
        "seeds": [4], "budget": {"queries": BUDGET}, "mode": "trial", "workers": 3,
        "sleep_scale": 0.001, "max_failures": 3, "ray": {"address": f"127.0.0.1:{gcs_port}"},
    }))
    out = tmp_path / "out"
    run = None
    try:
        for command in (head, worker):
            started = subprocess.run(command, env=env, capture_output=True, text=True,
                                     timeout=180)
            assert started.returncode == 0, started.stdout + started.stderr
        run = subprocess.Popen([sys.executable, "-m", "ednag.cli", "run", str(config), "--out",
                                str(out)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and run.poll() is None:
            busy = [cmd for pid, (_, cmd) in _processes().items()
                    if pid in _node_pids(worker_nm_port)
                    and cmd.startswith("ray::ImplicitFunc.train")]
            if busy:  # a trial runs on the worker node: lose the node now
                break
            time.sleep(0.2)
        assert run.poll() is None, "the run ended before any trial ran on the worker node"
        killed = _node_pids(worker_nm_port)
        assert killed
        for pid in killed:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        output, _ = run.communicate(timeout=300)
    finally:
        if run is not None and run.poll() is None:
            run.kill()
        stop_head(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
    assert run.returncode == 0, _failure_report(output)
    assert "failed, retrying" in output, _failure_report(output)  # the lost trials were retried
    rows = pd.read_parquet(out / "results")
    fresh = rows[~rows["repeat"]]
    assert (fresh["status"] == "ok").all()
    assert fresh["arch_key"].nunique() == len(fresh) == BUDGET  # none lost, none twice
    assert sorted(rows["eval_index"]) == list(range(len(rows)))
    # random search's proposals do not depend on results: the same queries as without the loss
    space = make_space("nb201")
    searcher = make_searcher("random", space, seed=4, max_queries=BUDGET)
    expected = set()
    for i in range(BUDGET):
        arch = searcher.suggest(f"t{i}")["arch"]
        expected.add(space.key(space.from_native(arch)))
    assert set(fresh["arch_key"]) == expected
    fitness = table.query(list(fresh["arch_key"]), "cifar10", "valid_acc", 200)
    assert np.allclose(fresh["fitness"].to_numpy(), fitness)
