"""Training one NAS-Bench-201 cell network, epoch by epoch, without Ray.

:func:`train_epochs` is the loop behind the ``nb201_train`` trainable (which reports each epoch
to Tune with a checkpoint) and behind ``bench/synthetic_cells.py``: SGD with Nesterov momentum
and a cosine schedule over ``training.epochs``; after every epoch the validation accuracy (the
fitness), the test accuracy (only reported) and the seconds trained. On CPU the run is
deterministic for a seed (one thread, deterministic algorithms); on a GPU it runs there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ednag.data.cifar10 import load_cifar10
from ednag.data.synthetic import SyntheticImages, make_synthetic_images
from ednag.experiment.training import TrainingConfig
from trainables.models.nb201_network import NB201Network

#: the synthetic task's own seed: every trial of every run sees the same data
DATA_SEED = 2024


@dataclass(frozen=True)
class EpochResult:
    """One finished epoch: accuracies in percent, seconds trained so far, and a checkpoint
    (model, optimizer, schedule, epoch, seconds, data order generator) to resume from."""

    epoch: int
    valid_acc: float
    test_acc: float
    seconds: float
    state: dict[str, Any]


def load_data(training: TrainingConfig) -> tuple[SyntheticImages, SyntheticImages,
                                                   SyntheticImages]:
    """(train, valid, test) of the configured data, capped at the configured sizes."""
    if training.data == "synthetic":
        total = training.train_samples + training.valid_samples + training.test_samples
        data = make_synthetic_images(total, seed=DATA_SEED)
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


def pick_device(name: str | None = None) -> torch.device:
    """``name`` (``"cpu"``, ``"cuda"``, ...) or the GPU when there is one; on CPU, one thread
    and deterministic algorithms."""
    device = torch.device(name or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cpu":
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True, warn_only=True)
    return device


def train_epochs(arch: str, training: TrainingConfig, seed: int, device: torch.device,
                 state: dict[str, Any] | None = None,
                 data: tuple[SyntheticImages, ...] | None = None) -> Iterator[EpochResult]:
    """Train the network of ``arch`` (from ``state``, a checkpoint of an earlier epoch, if
    given), yielding after every epoch."""
    torch.manual_seed(seed)
    train, valid, test = data or load_data(training)
    model = NB201Network(arch, training.channels, training.cells,
                         classes=train.classes).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=training.lr, momentum=training.momentum,
                                nesterov=training.momentum > 0,
                                weight_decay=training.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=training.epochs)
    start_epoch, seconds = 0, 0.0
    generator = np.random.default_rng(seed)
    if state is not None:
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
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds += time.perf_counter() - began
        yield EpochResult(
            epoch=epoch + 1, valid_acc=accuracy(model, valid, device),
            test_acc=accuracy(model, test, device), seconds=seconds,
            state={"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                   "schedule": schedule.state_dict(), "epoch": epoch + 1, "seconds": seconds,
                   "generator": generator})
