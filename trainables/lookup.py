"""The ``lookup`` trainable: a trial that reads its architecture's metrics from the table (and,
in a multi-objective run, reports its objectives, violation and metric columns)."""

from __future__ import annotations

import math
import time
from typing import Any

from ray import tune

from ednag.experiment.settings import RunSettings
from trainables.objectives import objective_result
from trainables.table_actor import get_table_actor, query_actor


def lookup_trainable(config: dict[str, Any], run: dict[str, Any]) -> None:
    """Tune function trainable: the table's metrics for ``config["arch"]``."""
    settings = RunSettings.from_dict(run)
    space = settings.make_space()
    key = space.key(space.from_native(config["arch"]))
    actor = get_table_actor(settings.table, run_id=settings.run_id)
    values = query_actor(actor, [key], settings.dataset, settings.metrics())[0]
    train_time = float(values[2]) if settings.time is not None else None
    sleep_scale = float(settings.extra.get("sleep_scale", 0.0))
    if sleep_scale > 0:
        cost = train_time if train_time is not None and math.isfinite(train_time) else (
            settings.sim_time_per_eval)
        time.sleep(sleep_scale * cost)
    result = {"fitness": float(values[0]), "reported": float(values[1]),
              "train_time_s": train_time, "arch_key": key}
    if settings.objectives:  # the vector the searcher is told and the row's metric columns
        result.update(objective_result(settings, [float(v) for v in values]))
    tune.report(result)
