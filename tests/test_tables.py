"""The Parquet table format: queries, round trip, and a clear TableError for every bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ednag.tables.load import load_table
from ednag.tables.table import (
    METADATA_KEY,
    Table,
    TableError,
    column_name,
    make_meta,
    parse_column,
)

ARCHS = ["a0", "a1", "a2", "a3"]


def small_table() -> Table:
    columns = {
        "d1/acc@10": np.array([1.0, 4.0, 2.0, math.nan]),
        "d1/acc@100": np.array([5.0, 3.0, 9.0, 7.0]),
        "d1/time@100": np.array([10.0, 20.0, 30.0, 40.0]),
        "d1/params": np.array([0.5, 0.25, 2.0, 1.0]),
        "d2/acc": np.array([0.1, 0.2, 0.3, 0.4]),
    }
    defaults = {
        "d1": {"fitness": ("acc", 100), "reported": ("acc", 10), "time": ("time", 100)},
        "d2": {"fitness": ("acc", None), "reported": ("acc", None), "time": None},
    }
    meta = make_meta("toy", "toyspace", ["d1", "d2"], defaults, source="made in a test")
    return Table(ARCHS, [f"k{i}" for i in range(4)], columns, meta)


def test_column_names():
    assert column_name("cifar10", "valid_acc", 200) == "cifar10/valid_acc@200"
    assert column_name("arxiv", "valid_perf") == "arxiv/valid_perf"
    assert parse_column("cifar10/valid_acc@200") == ("cifar10", "valid_acc", 200)
    assert parse_column("ImageNet16-120/params_mb") == ("ImageNet16-120", "params_mb", None)
    for bad in ("novalue", "d/", "d/m@", "/m"):
        with pytest.raises(TableError, match="bad value column"):
            parse_column(bad)


def test_description_and_queries():
    t = small_table()
    assert (t.benchmark, t.space, t.datasets, len(t)) == ("toy", "toyspace", ["d1", "d2"], 4)
    assert t.metrics("d1") == ["acc", "time", "params"]
    assert t.fidelities("d1", "acc") == [10, 100]
    assert t.fidelities("d2", "acc") == [None]
    assert t.query(["k2", "k0"], "d1", "acc", 100).tolist() == [9.0, 5.0]
    assert t.query(["k1"], "d1", "acc", "100").tolist() == [3.0]  # fidelity as text
    assert t.rows(["k3", "k1"]).tolist() == [3, 1]
    assert t.query_many(["k0", "k3"], "d1", [("acc", 100), ("params", None)]).tolist() == [
        [5.0, 0.5], [7.0, 1.0]]
    assert t.query_many([3, 0], "d2", [("acc", None)]).tolist() == [[0.4], [0.1]]
    assert t.query_many(np.array([1]), "d1", [("time", 100)]).tolist() == [[20.0]]
    assert t.query_many([], "d1", [("time", 100)]).shape == (0, 1)
    assert t.defaults("d1") == {"fitness": ("acc", 100), "reported": ("acc", 10),
                                "time": ("time", 100)}
    assert t.defaults("d2")["time"] is None
    assert t.best("d1", "acc", 10) == ("a1", 4.0)  # NaN ignored
    assert t.best("d1", "params", mode="min") == ("a1", 0.25)
    assert t.count("d1", "acc", 10) == 3
    col = t.column("d1", "acc", 100)
    with pytest.raises(ValueError):
        col[0] = 1.0  # read-only view


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.metrics("d3"), r"unknown dataset 'd3'; available: d1, d2"),
        (lambda t: t.query(["k0"], "d1", "loss", 10),
         r"unknown metric 'loss' for dataset 'd1'; available: acc, time, params"),
        (lambda t: t.query(["k0"], "d1", "acc", 50), r"unknown fidelity 50 .* available: 10, 100"),
        (lambda t: t.query(["k0"], "d1", "acc"), r"needs a fidelity; available: 10, 100"),
        (lambda t: t.query(["k0"], "d2", "acc", 3), r"has no fidelity"),
        (lambda t: t.query(["k0", "zz"], "d1", "acc", 10),
         r"unknown architecture key 'zz' \(4 archs; e\.g\. k0, k1, k2\)"),
        (lambda t: t.rows([7]), r"unknown architecture key 7"),
        (lambda t: t.query_many([0, 9], "d1", [("acc", 10)]), r"row index 9 out of range 0\.\.3"),
        (lambda t: t.query_many([0], "d1", [("acc", 10, 3)]), r"must be \(metric, fidelity\)"),
        (lambda t: t.best("d1", "acc", 10, mode="up"), r"mode must be 'max' or 'min'"),
    ],
)
def test_bad_queries_name_what_exists(call, message):
    with pytest.raises(TableError, match=message):
        call(small_table())


def test_save_load_round_trip(tmp_path):
    t = small_table()
    path = t.save(tmp_path / "sub" / "toy.parquet")
    assert [p.name for p in path.parent.iterdir()] == ["toy.parquet"]  # no temp file left
    u = Table.load(path)
    assert (u.archs, u.keys, u.column_names, u.meta) == (t.archs, t.keys, t.column_names, t.meta)
    assert np.array_equal(u.values, t.values, equal_nan=True)
    schema = pq.read_schema(path)
    assert schema.field("arch").type == pa.string()
    assert schema.field("d1/acc@100").type == pa.float64()
    meta = json.loads(schema.metadata[METADATA_KEY])
    assert meta["format_version"] == 1 and meta["defaults"]["d2"]["time"] is None
    assert load_table(path).query(["k2"], "d2", "acc").tolist() == [0.3]


def _write(tmp_path, arrow: pa.Table):
    path = tmp_path / "bad.parquet"
    pq.write_table(arrow, path)
    return path


def test_bad_files(tmp_path):
    good = small_table().save(tmp_path / "good.parquet")
    data = good.read_bytes()
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(TableError, match="truncated.parquet' is not a readable Parquet file"):
        Table.load(truncated)
    with pytest.raises(TableError, match="not found"):
        Table.load(tmp_path / "missing.parquet")
    with pytest.raises(TableError, match="not found; give a .parquet path or one of: nas-bench"):
        load_table(tmp_path / "missing.parquet")

    arrow = small_table().to_arrow()
    meta = arrow.schema.metadata
    with pytest.raises(TableError, match="missing 'ednag.table' metadata"):
        Table.load(_write(tmp_path, arrow.replace_schema_metadata({})))
    with pytest.raises(TableError, match="missing column 'arch_key'"):
        Table.load(_write(tmp_path, arrow.drop_columns(["arch_key"])))
    ints = arrow.set_column(2, pa.field("d1/acc@10", pa.int64()), pa.array([1, 2, 3, 4]))
    with pytest.raises(TableError, match="column 'd1/acc@10' must be float64, not int64"):
        Table.load(_write(tmp_path, ints.replace_schema_metadata(meta)))
    extra = arrow.append_column("d9/acc", pa.array([0.0] * 4))
    with pytest.raises(TableError, match="names dataset 'd9', not in the table's datasets"):
        Table.load(_write(tmp_path, extra.replace_schema_metadata(meta)))
    junk = arrow.append_column("junk", pa.array([0.0] * 4))
    with pytest.raises(TableError, match="bad value column 'junk'"):
        Table.load(_write(tmp_path, junk.replace_schema_metadata(meta)))
    no_fitness = arrow.drop_columns(["d1/acc@100"])
    with pytest.raises(TableError, match="default 'fitness' of 'd1': .*unknown fidelity 100"):
        Table.load(_write(tmp_path, no_fitness.replace_schema_metadata(meta)))
    for patch, message in (
        ({"format_version": 99}, "unsupported table format_version 99"),
        ({"datasets": []}, "'datasets' must be a non-empty list"),
        ({"defaults": {"d1": {}}}, "lacks defaults for dataset 'd1'"),
    ):
        changed = {**json.loads(meta[METADATA_KEY]), **patch}
        bad = arrow.replace_schema_metadata({METADATA_KEY: json.dumps(changed)})
        with pytest.raises(TableError, match=message):
            Table.load(_write(tmp_path, bad))
    bad = arrow.replace_schema_metadata({METADATA_KEY: b"{not json"})
    with pytest.raises(TableError, match="metadata is not JSON"):
        Table.load(_write(tmp_path, bad))


def test_nb201_table_round_trip(nb201_dir, tmp_path):
    from ednag.tables.importers.nb201_csv import import_nb201_csv

    table = import_nb201_csv(nb201_dir)
    loaded = Table.load(table.save(tmp_path / "nb201.parquet"))
    assert loaded.archs == table.archs and loaded.meta == table.meta
    assert np.array_equal(loaded.values, table.values, equal_nan=True)
    assert loaded.best("cifar10", "test_acc", 200)[1] == pytest.approx(94.3733, abs=1e-4)


def test_embedded_nas_bench_graph_spec():
    table = load_table("nas-bench-graph")
    assert table.benchmark == "nasbench_graph" and len(table) == 26206


# ---------------------------------------------------------------------------- ednag tables
def test_cli_info_and_errors(tmp_path, capsys):
    from ednag.cli import main

    path = small_table().save(tmp_path / "toy.parquet")
    assert main(["tables", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "toy" in out and "d1: fitness=acc@100, reported=acc@10, time=time@100" in out
    assert "9.00 (max)" in out and "a2" in out  # best d1/acc@100
    assert "0.25 (min)" in out  # params: smaller is better
    assert main(["tables", "info", str(tmp_path / "missing.parquet")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["tables", "import", "nb201", str(tmp_path / "nowhere"),
                 "--out", str(tmp_path / "x.parquet")]) == 2
    assert "nb201: source" in capsys.readouterr().err


def test_cli_import_nb201(nb201_dir, tmp_path, capsys):
    from ednag.cli import main

    out = tmp_path / "nb201.parquet"
    assert main(["tables", "import", "nb201", str(nb201_dir), "--out", str(out)]) == 0
    assert "15625 architectures" in capsys.readouterr().out
    assert Table.load(out).best("cifar100", "valid_acc", 200)[1] == pytest.approx(73.4933, 1e-4)


def test_atomic_writes_get_the_permissions_of_a_plain_write(tmp_path):
    """A result, table or plan written atomically is as readable as ``open(path, "w")`` makes
    a file (not owner-only, as a ``mkstemp`` file would be), and leaves no temp file."""
    import os

    from ednag.atomic import atomic_pickle, atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.json", "{}")
        atomic_pickle([1], tmp_path / "b.pkl")
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {"a.json": 0o644, "b.pkl": 0o644, "plain.txt": 0o644}
