"""Shared fixtures: one local Ray instance per session and the paths of ../shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SHARED_NB201 = REPO.parent / "shared" / "benchmarks" / "nb201"


def ray_test_env() -> None:
    """Environment for a loopback-only Ray with matching auth on server and clients."""
    os.environ.pop("RAY_ADDRESS", None)
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")


ray_test_env()


@pytest.fixture(scope="session")
def ray_session():
    """A single local Ray instance (2 CPUs) shared by every test that needs one. Its workers
    can import the test modules (plugins registered by a test live there)."""
    import ray

    if not ray.is_initialized():
        path = os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH")) if p)
        ray.init(
            address="local",
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            runtime_env={"env_vars": {"PYTHONPATH": path}},
        )
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def nb201_dir() -> Path:
    """The real NAS-Bench-201 CSVs, or a skip with the reason."""
    if not (SHARED_NB201 / "valid200_perseed.csv").exists():
        pytest.skip(f"NAS-Bench-201 data not found at {SHARED_NB201} (needs ../shared/benchmarks)")
    return SHARED_NB201
