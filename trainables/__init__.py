"""trainables package."""
