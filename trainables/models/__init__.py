"""PyTorch networks built from search-space architectures (imported by training trainables)."""
