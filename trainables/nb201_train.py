"""The ``nb201_train`` trainable: trains the NAS-Bench-201 network of a cell for real.

SGD with Nesterov momentum and a cosine schedule over ``training.epochs`` (see
:mod:`ednag.experiment.training`); after every epoch it reports the validation accuracy
(``fitness``, what the searcher and ASHA see), the test accuracy (``reported``, never shown to
the optimizer; for a trial ASHA stops early it is the accuracy at that epoch) and the seconds
trained, with a checkpoint (model, optimizer, schedule, epoch), so a stopped or failed trial
resumes mid-training. Runs on a GPU when the trial's resources hold one, on the CPU otherwise
(Ray leaves the node's GPUs visible to a trial that asked for none; it must not use them). On
CPU the run is deterministic for a seed (one thread, deterministic algorithms).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import torch
from ray import tune

from ednag.experiment.settings import RunSettings
from ednag.experiment.training import TrainingConfig
from trainables.nb201_training import (  # noqa: F401 - load_data/accuracy re-exported
    accuracy,
    load_data,
    pick_device,
    train_epochs,
)

CHECKPOINT_FILE = "training.pt"


def trial_device() -> torch.device:
    """``cuda`` when Ray assigned this process a GPU (a trial whose ``resources`` ask for one),
    else ``cpu`` (a Ray driver included); without Ray running, the GPU when there is one."""
    import ray

    if not ray.is_initialized():
        return pick_device()
    assigned = ray.get_runtime_context().get_accelerator_ids().get("GPU", [])
    return pick_device("cuda" if assigned and torch.cuda.is_available() else "cpu")


def nb201_train(config: dict[str, Any], run: dict[str, Any]) -> None:
    """Tune function trainable (trial mode): ``config["arch"]`` is an NB201 arch string."""
    settings = RunSettings.from_dict(run)
    training = TrainingConfig(**(settings.extra.get("training") or {}))
    device = trial_device()
    state = None
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            state = torch.load(os.path.join(folder, CHECKPOINT_FILE), weights_only=False)
    for result in train_epochs(config["arch"], training, settings.seed, device, state):
        with tempfile.TemporaryDirectory() as folder:
            torch.save(result.state, os.path.join(folder, CHECKPOINT_FILE))
            tune.report({"fitness": result.valid_acc, "reported": result.test_acc,
                         "epoch": result.epoch, "train_time_s": result.seconds,
                         "device": device.type},
                        checkpoint=tune.Checkpoint.from_directory(folder))
