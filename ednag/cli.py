"""The ``ednag`` command line: the one place that ties the library, Ray and analysis together.

Sub-commands import their implementation lazily, so ``import ednag`` never pulls in Ray.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence


def _dispatch(target: str):
    module, func = target.split(":")

    def run(args: argparse.Namespace) -> int:
        return int(getattr(importlib.import_module(module), func)(args) or 0)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ednag", description="EDNAG and its rivals on NAS benchmarks, on Ray Tune."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    tables = sub.add_parser("tables", help="import and inspect benchmark tables")
    tsub = tables.add_subparsers(dest="tables_command", required=True)
    imp = tsub.add_parser("import", help="convert a benchmark's source files to a table")
    imp.add_argument("benchmark", help="nb201 or nasbench_graph")
    imp.add_argument("source", help="folder of the shared CSVs or an official .pth file")
    imp.add_argument("--out", required=True, help="output .parquet path")
    imp.set_defaults(func=_dispatch("trainables.tables_cli:import_command"))
    info = tsub.add_parser("info", help="datasets, metrics, fidelities and optima of a table")
    info.add_argument("table", help="a .parquet table, or 'nas-bench-graph' (embedded)")
    info.set_defaults(func=_dispatch("trainables.tables_cli:info_command"))

    run = sub.add_parser("run", help="run an experiment config")
    run.add_argument("config", help="experiment YAML file")
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="KEY=VALUE", help="override a dotted config key (YAML value)")
    run.add_argument("--out", default=None, help="result directory (default: results/<name>)")
    run.add_argument("--resume", action="store_true", help="continue an interrupted run")
    run.set_defaults(func=_dispatch("trainables.run_cli:run_command"))

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
