"""Importers: the NB201 CSVs (real data), an official-format .pth, the NAS-Bench-Graph wheel."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from ednag.spaces import make_space
from ednag.tables import import_table
from ednag.tables.importers.nasbench_graph import import_nasbench_graph, read_bench
from ednag.tables.importers.nb201_csv import import_nb201_csv
from ednag.tables.importers.nb201_pth import import_nb201_pth
from ednag.tables.table import TableError

# ---------------------------------------------------------------------------- NB201 CSVs


@pytest.fixture(scope="module")
def nb201(nb201_dir):
    return import_nb201_csv(nb201_dir)


# (dataset, metric, best value, NB201 index of the best) from the shared README
KNOWN_OPTIMA = [
    ("cifar10", "test_acc", 94.37, 6111),
    ("cifar100", "test_acc", 73.51, 9930),
    ("ImageNet16-120", "test_acc", 47.31, 857),
    ("cifar10", "valid_acc", 91.61, 6111),
    ("cifar100", "valid_acc", 73.49, 9930),
    ("ImageNet16-120", "valid_acc", 46.73, 10676),
]


@pytest.mark.parametrize(("dataset", "metric", "value", "index"), KNOWN_OPTIMA)
def test_nb201_reproduces_known_optima(nb201, dataset, metric, value, index):
    arch, best = nb201.best(dataset, metric, 200)
    assert round(best, 2) == value
    assert nb201.rows([arch])[0] == index


def test_nb201_layout_and_defaults(nb201):
    assert len(nb201) == 15625 and nb201.benchmark == "nb201"
    assert nb201.datasets == ["cifar10", "cifar100", "ImageNet16-120"]
    space = make_space("nb201")
    assert nb201.keys == [space.key(space.from_native(a)) for a in nb201.archs]
    for ds in nb201.datasets:
        assert nb201.defaults(ds) == {
            "fitness": ("valid_acc", 200),
            "reported": ("test_acc", 200),
            "time": ("train_time_s", 200),
        }
        assert nb201.fidelities(ds, "valid_acc") == [12, 200]
        assert nb201.fidelities(ds, "params_mb") == [None]
        assert nb201.count(ds, "test_acc", 200) == 15625
        assert any(m.startswith("latency_ms_") for m in nb201.metrics(ds))
    # cifar10 validation comes from cifar10-valid; its seeds average to the mean
    seeds = np.stack([nb201.column("cifar10", f"valid_acc_seed{k}", 200) for k in range(3)])
    mean = nb201.column("cifar10", "valid_acc", 200)
    assert np.allclose(np.nanmean(seeds, axis=0), mean, atol=1e-4)
    # x-valid and x-test average to the full test set
    for ds in ("cifar100", "ImageNet16-120"):
        half = (nb201.column(ds, "valid_acc", 200) + nb201.column(ds, "test_acc", 200)) / 2
        assert np.allclose(half, nb201.column(ds, "fulltest_acc", 200))


def test_nb201_row_values_match_source(nb201, nb201_dir):
    import pandas as pd

    acc12 = pd.read_csv(nb201_dir / "acc12.csv").iloc[[0, 1234, 15624]]
    rows = [0, 1234, 15624]
    got = nb201.query_many(rows, "cifar100", [("valid_acc", 12), ("test_acc", 12)])
    assert np.allclose(got, acc12[["cifar100-val", "cifar100-test"]].to_numpy())


def _copy_shared(nb201_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "nb201"
    shutil.copytree(nb201_dir, folder, ignore=shutil.ignore_patterns("README.md"))
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder


def test_nb201_missing_file_is_named(nb201_dir, tmp_path):
    folder = _copy_shared(nb201_dir, tmp_path)
    (folder / "acc12.csv").unlink()
    with pytest.raises(TableError, match=r"acc12\.csv not found"):
        import_nb201_csv(folder)


def test_nb201_truncated_and_mismatched_files(nb201_dir, tmp_path):
    folder = _copy_shared(nb201_dir, tmp_path)
    lines = (folder / "test200.csv").read_text().splitlines(keepends=True)
    (folder / "test200.csv").write_text("".join(lines[:100]))
    with pytest.raises(TableError, match=r"test200\.csv has 99 rows, expected 15625"):
        import_nb201_csv(folder)
    # give row 1 of latency.csv the arch string of row 2: the files no longer agree
    (folder / "test200.csv").write_text("".join(lines))
    lat = (folder / "latency.csv").read_text().splitlines(keepends=True)
    row1, row2 = lat[2].split(","), lat[3].split(",")
    lat[2] = ",".join([row1[0], row2[1], *row1[2:]])
    (folder / "latency.csv").write_text("".join(lat))
    with pytest.raises(TableError, match=r"arch string of row 1 differs .* and latency\.csv"):
        import_nb201_csv(folder)


def test_nb201_wrong_column_and_bad_value(nb201_dir, tmp_path):
    folder = _copy_shared(nb201_dir, tmp_path)
    text = (folder / "acc12.csv").read_text()
    (folder / "acc12.csv").write_text(text.replace("cifar100-val", "c100-val", 1))
    with pytest.raises(TableError, match=r"acc12\.csv lacks column 'cifar100-val'"):
        import_nb201_csv(folder)
    (folder / "acc12.csv").write_text(text)
    rows = (folder / "test200.csv").read_text().splitlines(keepends=True)
    rows[5] = "oops" + rows[5][rows[5].index(","):]
    (folder / "test200.csv").write_text("".join(rows))
    with pytest.raises(TableError, match=r"non-numeric value 'oops' in test200\.csv"):
        import_nb201_csv(folder)


def test_import_table_dispatch(tmp_path):
    with pytest.raises(TableError, match="unknown benchmark 'nb101'; allowed: nasbench_graph, nb201"):
        import_table("nb101", tmp_path)
    with pytest.raises(TableError, match="not found"):
        import_table("nb201", tmp_path / "nowhere")


# ---------------------------------------------------------------------------- official .pth
ARCHS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
    "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|skip_connect~2|",
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
]


def _result(arch: str, dataset: str, seed: int, epochs: int, acc: dict[str, float]):
    """One ResultsCount as the official file stores it (final-epoch accuracies ``acc``)."""
    from nas_201_api import ResultsCount

    last = epochs - 1
    res = ResultsCount(
        dataset, None, {e: 10.0 for e in range(epochs)}, {e: 1.0 for e in range(epochs)},
        params=0.5 + seed / 1000, flop=10.0, arch_config={"arch_str": arch}, seed=seed,
        epochs=epochs, latency=[0.002],
    )
    res.update_train_info(res.train_acc1es, None, res.train_losses,
                          {e: 1.5 for e in range(epochs)})
    evals, losses, times = {}, {}, {}
    for name, final in acc.items():
        for e in range(epochs):
            evals[f"{name}@{e}"] = final if e == last else 1.0
            losses[f"{name}@{e}"] = 0.1
            times[f"{name}@{e}"] = 0.2
    res.update_eval(evals, losses, times)
    return res


def _fake_official(path: Path, evaluated: int = 2) -> dict:
    """A tiny file in the official structure; the first ``evaluated`` archs have results.
    Returns the expected values ``{(dataset, metric, fidelity): [per arch]}``."""
    import torch
    from nas_201_api import ArchResults

    expected: dict = {}
    infos = {}
    for index, arch in enumerate(ARCHS[:evaluated]):
        hp = {}
        for part, epochs, seeds in (("full", 200, (777, 888)), ("less", 12, (777,))):
            res = ArchResults(index, arch)
            fid = epochs
            for seed in seeds:
                base = 80.0 + index + seed / 1000 + (0 if part == "full" else -20)
                res.update("cifar10-valid", seed, _result(arch, "cifar10-valid", seed, epochs,
                                                          {"x-valid": base, "ori-test": base + 1}))
                res.update("cifar10", seed, _result(arch, "cifar10", seed, epochs,
                                                    {"ori-test": base + 2}))
                for ds in ("cifar100", "ImageNet16-120"):
                    res.update(ds, seed, _result(arch, ds, seed, epochs, {
                        "x-valid": base - 10, "x-test": base - 12, "ori-test": base - 11}))
            hp[part] = res.state_dict()
            mean = 80.0 + index + np.mean(seeds) / 1000 + (0 if part == "full" else -20)
            expected.setdefault(("cifar10", "valid_acc", fid), []).append(mean)
            expected.setdefault(("cifar10", "test_acc", fid), []).append(mean + 2)
            expected.setdefault(("cifar100", "valid_acc", fid), []).append(mean - 10)
            expected.setdefault(("ImageNet16-120", "test_acc", fid), []).append(mean - 12)
        infos[index] = hp
    torch.save({"meta_archs": ARCHS, "arch2infos": infos,
                "evaluated_indexes": set(range(evaluated))}, path)
    return expected


def test_official_file_round_trip(tmp_path):
    path = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    expected = _fake_official(path)
    table = import_table("nb201", path)
    assert table.archs == ARCHS and table.keys == ARCHS
    for (ds, metric, fid), values in expected.items():
        got = table.query(ARCHS, ds, metric, fid)
        assert np.allclose(got[:2], values), (ds, metric, fid)
        assert math.isnan(got[2])  # not evaluated
    seeds = table.query_many([0], "cifar10", [("valid_acc_seed0", 200), ("valid_acc_seed1", 200),
                                              ("valid_acc_seed2", 200)])[0]
    assert np.allclose(seeds[:2], [80.777, 80.888]) and math.isnan(seeds[2])
    assert table.query([ARCHS[1]], "cifar100", "train_time_s", 200)[0] == pytest.approx(300.0)
    assert table.query([ARCHS[0]], "cifar10", "latency_ms_nb201")[0] == pytest.approx(2.0)
    assert table.query([ARCHS[0]], "cifar100", "params_mb")[0] == pytest.approx(0.5 + 0.8325)
    assert table.defaults("ImageNet16-120")["fitness"] == ("valid_acc", 200)
    assert table.best("cifar10", "test_acc", 200) == (ARCHS[1], pytest.approx(83.8325))


def test_official_bad_files(tmp_path):
    import torch

    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"PK\x03\x04 definitely not a torch file")
    with pytest.raises(TableError, match="not a readable NAS-Bench-201 .pth file"):
        import_nb201_pth(corrupt)
    wrong = tmp_path / "wrong.pth"
    torch.save({"meta_archs": ARCHS}, wrong)
    with pytest.raises(TableError, match="lacks 'arch2infos', 'evaluated_indexes'"):
        import_nb201_pth(wrong)
    with pytest.raises(TableError, match="not found"):
        import_nb201_pth(tmp_path / "missing.pth")
    bad_arch = tmp_path / "bad_arch.pth"
    torch.save({"meta_archs": ["|conv~0|+|x~0|"], "arch2infos": {}, "evaluated_indexes": []},
               bad_arch)
    with pytest.raises(TableError, match="bad arch string"):
        import_nb201_pth(bad_arch)


# ---------------------------------------------------------------------------- NAS-Bench-Graph
@pytest.fixture(scope="module")
def graph():
    return import_nasbench_graph()


def test_nasbench_graph_table(graph):
    assert len(graph) == 26206 and len(graph.datasets) == 9
    for ds in graph.datasets:
        assert graph.metrics(ds) == ["valid_perf", "test_perf", "latency_s", "params_m"]
        assert graph.count(ds, "valid_perf") == (2021 if ds == "proteins" else 26206)
        assert graph.defaults(ds) == {"fitness": ("valid_perf", None),
                                      "reported": ("test_perf", None), "time": None}
    # the arch column is the lexicographically first native string of each key
    space = make_space("nasbench_graph", "arxiv")
    assert [space.key(space.from_native(a)) for a in graph.archs[:200]] == graph.keys[:200]
    assert graph.archs[0] == "0-0-0-0:gat,gat,gat,gat"
    # values agree with the package's own records
    from nas_bench_graph import light_read

    bench = light_read("cora")
    some = list(bench)[:50]
    got = graph.query([str(k) for k in some], "cora", "test_perf")
    assert np.allclose(got, [bench[k]["perf"] for k in some])
    proteins = make_space("nasbench_graph", "proteins")
    key = proteins.key(proteins.from_native("0-1-2-3:gcn,sage,arma,fc"))
    assert not math.isnan(graph.query([key], "proteins", "valid_perf")[0])


def test_nasbench_graph_bad_bench_file(tmp_path):
    bad = tmp_path / "cora.bench"
    bad.write_bytes(b"\x80\x04 garbage")
    with pytest.raises(TableError, match="not a readable bench file"):
        read_bench(bad)
    with pytest.raises(TableError, match="not found"):
        import_nasbench_graph(tmp_path / "empty")
