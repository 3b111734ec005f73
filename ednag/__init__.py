"""ednag: EDNAG and its rivals on shared search spaces (this package never imports Ray)."""

__version__ = "0.1.0"
