"""bench/sample_efficiency.py: per-seed files record their seeds and join seed by seed."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))  # the script imports its neighbour ednag_nb201
    try:
        spec = importlib.util.spec_from_file_location("bench_sample_efficiency",
                                                      BENCH / "sample_efficiency.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_sample_efficiency"] = module
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


def _run(seeds: list[int], offset: float = 0.0, with_seeds: bool = True) -> dict:
    """A hand-made --json file: one dataset, one optimizer, two budgets."""
    n = len(seeds)
    entry = {"scores": [[90.0 + s, 91.0 + s + offset] for s in seeds],
             "valid": [[80.0 + s, 81.0 + s] for s in seeds],
             "hits": [[False, s % 2 == 0] for s in seeds],
             "ms": [1.0] * n}
    if with_seeds:
        entry["seeds"] = seeds
    return {"cifar10": {"random": entry}}


def _write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_join_seed_by_seed_and_sorted(bench, tmp_path):
    a = bench.load_results(_write(tmp_path / "a.json", _run([2, 3])), [50, 100])
    b = bench.load_results(_write(tmp_path / "b.json", _run([0, 1, 2])), [50, 100])
    merged = bench.merge_results([("a", a), ("b", b)])["cifar10"]["random"]
    assert merged["seeds"].tolist() == [0, 1, 2, 3]  # seed 2 once, sorted
    assert merged["scores"][:, 1].tolist() == [91.0, 92.0, 93.0, 94.0]
    assert merged["hits"].dtype == bool and merged["hits"][:, 1].tolist() == [True, False,
                                                                             True, False]


def test_a_failed_value_joins_itself(bench, tmp_path):
    run = _run([0, 1])
    run["cifar10"]["random"]["scores"][1][0] = float("nan")  # e.g. every query failed
    a = bench.load_results(_write(tmp_path / "a.json", run), [50, 100])
    merged = bench.merge_results([("a", a), ("b", a)])["cifar10"]["random"]
    assert merged["seeds"].tolist() == [0, 1] and np.isnan(merged["scores"][1, 0])


def test_a_seed_that_differs_between_files_is_an_error(bench, tmp_path):
    a = bench.load_results(_write(tmp_path / "a.json", _run([0, 1])), [50, 100])
    b = bench.load_results(_write(tmp_path / "b.json", _run([1, 2], offset=0.5)),
                             [50, 100])
    with pytest.raises(ValueError, match="b: cifar10 random seed 1 differs from a"):
        bench.merge_results([("a", a), ("b", b)])


def test_old_files_take_first_seed(bench, tmp_path):
    old = bench.load_results(_write(tmp_path / "old.json", _run([0, 1], with_seeds=False)),
                             [50, 100], first_seed=50)
    assert old["cifar10"]["random"]["seeds"].tolist() == [50, 51]


def test_files_of_different_budgets_join_on_the_budgets_asked_for(bench, tmp_path):
    """A file that records its budgets gives the columns asked for: a 50/100/200 run and a
    50/100/200/500 run join at 50 and 100 (the same seed agrees there)."""
    long = _run([1, 2])
    for entry in long["cifar10"].values():
        for key in ("scores", "valid", "hits"):
            entry[key] = [[row[0], -1.0 if key != "hits" else True, row[1]]
                          for row in entry[key]]  # budgets 50, 75, 100
    long["budgets"] = [50, 75, 100]
    a = bench.load_results(_write(tmp_path / "long.json", long), [50, 100])
    assert a["cifar10"]["random"]["scores"].tolist() == [[91.0, 92.0], [92.0, 93.0]]
    b = bench.load_results(_write(tmp_path / "short.json", _run([0, 1])), [50, 100])
    merged = bench.merge_results([("long", a), ("short", b)])["cifar10"]["random"]
    assert merged["seeds"].tolist() == [0, 1, 2] and merged["hits"].shape == (3, 2)
    # rows in a full run's order, whichever file came first
    variant = {"cifar10": {"bananas[k=1]": _run([0])["cifar10"]["random"],
                           "bananas": _run([0])["cifar10"]["random"]}}
    c = bench.load_results(_write(tmp_path / "c.json", variant), [50, 100])
    assert list(bench.merge_results([("c", c), ("short", b)])["cifar10"]) == [
        "random", "bananas", "bananas[k=1]"]
    with pytest.raises(SystemExit, match=r"holds budgets \[50, 75, 100\]; --budgets asks for "
                                         r"\[200\] too"):
        bench.load_results(tmp_path / "long.json", [50, 200])


def test_from_json_reads_several_files(bench, tmp_path, capsys):
    a = _write(tmp_path / "a.json", _run([0, 1]))
    b = _write(tmp_path / "b.json", _run([2, 3]))
    assert bench.main(["--from-json", str(a), str(b), "--budgets", "50,100",
                       "--markdown", str(tmp_path / "t.md")]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    pairs = dict(item.split("=") for item in last.split())
    assert float(pairs["random_mean_100"]) == pytest.approx(np.mean([91, 92, 93, 94]))
    assert "| cifar10 | `random` | 4 |" in (tmp_path / "t.md").read_text()
    assert not any(key.endswith("_ms_vs_tpe") for key in pairs)  # times of separate runs
    both = _run([0, 1])
    both["cifar10"]["bananas"] = both["cifar10"]["random"]
    c = _write(tmp_path / "both.json", both)
    assert bench.main(["--from-json", str(c), "--budgets", "50,100", "--optimizers",
                       "bananas"]) == 0  # only the variants asked for
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "bananas_mean_100" in last and "random_" not in last
    with pytest.raises(SystemExit):
        bench.main(["--from-json", str(c), "--budgets", "50,100", "--optimizers", "tpe"])
    assert "--optimizers: tpe not in the files; they hold random, bananas" in (
        capsys.readouterr().err)
    with pytest.raises(SystemExit):  # a clash is a usage error naming the files
        bench.main(["--from-json", str(a), str(_write(tmp_path / "c.json",
                                                      _run([1], offset=1.0))),
                    "--budgets", "50,100"])
    assert "c.json: cifar10 random seed 1 differs" in capsys.readouterr().err


@pytest.mark.skipif(not (BENCH.parent.parent / "shared" / "benchmarks" / "nb201"
                         / "valid200_perseed.csv").exists(),
                    reason="NAS-Bench-201 CSVs not in ../shared/benchmarks/nb201")
def test_a_run_writes_its_seeds_and_reruns_join(bench, tmp_path, capsys):
    args = ["--seeds", "2", "--budgets", "10,20", "--datasets", "cifar10",
            "--optimizers", "random,ednag"]
    assert bench.main([*args, "--first-seed", "7", "--json", str(tmp_path / "a.json")]) == 0
    assert "_ms_vs_tpe" not in capsys.readouterr().out  # no TPE in the run, no ratio
    assert bench.main([*args, "--first-seed", "8", "--json", str(tmp_path / "b.json")]) == 0
    written = json.loads((tmp_path / "a.json").read_text())
    assert written["budgets"] == [10, 20]  # the run's budgets, for joins with other runs
    run = written["cifar10"]["ednag"]
    assert run["seeds"] == [7, 8]
    # seed 8 ran twice, in two processes' runs: the same values, so joining them is no clash
    merged = bench.merge_results([(name, bench.load_results(tmp_path / name, [10, 20]))
                                  for name in ("a.json", "b.json")])
    assert merged["cifar10"]["ednag"]["seeds"].tolist() == [7, 8, 9]
    capsys.readouterr()
    assert bench.main(["--seeds", "1", "--budgets", "10", "--datasets", "cifar10",
                       "--optimizers", "random,optuna_tpe"]) == 0
    pairs = dict(item.split("=") for item in capsys.readouterr().out.strip().splitlines()[-1]
                 .split())
    assert float(pairs["optuna_tpe_ms_vs_tpe"]) == 1.0  # each time over TPE's, same run
    # the ratio of the unrounded times: within the printed values' rounding of their ratio
    ratio, mine, tpe = (float(pairs[k]) for k in ("random_ms_vs_tpe", "random_ms_per_query",
                                                  "optuna_tpe_ms_per_query"))
    assert (mine - 0.005) / (tpe + 0.005) - 0.005 <= ratio
    assert ratio <= (mine + 0.005) / max(tpe - 0.005, 1e-9) + 0.005


@pytest.mark.skipif(not (BENCH.parent.parent / "shared" / "benchmarks" / "nb201"
                         / "valid200_perseed.csv").exists(),
                    reason="NAS-Bench-201 CSVs not in ../shared/benchmarks/nb201")
def test_predictor_ranks_finds_or_ranks_the_optimum(bench):
    """bench/predictor_ranks.py: a run that queried the optimum says so; one that did not
    gets a rank among the unseen cells, for every encoding."""
    spec = importlib.util.spec_from_file_location("bench_predictor_ranks",
                                                  BENCH / "predictor_ranks.py")
    ranks = importlib.util.module_from_spec(spec)
    sys.modules["bench_predictor_ranks"] = ranks  # a dataclass looks its module up there
    spec.loader.exec_module(ranks)
    # 20 random queries miss the optimum; the ensemble ranks it among the 15,605 others
    land = ranks.Landscape.load("cifar10")
    far = ranks.optimum_ranks(land, "random", 0, 20)
    assert set(far) == {"onehot", "path", "onehot+counts", "onehot+path"}
    assert all(0 <= r["rank"] < 15625 - 20 and -1 <= r["rho"] <= 1 for r in far.values())
    # seed 1's default ednag_guided run has the cifar10 optimum by 50 queries
    found = ranks.optimum_ranks(land, "ednag_guided", 1, 50)
    assert all(r["rank"] == -1 and r["std"] < 0.05 for r in found.values())


@pytest.fixture(scope="module")
def journal_module():
    spec = importlib.util.spec_from_file_location("bench_run_journal", BENCH / "run_journal.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_journal_keeps_whole_lines_and_drops_a_cut_one(journal_module, tmp_path):
    path = tmp_path / "new" / "r.json.partial"  # its folder is made, as --json's is
    journal = journal_module.RunJournal(path, {"budgets": [50], "jobs": [["c", "x", 0]]})
    journal.add({"seed": 0, "v": [1.0, float("nan")]})
    journal.add({"seed": 1, "v": [2.0, 3.0]})
    journal.close()
    with open(path, "a") as f:  # a kill in the middle of the third line
        f.write('{"seed": 2, "v": [4.')
    again = journal_module.RunJournal(path, {"budgets": [50], "jobs": [["c", "x", 0]]})
    assert [r["seed"] for r in again.finished] == [0, 1]
    assert np.isnan(again.finished[0]["v"][1])
    again.add({"seed": 2, "v": [4.0, 5.0]})  # the cut line is replaced, not appended to
    again.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[-1]) == {"seed": 2, "v": [4.0, 5.0]}
    again.remove()
    assert not path.exists()


def test_journal_of_another_command_is_an_error(journal_module, tmp_path):
    path = tmp_path / "r.json.partial"
    with journal_module.RunJournal(path, {"budgets": [50]}) as journal:
        journal.add({"seed": 0})
    with pytest.raises(ValueError, match=r"holds the finished runs of another command .*"
                                         r"delete the file"):
        journal_module.RunJournal(path, {"budgets": [100]})
    path.write_text('{"budg')  # killed while writing its header: nothing finished
    assert journal_module.RunJournal(path, {"budgets": [100]}).finished == []


@pytest.mark.skipif(not (BENCH.parent.parent / "shared" / "benchmarks" / "nb201"
                         / "valid200_perseed.csv").exists(),
                    reason="NAS-Bench-201 CSVs not in ../shared/benchmarks/nb201")
def test_a_killed_run_resumes_from_its_journal(bench, tmp_path, capsys, monkeypatch):
    """Runs that finished before a kill are not run again, and the result is the same."""
    args = ["--seeds", "3", "--budgets", "10,20", "--datasets", "cifar10",
            "--optimizers", "random,ednag"]
    whole = tmp_path / "whole.json"
    assert bench.main([*args, "--json", str(whole)]) == 0
    assert not (tmp_path / "whole.json.partial").exists()  # removed once the file is written

    real_job, calls = bench._job, []

    def dies_after_four(job):
        if len(calls) == 4:
            raise KeyboardInterrupt  # the kill
        calls.append(job)
        return real_job(job)

    cut = tmp_path / "cut.json"
    monkeypatch.setattr(bench, "_job", dies_after_four)
    with pytest.raises(KeyboardInterrupt):
        bench.main([*args, "--json", str(cut)])
    assert not cut.exists() and len((tmp_path / "cut.json.partial").read_text()
                                    .splitlines()) == 5  # its header and four runs
    calls.clear()
    monkeypatch.setattr(bench, "_job", lambda job: calls.append(job) or real_job(job))
    capsys.readouterr()
    assert bench.main([*args, "--json", str(cut)]) == 0
    assert "4 finished before, resumed from" in capsys.readouterr().out
    assert len(calls) == 2  # only the two runs the kill left
    a, b = json.loads(whole.read_text()), json.loads(cut.read_text())
    for run in (a, b):
        for entry in run["cifar10"].values():
            entry.pop("ms")  # the only value a rerun may change
    assert a == b
    with pytest.raises(SystemExit):  # another command meets the journal: an error, no mix
        (tmp_path / "cut.json.partial").write_text(
            json.dumps({"budgets": [10], "jobs": []}) + "\n")
        bench.main([*args, "--json", str(cut)])
    assert "holds the finished runs of another command" in capsys.readouterr().err
