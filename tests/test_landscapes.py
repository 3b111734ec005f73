"""TransNAS-Bench-101 (micro, macro) and NAS-Bench-Macro: spaces, importers against the raw
shared files, and every registered optimizer on each space through the in-process simulator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ednag.experiment.settings import RunSettings
from ednag.experiment.simulator import local_lookup, simulate
from ednag.registry import BENCHMARKS, single_objective_optimizers
from ednag.spaces import SpaceError, make_space
from ednag.spaces.nasbench_macro import canonical_encoding
from ednag.tables import import_table
from ednag.tables.importers.transnas import TASK_METRICS, csv_column
from ednag.tables.table import TableError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
TRANSNAS_DIR = SHARED / "transnas-bench-101"
NBM_DIR = SHARED / "nas-bench-macro"
MICRO_CSV = "transbench101_micro_final_valid_metric.csv"
MACRO_CSV = "transbench101_macro_final_valid_metric.csv"
NBM_JSON = "nas-bench-macro_cifar10.json"
TASKS = tuple(TASK_METRICS)
ROWS = {"transnas_micro": 4096, "transnas_macro": 3256, "nasbench_macro": 6561}


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared benchmark data not found at {path} (needs ../shared/benchmarks)")
    return path


@pytest.fixture(scope="module")
def transnas_dir() -> Path:
    _need(TRANSNAS_DIR / MICRO_CSV)
    return _need(TRANSNAS_DIR / MACRO_CSV).parent


@pytest.fixture(scope="module")
def nbm_dir() -> Path:
    return _need(NBM_DIR / NBM_JSON).parent


@pytest.fixture(scope="module")
def tables(transnas_dir, nbm_dir):
    return {
        "transnas_micro": import_table("transnas_micro", transnas_dir),
        "transnas_macro": import_table("transnas_macro", transnas_dir),
        "nasbench_macro": import_table("nasbench_macro", nbm_dir),
    }


# ---------------------------------------------------------------------------- spaces (no data)
@pytest.mark.parametrize(("benchmark", "size", "valid", "keys"), [
    ("transnas_micro", 4096, 4096, 4096),
    ("transnas_macro", 6400, 3256, 3256),
    ("nasbench_macro", 6561, 6561, 3969),
])
def test_space_sizes_and_round_trips(benchmark, size, valid, keys):
    space = make_space(benchmark)
    archs = list(space.enumerate())
    assert space.size == size and len(archs) == valid
    assert len({space.key(a) for a in archs}) == keys
    for arch in archs:
        assert space.from_native(space.to_native(arch)) == arch
        assert space.decode_matrix(space.encode_matrix(arch)) == arch


def test_transnas_strings_follow_the_benchmark():
    micro, macro = make_space("transnas_micro"), make_space("transnas_macro", "jigsaw")
    assert micro.to_native((3, 1, 2, 0, 3, 1)) == "64-41414-3_12_031"
    assert micro.from_native("64-41414-0_00_001") == (0, 0, 0, 0, 0, 1)
    assert macro.from_native("64-2243-basic") == (1, 1, 3, 2, 4, 4)
    assert macro.to_native((0, 0, 0, 0, 0, 3)) == "64-111114-basic"
    # 1 keep, 2 channels x2, 3 stride 2, 4 both: 1-4 halvings, 1-3 doublings, 4-6 modules
    assert not macro.is_valid((0, 0, 0, 0, 4, 0))  # a module after an absent one
    assert not macro.is_valid((0, 0, 0, 0, 4, 4))  # neither halves nor doubles
    assert not macro.is_valid((1, 1, 1, 3, 4, 4))  # four doublings
    assert macro.is_valid((1, 1, 3, 2, 4, 4))
    # isomorphic micro cells share the NB201 canonical form, never the query key
    a, b = (0, 0, 0, 0, 0, 1), (0, 0, 0, 0, 0, 2)  # only edge 3<-2, fed by a dead node
    assert micro.isomorphism_key(a) == micro.isomorphism_key(b) and micro.key(a) != micro.key(b)


def test_nasbench_macro_key_is_the_network():
    space = make_space("nasbench_macro")
    # stages of 2, 3, 3 layers: an identity after a stage's first layer only shortens it
    assert canonical_encoding((0, 0, 1, 0, 2, 0, 0, 1)) == (0, 0, 1, 2, 0, 0, 1, 0)
    assert space.key(space.from_native("00011101")) == space.key(space.from_native("00011110"))
    assert space.key(space.from_native("01000000")) != space.key(space.from_native("10000000"))
    assert space.key(space.from_native("00100000")) != space.key(space.from_native("00010000"))


@pytest.mark.parametrize(("benchmark", "native", "message"), [
    ("transnas_micro", "64-41414-4_00_000", "digits 0-3"),
    ("transnas_micro", "|none~0|+", "malformed arch string"),
    ("transnas_macro", "64-1111-basic", "halves the resolution 0 times"),
    ("transnas_macro", "64-111-basic", "4 to 6 digits 1-4"),
    ("transnas_macro", "64-41414-0_00_000", "malformed arch string"),
    ("nasbench_macro", "0120", "expected 8 digits 0-2"),
    ("nasbench_macro", "01201203", "expected 8 digits 0-2"),
])
def test_bad_native_strings_are_named(benchmark, native, message):
    with pytest.raises(SpaceError, match=message):
        make_space(benchmark).from_native(native)


def test_unknown_task_names_the_tasks():
    with pytest.raises(SpaceError, match="unknown task 'cifar10'; allowed: class_scene"):
        make_space("transnas_micro", "cifar10")
    with pytest.raises(SpaceError, match="unknown dataset 'cifar100'; allowed: cifar10"):
        make_space("nasbench_macro", "cifar100")
    with pytest.raises(SpaceError, match="not a network of the benchmark"):
        make_space("transnas_macro").key((0, 0, 0, 0, 4, 0))


# ---------------------------------------------------------------------------- tables vs raw files
@pytest.mark.parametrize("benchmark", list(ROWS))
def test_row_counts_and_keys(tables, benchmark):
    table = tables[benchmark]
    assert len(table) == ROWS[benchmark] and table.benchmark == benchmark
    space = make_space(benchmark)
    assert {space.key(a) for a in space.enumerate()} == set(table.keys)
    for arch, key in zip(table.archs, table.keys, strict=True):
        assert space.key(space.from_native(arch)) == key
    if benchmark == "nasbench_macro":
        assert len(set(table.keys)) == 3969
    else:
        assert len(set(table.keys)) == len(table) and table.keys == table.archs


@pytest.mark.parametrize(("benchmark", "csv"), [("transnas_micro", MICRO_CSV),
                                                 ("transnas_macro", MACRO_CSV)])
def test_transnas_best_values_equal_the_csv_maxima(tables, transnas_dir, benchmark, csv):
    table = tables[benchmark]
    raw = pd.read_csv(transnas_dir / csv)
    assert table.datasets == list(TASKS)
    for task in TASKS:
        metric = TASK_METRICS[task]
        defaults = table.defaults(task)
        assert defaults == {"fitness": (metric, None), "reported": (metric, None), "time": None}
        arch, best = table.best(task, metric)
        i = int(raw[csv_column(task)].idxmax())
        assert best == raw[csv_column(task)].max() and arch == raw["arch_str"][i]
        assert np.array_equal(table.query(raw["arch_str"], task, metric),
                              raw[csv_column(task)].to_numpy())
    assert table.best("room_layout", "valid_neg_loss")[1] < 0  # a negative loss, maximised


def test_nasbench_macro_values_equal_the_json(tables, nbm_dir):
    table = tables["nasbench_macro"]
    raw = json.loads((nbm_dir / NBM_JSON).read_text())
    accs = np.array([raw[a]["test_acc"] for a in table.archs])
    expected = {
        "test_acc_seed0": accs[:, 0], "test_acc_seed1": accs[:, 1], "test_acc_seed2": accs[:, 2],
        "test_acc_seeds12": accs[:, 1:].mean(axis=1), "test_acc": accs.mean(axis=1),
        "params": np.array([raw[a]["params"] for a in table.archs], dtype=float),
        "flops": np.array([raw[a]["flops"] for a in table.archs], dtype=float),
    }
    for metric, values in expected.items():
        assert np.array_equal(table.column("cifar10", metric), values), metric
        assert table.best("cifar10", metric)[1] == values.max()
    assert table.best("cifar10", "test_acc_seed0")[1] == max(r["test_acc"][0]
                                                             for r in raw.values())
    np.testing.assert_allclose(table.column("cifar10", "test_acc"),
                               [raw[a]["mean_acc"] for a in table.archs], atol=1e-9)
    assert table.defaults("cifar10") == {"fitness": ("test_acc_seed0", None),
                                         "reported": ("test_acc_seeds12", None), "time": None}
    by_key: dict[str, np.ndarray] = {}
    for key, row in zip(table.keys, table.values, strict=True):  # one network, one set of values
        assert np.array_equal(by_key.setdefault(key, row), row)


def test_cli_info_counts_every_row(transnas_dir, nbm_dir, tmp_path, capsys):
    from ednag.cli import main

    out = tmp_path / "nbm.parquet"
    assert main(["tables", "import", "nasbench_macro", str(nbm_dir), "--out", str(out)]) == 0
    assert main(["tables", "info", str(out)]) == 0
    assert "6561 architectures" in capsys.readouterr().out
    out = tmp_path / "macro.parquet"
    assert main(["tables", "import", "transnas_macro", str(transnas_dir / MACRO_CSV),
                 "--out", str(out)]) == 0
    assert main(["tables", "info", str(out)]) == 0
    assert "3256 architectures" in capsys.readouterr().out


# ---------------------------------------------------------------------------- bad input
def test_missing_files_are_named(tmp_path):
    with pytest.raises(TableError, match=f"{MICRO_CSV}' not found"):
        import_table("transnas_micro", tmp_path)
    with pytest.raises(TableError, match=f"{MACRO_CSV}' not found"):
        import_table("transnas_macro", tmp_path)
    with pytest.raises(TableError, match=f"{NBM_JSON}' not found"):
        import_table("nasbench_macro", tmp_path)
    with pytest.raises(TableError, match="give the transnas-bench-101 folder"):
        import_table("transnas_micro", None)


def test_malformed_transnas_csv_is_named(transnas_dir, tmp_path):
    raw = pd.read_csv(transnas_dir / MICRO_CSV, dtype=str)
    path = tmp_path / MICRO_CSV
    raw.drop(columns=["valid_jigsaw"]).to_csv(path, index=False)
    with pytest.raises(TableError, match=f"{MICRO_CSV}' lacks column\\(s\\) valid_jigsaw"):
        import_table("transnas_micro", tmp_path)
    raw.head(100).to_csv(path, index=False)
    with pytest.raises(TableError, match=f"{MICRO_CSV}' has 100 rows, expected 4096"):
        import_table("transnas_micro", path)
    bad = raw.copy()
    bad.loc[7, "valid_normal"] = "n/a"
    bad.to_csv(path, index=False)
    with pytest.raises(TableError, match="value 'n/a' in column 'valid_normal' \\(row 7\\)"):
        import_table("transnas_micro", tmp_path)
    bad = raw.copy()
    bad.loc[3, "arch_str"] = "64-41414-9_00_000"
    bad.to_csv(path, index=False)
    with pytest.raises(TableError, match=f"bad arch_str in .*{MICRO_CSV}"):
        import_table("transnas_micro", tmp_path)
    bad = raw.copy()
    bad.loc[3, "arch_str"] = bad.loc[4, "arch_str"]
    bad.to_csv(path, index=False)
    with pytest.raises(TableError, match="lists '64-41414-0_00_010' twice"):
        import_table("transnas_micro", tmp_path)
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TableError, match=f"{MICRO_CSV}'"):
        import_table("transnas_micro", tmp_path)


def test_malformed_nasbench_macro_json_is_named(nbm_dir, tmp_path):
    path = tmp_path / NBM_JSON
    path.write_text("{not json")
    with pytest.raises(TableError, match=f"{NBM_JSON}' is not readable JSON"):
        import_table("nasbench_macro", tmp_path)
    raw = json.loads((nbm_dir / NBM_JSON).read_text())
    path.write_text(json.dumps(dict(list(raw.items())[:10])))
    with pytest.raises(TableError, match="must be an object of 6561 encodings, got 10"):
        import_table("nasbench_macro", path)
    for patch, message in (
        ({"00000000": {"test_acc": [1.0, 2.0], "params": 1, "flops": 1}},
         "'00000000': 'test_acc' must be a list of 3"),
        ({"00000000": {"test_acc": [1, 2, 3], "params": 1}}, "'00000000' lacks flops"),
        ({"00000000": {"test_acc": [1, "x", 3], "params": 1, "flops": 1}},
         "test_acc\\[1\\] must be a finite number"),
        ({"00011101": {**raw["00011101"], "test_acc": [1.0, 2.0, 3.0]}},
         "'00011101' and '00011110' are one network .* different values"),
    ):
        path.write_text(json.dumps({**raw, **patch}))
        with pytest.raises(TableError, match=message):
            import_table("nasbench_macro", tmp_path)
    bad = dict(raw)
    bad["0000000x"] = bad.pop("00000000")
    path.write_text(json.dumps(bad))
    with pytest.raises(TableError, match="bad encoding: .*'0000000x'"):
        import_table("nasbench_macro", tmp_path)


def test_registry_entries():
    for name in ROWS:
        entry = BENCHMARKS.get(name)
        assert entry.importer is not None and entry.default_table is None
        assert make_space(name, entry.default_dataset).name == name


# ---------------------------------------------------------------------------- every optimizer
BUDGET = 40


@pytest.mark.parametrize("optimizer", single_objective_optimizers())
@pytest.mark.parametrize(("benchmark", "dataset"), [
    ("transnas_micro", "class_scene"), ("transnas_macro", "jigsaw"),
    ("nasbench_macro", "cifar10"),
])
def test_every_optimizer_spends_its_budget_in_distinct_keys(tables, benchmark, dataset,
                                                            optimizer):
    pytest.importorskip("ray")  # optuna_tpe wraps Ray's OptunaSearch (no Ray instance started)
    from searchers.factory import make_searcher

    table = tables[benchmark]
    defaults = table.defaults(dataset)
    settings = RunSettings(
        benchmark=benchmark, dataset=dataset, table="-", optimizer=optimizer, params={},
        seed=0, max_queries=BUDGET, sim_seconds=None, workers=1, fitness=defaults["fitness"],
        reported=defaults["reported"], time=defaults["time"],
        space_ref=str(BENCHMARKS.get(benchmark).space))
    space = settings.make_space()
    searcher = make_searcher(optimizer, space, seed=0, max_queries=BUDGET)
    values = table.values[:, table.column_indices(dataset, settings.metrics())]
    lookup = local_lookup(table.keys, values, benchmark)
    rows = list(simulate(searcher, space, lookup, settings, clock=lambda: 0.0))
    fresh = [r for r in rows if not r["repeat"]]
    assert [r["query_index"] for r in fresh] == list(range(1, BUDGET + 1))
    assert len({r["arch_key"] for r in fresh}) == BUDGET
    assert {r["arch_key"] for r in rows} <= set(table.keys)
    for r in rows:
        assert space.key(space.from_native(r["arch"])) == r["arch_key"]
        row = table.rows([r["arch_key"]])[0]
        assert r["reported"] == table.values[row, table.column_index(dataset,
                                                                     *defaults["reported"])]


def test_configs_point_at_the_shared_data(transnas_dir, nbm_dir):
    from ednag.experiment.config import load_config

    configs = Path(__file__).resolve().parents[1] / "configs"
    for name, benchmark in (("transnas-micro.yaml", "transnas_micro"),
                            ("transnas-macro.yaml", "transnas_macro"),
                            ("nasbench-macro.yaml", "nasbench_macro")):
        config = load_config(configs / name)
        assert config.benchmark == benchmark
        assert set(config.optimizers) == set(single_objective_optimizers())
        assert Path(config.table).exists(), config.table
