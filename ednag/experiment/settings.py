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

    def metrics(self) -> list[tuple[str, Any]]:
        """The table columns looked up per architecture: fitness, reported[, time]."""
        refs = [tuple(self.fitness), tuple(self.reported)]
        return refs + ([tuple(self.time)] if self.time is not None else [])

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
        return cls(**data)

    def constants(self) -> dict[str, Any]:
        """The columns that are the same in every row of the run."""
        return {"benchmark": self.benchmark, "dataset": self.dataset,
                "optimizer": self.optimizer, "seed": int(self.seed)}
