"""A procedurally generated image-classification task: no download, no files, seeded.

Each of ``classes`` classes is a recipe drawn once from the task seed: two oriented sinusoidal
gratings (frequency, angle) and a Gaussian blob (centre, width). An image of a class renders its
recipe with a random phase for each grating, random colours (the same distribution for every
class, so colour says nothing about the class), the blob shifted by up to ``jitter`` pixels,
the contrast scaled by a random factor in [0.6, 1.4], then adds pixel noise of standard
deviation ``noise``. Telling classes apart needs orientation- and frequency-selective filters
and some position invariance: a linear model on pixels does poorly, pooling-only cells badly,
convolutional cells well, so architectures differ.

>>> data = make_synthetic_images(64, seed=0)
>>> data.images.shape, data.labels.shape, int(data.labels.max()) < 10
((64, 3, 16, 16), (64,), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ednag.checks import int_at_least


@dataclass(frozen=True)
class SyntheticImages:
    """Images (n, 3, size, size) float32 in about [-1, 1] and labels (n,) int64."""

    images: np.ndarray
    labels: np.ndarray
    classes: int

    def split(self, fractions: tuple[float, ...]) -> list[SyntheticImages]:
        """Consecutive parts of the data (e.g. (0.7, 0.15, 0.15) for train/valid/test)."""
        if not fractions or any(f <= 0 for f in fractions) or sum(fractions) > 1 + 1e-9:
            raise ValueError(f"fractions must be positive and sum to at most 1, got {fractions}")
        bounds = np.cumsum([0.0, *fractions]) * len(self.labels)
        edges = [int(round(b)) for b in bounds]
        return [SyntheticImages(self.images[a:b], self.labels[a:b], self.classes)
                for a, b in zip(edges[:-1], edges[1:], strict=True)]


def make_synthetic_images(n: int, seed: int = 0, *, classes: int = 10, size: int = 16,
                          noise: float = 0.6, jitter: int = 5,
                          task_seed: int = 1234) -> SyntheticImages:
    """``n`` images of the task ``task_seed`` (class recipes), drawn with ``seed``."""
    for name, value, low in (("n", n, 1), ("classes", classes, 2), ("size", size, 8)):
        int_at_least(name, value, low)
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    task = np.random.default_rng(task_seed)
    recipes = []
    for _ in range(classes):
        gratings = [(task.uniform(0.15, 0.45), task.uniform(0, np.pi)) for _ in range(2)]
        blob = (task.uniform(0.25, 0.75, 2) * size, task.uniform(1.5, 3.5))
        recipes.append((gratings, blob))
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    images = np.empty((n, 3, size, size), dtype=np.float32)
    for i, label in enumerate(labels):
        gratings, (centre, width) = recipes[label]
        img = np.zeros((3, size, size))
        for freq, angle in gratings:
            colour = rng.normal(0, 1, 3)
            proj = xx * np.cos(angle) + yy * np.sin(angle)
            wave = np.sin(2 * np.pi * freq * proj + rng.uniform(0, 2 * np.pi))
            img += colour[:, None, None] * wave[None] * 0.5
        cy, cx = centre + rng.integers(-jitter, jitter + 1, 2)
        bump = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * width ** 2))
        img += rng.normal(0, 1, 3)[:, None, None] * bump[None]
        img *= rng.uniform(0.6, 1.4)
        img += rng.normal(0, noise, img.shape)
        images[i] = np.clip(img, -3, 3) / 3
    return SyntheticImages(images, labels.astype(np.int64), classes)
