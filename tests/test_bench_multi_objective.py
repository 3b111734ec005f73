"""bench/multi_objective.py: a killed --json run resumes from its journal to the same file."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
NB201 = BENCH.parent.parent / "shared" / "benchmarks" / "nb201"

pytestmark = pytest.mark.skipif(not NB201.is_dir(),
                                reason="NAS-Bench-201 tables not in ../shared/benchmarks/nb201")


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))  # the script imports its neighbours
    try:
        spec = importlib.util.spec_from_file_location("bench_multi_objective",
                                                      BENCH / "multi_objective.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


def test_a_killed_run_resumes_from_its_journal(bench, tmp_path, capsys, monkeypatch):
    args = ["--seeds", "2", "--budgets", "10,20", "--problems", "nb201-latency",
            "--optimizers", "random,mo_ednag"]
    whole = tmp_path / "whole.json"
    bench.main([*args, "--json", str(whole)])
    assert not (tmp_path / "whole.json.partial").exists()

    real_run, calls = bench.run, []

    def dies_after_three(*a, **k):
        if len(calls) == 3:
            raise KeyboardInterrupt  # the kill
        calls.append(a)
        return real_run(*a, **k)

    cut = tmp_path / "cut.json"
    monkeypatch.setattr(bench, "run", dies_after_three)
    with pytest.raises(KeyboardInterrupt):
        bench.main([*args, "--json", str(cut)])
    assert not cut.exists()
    calls.clear()
    monkeypatch.setattr(bench, "run", lambda *a, **k: calls.append(a) or real_run(*a, **k))
    capsys.readouterr()
    bench.main([*args, "--json", str(cut)])
    assert "3 runs finished before, resumed from" in capsys.readouterr().out
    assert [c[0] for c in calls] == ["mo_ednag"]  # only the run the kill left
    assert json.loads(cut.read_text()) == json.loads(whole.read_text())
    assert not (tmp_path / "cut.json.partial").exists()
