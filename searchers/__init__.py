"""searchers package."""
