"""``ednag run CONFIG.yaml [--set key=value ...] [--out DIR] [--resume]``.

1. Load and validate the config, load the table in the driver, check the dataset, the metrics and
   every optimizer's parameters (by building each searcher once) -- all before Ray starts.
2. Start (or join) Ray, run every (optimizer, seed) not yet done, in tabular or trial mode; rows
   go to ``DIR/results/`` as they arrive.
3. Print the comparison table.

``--resume`` skips finished runs (their done-markers) and redoes partial ones from scratch
(tabular mode; deterministic, so the final rows equal an uninterrupted run's) or continues them
with ``Tuner.restore`` (trial mode).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainables.experiment_config import (
    ConfigError,
    ExperimentConfig,
    config_summary,
    load_config,
)
from trainables.tabular import RunSettings

JOB_ENV_VARS = ("RAY_JOB_CONFIG_JSON_ENV_VAR", "RAY_JOB_ID")


@dataclass(frozen=True)
class Plan:
    """A validated experiment ready to run."""

    config: ExperimentConfig
    out_dir: Path
    table_spec: str  # what the BenchmarkTable actor loads
    metadata: dict[str, Any]  # the run config stored in every Parquet file
    settings: list[RunSettings]


# ---------------------------------------------------------------------------- planning
def _load_driver_table(config: ExperimentConfig, state_dir: Path) -> tuple[Any, str]:
    """The table (for validation and the optimum) and the spec the actor will load.

    A NAS-Bench-201 folder is imported in memory; the actor gets a Parquet copy of it in
    ``DIR/state/`` (the actor loads tables from files or embedded names).
    """
    from trainables.table import TableError, load_table

    spec = config.table
    if Path(spec).is_dir():
        from trainables.importers import import_table

        try:
            table = import_table(config.benchmark, spec)
        except TableError as err:
            raise ConfigError(f"table: {err}") from None
        digest = hashlib.sha1(spec.encode()).hexdigest()[:10]
        copy = state_dir / f"table-{config.benchmark}-{digest}.parquet"
        if not copy.is_file():
            table.save(copy)
        return table, str(copy)
    try:
        return load_table(spec), spec
    except TableError as err:
        raise ConfigError(f"table: {err}") from None


def _metric(table: Any, config: ExperimentConfig, role: str) -> tuple[str, Any] | None:
    from trainables.table import TableError

    given = getattr(config, role) if role != "time" else None
    ref = given or table.defaults(config.dataset)[role]
    if ref is None:
        return None
    try:
        table.column_index(config.dataset, ref[0], ref[1])
    except TableError as err:
        raise ConfigError(f"{role}: {err}") from None
    return (ref[0], ref[1])


def check_optimizers(config: ExperimentConfig, space: Any, max_queries: int) -> None:
    """Build every searcher once (cheap, no Ray workers) so bad parameters fail early."""
    from searchers.registry import make_searcher, searcher_params

    for name, params in config.optimizers.items():
        try:
            make_searcher(name, space, seed=0, max_queries=max_queries, metric="fitness",
                          mode="max", **params)
        except (TypeError, ValueError) as err:
            try:
                allowed = searcher_params(name)
            except Exception:  # noqa: BLE001 - only for the message
                allowed = None
            hint = f" (parameters: {', '.join(allowed)})" if allowed else ""
            raise ConfigError(f"optimizers.{name}: {err}{hint}") from None


def make_plan(config: ExperimentConfig, out_dir: Path, chunk_rows: int = 2000) -> Plan:
    """Validate ``config`` against its table and optimizers; build the run settings."""
    from ednag.spaces import SpaceError, make_space
    from trainables.table import TableError

    state_dir = out_dir / "state"
    state_dir.mkdir(parents=True, exist_ok=True)
    table, actor_spec = _load_driver_table(config, state_dir)
    if table.benchmark != config.benchmark:
        raise ConfigError(
            f"benchmark: the table {config.table!r} holds {table.benchmark!r}, but the config "
            f"says {config.benchmark!r}"
        )
    try:
        table.metrics(config.dataset)
    except TableError as err:
        raise ConfigError(f"dataset: {err}") from None
    fitness = _metric(table, config, "fitness")
    reported = _metric(table, config, "reported")
    time_ref = _metric(table, config, "time")
    try:
        space = make_space(config.benchmark, config.dataset)
    except SpaceError as err:
        raise ConfigError(f"dataset: {err}") from None
    max_queries = config.max_queries or len(table)
    check_optimizers(config, space, max_queries)
    best_arch, best_value = table.best(config.dataset, *reported)
    best_fit_arch, best_fit = table.best(config.dataset, *fitness)
    metadata = config_summary(config)
    metadata.update(
        fitness=list(fitness), reported=list(reported),
        time=None if time_ref is None else list(time_ref),
        table_source=table.source,
        optimum={"value": best_value, "arch": best_arch, "metric": reported[0],
                 "fidelity": reported[1]},
        optimum_fitness={"value": best_fit, "arch": best_fit_arch, "metric": fitness[0],
                         "fidelity": fitness[1]},
    )
    settings = [
        RunSettings(
            benchmark=config.benchmark, dataset=config.dataset, table=actor_spec,
            optimizer=name, params=dict(config.optimizers[name]), seed=seed,
            max_queries=max_queries, sim_seconds=config.sim_seconds, workers=config.workers,
            fitness=fitness, reported=reported, time=time_ref,
            sim_time_per_eval=config.sim_time_per_eval, chunk_rows=chunk_rows,
            extra={"sleep_scale": config.sleep_scale, "max_failures": config.max_failures},
        )
        for name, seed in config.runs
    ]
    return Plan(config, out_dir, actor_spec, metadata, settings)


def _check_same_config(state_dir: Path, metadata: dict[str, Any], resume: bool) -> None:
    """Store the config on the first start; a resume must use the same one."""
    path = state_dir / "config.json"
    current = json.loads(json.dumps(metadata))
    if path.is_file():
        previous = json.loads(path.read_text())
        if resume and previous != current:
            keys = sorted(k for k in set(previous) | set(current)
                          if previous.get(k) != current.get(k))
            raise ConfigError(
                f"--resume: {state_dir.parent} was started with a different config (differs "
                f"in: {', '.join(keys)}); use the same config and --set values, or another --out"
            )
    path.write_text(json.dumps(current, indent=1, sort_keys=True))


# ---------------------------------------------------------------------------- Ray
@contextlib.contextmanager
def ray_session(options: dict[str, Any]) -> Iterator[Any]:
    """Join Ray if it is up, a cluster the config names, or the cluster of a ``ray job
    submit``; else start a local Ray (a stale ``RAY_ADDRESS`` is ignored) and stop it after."""
    import ray

    if ray.is_initialized():
        yield ray
        return
    init_kwargs: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    address = options.get("address")
    if address:
        ray.init(address=address, **init_kwargs)
    elif any(os.environ.get(v) for v in JOB_ENV_VARS):
        ray.init(address="auto", **init_kwargs)
    else:
        os.environ.pop("RAY_ADDRESS", None)
        local = {k: options[k] for k in ("num_cpus", "num_gpus", "object_store_memory")
                 if k in options}
        ray.init(address="local", include_dashboard=False, namespace="ednag", **local,
                 **init_kwargs)
    try:
        yield ray
    finally:
        ray.shutdown()


# ---------------------------------------------------------------------------- summary
def print_results(out_dir: Path) -> None:
    """The comparison table (analysis package) or a plain pandas summary."""
    try:
        from analysis.cli import print_summary
    except ImportError:
        print_summary = None
    if print_summary is not None:
        print_summary(out_dir, budgets=None)
        return
    import pandas as pd

    frame = pd.read_parquet(out_dir / "results")
    frame = frame[~frame["repeat"]]
    per_run = frame.groupby(["optimizer", "seed"], observed=True).agg(
        queries=("query_index", "max"), best_fitness=("fitness", "max"))
    idx = frame.groupby(["optimizer", "seed"], observed=True)["fitness"].idxmax()
    per_run["reported_of_best"] = frame.loc[idx, "reported"].to_numpy()
    table = per_run.groupby("optimizer", observed=True).agg(
        runs=("queries", "size"), queries=("queries", "mean"),
        best_fitness=("best_fitness", "mean"), reported=("reported_of_best", "mean"),
        reported_std=("reported_of_best", "std"))
    with pd.option_context("display.width", 120):
        print(table.round(4).to_string())


# ---------------------------------------------------------------------------- entry point
def run_experiment(
    config_path: str | os.PathLike,
    overrides: list[str] | None = None,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    chunk_rows: int = 2000,
    summary: bool = True,
) -> tuple[Path, list[str]]:
    """Run an experiment; returns the result directory and the errors of failed runs."""
    from trainables.progress import RunProgress
    from trainables.results_writer import ResultsWriter

    config = load_config(config_path, overrides or [])
    out_dir = Path(out or Path("results") / config.name).resolve()
    writer_probe = ResultsWriter(out_dir, {})
    if writer_probe.has_results() and not resume:
        raise ConfigError(
            f"{out_dir} already holds results; pass --resume to continue that run, or choose "
            "another --out"
        )
    plan = make_plan(config, out_dir, chunk_rows=chunk_rows)
    _check_same_config(out_dir / "state", plan.metadata, resume)
    writer = ResultsWriter(out_dir, plan.metadata)
    todo = [s for s in plan.settings if not writer.is_done(s.optimizer, s.seed)]
    progress = RunProgress(config.max_queries)
    skipped = len(plan.settings) - len(todo)
    if skipped:
        progress.note(f"--resume: {skipped} finished run(s) kept, {len(todo)} to run")
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    errors: list[str] = []
    if todo:
        with ray_session(config.ray) as ray:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            storage = out_dir / "state" / "tune"
            try:
                if config.mode == "tabular":
                    from trainables.tabular import run_tabular

                    for s in todo:
                        writer.clear_run(s.optimizer, s.seed)
                    errors = run_tabular(todo, writer, progress, storage, cpus)
                else:
                    from trainables.trial_mode import run_trials

                    errors = run_trials(todo, writer, progress, storage, cpus, resume=resume)
            finally:
                progress.close()
    for message in errors:
        print(f"ednag run: failed run {message}", file=sys.stderr)
    if summary and writer.has_results():
        print_results(out_dir)
    return out_dir, errors


def run_command(args: argparse.Namespace) -> int:
    """The ``ednag run`` sub-command (see :mod:`ednag.cli`)."""
    from trainables.table import TableError

    try:
        out_dir, errors = run_experiment(
            args.config, list(args.overrides or []), args.out, bool(args.resume)
        )
    except (ConfigError, TableError) as err:
        print(f"ednag run: {err}", file=sys.stderr)
        return 2
    print(f"results: {out_dir / 'results'}")
    return 1 if errors else 0
