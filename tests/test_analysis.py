"""The analysis package against hand-made result sets whose answers are worked out below."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats as sps

from analysis.budget_tables import budget_table, budget_tests, parse_budgets, per_seed_values
from analysis.cli import print_summary
from analysis.curves import anytime_curves, incumbent_trace, nan_quantiles, sample
from analysis.diagnostics import generation_stats
from analysis.errors import ResultsError
from analysis.load import load_results, results_from_frame
from analysis.optimum import Optimum, resolve_optimum
from analysis.report import analyse
from analysis.stats import holm, pairwise_tests
from analysis.synthetic import Landscape, optimizer_rows, to_table, write_results
from ednag.cli import main as ednag_main
from ednag.optimizers import RandomSearch, RegularizedEvolution
from ednag.spaces import NB201Space

SPACE = NB201Space()
OPS = [(0, 0, 0, 0, 0, 0), (1, 0, 0, 0, 0, 0), (1, 1, 0, 0, 0, 0), (1, 1, 1, 0, 0, 0),
       (1, 1, 1, 1, 0, 0), (1, 1, 1, 1, 1, 0), (1, 1, 1, 1, 1, 1), (2, 2, 2, 2, 2, 2)]
ARCH = [SPACE.to_native(c) for c in OPS]  # ARCH[i] and ARCH[j] differ in |i - j| decisions
NAN = math.nan
OPTIMUM = 80.0


def _run(optimizer: str, seed: int, evals: list[tuple], generation: list | None = None,
         benchmark: str = "nb201", dataset: str = "cifar10") -> pd.DataFrame:
    """Rows of one run from (arch index, fitness, reported, repeat) tuples; the query index,
    status and a simulated clock (10 s per new architecture) are derived."""
    rows, query, clock = [], 0, 0.0
    for i, (arch, fitness, reported, repeat) in enumerate(evals):
        if not repeat:
            query += 1
            clock += 10.0
        rows.append({
            "benchmark": benchmark, "dataset": dataset, "optimizer": optimizer, "seed": seed,
            "eval_index": i, "query_index": query, "arch": ARCH[arch], "arch_key": ARCH[arch],
            "fitness": fitness, "reported": reported, "repeat": repeat,
            "generation": None if generation is None else generation[i],
            "status": "error" if math.isnan(fitness) else "ok",
            "sim_time_s": clock, "wall_time_s": float(i),
        })
    return pd.DataFrame(rows)


def hand_frame() -> pd.DataFrame:
    """Optimizer A: seeds 0, 1, 2 (seed 2 stops after 2 queries); B: seeds 0, 1 only.

    A/0: a fitness tie at query 3 (the first stays), a repeat, a failed query 4, the optimum
    (80) becomes the incumbent at query 5.  A/1: the optimum is the incumbent at query 2 only,
    then a fitter architecture with 65 replaces it.  B/0 climbs to the optimum at query 6.
    """
    a0 = _run("A", 0, [(0, 10.0, 50.0, False), (1, 12.0, 60.0, False), (0, 10.0, 50.0, True),
                       (2, 12.0, 70.0, False), (3, NAN, NAN, False), (4, 15.0, 80.0, False),
                       (5, 14.0, 75.0, False)])
    a1 = _run("A", 1, [(0, 5.0, 40.0, False), (4, 6.0, 80.0, False), (2, 7.0, 65.0, False),
                       (3, 1.0, 30.0, False), (5, 1.0, 30.0, False), (6, 1.0, 30.0, False)])
    a2 = _run("A", 2, [(0, 3.0, 55.0, False), (1, 4.0, 58.0, False)])
    b0 = _run("B", 0, [(i, float(i), 30.0 + 10 * i, False) for i in range(6)])
    b1 = _run("B", 1, [(i, float(i), 45.0, False) for i in range(6)])
    return pd.concat([a0, a1, a2, b0, b1], ignore_index=True)


CONFIG = {"optimum": {"value": OPTIMUM}, "reported": "test_accuracy"}


@pytest.fixture()
def hand_dir(tmp_path):
    return write_results(hand_frame(), tmp_path / "exp", CONFIG)


# ---------------------------------------------------------------------------- loading
def test_load_reads_hive_layout_and_metadata(hand_dir):
    results = load_results(hand_dir)
    assert results.benchmark == "nb201" and results.dataset == "cifar10"
    assert results.optimizers == ["A", "B"]
    assert len(results.frame) == len(hand_frame())
    assert results.configs["exp"] == CONFIG
    # the same files found from the results folder and from one optimizer folder
    assert len(load_results(hand_dir / "results").frame) == len(hand_frame())
    assert set(load_results(hand_dir / "results" / "optimizer=B").frame["optimizer"]) == {"B"}


def test_load_restores_partition_column_dropped_from_files(tmp_path):
    frame = hand_frame()
    folder = tmp_path / "results" / "optimizer=A"
    folder.mkdir(parents=True)
    table = to_table(frame[frame["optimizer"] == "A"], CONFIG).drop_columns(["optimizer"])
    pq.write_table(table, folder / "part-0.parquet")
    results = load_results(tmp_path)
    assert results.optimizers == ["A"] and len(results.frame) == 15


def test_missing_schema_version_is_named(tmp_path):
    write_results(hand_frame(), tmp_path, CONFIG, version=None)
    with pytest.raises(ResultsError, match=r"no 'ednag.results.schema_version'.*version '1'"):
        load_results(tmp_path)


def test_other_schema_version_is_refused(tmp_path):
    write_results(hand_frame(), tmp_path, CONFIG, version="2")
    with pytest.raises(ResultsError, match=r"schema version '2'.*reads version '1'"):
        load_results(tmp_path)


def test_missing_column_is_named(tmp_path):
    table = to_table(hand_frame(), CONFIG).drop_columns(["sim_time_s", "reported"])
    pq.write_table(table, tmp_path / "part.parquet")
    with pytest.raises(ResultsError, match="missing result columns reported, sim_time_s"):
        load_results(tmp_path)


def test_a_text_column_where_numbers_belong_is_named(tmp_path):
    table = to_table(hand_frame(), CONFIG)
    i = table.schema.get_field_index("fitness")
    text = pa.array([str(v) for v in table.column("fitness").to_pylist()[:-1]] + ["abc"])
    table = table.set_column(i, pa.field("fitness", pa.string()), text)
    pq.write_table(table, tmp_path / "part.parquet")
    with pytest.raises(ResultsError, match="column 'fitness' has type string, expected double"):
        load_results(tmp_path)


def test_empty_or_missing_directory(tmp_path):
    with pytest.raises(ResultsError, match="no Parquet result files under"):
        load_results(tmp_path)
    with pytest.raises(ResultsError, match="does not exist"):
        load_results(tmp_path / "nope")


@pytest.mark.parametrize("field,value", [("benchmark", "nasbench_graph"), ("dataset", "cifar100")])
def test_mixed_benchmarks_or_datasets_are_refused(tmp_path, field, value):
    write_results(hand_frame(), tmp_path / "one", CONFIG)
    other = hand_frame()
    other[field] = value
    write_results(other, tmp_path / "two", CONFIG)
    with pytest.raises(ResultsError, match="different benchmarks or datasets") as err:
        load_results([tmp_path / "one", tmp_path / "two"])
    assert value in str(err.value) and "one" in str(err.value) and "two" in str(err.value)


def test_same_optimizer_in_two_directories_is_told_apart(tmp_path):
    write_results(hand_frame(), tmp_path / "base", CONFIG)
    write_results(hand_frame()[lambda f: f["optimizer"] == "A"], tmp_path / "tuned", CONFIG)
    results = load_results([tmp_path / "base", tmp_path / "tuned"])
    assert results.optimizers == ["A (base)", "A (tuned)", "B"]


# ---------------------------------------------------------------------------- optimum
def test_optimum_from_config_given_or_best_seen(tmp_path):
    frame = hand_frame()
    assert resolve_optimum(results_from_frame(frame, CONFIG)) == Optimum(80.0, None, "run config")
    assert resolve_optimum(results_from_frame(frame, CONFIG), 90.0).value == 90.0
    seen = resolve_optimum(results_from_frame(frame))
    assert seen.value == 80.0 and seen.source == "best seen"
    assert "best reported value seen" in seen.note


def test_optimum_by_architecture_key():
    results = results_from_frame(hand_frame(), {"optimum": {"arch": ARCH[2]}})
    opt = resolve_optimum(results)
    assert opt.value == 70.0 and opt.arch == ARCH[2]
    trace = incumbent_trace(results, Optimum(99.0, ARCH[2], "given"))
    # A/0 queried ARCH[2] at query 3, but its incumbent stayed ARCH[1] (the fitness tie)
    part = trace.run_slice(0)
    assert trace.is_optimum[part].tolist() == [False, False, True, False, False, False]
    assert not trace.best_is_optimum[part].any()


# ---------------------------------------------------------------------------- curves
def test_incumbent_keeps_first_of_ties_skips_repeats_and_failures():
    results = results_from_frame(hand_frame(), CONFIG)
    trace = incumbent_trace(results, resolve_optimum(results))
    part = trace.run_slice(0)  # A/0, repeat dropped: 6 new architectures
    assert trace.x[part].tolist() == [1, 2, 3, 4, 5, 6]
    assert trace.best_reported[part].tolist() == [50, 60, 60, 60, 80, 80]
    assert trace.best_is_optimum[part].tolist() == [False] * 4 + [True, True]


def test_curves_against_queries_median_iqr_and_mean_se():
    results = results_from_frame(hand_frame(), CONFIG)
    opt = resolve_optimum(results)
    med = anytime_curves(results, opt, "queries", "median", grid=[1, 2, 6])
    a = med[med["optimizer"] == "A"].set_index("x")
    # at 6 queries: A/0 80, A/1 65, A/2 stopped at 58 and carries it forward
    assert a.loc[6, "center"] == 65.0 and a.loc[6, "n"] == 3
    assert a.loc[6, "low"] == pytest.approx(61.5) and a.loc[6, "high"] == pytest.approx(72.5)
    assert a.loc[6, "regret_center"] == pytest.approx(15.0)
    assert a.loc[2, "center"] == 60.0  # 60, 80, 58
    mean = anytime_curves(results, opt, "queries", "mean", grid=[6])
    row = mean[mean["optimizer"] == "A"].iloc[0]
    values = np.array([80.0, 65.0, 58.0])
    assert row["center"] == pytest.approx(values.mean())
    assert row["high"] - row["center"] == pytest.approx(values.std(ddof=1) / math.sqrt(3))
    b = med[med["optimizer"] == "B"].set_index("x")
    assert b.loc[6, "n"] == 2 and b.loc[6, "center"] == pytest.approx((80.0 + 45.0) / 2)


def test_curves_against_simulated_time():
    frame = hand_frame()
    results = results_from_frame(frame, CONFIG)
    opt = resolve_optimum(results)
    trace = incumbent_trace(results, opt, "time")
    values = sample(trace, np.array([5.0, 25.0, 1000.0]))
    # A/0 completes new architectures every 10 s: before 10 s nothing, at 25 s two queries
    assert np.isnan(values[0, 0]) and values[0, 1] == 60.0 and values[0, 2] == 80.0
    curves = anytime_curves(results, opt, "time")
    assert curves["x"].min() == 10.0 and curves["x"].max() == 60.0


# ---------------------------------------------------------------------------- tables
def test_budget_table_numbers():
    results = results_from_frame(hand_frame(), CONFIG)
    per_seed = per_seed_values(results, resolve_optimum(results), [2, 4, 6])
    table = budget_table(per_seed).set_index(["budget", "optimizer"])
    a2, a4, a6 = table.loc[(2, "A")], table.loc[(4, "A")], table.loc[(6, "A")]
    assert a2["mean"] == pytest.approx((60 + 80 + 58) / 3)
    assert a2["found"] == 1 and a2["median_queries_to_optimum"] == 2 and a2["short"] == 0
    assert a4["mean"] == pytest.approx((60 + 65 + 58) / 3)
    assert a4["std"] == pytest.approx(np.std([60, 65, 58], ddof=1))
    assert a4["se"] == pytest.approx(np.std([60, 65, 58], ddof=1) / np.sqrt(3))
    assert a4["found"] == 0 and np.isnan(a4["median_queries_to_optimum"])
    assert a4["queried_optimum_frac"] == pytest.approx(1 / 3)  # A/1 only (A/0 at query 5)
    assert a4["short"] == 1  # A/2 stopped at 2 queries: counted with 58 and flagged
    assert a6["found"] == 1 and a6["median_queries_to_optimum"] == 5 and a6["n_found"] == 1
    b6 = table.loc[(6, "B")]
    assert b6["seeds"] == 2 and b6["found_frac"] == 0.5 and b6["median_queries_to_optimum"] == 6


def test_tests_unpaired_when_a_seed_is_missing_paired_otherwise():
    results = results_from_frame(hand_frame(), CONFIG)
    per_seed = per_seed_values(results, resolve_optimum(results), [6])
    tests = budget_tests(per_seed)
    assert tests["test"].tolist() == ["mann-whitney"]
    expected = sps.mannwhitneyu([80, 65, 58], [80, 45], alternative="two-sided").pvalue
    assert tests["p"].iloc[0] == pytest.approx(expected)
    # the same seeds on both sides: Wilcoxon on the paired differences
    paired = pd.DataFrame({"optimizer": ["x"] * 6 + ["y"] * 6, "seed": list(range(6)) * 2,
                           "value": [5, 6, 7, 8, 9, 10, 1, 3, 2, 7, 4, 9.5]})
    row = pairwise_tests(paired).iloc[0]
    assert row["test"] == "wilcoxon"
    diff = np.array([4, 3, 5, 1, 5, 0.5])
    assert row["p"] == pytest.approx(sps.wilcoxon(diff).pvalue)
    same = paired.assign(value=[1.0] * 12)
    assert pairwise_tests(same).iloc[0]["p"] == 1.0


def test_holm_adjustment():
    assert holm(np.array([0.01, 0.04, NAN, 0.03])).tolist()[:2] == pytest.approx([0.03, 0.06])
    assert np.isnan(holm(np.array([0.01, NAN]))[1])


def test_budgets_parse_and_unreached_budgets_are_dropped():
    assert parse_budgets("100, 50,100") == (50, 100)
    assert parse_budgets(None) == (50, 100, 200, 500, 1000)
    for bad in ("0", "ten", "5,-1", ","):
        with pytest.raises(ResultsError, match="budgets"):
            parse_budgets(bad)
    results = results_from_frame(hand_frame(), CONFIG)
    analysis = analyse(results, "4,50", with_curves=False, with_diagnostics=False)
    assert analysis.budgets == [4]
    assert any("50 not reached" in n for n in analysis.notes)
    fallback = analyse(results, None, with_curves=False, with_diagnostics=False)
    assert fallback.budgets == [6]
    assert any("largest query count reached, 6" in n for n in fallback.notes)


# ---------------------------------------------------------------------------- diagnostics
def test_generation_diagnostics():
    rows = _run("P", 0, [(0, 1.0, 50.0, False), (3, 3.0, 60.0, False), (0, 1.0, 50.0, True),
                         (1, 2.0, 55.0, False), (2, NAN, NAN, False)], generation=[0, 0, 0, 1, 1])
    results = results_from_frame(pd.concat([rows, hand_frame()]), CONFIG)
    stats = generation_stats(results).set_index("generation")
    assert list(stats["optimizer"].unique()) == ["P"]
    g0, g1 = stats.loc[0], stats.loc[1]
    assert g0["best_fitness"] == 3.0 and g0["mean_fitness"] == pytest.approx(5 / 3)
    assert g0["new_frac"] == pytest.approx(2 / 3) and g0["distinct_frac"] == pytest.approx(2 / 3)
    assert g0["mean_hamming"] == pytest.approx((3 + 0 + 3) / 3)  # ARCH[0] vs ARCH[3]: 3
    assert g1["best_fitness"] == 2.0 and g1["mean_fitness"] == 2.0  # the failure is left out
    assert g1["mean_hamming"] == 1.0


# ---------------------------------------------------------------------------- end to end
def test_report_command_writes_a_self_contained_report(hand_dir, tmp_path, capsys):
    out = tmp_path / "rep"
    assert ednag_main(["report", str(hand_dir), "--out", str(out), "--budgets", "2,4,6"]) == 0
    printed = capsys.readouterr().out
    assert "found optimum" in printed and "A" in printed and "1/3" in printed
    names = {p.name for p in out.iterdir()}
    expected = {"summary.csv", "summary.md", "tests.csv", "per_seed.csv", "runs.csv",
                "curves_queries.csv", "curves_time.csv", "report.html", "anytime_queries.png",
                "anytime_queries.svg", "anytime_time.png", "anytime_time.svg", "budgets.png",
                "budgets.svg"}
    assert expected <= names
    assert pd.read_csv(out / "summary.csv")["budget"].unique().tolist() == [2, 4, 6]
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", html)
    assert "<link" not in html and "<script" not in html
    assert "| budget |" in (out / "summary.md").read_text()


def test_report_command_default_out_and_errors(hand_dir, tmp_path, capsys):
    args = ["report", str(hand_dir), "--budgets", "2"]
    assert ednag_main(args + ["--mean"]) == 0
    assert (hand_dir / "report" / "report.html").exists()
    assert ednag_main(["report", str(hand_dir), "--budgets", "ten"]) == 2
    assert "budgets must be positive integers" in capsys.readouterr().err
    assert ednag_main(["report", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_print_summary_from_rows(capsys):
    analysis = print_summary(hand_frame(), budgets=[2, 6])
    assert analysis.budgets == [2, 6]
    assert "nb201 / cifar10" in capsys.readouterr().out


def test_real_optimizers_agree_with_a_direct_computation(tmp_path):
    """RS and REA on a synthetic landscape: table values equal a plain per-run computation."""
    land = Landscape(1)
    frame = pd.concat([
        optimizer_rows(lambda s: RandomSearch(land.space, seed=s, max_queries=60), "random",
                       [0, 1, 2], land),
        optimizer_rows(lambda s: RegularizedEvolution(land.space, seed=s, max_queries=60),
                       "regularized_evolution", [0, 1, 2], land, generation_size=10),
    ])
    assert frame["repeat"].any()
    write_results(frame, tmp_path, {"optimum": land.optimum[0]})
    analysis = analyse(load_results(tmp_path), [30, 60])
    for (budget, name), row in analysis.table.set_index(["budget", "optimizer"]).iterrows():
        bests = []
        for _, run in frame[frame["optimizer"] == name].groupby("seed"):
            fresh = run[~run["repeat"] & (run["query_index"] <= budget)]
            bests.append(fresh.loc[fresh["fitness"].idxmax(), "reported"])
        assert row["mean"] == pytest.approx(np.mean(bests)), (budget, name)
    assert len(analysis.generations) > 0 and analysis.generations["mean_hamming"].notna().all()
    assert set(analysis.curves) == {"queries", "time"}


def test_time_curve_orders_by_completion_time():
    """With parallel workers sim_time_s need not grow with eval_index: sort by time."""
    frame = _run("A", 0, [(0, 1.0, 50.0, False), (1, 2.0, 60.0, False), (2, 3.0, 70.0, False)])
    frame["sim_time_s"] = [30.0, 10.0, 20.0]
    results = results_from_frame(frame, CONFIG)
    trace = incumbent_trace(results, resolve_optimum(results), "time")
    assert trace.x.tolist() == [10.0, 20.0, 30.0]
    assert trace.best_reported.tolist() == [60.0, 70.0, 70.0]


def test_nan_quantiles_match_numpy():
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(7, 40))
    matrix[rng.random(matrix.shape) < 0.3] = NAN
    matrix[:, 0] = NAN
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanpercentile(matrix, [25, 50, 75], axis=0)
    assert np.allclose(nan_quantiles(matrix, (0.25, 0.5, 0.75)), expected, equal_nan=True)


def test_reads_what_the_harness_results_writer_writes(tmp_path):
    """The harness' writer drops the optimizer column into the folder name and splits runs
    into parts; the config carries the optimum as {"value", "arch", "metric", ...}."""
    writer_module = pytest.importorskip("ednag.results.writer")
    config = {"reported": ["test_accuracy", 200],
              "optimum": {"value": OPTIMUM, "arch": ARCH[4], "metric": "test_accuracy"}}
    writer = writer_module.ResultsWriter(tmp_path, config)
    for (name, seed), part in hand_frame().groupby(["optimizer", "seed"]):
        rows = part.astype(object).where(part.notna(), None).to_dict("records")
        writer.write_rows(name, int(seed), rows[:3])
        writer.write_rows(name, int(seed), rows[3:])
    analysis = analyse(load_results(tmp_path), [6], with_curves=False)
    assert analysis.optimum == Optimum(OPTIMUM, ARCH[4], "run config")
    assert analysis.metric_label == "test accuracy (%)"
    a6 = analysis.table.set_index("optimizer").loc["A"]
    assert a6["mean"] == pytest.approx((80 + 65 + 58) / 3) and a6["found"] == 1


def test_an_unreadable_part_is_named(tmp_path):
    from analysis.load import load_results

    part = tmp_path / "results" / "optimizer=x" / "seed=0-part-00000.parquet"
    part.parent.mkdir(parents=True)
    part.write_text("not parquet")
    (part.parent / ".seed=0-part-00001.parquet.tmp").write_text("a writer's temp file")
    with pytest.raises(ResultsError, match=r"seed=0-part-00000.parquet: cannot read as Parquet"):
        load_results(tmp_path)


def test_a_run_whose_fitness_is_the_reported_metric_says_so():
    from analysis.load import results_from_frame
    from analysis.report import analyse
    from analysis.synthetic import random_rows

    frame = random_rows(optimizers=2, seeds=3, evals=200)
    flagged = analyse(results_from_frame(frame, {"fitness": ["acc", 200],
                                                 "reported": ["acc", 200]}),
                      with_curves=False, with_diagnostics=False)
    assert flagged.notes[0].startswith("fitness and reported value are the same metric (acc@200)")
    plain = analyse(results_from_frame(frame, {"fitness": ["acc", 200],
                                               "reported": ["test_acc", 200]}),
                    with_curves=False, with_diagnostics=False)
    assert not any(n.startswith("fitness and reported value") for n in plain.notes)


def test_trial_mode_results_get_curves_against_wall_clock_seconds(tmp_path):
    from analysis.load import results_from_frame
    from analysis.report import analyse, write_report
    from analysis.synthetic import random_rows

    frame = random_rows(optimizers=2, seeds=3, evals=120)
    frame["sim_time_s"] = None
    analysis = analyse(results_from_frame(frame), with_diagnostics=False)
    assert set(analysis.curves) == {"queries", "wall"}
    assert any("wall-clock seconds" in note for note in analysis.notes)
    written = write_report(analysis, tmp_path / "report")
    assert any(p.name == "curves_wall.csv" for p in written)


def test_found_the_optimum_is_the_tables_best_fitness_when_the_config_has_it():
    """One definition with the benches: the incumbent reaches the table's best fitness (here
    7.0); the reported value does not decide."""
    config = {**CONFIG, "optimum_fitness": {"value": 7.0}}
    results = results_from_frame(hand_frame(), config)
    optimum = resolve_optimum(results)
    assert optimum.fitness == 7.0 and "the table's best fitness 7" in optimum.note
    trace = incumbent_trace(results, optimum)
    found = [trace.best_is_optimum[trace.run_slice(r)].tolist() for r in range(5)]
    assert found == [[True] * 6, [False, False, True, True, True, True], [False, False],
                     [False] * 6, [False] * 6]
    # without the table's best fitness the reported optimum (80) decides, as before
    legacy = incumbent_trace(results_from_frame(hand_frame(), CONFIG), resolve_optimum(
        results_from_frame(hand_frame(), CONFIG)))
    assert legacy.best_is_optimum[legacy.run_slice(1)].tolist() == [False, True] + [False] * 4


def test_the_label_of_a_minimised_metric_keeps_its_sign(monkeypatch):
    import analysis.optimum as optimum

    class Results:
        frame = pd.DataFrame({"reported": [-0.3, -0.2]})

    monkeypatch.setattr(optimum, "reported_name", lambda results: "-test_logloss")
    assert optimum.reported_label(Results()) == "-test logloss"
    monkeypatch.setattr(optimum, "reported_name", lambda results: "test_acc")
    Results.frame = pd.DataFrame({"reported": [93.1, 94.2]})
    assert optimum.reported_label(Results()) == "test accuracy (%)"


def test_a_hypervolume_comparison_refuses_directories_with_other_objectives():
    from types import SimpleNamespace

    from analysis.errors import ResultsError
    from analysis.fronts import front_meta

    mo = {"front": {"objectives": [["valid_acc", 200, "max"], ["params_mb", None, "min"]]},
          "reported": ["test_acc", 200]}
    assert front_meta(SimpleNamespace(configs={"a": mo, "b": mo}))["reported"] == ["test_acc", 200]
    assert front_meta(SimpleNamespace(configs={"so": {}})) is None
    with pytest.raises(ResultsError, match="'so' is single-objective.*same objectives"):
        front_meta(SimpleNamespace(configs={"mo": mo, "so": {}}))
    other = {"front": {"objectives": [["valid_acc", 200, "max"], ["flops", None, "min"]]}}
    with pytest.raises(ResultsError, match="'lat' searches"):
        front_meta(SimpleNamespace(configs={"mo": mo, "lat": other}))
