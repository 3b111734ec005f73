"""Data sets that need no download: procedurally generated, seeded tasks."""

from ednag.data.synthetic import SyntheticImages, make_synthetic_images

__all__ = ["SyntheticImages", "make_synthetic_images"]
