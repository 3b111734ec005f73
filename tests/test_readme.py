"""The README's registry block is generated from the registry (``ednag list --markdown``)."""

from __future__ import annotations

from pathlib import Path

from ednag.cli import registry_markdown
from ednag.registry import BENCHMARKS, OPTIMIZERS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_registry_block_matches_the_registry():
    text = README.read_text()
    begin, end = "<!-- registry:begin -->\n", "<!-- registry:end -->"
    block = text[text.index(begin) + len(begin):text.index(end)].strip()
    assert block == registry_markdown(), "run `ednag list --markdown` and paste it into README.md"
    for name in (*OPTIMIZERS.names(), *BENCHMARKS.names()):
        assert f"`{name}`" in block
