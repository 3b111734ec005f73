"""The ``training:`` and ``scheduler:`` sections of a trial-mode config (real training), checked
without Ray or torch.

    training: {data: synthetic, channels: 16, cells: 5, epochs: 12, batch_size: 128, lr: 0.1,
               momentum: 0.9, weight_decay: 0.0005, train_samples: 5000, valid_samples: 1000,
               test_samples: 1000}
    scheduler: {asha: {grace_period: 1, reduction_factor: 3}}   # max_t = training.epochs
    resources: {cpu: 1, gpu: 0.25}

``data`` is ``synthetic`` (ednag's generated image task) or the path of a
``cifar-10-batches-py`` folder (the ``*_samples`` keys then cap the splits used).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


class TrainingConfigError(ValueError):
    """A bad training, scheduler or resources section (names the key and allowed values)."""


@dataclass(frozen=True)
class TrainingConfig:
    data: str = "synthetic"
    channels: int = 16
    cells: int = 5
    epochs: int = 12
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    train_samples: int = 5000
    valid_samples: int = 1000
    test_samples: int = 1000

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_INTS = ("channels", "cells", "epochs", "batch_size", "train_samples", "valid_samples",
         "test_samples")
_FLOATS = ("lr", "momentum", "weight_decay")


def parse_training(raw: Any, base_dirs: tuple[Path, ...] = ()) -> TrainingConfig:
    """A checked :class:`TrainingConfig` (a relative data folder resolves against
    ``base_dirs``)."""
    if raw is None:
        return TrainingConfig()
    if not isinstance(raw, dict):
        raise TrainingConfigError(f"training must be a mapping, got {raw!r}")
    allowed = tuple(TrainingConfig.__dataclass_fields__)
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise TrainingConfigError(f"unknown training key(s) {', '.join(map(str, unknown))}; "
                                  f"allowed: {', '.join(allowed)}")
    values = dict(raw)
    for key in _INTS:
        if key in values and (isinstance(values[key], bool) or not isinstance(values[key], int)
                              or values[key] < 1):
            raise TrainingConfigError(f"training.{key} must be an integer >= 1, got "
                                      f"{values[key]!r}")
    for key in _FLOATS:
        if key in values:
            value = values[key]
            if isinstance(value, str):
                with contextlib.suppress(ValueError):
                    value = float(value)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value) and value >= 0):
                raise TrainingConfigError(f"training.{key} must be a number >= 0, got "
                                          f"{values[key]!r}")
            values[key] = float(value)
    data = values.get("data", "synthetic")
    if not isinstance(data, str) or not data:
        raise TrainingConfigError(f"training.data must be 'synthetic' or a CIFAR-10 folder, "
                                  f"got {data!r}")
    if data != "synthetic":
        path = Path(data).expanduser()
        tried = [path] if path.is_absolute() else [b / path for b in base_dirs] or [path]
        found = next((p for p in tried if p.is_dir()), None)
        if found is None:
            raise TrainingConfigError(
                f"training.data: CIFAR-10 folder {data!r} not found (looked at "
                f"{', '.join(map(str, tried))}); give 'synthetic' or a cifar-10-batches-py folder")
        values["data"] = str(found.resolve())
    return TrainingConfig(**values)


def parse_scheduler(raw: Any, epochs: int) -> dict[str, Any] | None:
    """``None`` (every trial trains all epochs) or ``{"asha": {grace_period, reduction_factor,
    max_t}}``."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"asha"}:
        raise TrainingConfigError(f"scheduler must be {{asha: {{...}}}}, got {raw!r}; allowed "
                                  "schedulers: asha")
    asha = raw["asha"] or {}
    if not isinstance(asha, dict):
        raise TrainingConfigError(f"scheduler.asha must be a mapping, got {asha!r}")
    allowed = ("grace_period", "reduction_factor", "max_t")
    unknown = sorted(set(asha) - set(allowed))
    if unknown:
        raise TrainingConfigError(f"unknown scheduler.asha key(s) {', '.join(unknown)}; "
                                  f"allowed: {', '.join(allowed)}")
    out = {"grace_period": asha.get("grace_period", 1),
           "reduction_factor": asha.get("reduction_factor", 3),
           "max_t": asha.get("max_t", epochs)}
    for key, value in out.items():
        low = 2 if key == "reduction_factor" else 1
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
            raise TrainingConfigError(f"scheduler.asha.{key} must be a number >= {low}, got "
                                      f"{value!r}")
    return {"asha": out}


def parse_resources(raw: Any) -> dict[str, float] | None:
    """``None`` (the harness's default share) or ``{"cpu": c, "gpu": g}`` per trial."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise TrainingConfigError(f"resources must be a mapping (cpu, gpu), got {raw!r}")
    unknown = sorted(set(raw) - {"cpu", "gpu"})
    if unknown:
        raise TrainingConfigError(f"unknown resources key(s) {', '.join(unknown)}; allowed: "
                                  "cpu, gpu")
    out = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise TrainingConfigError(f"resources.{key} must be a number >= 0, got {value!r}")
        out[key] = float(value)
    return out
