"""The package layout rules: no import cycles (imports inside functions included); the core
(``ednag/``) never imports Ray, torch, ``searchers`` or ``trainables``; the CLI parses without Ray."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("ednag", "searchers", "trainables", "analysis")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Every project module ``path`` imports, at any depth of its code (functions too);
    ``from pkg import sub`` counts as importing ``pkg.sub`` when that is a module."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, name, known) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_cycle_finder_finds_a_planted_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_anywhere():
    graph = _graph()
    assert len(graph) > 40  # the walk really saw the packages
    # the walk sees imports inside functions too
    assert "ednag.tables.importers.nb201_csv" in graph["ednag.tables.importers.nb201"]
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_core_never_imports_the_ray_edges():
    graph = _graph()
    for name, targets in graph.items():
        if name.startswith("ednag"):
            edge = sorted(t for t in targets if t.startswith(("searchers", "trainables")))
            assert not edge, f"{name} imports {edge}"


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
        "import ednag, ednag.spaces, ednag.optimizers, ednag.results.schema, ednag.tables\n"
        "import ednag.experiment.plan, ednag.experiment.simulator, ednag.results.writer\n"
        "from ednag.optimizers import EDNAG\n"
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


def test_cli_help_and_list_run():
    out = subprocess.run(
        [sys.executable, "-m", "ednag.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    for command in ("tables", "run", "report", "list"):
        assert command in out.stdout
