"""The ``nb201_train`` trainable: trains the NAS-Bench-201 network of a cell for real.

SGD with Nesterov momentum and a cosine schedule over ``training.epochs`` (see
:mod:`ednag.experiment.training`); after every epoch it reports the validation accuracy
(``fitness``, what the searcher and ASHA see), the test accuracy (``reported``, never shown to
the optimizer; for a trial ASHA stops early it is the accuracy at that epoch) and the seconds
trained, with a checkpoint (model, optimizer, schedule, epoch), so a stopped or failed trial
resumes mid-training. Runs on a GPU when the trial's resources hold one. On CPU the run is
deterministic for a seed (one thread, deterministic algorithms).
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

import numpy as np
import torch
from ray import tune
from torch import nn

from ednag.data.cifar10 import load_cifar10
from ednag.data.synthetic import SyntheticImages, make_synthetic_images
from ednag.experiment.settings import RunSettings
from ednag.experiment.training import TrainingConfig
from trainables.models.nb201_network import NB201Network

CHECKPOINT_FILE = "training.pt"


def load_data(training: TrainingConfig) -> tuple[SyntheticImages, SyntheticImages,
                                                   SyntheticImages]:
    """(train, valid, test) of the configured data, capped at the configured sizes."""
    if training.data == "synthetic":
        total = training.train_samples + training.valid_samples + training.test_samples
        data = make_synthetic_images(total, seed=2024)
        return tuple(data.split((training.train_samples / total,
                                 training.valid_samples / total,
                                 training.test_samples / total)))  # type: ignore[return-value]
    train, valid, test = load_cifar10(training.data)
    return (SyntheticImages(train.images[:training.train_samples],
                            train.labels[:training.train_samples], 10),
            SyntheticImages(valid.images[:training.valid_samples],
                            valid.labels[:training.valid_samples], 10),
            SyntheticImages(test.images[:training.test_samples],
                            test.labels[:training.test_samples], 10))


def accuracy(model: nn.Module, data: SyntheticImages, device: torch.device,
             batch: int = 512) -> float:
    """Top-1 accuracy in percent."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(data.labels), batch):
            x = torch.from_numpy(data.images[start:start + batch]).to(device)
            y = torch.from_numpy(data.labels[start:start + batch]).to(device)
            correct += int((model(x).argmax(1) == y).sum())
    return 100.0 * correct / max(1, len(data.labels))


def nb201_train(config: dict[str, Any], run: dict[str, Any]) -> None:
    """Tune function trainable (trial mode): ``config["arch"]`` is an NB201 arch string."""
    settings = RunSettings.from_dict(run)
    training = TrainingConfig(**(settings.extra.get("training") or {}))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True, warn_only=True)
    torch.manual_seed(settings.seed)
    train, valid, test = load_data(training)
    model = NB201Network(config["arch"], training.channels, training.cells,
                         classes=train.classes).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=training.lr, momentum=training.momentum,
                                nesterov=training.momentum > 0,
                                weight_decay=training.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=training.epochs)
    start_epoch, seconds = 0, 0.0
    generator = np.random.default_rng(settings.seed)
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            state = torch.load(os.path.join(folder, CHECKPOINT_FILE), weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        start_epoch, seconds = state["epoch"], state["seconds"]
        generator = state["generator"]
    x_all, y_all = torch.from_numpy(train.images), torch.from_numpy(train.labels)
    for epoch in range(start_epoch, training.epochs):
        began = time.perf_counter()
        model.train()
        order = generator.permutation(len(y_all))
        for start in range(0, len(order), training.batch_size):
            idx = torch.from_numpy(order[start:start + training.batch_size])
            x, y = x_all[idx].to(device), y_all[idx].to(device)
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
        schedule.step()
        seconds += time.perf_counter() - began
        valid_acc = accuracy(model, valid, device)
        test_acc = accuracy(model, test, device)
        with tempfile.TemporaryDirectory() as folder:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "schedule": schedule.state_dict(), "epoch": epoch + 1,
                        "seconds": seconds, "generator": generator},
                       os.path.join(folder, CHECKPOINT_FILE))
            tune.report({"fitness": valid_acc, "reported": test_acc, "epoch": epoch + 1,
                         "train_time_s": seconds, "device": device.type},
                        checkpoint=tune.Checkpoint.from_directory(folder))
