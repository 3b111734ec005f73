"""CIFAR-10 from a user's ``cifar-10-batches-py`` folder (the standard Python pickles), no
download: ``data_batch_1`` .. ``data_batch_5`` and ``test_batch``."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ednag.data.synthetic import SyntheticImages

FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)[:, None, None]
STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32)[:, None, None]


class DatasetError(ValueError):
    """A missing or malformed data folder (names the file)."""


def _batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise DatasetError(f"CIFAR-10 file {str(path)!r} not found; the folder must hold "
                           f"{', '.join(FILES)} (the 'python version' of CIFAR-10)")
    try:
        with open(path, "rb") as handle:
            raw = pickle.load(handle, encoding="bytes")
        data = np.asarray(raw[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(raw[b"labels"], dtype=np.int64)
    except (pickle.UnpicklingError, KeyError, ValueError, EOFError, TypeError) as err:
        raise DatasetError(f"CIFAR-10 file {str(path)!r} is not a CIFAR-10 batch ({err})") from None
    if len(data) != len(labels):
        raise DatasetError(f"CIFAR-10 file {str(path)!r}: {len(data)} images, {len(labels)} labels")
    return data, labels


def load_cifar10(folder: str | Path, valid: int = 5000) -> tuple[SyntheticImages, ...]:
    """``(train, valid, test)``: the last ``valid`` training images are the validation split;
    pixels normalised by the usual channel mean and standard deviation."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"CIFAR-10 folder {str(folder)!r} not found")
    parts = [_batch(folder / name) for name in FILES]
    train_x = np.concatenate([p[0] for p in parts[:5]])
    train_y = np.concatenate([p[1] for p in parts[:5]])

    def norm(x: np.ndarray) -> np.ndarray:
        return ((x.astype(np.float32) / 255.0 - MEAN) / STD).astype(np.float32)

    cut = len(train_y) - valid
    return (SyntheticImages(norm(train_x[:cut]), train_y[:cut], 10),
            SyntheticImages(norm(train_x[cut:]), train_y[cut:], 10),
            SyntheticImages(norm(parts[5][0]), parts[5][1], 10))
