"""The ``ednag`` command line: the one place that ties the library, Ray and analysis together.

Sub-commands import their implementation lazily, so ``import ednag`` never pulls in Ray.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ednag.registry import BENCHMARKS, OPTIMIZERS, TABLES, TRAINABLES


def _dispatch(target: str):
    module, func = target.split(":")

    def run(args: argparse.Namespace) -> int:
        return int(getattr(importlib.import_module(module), func)(args) or 0)

    return run


def registry_listing() -> str:
    """Every registry's names with one line each (``ednag list``)."""
    lines = []
    sections = (
        ("optimizers", OPTIMIZERS, lambda e: f"{e.summary} [{e.target}]"),
        ("benchmarks", BENCHMARKS, lambda e: f"{e.summary} (default dataset "
                                             f"{e.default_dataset}; table: {e.source_hint})"),
        ("embedded tables", TABLES, lambda e: f"{e.benchmark}: {e.summary}"),
        ("trainables", TRAINABLES, lambda e: f"{e.summary} [{e.target}]"),
    )
    for title, registry, describe in sections:
        lines.append(f"{title}:")
        lines += [f"  {name:<22} {describe(entry)}" for name, entry in registry.items()]
    return "\n".join(lines)


def registry_markdown() -> str:
    """The README's registry block: every registered name in Markdown tables."""
    lines = ["| optimizer | what it is |", "|---|---|"]
    lines += [f"| `{name}` | {entry.summary} |" for name, entry in OPTIMIZERS.items()]
    lines += ["", "| benchmark | what it is | default dataset | table |", "|---|---|---|---|"]
    lines += [f"| `{name}` | {entry.summary} | {entry.default_dataset} | {entry.source_hint} |"
              for name, entry in BENCHMARKS.items()]
    lines += ["", "| trial-mode trainable | what it does |", "|---|---|"]
    lines += [f"| `{name}` | {entry.summary} |" for name, entry in TRAINABLES.items()]
    return "\n".join(lines)


def list_command(args: argparse.Namespace) -> int:
    print(registry_markdown() if args.markdown else registry_listing())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ednag", description="EDNAG and its rivals on NAS benchmarks, on Ray Tune."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    tables = sub.add_parser("tables", help="import and inspect benchmark tables")
    tsub = tables.add_subparsers(dest="tables_command", required=True)
    imp = tsub.add_parser("import", help="convert a benchmark's source files to a table")
    imp.add_argument("benchmark", help="a registered benchmark: " + ", ".join(
        name for name, entry in BENCHMARKS.items() if entry.importer is not None))
    imp.add_argument("source", help="the benchmark's own files (see 'ednag list')")
    imp.add_argument("--out", required=True, help="output .parquet path")
    imp.set_defaults(func=_dispatch("ednag.tables.cli:import_command"))
    info = tsub.add_parser("info", help="datasets, metrics, fidelities and optima of a table")
    info.add_argument("table", help="a .parquet table, or an embedded table: "
                      + ", ".join(TABLES.names()))
    info.set_defaults(func=_dispatch("ednag.tables.cli:info_command"))

    run = sub.add_parser("run", help="run an experiment config")
    run.add_argument("config", help="experiment YAML file")
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="KEY=VALUE", help="override a dotted config key (YAML value)")
    run.add_argument("--out", default=None, help="result directory (default: results/<name>)")
    run.add_argument("--resume", action="store_true", help="continue an interrupted run")
    run.set_defaults(func=_dispatch("trainables.run:run_command"))

    listing = sub.add_parser("list", help="the registered optimizers, benchmarks, embedded "
                             "tables and trainables")
    listing.add_argument("--markdown", action="store_true",
                         help="Markdown tables (the README's registry block)")
    listing.set_defaults(func=list_command)

    report = sub.add_parser("report", help="tables, curves and an HTML report from results")
    report.add_argument("results", nargs="+", help="result directories")
    report.add_argument("--out", default=None, help="report folder (default: DIR/report)")
    report.add_argument("--budgets", default=None,
                        help="comma-separated query budgets for the tables")
    report.add_argument("--mean", action="store_true",
                        help="curves show mean and standard error instead of median and IQR")
    report.set_defaults(func=_dispatch("analysis.cli:report_command"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
