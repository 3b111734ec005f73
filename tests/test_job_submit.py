"""The cluster path: ``ray job submit --working-dir <repo> -- python -m ednag.cli run ...``
against a local head node on loopback, then the Parquet results are checked."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ray_cli() -> str | None:
    found = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")
    if found is None:
        return None
    probe = subprocess.run([found, "job", "submit", "--help"], capture_output=True, timeout=120)
    return found if probe.returncode == 0 else None


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process we can read (Linux /proc)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        out[int(entry.name)] = (ppid, cmdline)
    return out


def head_pids(temp_dir: Path) -> set[int]:
    """The processes of our head node: those naming its private temp dir, and their children
    (``ray stop`` would kill every Ray process on the machine, other sessions' too)."""
    procs = _processes()
    return with_descendants(
        {pid for pid, (_, cmd) in procs.items() if str(temp_dir) in cmd and pid != os.getpid()},
        procs)


def with_descendants(roots: set[int], procs: dict[int, tuple[int, str]]) -> set[int]:
    """``roots`` and every process below them."""
    mine = set(roots)
    grew = True
    while grew:
        children = {pid for pid, (ppid, _) in procs.items() if ppid in mine} - mine
        mine |= children
        grew = bool(children)
    return mine


def stop_head(temp_dir: Path) -> None:
    """SIGTERM, then SIGKILL after a grace period, our head node's processes only."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        pids = head_pids(temp_dir)
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while pids and time.monotonic() < deadline:
            time.sleep(0.5)
            pids = head_pids(temp_dir)
        if not pids:
            return


@pytest.mark.slow
@pytest.mark.ray
def test_ray_job_submit_runs_a_config(tmp_path):
    ray = ray_cli()
    if ray is None:
        pytest.skip("`ray job submit` is not available (install ray[default])")
    gcs_port, dash_port = free_port(), free_port()
    # every port of the node is private: two head nodes on one machine (another test run,
    # another developer) would otherwise collide on the agents' fixed default ports
    agent_ports = [
        f"--dashboard-agent-listen-port={free_port()}",
        f"--dashboard-agent-grpc-port={free_port()}",
        f"--runtime-env-agent-port={free_port()}",
        f"--metrics-export-port={free_port()}",
        f"--ray-client-server-port={free_port()}",
        "--min-worker-port=0", "--max-worker-port=0",  # not the 10002-19999 every node shares
    ]
    # a short, private temp dir: this head node never touches other sessions' Ray
    temp_dir = Path(tempfile.mkdtemp(prefix="ednag-ray-", dir="/tmp"))
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    env.setdefault("RAY_AUTH_MODE", "disabled")  # conftest sets it; server and client agree
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    out = tmp_path / "job-out"
    config = tmp_path / "job.yaml"
    config.write_text(yaml.safe_dump({
        "name": "job-submit-test", "benchmark": "nasbench_graph", "table": "nas-bench-graph",
        "dataset": "cora", "optimizers": {"random": {}}, "seeds": 2,
        "budget": {"queries": 15}, "mode": "tabular",
    }))
    start = [ray, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={gcs_port}",
             "--num-cpus=2", "--include-dashboard=true", "--dashboard-host=127.0.0.1",
             f"--dashboard-port={dash_port}", f"--temp-dir={temp_dir}", "--disable-usage-stats",
             *agent_ports]
    try:
        started = subprocess.run(start, env=env, capture_output=True, text=True, timeout=180)
        assert started.returncode == 0, started.stdout + started.stderr
        address = f"http://127.0.0.1:{dash_port}"
        for _ in range(60):  # the dashboard's job API comes up a little after the node
            probe = subprocess.run([ray, "job", "list", "--address", address], env=env,
                                   capture_output=True, text=True, timeout=60)
            if probe.returncode == 0:
                break
            time.sleep(1)
        submit = [ray, "job", "submit", "--address", address, "--working-dir", str(REPO),
                  "--runtime-env-json", '{"excludes": [".venv", ".git", "results", "*.parquet"]}',
                  "--", sys.executable, "-m", "ednag.cli", "run", str(config), "--out", str(out)]
        deadline = time.monotonic() + 120
        while True:  # the node's job agent may still be starting
            job = subprocess.run(submit, env=env, capture_output=True, text=True, timeout=600)
            log = job.stdout + job.stderr
            if "No available agent" not in log or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert job.returncode == 0, log[-6000:]
        assert "succeeded" in log.lower(), log[-6000:]
    finally:
        stop_head(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
    frame = pd.read_parquet(out / "results")
    assert set(frame["optimizer"].astype(str)) == {"random"}
    assert sorted(frame["seed"].unique()) == [0, 1]
    assert frame.groupby("seed")["query_index"].max().tolist() == [15, 15]
    assert len(list((out / "state" / "done").rglob("*.json"))) == 2
