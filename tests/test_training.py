"""Real training: the NB201 network, the training config, CIFAR-10 folders, ``nb201_train``."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from ednag.data.cifar10 import DatasetError, load_cifar10
from ednag.experiment.config import ConfigError, load_config
from ednag.spaces import NB201_OPS, make_space
from trainables.models.nb201_network import NB201Network
from trainables.run import run_experiment

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def test_network_shapes_and_cells():
    net = NB201Network(BEST, channels=4, cells=1, classes=7)
    assert net(torch.randn(3, 3, 16, 16)).shape == (3, 7)
    # a cell of 'none' edges outputs zeros: the stages only pass the reductions through
    dead = NB201Network("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", channels=4, cells=1)
    cell = dead.features[2]
    assert torch.count_nonzero(cell(torch.randn(2, 4, 8, 8))) == 0
    sizes = {op: sum(p.numel() for p in NB201Network(
        f"|{op}~0|+|{op}~0|{op}~1|+|{op}~0|{op}~1|{op}~2|", 4, 1).parameters())
        for op in NB201_OPS}
    assert sizes["nor_conv_3x3"] > sizes["nor_conv_1x1"] > sizes["skip_connect"]
    with pytest.raises(ValueError, match="channels must be a positive int"):
        NB201Network(BEST, channels=0)


def _fake_cifar(folder: Path, n: int = 20) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(folder / name, "wb") as handle:
            pickle.dump({b"data": rng.integers(0, 255, (n, 3072), dtype=np.uint8),
                         b"labels": list(rng.integers(0, 10, n))}, handle)
    return folder


def test_cifar10_folder_loads_and_bad_folders_are_named(tmp_path):
    folder = _fake_cifar(tmp_path / "cifar-10-batches-py")
    train, valid, test = load_cifar10(folder, valid=10)
    assert train.images.shape == (90, 3, 32, 32) and len(valid.labels) == 10
    assert len(test.labels) == 20 and abs(float(train.images.mean())) < 3
    (folder / "data_batch_3").unlink()
    with pytest.raises(DatasetError, match="data_batch_3' not found"):
        load_cifar10(folder)
    (folder / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(DatasetError, match="data_batch_3' is not a CIFAR-10 batch"):
        load_cifar10(folder)
    with pytest.raises(DatasetError, match="folder .*nowhere' not found"):
        load_cifar10(tmp_path / "nowhere")


def _config(tmp_path: Path, **changes) -> Path:
    raw = {"benchmark": "nb201", "mode": "trial", "trainable": "nb201_train",
           "optimizers": {"random": {}}, "seeds": [0], "budget": {"queries": 3}, "workers": 1,
           "training": {"channels": 4, "cells": 1, "epochs": 2, "batch_size": 64,
                        "train_samples": 200, "valid_samples": 100, "test_samples": 100}}
    raw.update(changes)
    path = tmp_path / f"train-{len(list(tmp_path.glob('train-*')))}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(("changes", "match"), [
    ({"training": {"epochs": 0}}, r"training.epochs must be an integer >= 1"),
    ({"training": {"layers": 3}}, r"unknown training key\(s\) layers; allowed: data, channels"),
    ({"training": {"data": "no-such-folder"}}, r"training.data: CIFAR-10 folder 'no-such-folder' "
                                               r"not found"),
    ({"scheduler": {"hyperband": {}}}, r"allowed schedulers: asha"),
    ({"scheduler": {"asha": {"reduction_factor": 1}}}, r"reduction_factor must be a number >= 2"),
    ({"resources": {"tpu": 1}}, r"unknown resources key\(s\) tpu; allowed: cpu, gpu"),
    ({"mode": "tabular", "trainable": None, "benchmark": "nasbench_graph"},
     r"training need mode: trial"),
    ({"budget": {"sim_seconds": 10}}, r"sim_seconds needs mode: tabular"),
])
def test_bad_training_configs_are_named(tmp_path, changes, match):
    with pytest.raises(ConfigError, match=match):
        load_config(_config(tmp_path, **changes))


def test_training_configs_need_no_table(tmp_path):
    config = load_config(_config(tmp_path))
    assert config.table is None and config.training["channels"] == 4
    shipped = load_config(Path(__file__).resolve().parents[1] / "configs" /
                          "nb201-train-synthetic.yaml")
    assert shipped.scheduler == {"asha": {"grace_period": 1, "reduction_factor": 2, "max_t": 4}}


@pytest.mark.ray
def test_nb201_train_through_ednag_run_is_deterministic_with_asha(ray_session, tmp_path):  # noqa: ARG001
    rows = []
    for name in ("a", "b"):
        config = _config(tmp_path, scheduler={"asha": {"grace_period": 1,
                                                       "reduction_factor": 2}})
        out, errors = run_experiment(config, out=tmp_path / name, summary=False)
        assert errors == []
        frame = pd.read_parquet(out / "results").sort_values("eval_index")
        rows.append(frame)
    a, b = rows
    assert len(a) == 3 and a["arch_key"].nunique() == 3
    assert a["fitness"].tolist() == b["fitness"].tolist()  # CPU training is seeded
    assert a["reported"].notna().all() and (a["metric.epochs"] >= 1).all()
    assert "metric.valid_acc_e1" in a.columns and (a["status"] == "ok").all()
    space = make_space("nb201")
    assert all(space.from_native(arch) for arch in a["arch"])


@pytest.mark.parametrize(("assigned", "expected"), [([], "cpu"), (["0"], "cuda")])
def test_a_trial_trains_on_the_gpu_only_when_ray_assigned_it_one(monkeypatch, assigned,
                                                                 expected):
    # Ray 2.60 leaves CUDA_VISIBLE_DEVICES alone for a trial that asked for no GPU (unless
    # RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO=1), so "a GPU is visible" is not "this trial may use it"
    import ray

    from trainables import nb201_train as module

    class Context:
        def get_accelerator_ids(self):
            return {"GPU": assigned}

    monkeypatch.setattr(ray, "is_initialized", lambda: True)
    monkeypatch.setattr(ray, "get_runtime_context", lambda: Context())
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # pick_device's CPU setup
    monkeypatch.setattr(torch, "use_deterministic_algorithms", lambda *a, **k: None)
    assert module.trial_device().type == expected


def test_without_ray_running_the_device_is_the_gpu_when_there_is_one(monkeypatch):
    import ray

    from trainables import nb201_train as module

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert module.trial_device().type == "cuda"
