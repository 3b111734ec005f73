"""bench/landscapes.py: variants, screening seeds and NAS-Bench-Graph (the wheel's tables)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "landscapes.py"


@pytest.fixture(scope="module")
def landscapes():
    spec = importlib.util.spec_from_file_location("bench_landscapes", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_landscapes"] = module
    spec.loader.exec_module(module)
    return module


def _pairs(out: str) -> dict[str, float]:
    last = out.strip().splitlines()[-1]
    return {k: float(v) for k, v in (item.rsplit("=", 1) for item in last.split())}


def test_variants_and_first_seed_on_nasbench_graph(landscapes, capsys):
    args = ["--only", "nasbench_graph", "--seeds", "2", "--first-seed", "7", "--queries", "12",
            "--optimizers", "random,ednag[arch_mutation_rate=0.5]"]
    assert landscapes.main(args) == 0
    out = capsys.readouterr().out
    assert "seeds 7-8" in out
    pairs = _pairs(out)
    for dataset in ("arxiv", "cora", "photo"):
        for name in ("random", "ednag[arch_mutation_rate=0.5]"):
            assert 0.0 < pairs[f"nasbench_graph_{dataset}_{name}_mean_12"] < 1.0
            assert 0.0 < pairs[f"nasbench_graph_{dataset}_{name}_fitness_12"] < 1.0
    # the variant's parameter reaches the optimizer: another rate asks other architectures
    assert landscapes.main(args[:-1] + ["ednag[arch_mutation_rate=0.0]"]) == 0
    other = _pairs(capsys.readouterr().out)
    assert any(other[f"nasbench_graph_{d}_ednag[arch_mutation_rate=0.0]_fitness_12"]
               != pairs[f"nasbench_graph_{d}_ednag[arch_mutation_rate=0.5]_fitness_12"]
               for d in ("arxiv", "cora", "photo"))


def test_tasks_runs_only_the_tasks_named(landscapes, capsys):
    args = ["--only", "nasbench_graph", "--tasks", "cora", "--seeds", "1", "--queries", "5",
            "--optimizers", "random"]
    assert landscapes.main(args) == 0
    pairs = _pairs(capsys.readouterr().out)
    assert "nasbench_graph_cora_random_mean_5" in pairs
    assert not any(k.startswith(("nasbench_graph_arxiv", "nasbench_graph_photo")) for k in pairs)


def test_an_unknown_task_names_the_allowed_ones(landscapes, capsys, monkeypatch):
    monkeypatch.setattr(landscapes, "import_table", lambda *a: pytest.fail("table loaded"))
    with pytest.raises(SystemExit):
        landscapes.main(["--only", "nasbench_graph", "--tasks", "cora,normal"])
    err = capsys.readouterr().err
    assert "unknown task(s) normal for nasbench_graph; allowed: arxiv, cora, photo" in err


def test_unknown_optimizer_names_the_allowed_ones(landscapes, capsys):
    with pytest.raises(SystemExit):
        landscapes.main(["--only", "nasbench_graph", "--optimizers", "ednag,nope[x=1]"])
    err = capsys.readouterr().err
    assert "unknown optimizer(s) nope[x=1]" in err and "regularized_evolution" in err


def test_a_malformed_variant_stops_before_any_table_loads(landscapes, capsys, monkeypatch):
    monkeypatch.setattr(landscapes, "import_table", lambda *a: pytest.fail("table loaded"))
    with pytest.raises(SystemExit):
        landscapes.main(["--only", "nasbench_graph", "--optimizers", "ednag[arch_mutation_rate"])
    assert "expected name[key=value;...]" in capsys.readouterr().err


def test_against_prints_paired_differences_and_json_keeps_every_seed(landscapes, capsys,
                                                                    tmp_path):
    out_file = tmp_path / "runs.json"
    args = ["--only", "nasbench_graph", "--tasks", "cora,photo", "--seeds", "3", "--queries", "6",
            "--optimizers", "random,ednag", "--against", "random", "--json", str(out_file)]
    assert landscapes.main(args) == 0
    out = capsys.readouterr().out
    assert "minus random, seed by seed" in out
    runs = json.loads(out_file.read_text())
    assert runs["queries"] == 6 and set(runs["runs"]["nasbench_graph"]) == {"cora", "photo"}
    cora = runs["runs"]["nasbench_graph"]["cora"]
    assert cora["random"]["seeds"] == [0, 1, 2] and len(cora["ednag"]["reported"]) == 3
    # the per-seed values are the ones the table averages, and the paired row is their difference
    pairs = _pairs(out)
    assert np.mean(cora["ednag"]["reported"]) == pytest.approx(
        pairs["nasbench_graph_cora_ednag_mean_6"], rel=1e-5)
    mean, sem, up, down = landscapes.paired(np.array(cora["ednag"]["reported"]),
                                            np.array(cora["random"]["reported"]))
    diff = np.subtract(cora["ednag"]["reported"], cora["random"]["reported"])
    assert mean == pytest.approx(diff.mean()) and (up, down) == (
        int((diff > 0).sum()), int((diff < 0).sum()))
    row = next(line for line in out.splitlines() if line.startswith("| nasbench_graph | cora |")
               and "(" in line and "±" in line and line.count("|") == 4)
    assert f"({up}/{down})" in row


def test_paired_against_hand_computed_values(landscapes):
    mean, sem, up, down = landscapes.paired(np.array([3.0, 1.0, 2.0]), np.array([1.0, 1.0, 3.0]))
    assert mean == pytest.approx(1 / 3) and (up, down) == (1, 1)
    assert sem == pytest.approx(np.std([2.0, 0.0, -1.0], ddof=1) / np.sqrt(3))


def test_against_must_be_one_of_the_optimizers(landscapes, capsys, monkeypatch):
    monkeypatch.setattr(landscapes, "import_table", lambda *a: pytest.fail("table loaded"))
    with pytest.raises(SystemExit):
        landscapes.main(["--only", "nasbench_graph", "--optimizers", "random,ednag",
                         "--against", "regularized_evolution"])
    err = capsys.readouterr().err
    assert "--against 'regularized_evolution' is not among --optimizers; allowed: random, ednag" in err


def test_against_needs_another_optimizer(landscapes, capsys, monkeypatch):
    monkeypatch.setattr(landscapes, "import_table", lambda *a: pytest.fail("table loaded"))
    with pytest.raises(SystemExit):
        landscapes.main(["--only", "nasbench_graph", "--optimizers", "ednag", "--against", "ednag"])
    assert "--against 'ednag' needs another optimizer in --optimizers" in capsys.readouterr().err
