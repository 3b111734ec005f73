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
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from analysis.cli import print_summary
from ednag.experiment.config import ConfigError, load_config
from ednag.experiment.lock import RunLockedError, run_lock
from ednag.experiment.plan import Plan, check_same_config, make_plan
from ednag.experiment.progress import RunProgress
from ednag.results.writer import ResultsWriter
from ednag.tables import TableError
from searchers.factory import make_searcher, searcher_params
from trainables.table_actor import release_table_actors
from trainables.tabular import run_tabular
from trainables.trial_runner import run_trials
from trainables.user_function import load_user_function

JOB_ENV_VARS = ("RAY_JOB_CONFIG_JSON_ENV_VAR", "RAY_JOB_ID")


def check_optimizers(plan: Plan) -> None:
    """Build every searcher once (cheap, no Ray workers) so bad parameters fail early."""
    config = plan.config
    max_queries = plan.settings[0].max_queries if plan.settings else None
    for name, params in config.optimizers.items():
        try:
            make_searcher(name, plan.space, seed=0, max_queries=max_queries, metric="fitness",
                          mode="max", **params)
        except (TypeError, ValueError) as err:
            try:
                allowed = searcher_params(name)
            except Exception:  # noqa: BLE001 - only for the message
                allowed = None
            hint = f" (parameters: {', '.join(allowed)})" if allowed else ""
            raise ConfigError(f"optimizers.{name}: {err}{hint}") from None


# ---------------------------------------------------------------------------- Ray
class _DropTokenAuthNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Token authentication is enabled for this")


@contextlib.contextmanager
def _quiet_token_auth_notice() -> Iterator[None]:
    """Ray announces its default (token authentication on) at every local start; a run's
    output is not the place for it (RAY_AUTH_MODE still decides, as Ray documents)."""
    target = logging.getLogger("ray._private.authentication.authentication_token_setup")
    drop = _DropTokenAuthNotice()
    target.addFilter(drop)
    try:
        yield
    finally:
        target.removeFilter(drop)


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
        with _quiet_token_auth_notice():
            ray.init(address="local", include_dashboard=False, namespace="ednag", **local,
                     **init_kwargs)
    try:
        yield ray
    finally:
        ray.shutdown()


# ---------------------------------------------------------------------------- summary
def print_results(out_dir: Path) -> None:
    """The comparison table of the finished runs."""
    print_summary(out_dir, budgets=None)


# ---------------------------------------------------------------------------- entry point
def run_experiment(
    config_path: str | os.PathLike,
    overrides: list[str] | None = None,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    chunk_rows: int = 2000,
    summary: bool = True,
    checkpoint_seconds: float = 10.0,
) -> tuple[Path, list[str]]:
    """Run an experiment; returns the result directory and the errors of failed runs.
    ``chunk_rows`` and ``checkpoint_seconds`` tune tabular mode's reports and checkpoints."""
    config = load_config(config_path, overrides or [])
    out_dir = Path(out or Path("results") / config.name).resolve()
    with run_lock(out_dir):
        if ResultsWriter(out_dir, {}).has_results() and not resume:
            raise ConfigError(
                f"{out_dir} already holds results; pass --resume to continue that run, or "
                "choose another --out"
            )
        plan = make_plan(config, out_dir, chunk_rows=chunk_rows,
                         checkpoint_seconds=checkpoint_seconds)
        if config.user_trainable:  # importable before any Ray worker starts
            load_user_function(config.trainable, config.search_path)
        check_optimizers(plan)
        check_same_config(out_dir / "state", plan.metadata, resume)
        if plan.metadata["fitness"] == plan.metadata["reported"]:
            print(f"ednag run: warning: fitness and reported are the same metric "
                  f"({'@'.join(str(p) for p in plan.metadata['fitness'] if p is not None)}): "
                  "the optimizers see the values that are reported", file=sys.stderr)
        writer = ResultsWriter(out_dir, plan.metadata)
        todo = [s for s in plan.settings if not writer.is_done(s.optimizer, s.seed)]
        progress = RunProgress(config.max_queries)
        skipped = len(plan.settings) - len(todo)
        if skipped:
            progress.note(f"--resume: {skipped} finished run(s) kept, {len(todo)} to run")
        os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
        os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
        # a checkpoint every few seconds is our choice, not a bottleneck to warn about
        os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
        errors: list[str] = []
        if todo:
            with ray_session(config.ray) as ray:
                cpus = int(ray.cluster_resources().get("CPU", 1))
                storage = out_dir / "state" / "tune"
                try:
                    if config.mode == "tabular":
                        for s in todo:
                            writer.clear_run(s.optimizer, s.seed)
                        errors = run_tabular(todo, writer, progress, storage, cpus,
                                             max_failures=config.max_failures)
                    else:
                        errors = run_trials(todo, writer, progress, storage, cpus,
                                            resume=resume)
                finally:
                    progress.close()
                    release_table_actors(plan.run_id)
    for message in errors:
        print(f"ednag run: failed run {message}", file=sys.stderr)
    if summary and writer.has_results():
        print_results(out_dir)
    return out_dir, errors


def run_command(args: argparse.Namespace) -> int:
    """The ``ednag run`` sub-command (see :mod:`ednag.cli`)."""
    try:
        out_dir, errors = run_experiment(
            args.config, list(args.overrides or []), args.out, bool(args.resume)
        )
    except (ConfigError, TableError, RunLockedError) as err:
        print(f"ednag run: {err}", file=sys.stderr)
        return 2
    print(f"results: {out_dir / 'results'}")
    return 1 if errors else 0
