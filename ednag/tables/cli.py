"""``ednag tables import`` and ``ednag tables info``."""

from __future__ import annotations

import argparse
import math
import sys
import time

from ednag.tables import Table, TableError, load_table


def import_command(args: argparse.Namespace) -> int:
    """Convert a benchmark's source files (``args.source``) into a table at ``args.out``."""
    from ednag.tables import import_table

    try:
        start = time.perf_counter()
        table = import_table(args.benchmark, args.source)
        path = table.save(args.out)
    except TableError as err:
        print(f"ednag tables import: {err}", file=sys.stderr)
        return 2
    print(
        f"wrote {path}: {table.benchmark}, {len(table)} architectures, "
        f"{len(table.column_names)} value columns, datasets {', '.join(table.datasets)} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return 0


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.4g}" if abs(value) < 1 else f"{value:.2f}"


def _fid(fidelity) -> str:
    return "-" if fidelity is None else str(fidelity)


def describe(table: Table) -> list[tuple[str, str, str, int, str, str]]:
    """One row per (dataset, metric, fidelity): count, best value (max; min for latency,
    time and size metrics) and its architecture."""
    rows = []
    for ds in table.datasets:
        for metric in table.metrics(ds):
            mode = ("min" if metric.startswith(("latency", "train_time", "params", "flops"))
                    else "max")
            for fid in table.fidelities(ds, metric):
                count = table.count(ds, metric, fid)
                if count:
                    arch, value = table.best(ds, metric, fid, mode=mode)
                    best = f"{_fmt(value)} ({mode})"
                else:
                    arch, best = "-", "-"
                rows.append((ds, metric, _fid(fid), count, best, arch))
    return rows


def info_command(args: argparse.Namespace) -> int:
    """Print a table's datasets, metrics, fidelities, row counts and optima."""
    from rich.console import Console
    from rich.table import Table as RichTable

    try:
        table = load_table(args.table)
    except TableError as err:
        print(f"ednag tables info: {err}", file=sys.stderr)
        return 2
    console = Console(width=None if sys.stdout.isatty() else 140)
    console.print(
        f"[bold]{table.benchmark}[/bold] (space {table.space}): {len(table)} architectures, "
        f"datasets {', '.join(table.datasets)}"
    )
    if table.source:
        console.print(f"source: {table.source}")
    for ds in table.datasets:
        roles = ", ".join(
            f"{role}={'none' if ref is None else ref[0] + ('' if ref[1] is None else f'@{ref[1]}')}"
            for role, ref in table.defaults(ds).items()
        )
        console.print(f"  {ds}: {roles}")
    out = RichTable(show_lines=False)
    for name in ("dataset", "metric", "fidelity", "rows", "best", "architecture"):
        out.add_column(name, overflow="fold")
    for ds, metric, fid, count, best, arch in describe(table):
        out.add_row(ds, metric, fid, str(count), best, arch)
    console.print(out)
    return 0
