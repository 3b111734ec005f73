"""Experiment configs: YAML loading, --set overrides, validation errors (pure, no Ray)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ednag.experiment.config import (
    ConfigError,
    apply_overrides,
    load_config,
    parse_metric,
)

REPO = Path(__file__).resolve().parents[1]
BASE = {
    "benchmark": "nasbench_graph",
    "optimizers": {"random": {}, "ednag": {"population_size": 20}},
    "seeds": 3,
    "budget": {"queries": 50},
}


def write(tmp_path: Path, raw: dict, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_defaults_and_seeds(tmp_path):
    cfg = load_config(write(tmp_path, BASE))
    assert cfg.name == "exp"
    assert cfg.table == "nas-bench-graph"
    assert cfg.dataset == "arxiv"
    assert cfg.seeds == (0, 1, 2)
    assert cfg.mode == "tabular" and cfg.workers == 1
    assert cfg.max_queries == 50 and cfg.sim_seconds is None
    assert cfg.fitness is None and cfg.reported is None
    assert cfg.runs == [("random", 0), ("random", 1), ("random", 2),
                        ("ednag", 0), ("ednag", 1), ("ednag", 2)]


def test_overrides_are_dotted_yaml(tmp_path):
    cfg = load_config(
        write(tmp_path, BASE),
        ["seeds=20", "budget.queries=200", "optimizers.ednag.population_size=30",
         "budget.sim_seconds=1e4", "fitness=valid_perf", "seeds=[3, 5]", "ray.num_cpus=2"],
    )
    assert cfg.seeds == (3, 5)
    assert cfg.max_queries == 200 and cfg.sim_seconds == 1e4
    assert cfg.optimizers["ednag"] == {"population_size": 30}
    assert cfg.fitness == ("valid_perf", None)
    assert cfg.ray == {"num_cpus": 2}


def test_override_does_not_touch_the_input():
    raw = {"budget": {"queries": 5}}
    out = apply_overrides(raw, ["budget.queries=7"])
    assert raw["budget"]["queries"] == 5 and out["budget"]["queries"] == 7


@pytest.mark.parametrize(
    ("text", "expected"),
    [("valid_acc@200", ("valid_acc", 200)), ("acc", ("acc", None)),
     ("acc@final", ("acc", "final")), (["acc", 12], ("acc", 12))],
)
def test_parse_metric(text, expected):
    assert parse_metric(text, "fitness") == expected


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"benchmark": "nb101"}, ["benchmark", "nasbench_graph", "nb201"]),
        ({"optimizers": {"hyperband": {}}}, ["optimizers", "hyperband", "optuna_tpe"]),
        ({"optimizers": {"random": {"seed": 3}}}, ["optimizers.random", "seed"]),
        ({"optimizers": {}}, ["optimizers"]),
        ({"seeds": 0}, ["seeds"]),
        ({"seeds": [1, 1]}, ["seeds", "repeats"]),
        ({"seeds": "five"}, ["seeds"]),
        ({"budget": {}}, ["budget.queries", "budget.sim_seconds"]),
        ({"budget": {"queries": -1}}, ["budget.queries"]),
        ({"budget": {"hours": 3}}, ["hours", "queries, sim_seconds"]),
        ({"mode": "cluster"}, ["mode", "tabular, trial"]),
        ({"workers": 0}, ["workers"]),
        ({"mode": "trial", "budget": {"queries": 3, "sim_seconds": 10}},
         ["budget.sim_seconds", "tabular"]),
        ({"sim_time_per_eval": -1}, ["sim_time_per_eval"]),
        ({"ray": {"adress": "auto"}}, ["adress", "address"]),
        ({"fitness": "acc@"}, ["fitness"]),
        ({"colour": "blue"}, ["colour", "benchmark"]),
        ({"table": "no/such/table.parquet"}, ["table", "no/such/table.parquet"]),
    ],
)
def test_errors_name_the_key_and_allowed_values(tmp_path, change, words):
    raw = dict(BASE, **change)
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, raw))
    for word in words:
        assert word in str(err.value)


def test_missing_benchmark_and_bad_override(tmp_path):
    with pytest.raises(ConfigError, match="benchmark is required; allowed: nasbench_graph"):
        load_config(write(tmp_path, {"optimizers": ["random"], "budget": {"queries": 3}}))
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_config(write(tmp_path, BASE), ["seeds"])
    with pytest.raises(ConfigError, match="'seeds' is 3, not a mapping"):
        load_config(write(tmp_path, BASE), ["seeds.count=3"])
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.yaml")


def test_table_paths_resolve_against_config_folder_then_cwd(tmp_path, monkeypatch):
    (tmp_path / "conf").mkdir()
    (tmp_path / "tables").mkdir()
    table = tmp_path / "tables" / "t.parquet"
    table.write_bytes(b"")
    raw = dict(BASE, benchmark="nb201", table="../tables/t.parquet")
    cfg = load_config(write(tmp_path / "conf", raw))
    assert cfg.table == str(table.resolve())
    monkeypatch.chdir(tmp_path)
    raw["table"] = "tables/t.parquet"  # not beside the config, but under the CWD
    cfg = load_config(write(tmp_path / "conf", raw))
    assert cfg.table == str(table.resolve())


def test_nb201_needs_a_table(tmp_path):
    with pytest.raises(ConfigError, match="table is required for benchmark 'nb201'"):
        load_config(write(tmp_path, dict(BASE, benchmark="nb201")))


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "configs").glob("*.yaml")))
def test_shipped_configs_validate(name, tmp_path, monkeypatch):
    path = REPO / "configs" / name
    raw = yaml.safe_load(path.read_text())
    table = raw.get("table")
    if table and "shared" in str(table) and not (path.parent / table).exists():
        pytest.skip(f"{name}: its table {table} is absent (needs ../shared/benchmarks)")
    overrides = []
    data = (raw.get("training") or {}).get("data", "synthetic")
    if data != "synthetic":  # the user's CIFAR-10 folder: stand in an empty one
        (tmp_path / "cifar").mkdir()
        overrides.append(f"training.data={tmp_path / 'cifar'}")
    monkeypatch.chdir(tmp_path)
    cfg = load_config(path, overrides)
    assert cfg.optimizers and cfg.seeds


def test_shipped_nb201_configs_resolve_the_shared_table_from_any_directory(tmp_path,
                                                                          monkeypatch):
    repo = Path(__file__).resolve().parents[1]
    shared = repo.parent / "shared" / "benchmarks" / "nb201"
    if not shared.is_dir():
        pytest.skip(f"NAS-Bench-201 data not found at {shared} (needs ../shared/benchmarks)")
    monkeypatch.chdir(tmp_path)  # not the repository root
    for name in ("nb201-cifar10", "nb201-cifar100", "nb201-imagenet16"):
        config = load_config(repo / "configs" / f"{name}.yaml")
        assert Path(config.table) == shared.resolve()
