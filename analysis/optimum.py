"""The reported metric's name and optimum, from the run config or given by the caller.

The run config (file metadata ``ednag.config``) may describe them in any of these forms::

    {"optimum": 94.37}
    {"optimum": {"value": 94.37, "arch": "|nor_conv_3x3~0|+|...", "metric": "test_accuracy"}}
    {"optimum": {"reported": 94.37, "arch_key": "..."}}
    {"reported": "test_accuracy"}  or  {"reported": ["test_accuracy", 200]}
    {"reported_metric": "test_accuracy"}  or  {"metrics": {"reported": ...}}

Without an optimum in the metadata and none given, the best reported value seen in the
results stands in for it, and the report says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from analysis.errors import ResultsError
from analysis.load import ResultSet
from ednag.results.optimum import OPTIMUM_TOLERANCE  # noqa: F401 - re-exported


@dataclass(frozen=True)
class Optimum:
    """The optimum of the reported metric: its value, its architecture when known, and where
    it came from (``"run config"``, ``"given"`` or ``"best seen"``)."""

    value: float
    arch: str | None
    source: str
    #: the table's best fitness (run config ``optimum_fitness``): "found the optimum" is
    #: reaching it (:func:`ednag.results.optimum.found_optimum`); without it (results of other
    #: tools, your own trainable) the reported optimum above decides
    fitness: float | None = None

    @property
    def note(self) -> str:
        arch = f" (architecture {self.arch})" if self.arch else ""
        if self.source == "best seen":
            return (
                f"the optimum of the reported metric is not in the result metadata: the best "
                f"reported value seen in these results, {self.value:g}, stands in for it, so "
                "regret and 'found' are relative to it"
            )
        found = ("; 'found the optimum' = the incumbent has the table's best fitness "
                 f"{self.fitness:g}") if self.fitness is not None else ""
        return (f"optimum of the reported metric: {self.value:g}{arch}, from the "
                f"{self.source}{found}")


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ResultsError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def _config_optimum(config: dict[str, Any]) -> tuple[float | None, str | None]:
    raw = config.get("optimum")
    if raw is None:
        return None, None
    if isinstance(raw, dict):
        value = raw.get("value", raw.get("reported"))
        arch = raw.get("arch_key", raw.get("arch"))
        return _number(value, "run config 'optimum.value'"), (str(arch) if arch else None)
    return _number(raw, "run config 'optimum'"), None


def _config_fitness_optimum(results: ResultSet) -> float | None:
    values = set()
    for config in results.configs.values():
        raw = config.get("optimum_fitness")
        if isinstance(raw, dict) and raw.get("value") is not None:
            values.add(_number(raw["value"], "run config 'optimum_fitness.value'"))
    if len(values) > 1:
        raise ResultsError(f"the result directories disagree on the best fitness: "
                           f"{sorted(values)}")
    return values.pop() if values else None


def resolve_optimum(
    results: ResultSet, value: float | None = None, arch: str | None = None
) -> Optimum:
    """The optimum to measure regret and hits against (given > run config > best seen), with
    the table's best fitness when the run config has it."""
    from dataclasses import replace

    optimum = _resolve_reported_optimum(results, value, arch)
    return replace(optimum, fitness=_config_fitness_optimum(results))


def _resolve_reported_optimum(
    results: ResultSet, value: float | None, arch: str | None
) -> Optimum:
    if value is not None:
        return Optimum(float(_number(value, "optimum")), arch, "given")  # type: ignore[arg-type]
    found: dict[tuple[float | None, str | None], list[str]] = {}
    for label, config in results.configs.items():
        opt = _config_optimum(config)
        if opt != (None, None):
            found.setdefault(opt, []).append(label)
    if len(found) > 1:
        listing = "; ".join(f"{v} in {', '.join(srcs)}" for v, srcs in found.items())
        raise ResultsError(f"the result directories disagree on the optimum: {listing}")
    if found:
        (cfg_value, cfg_arch), _ = next(iter(found.items()))
        if cfg_value is not None:
            return Optimum(cfg_value, arch or cfg_arch, "run config")
        arch = arch or cfg_arch
    reported = results.frame["reported"]
    if arch is not None:
        hit = (results.frame["arch_key"] == arch) | (results.frame["arch"] == arch)
        if hit.any():
            return Optimum(float(reported[hit].max()), arch, "run config")
    best = reported.max()
    if not math.isfinite(best):
        raise ResultsError("no finite 'reported' value in the results: nothing to compare")
    return Optimum(float(best), None, "best seen")


def reported_name(results: ResultSet) -> str:
    """The reported metric's name from the run config, else ``"reported metric"`` (``-name``
    for a minimised metric, which the analysis shows negated)."""
    from analysis.load import minimised

    name = _reported_name(results)
    return f"-{name}" if minimised(results.configs) else name


def _reported_name(results: ResultSet) -> str:
    for config in results.configs.values():
        optimum = config.get("optimum")
        holders = [
            (config, ("reported", "reported_metric")),
            (config.get("metrics"), ("reported",)),
            (optimum, ("metric",)),
        ]
        for holder, keys in holders:
            if not isinstance(holder, dict):
                continue
            for key in keys:
                raw = holder.get(key)
                if isinstance(raw, dict):
                    raw = raw.get("metric", raw.get("name"))
                if isinstance(raw, (list, tuple)) and raw:
                    raw = raw[0]
                if isinstance(raw, str) and raw:
                    return raw
    return "reported metric"


def reported_label(results: ResultSet) -> str:
    """An axis label with units, e.g. ``"test accuracy (%)"``."""
    raw = reported_name(results)
    sign = "-" if raw.startswith("-") else ""  # a minimised metric, negated: say so
    name = raw.lstrip("-").replace("_", " ").replace("-", " ").strip()
    if name.startswith("test acc") or name == "test":
        name = "test accuracy"
    top = results.frame["reported"].max()
    if "acc" in name and math.isfinite(top) and 1.0 < top <= 100.0:
        return f"{sign}{name} (%)"
    return f"{sign}{name}"
