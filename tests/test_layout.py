"""The package layout rules: the core never imports Ray; the CLI parses without it."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_core_library_never_imports_ray():
    mods = _modules_after(
        "import ednag, ednag.spaces, ednag.optimizers, ednag.schema\n"
        "from ednag.ednag_core.optimizer import EDNAG\n"
        "from ednag.spaces import make_space\n"
        "opt = EDNAG(make_space('nb201'), seed=0, max_queries=20)\n"
        "while not opt.finished:\n"
        "    opt.tell([(a, float(sum(a))) for a in opt.ask()])\n"
    )
    assert "ray" not in mods
    assert "torch" not in mods


def test_cli_help_does_not_start_ray():
    mods = _modules_after("from ednag.cli import build_parser\nbuild_parser()")
    assert "ray" not in mods


def test_cli_help_runs():
    out = subprocess.run(
        [sys.executable, "-m", "ednag.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    for command in ("tables", "run", "report"):
        assert command in out.stdout
