"""Tune your own PyTorch model with EDNAG: a plain Ray Tune script.

A small CNN on ednag's synthetic image task (no download), a mixed ``param_space`` (learning
rate log-uniform, width a choice, depth an integer, dropout uniform), the EDNAG searcher and
ASHA early stopping. About two minutes on two CPU cores; ``--quick`` is the short version CI runs.

    python examples/tune_your_model.py [--samples 12] [--epochs 5] [--quick]
"""

from __future__ import annotations

import argparse

import ray
import torch
from ray import tune
from ray.tune.schedulers import ASHAScheduler
from torch import nn

from ednag.data import make_synthetic_images
from searchers import EDNAGSearch


def build_model(width: int, depth: int, dropout: float) -> nn.Module:
    layers: list[nn.Module] = []
    channels = 3
    for i in range(depth):
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
        if i % 2 == 1:
            layers.append(nn.MaxPool2d(2))
        channels = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(width, 10)]
    return nn.Sequential(*layers)


def train_cnn(config: dict) -> None:
    """Tune trainable: trains for ``config["epochs"]`` epochs, reports accuracy each epoch."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    train, valid = make_synthetic_images(config["samples"], seed=1).split((0.8, 0.2))
    x, y = torch.from_numpy(train.images), torch.from_numpy(train.labels)
    xv, yv = torch.from_numpy(valid.images), torch.from_numpy(valid.labels)
    model = build_model(config["width"], config["depth"], config["dropout"])
    opt = torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=0.9)
    for _ in range(config["epochs"]):
        model.train()
        for idx in torch.randperm(len(y)).split(64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(xv).argmax(1) == yv).float().mean().item()
        tune.report({"accuracy": accuracy})


def main(argv: list[str] | None = None) -> tune.ResultGrid:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=12, help="trials")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="6 trials of 2 epochs (for CI)")
    args = parser.parse_args(argv)
    trials, epochs, images = (6, 2, 600) if args.quick else (args.samples, args.epochs, 2500)
    param_space = {
        "lr": tune.loguniform(1e-3, 3e-1),
        "width": tune.choice([8, 16, 32]),
        "depth": tune.randint(1, 5),
        "dropout": tune.uniform(0.0, 0.5),
        "epochs": epochs,
        "samples": images,
    }
    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    tuner = tune.Tuner(
        train_cnn,
        param_space=param_space,
        tune_config=tune.TuneConfig(
            search_alg=EDNAGSearch(seed=0), metric="accuracy", mode="max",
            scheduler=ASHAScheduler(max_t=epochs, grace_period=1, reduction_factor=2),
            num_samples=trials, max_concurrent_trials=2,
        ),
        run_config=tune.RunConfig(name="tune_your_model", verbose=0),
    )
    grid = tuner.fit()
    best = grid.get_best_result()
    print(f"best accuracy {best.metrics['accuracy']:.3f} with {best.config}")
    return grid


if __name__ == "__main__":
    main()
