"""The settings of one run (one optimizer x one seed): plain data shipped to Ray workers.

The driver resolves every registered name into an importable reference (``module:attr``), so a
worker builds the space, the searcher and the trainable without consulting the registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

#: the extra result column of a run whose table has a training-time metric
TIME_COLUMN = "metric.train_time_s"


@dataclass(frozen=True)
class RunSettings:
    """Everything one (optimizer, seed) run needs."""

    benchmark: str
    dataset: str
    table: str
    optimizer: str
    params: dict[str, Any]
    seed: int
    max_queries: int | None
    sim_seconds: float | None
    workers: int
    fitness: tuple[str, Any]
    reported: tuple[str, Any]
    time: tuple[str, Any] | None
    space_ref: str = "ednag.spaces.nb201:space_for"
    optimizer_ref: str = ""
    optimizer_kind: str = "optimizer"
    trainable_ref: str = "trainables.lookup:lookup_trainable"
    run_id: str = ""
    sim_time_per_eval: float = 1.0
    chunk_rows: int = 2000
    chunk_seconds: float = 2.0
    #: tabular mode: the least wall seconds between two checkpoints (0: with every chunk)
    checkpoint_seconds: float = 10.0
    extra: dict[str, Any] = field(default_factory=dict)
    #: multi-objective runs: ((metric, fidelity, "max" | "min"), ...) and
    #: ((metric, fidelity, "<=" | ">=", bound), ...); empty for single-objective runs
    objectives: tuple[tuple[Any, ...], ...] = ()
    constraints: tuple[tuple[Any, ...], ...] = ()

    def metrics(self) -> list[tuple[str, Any]]:
        """The table columns looked up per architecture: fitness, reported[, time], then the
        multi-objective columns (:meth:`extra_metrics`)."""
        refs = [tuple(self.fitness), tuple(self.reported)]
        refs += [tuple(self.time)] if self.time is not None else []
        return refs + self.extra_metrics()

    def extra_metrics(self) -> list[tuple[str, Any]]:
        """The distinct (metric, fidelity) of the objectives and constraints, in order."""
        out: list[tuple[str, Any]] = []
        for ref in [(o[0], o[1]) for o in self.objectives] + [
            (c[0], c[1]) for c in self.constraints
        ]:
            if ref not in out:
                out.append(ref)
        return out

    def make_space(self) -> Any:
        """The run's search space (from its reference: no registry lookup)."""
        if self.extra.get("param_space") is not None:  # a user trainable's own space
            from ednag.spaces.param_spec import space_from_spec

            return space_from_spec(self.extra["param_space"])[0]
        from ednag.registry import Ref

        return Ref.parse(self.space_ref).load()(self.dataset)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSettings:
        data = dict(data)
        for key in ("fitness", "reported", "time"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        for key in ("objectives", "constraints"):
            data[key] = tuple(tuple(item) for item in data.get(key) or ())
        return cls(**data)

    def constants(self) -> dict[str, Any]:
        """The columns that are the same in every row of the run."""
        return {"benchmark": self.benchmark, "dataset": self.dataset,
                "optimizer": self.optimizer, "seed": int(self.seed)}


def metric_column(metric: str, fidelity: Any) -> str:
    """The result column of a multi-objective metric: ``metric.<metric>[@<fidelity>]``."""
    return f"metric.{metric}" if fidelity is None else f"metric.{metric}@{fidelity}"


#: the result column of a multi-objective run's total constraint violation (0 = feasible)
VIOLATION_COLUMN = "metric.violation"


def objective_vector(settings: RunSettings, values: list[float]) -> tuple[list[float], float]:
    """(objectives maximised, total violation) of one architecture from its looked-up values
    (``settings.metrics()`` order). A violation is the summed distance beyond the bounds."""
    base = 3 if settings.time is not None else 2
    refs = settings.extra_metrics()
    value = {ref: values[base + i] for i, ref in enumerate(refs)}
    objs = [value[(m, f)] * (1.0 if mode == "max" else -1.0) for m, f, mode in settings.objectives]
    violation = 0.0
    for m, f, op, bound in settings.constraints:
        v = value[(m, f)]
        if v != v:  # NaN: unknown, so not satisfied
            return objs, float("inf")
        violation += max(0.0, v - bound) if op == "<=" else max(0.0, bound - v)
    return objs, violation


def objective_columns(settings: RunSettings, values: list[float]) -> dict[str, float]:
    """The extra row columns of one evaluation of a multi-objective run: ``metric.<name>`` per
    objective / constraint metric (as measured) and ``metric.violation``, from the values in
    ``settings.metrics()`` order."""
    base = 3 if settings.time is not None else 2
    out = {metric_column(m, f): float(values[base + i])
           for i, (m, f) in enumerate(settings.extra_metrics())}
    out[VIOLATION_COLUMN] = objective_vector(settings, values)[1]
    return out
