"""The BenchmarkTable actor: batched queries, errors as TableError, one shared copy per node."""

from __future__ import annotations

import os

import numpy as np
import pytest
from test_tables import small_table

from ednag.tables.table import TableError
from trainables.table_actor import (
    NAMESPACE,
    BenchmarkTable,
    actor_name,
    columns_actor,
    get_table_actor,
    query_actor,
    release_table_actors,
)

METRICS = [("acc", 100), ("params", None), ("acc", 10)]


@pytest.fixture(scope="module")
def toy_path(tmp_path_factory):
    return str(small_table().save(tmp_path_factory.mktemp("tables") / "toy.parquet"))


@pytest.mark.parametrize("device", [None, "cpu"])  # numpy, or a torch tensor on the device
def test_in_process_server(toy_path, device):
    server = BenchmarkTable(toy_path, device=device)
    expected = small_table().query_many(["k3", "k0"], "d1", METRICS)
    got = server.query(["k3", "k0"], "d1", METRICS)
    assert got.dtype == np.float64 and got.shape == (2, 3)
    assert np.array_equal(got, expected, equal_nan=True)
    assert np.array_equal(server.query([3, 0], "d1", METRICS), expected, equal_nan=True)
    with pytest.raises(TableError, match="unknown metric 'loss'"):
        server.query([0], "d1", [("loss", None)])
    # a run's whole lookup at once: every key in table order and its columns
    keys, values = server.columns("d1", METRICS)
    assert keys == small_table().keys and values.dtype == np.float64
    assert np.array_equal(values, small_table().query_many(keys, "d1", METRICS), equal_nan=True)
    with pytest.raises(TableError, match="unknown fidelity 50"):
        server.columns("d1", [("acc", 50)])


def test_a_cuda_device_torch_cannot_use_is_an_error_or_with_fallback_numpy(toy_path,
                                                                           monkeypatch):
    # a GPU node whose torch is a CPU build: "auto" keeps numpy, a required GPU says why not
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(TableError, match="sees no CUDA device"):
        BenchmarkTable(toy_path, device="cuda")
    server = BenchmarkTable(toy_path, device="cuda", fallback=True)
    assert server.describe()["device"] == "numpy"
    expected = small_table().query_many(["k3"], "d1", METRICS)
    assert np.array_equal(server.query(["k3"], "d1", METRICS), expected, equal_nan=True)


@pytest.mark.ray
def test_actor_batched_query_and_errors(ray_session, toy_path):
    ray = ray_session
    actor = get_table_actor(toy_path, use_gpu="auto")
    got = ray.get(actor.query.remote(["k0", "k1", "k2", "k3"], "d1", METRICS))
    assert np.array_equal(got, small_table().query_many([0, 1, 2, 3], "d1", METRICS),
                          equal_nan=True)
    assert query_actor(actor, np.array([2]), "d2", [("acc", None)]).tolist() == [[0.3]]
    info = ray.get(actor.describe.remote())
    # "auto": the values live on the node's GPU when it has one, in numpy otherwise
    on_gpu = ray.cluster_resources().get("GPU", 0) > 0
    assert info["device"] == ("cuda" if on_gpu else "numpy") and info["num_archs"] == 4
    # a bad query reaches the caller as TableError with the table's own message
    with pytest.raises(TableError, match=r"unknown architecture key 'zz'"):
        ray.get(actor.query.remote(["k0", "zz"], "d1", METRICS))
    with pytest.raises(TableError) as err:
        query_actor(actor, ["k0"], "d1", [("acc", 50)])
    assert str(err.value) == "toy: unknown fidelity 50 for d1/acc; available: 10, 100"
    with pytest.raises(TableError, match=r"unknown dataset 'nope'; available: d1, d2"):
        query_actor(actor, [0], "nope", METRICS)


@pytest.mark.ray
def test_actor_columns_of_a_run(ray_session, toy_path):
    ray = ray_session
    actor = get_table_actor(toy_path)
    table = small_table()
    keys, values = ray.get(actor.columns.remote("d2", [("acc", None)]))
    assert keys == table.keys == ["k0", "k1", "k2", "k3"]
    assert values.shape == (4, 1) and values.dtype == np.float64
    assert np.array_equal(values[:, 0], table.query(keys, "d2", "acc"), equal_nan=True)
    keys, values = columns_actor(actor, "d1", METRICS)
    assert np.array_equal(values, table.query_many(keys, "d1", METRICS), equal_nan=True)
    # bad references reach the caller as TableError with the table's own message
    with pytest.raises(TableError) as err:
        columns_actor(actor, "d1", [("acc", 50)])
    assert str(err.value) == "toy: unknown fidelity 50 for d1/acc; available: 10, 100"
    with pytest.raises(TableError, match=r"unknown dataset 'nope'; available: d1, d2"):
        columns_actor(actor, "nope", METRICS)
    with pytest.raises(TableError, match=r"unknown metric 'loss'"):
        ray.get(actor.columns.remote("d1", [("loss", None)]))


@pytest.mark.ray
def test_actor_is_shared_by_name_on_the_node(ray_session, toy_path, tmp_path):
    ray = ray_session
    first = get_table_actor(toy_path)
    # the same table spelled differently, looked up by name, and from a task on the node
    folder, name = os.path.split(toy_path)
    second = get_table_actor(os.path.join(folder, ".", name))
    node = ray.get_runtime_context().get_node_id()
    named = ray.get_actor(actor_name(toy_path, node), namespace=NAMESPACE)

    @ray.remote(num_cpus=0)
    def from_task(path):
        from trainables.table_actor import get_table_actor as get

        return ray.get(get(path).describe.remote())["pid"]

    pids = {ray.get(h.describe.remote())["pid"] for h in (first, second, named)}
    pids.add(ray.get(from_task.remote(toy_path)))
    assert len(pids) == 1
    assert first._actor_id == second._actor_id == named._actor_id
    # another table gets its own actor
    other = get_table_actor(small_table().save(tmp_path / "other.parquet"))
    assert other._actor_id != first._actor_id
    # detached: they outlive their creator until released
    assert release_table_actors() >= 2
    fresh = get_table_actor(toy_path)
    assert ray.get(fresh.describe.remote())["pid"] not in pids
    release_table_actors()


@pytest.mark.ray
def test_get_table_actor_bad_arguments(ray_session, toy_path, tmp_path):
    with pytest.raises(ValueError, match="use_gpu must be 'auto', True or False"):
        get_table_actor(toy_path, use_gpu="yes")
    if not ray_session.cluster_resources().get("GPU"):
        with pytest.raises(ValueError, match="use_gpu=True but node .* has no GPU"):
            get_table_actor(toy_path, use_gpu=True)
    with pytest.raises(TableError, match="not found"):
        get_table_actor(tmp_path / "missing.parquet")
