"""Pareto math for multi-objective search (numpy only, no Ray).

One orientation everywhere: **every objective is maximised** (a minimised metric is negated
before it gets here). A point is a row of an ``(n, m)`` array.

* :func:`non_dominated_ranks` -- front index of every point (0 = non-dominated), with
  constraint handling: feasible points (violation 0) are sorted into fronts first; infeasible
  points come after every feasible one, ranked by their total violation (smaller is better).
* :func:`crowding_distance` -- NSGA-II's crowding distance within one front.
* :func:`hypervolume` -- the exact hypervolume dominated by the points above a reference
  point (a sweep in 2-D, recursive slicing in more dimensions: exact, meant for small fronts).
* :func:`hv_contributions` -- each point's exclusive hypervolume.
* :func:`rank_scores` -- one scalar fitness per point in [0, 1] from (feasibility, front,
  crowding or hypervolume contribution), for algorithms that weight members by a scalar.

>>> import numpy as np
>>> pts = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [1.0, 1.0]])
>>> non_dominated_ranks(pts).tolist()
[0, 0, 0, 1]
>>> hypervolume(pts, ref=[0.0, 0.0])
6.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SCORE_KINDS: tuple[str, ...] = ("crowding", "hv")


@dataclass(frozen=True)
class Evaluation:
    """What a multi-objective optimizer is told about one architecture: its objectives (all
    maximised), the total constraint violation (0 = feasible) and whether it failed (a failed
    evaluation ranks below everything, infeasible ones included)."""

    objectives: tuple[float, ...]
    violation: float = 0.0
    failed: bool = False

    @property
    def feasible(self) -> bool:
        return not self.failed and self.violation <= 0.0


def as_points(points: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """``points`` as a 2-D float array (n, m); a 1-D input is one point."""
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise ValueError(f"points must be an (n, m) array, got shape {arr.shape}")
    return arr


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """``a`` is at least as good as ``b`` everywhere and better somewhere (maximising)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return bool(np.all(a >= b) and np.any(a > b))


def _fronts(points: np.ndarray) -> np.ndarray:
    """Front index of every point (fast non-dominated sort, O(n^2 m))."""
    n = points.shape[0]
    ranks = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return ranks
    ge = np.all(points[:, None, :] >= points[None, :, :], axis=2)
    gt = np.any(points[:, None, :] > points[None, :, :], axis=2)
    dom = ge & gt  # dom[i, j]: i dominates j
    count = dom.sum(axis=0)  # how many dominate j
    front = np.flatnonzero(count == 0)
    level = 0
    while front.size:
        ranks[front] = level
        count = count - dom[front].sum(axis=0)
        count[ranks >= 0] = -1
        front = np.flatnonzero(count == 0)
        level += 1
    return ranks


def non_dominated_ranks(
    points: Sequence[Sequence[float]] | np.ndarray,
    violation: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """Front index of every point, 0 = best. With ``violation`` (>= 0 per point; ``inf`` for
    a failed evaluation), infeasible points rank after every feasible front: one further rank
    per distinct violation value, the smallest first."""
    pts = as_points(points)
    n = pts.shape[0]
    if violation is None:
        return _fronts(pts)
    viol = np.asarray(violation, dtype=np.float64).reshape(-1)
    if viol.shape != (n,):
        raise ValueError(f"violation has {viol.size} values for {n} points")
    viol = np.where(np.isnan(viol), np.inf, viol)
    feasible = viol <= 0
    ranks = np.empty(n, dtype=np.int64)
    ranks[feasible] = _fronts(pts[feasible])
    start = int(ranks[feasible].max()) + 1 if feasible.any() else 0
    if (~feasible).any():
        levels = np.unique(viol[~feasible])
        ranks[~feasible] = start + np.searchsorted(levels, viol[~feasible])
    return ranks


def crowding_distance(points: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of the points of one front: the boundary points of every
    objective get ``inf``; the others the sum over objectives of the gap between their two
    neighbours divided by the objective's range."""
    pts = as_points(points)
    n, m = pts.shape
    out = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        order = np.argsort(pts[:, j], kind="stable")
        col = pts[order, j]
        span = col[-1] - col[0]
        out[order[0]] = out[order[-1]] = np.inf
        if span > 0:
            out[order[1:-1]] += (col[2:] - col[:-2]) / span
    return out


def pareto_mask(points: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """True for the non-dominated points (duplicates of a non-dominated point all count).
    Memory O(n): usable on a whole table (15,625 rows)."""
    pts = as_points(points)
    n = pts.shape[0]
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    # visit in decreasing sum order: a point can only be dominated by one visited before it
    order = np.lexsort(tuple(-pts[:, j] for j in reversed(range(pts.shape[1]))))
    front: list[int] = []
    for i in order.tolist():
        p = pts[i]
        if front:
            f = pts[front]
            if np.any(np.all(f >= p, axis=1) & np.any(f > p, axis=1)):
                continue
        front.append(i)
    keep[front] = True
    return keep


def hypervolume(points: Sequence[Sequence[float]] | np.ndarray, ref: Sequence[float]) -> float:
    """The volume dominated by ``points`` and bounded below by ``ref`` (maximising). Points
    not strictly above ``ref`` in every objective add nothing."""
    pts = as_points(points)
    ref_arr = np.asarray(ref, dtype=np.float64).reshape(-1)
    if pts.size == 0:
        return 0.0
    if pts.shape[1] != ref_arr.size:
        raise ValueError(f"ref has {ref_arr.size} values for {pts.shape[1]} objectives")
    pts = pts[np.all(pts > ref_arr, axis=1)] - ref_arr  # shift: ref at the origin
    if pts.shape[0] == 0:
        return 0.0
    return float(_hv(pts[pareto_mask(pts)]))


def _hv(pts: np.ndarray) -> float:
    """Hypervolume of positive points against the origin."""
    n, m = pts.shape
    if n == 0:
        return 0.0
    if m == 1:
        return float(pts[:, 0].max())
    if m == 2:  # sweep: sort by x descending, add the new strip of each point
        order = np.argsort(-pts[:, 0], kind="stable")
        total, best_y = 0.0, 0.0
        for x, y in pts[order]:
            if y > best_y:
                total += x * (y - best_y)
                best_y = y
        return total
    # slice along the last objective: between consecutive levels, the (m-1)-D volume of the
    # points that reach at least that level
    order = np.argsort(-pts[:, -1], kind="stable")
    pts = pts[order]
    total = 0.0
    for i in range(n):
        upper = pts[i, -1]
        lower = pts[i + 1, -1] if i + 1 < n else 0.0
        if upper > lower:
            head = pts[: i + 1, :-1]
            total += (upper - lower) * _hv(head[pareto_mask(head)])
    return total


def hv_contributions(
    points: Sequence[Sequence[float]] | np.ndarray, ref: Sequence[float]
) -> np.ndarray:
    """Each point's exclusive hypervolume: ``HV(all) - HV(all but it)`` (0 for a dominated
    point or one of two equal points)."""
    pts = as_points(points)
    total = hypervolume(pts, ref)
    out = np.empty(pts.shape[0])
    for i in range(pts.shape[0]):
        out[i] = total - hypervolume(np.delete(pts, i, axis=0), ref)
    return np.maximum(out, 0.0)


def rank_scores(
    points: Sequence[Sequence[float]] | np.ndarray,
    violation: Sequence[float] | np.ndarray | None = None,
    kind: str = "crowding",
) -> np.ndarray:
    """One scalar fitness per point in [0, 1] (1 = best): points are ordered by front (see
    :func:`non_dominated_ranks`, feasible first), then inside a front by crowding distance
    (``kind="crowding"``) or hypervolume contribution (``kind="hv"``, reference point just
    below the worst value of each objective), larger first; the score is ``1 - position /
    (n - 1)`` with equal (front, tie-break) pairs sharing the better position."""
    if kind not in SCORE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SCORE_KINDS)}, got {kind!r}")
    pts = as_points(points)
    n = pts.shape[0]
    if n == 0:
        return np.zeros(0)
    if n == 1:
        return np.ones(1)
    ranks = non_dominated_ranks(pts, violation)
    tie = np.zeros(n)
    finite = pts[np.all(np.isfinite(pts), axis=1)]
    ref = (finite.min(axis=0) - 1e-9 - 0.1 * np.ptp(finite, axis=0)) if finite.size else None
    for r in np.unique(ranks):
        members = np.flatnonzero(ranks == r)
        front = pts[members]
        if not np.all(np.isfinite(front)):
            continue
        if kind == "crowding":
            tie[members] = crowding_distance(front)
        elif ref is not None and members.size > 1:
            tie[members] = hv_contributions(front, ref)
    order = np.lexsort((-tie, ranks))
    position = np.empty(n)
    prev = None
    for pos, i in enumerate(order.tolist()):
        key = (ranks[i], tie[i])
        position[i] = position[order[pos - 1]] if key == prev else pos
        prev = key
    return 1.0 - position / (n - 1)


def evaluation_arrays(
    evaluations: Sequence[Evaluation], num_objectives: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(points (n, m), violation (n,))`` of evaluations; a failed one gets the lowest finite
    value of each objective minus one and an infinite violation (it ranks last)."""
    n = len(evaluations)
    pts = np.full((n, num_objectives), np.nan)
    viol = np.zeros(n)
    for i, ev in enumerate(evaluations):
        if ev.failed or len(ev.objectives) != num_objectives:
            viol[i] = np.inf
            continue
        pts[i] = ev.objectives
        viol[i] = ev.violation
    bad = ~np.all(np.isfinite(pts), axis=1)
    if bad.any():
        good = pts[~bad]
        low = good.min(axis=0) - 1.0 if good.size else np.zeros(num_objectives)
        pts[bad] = low
        viol[bad] = np.inf
    return pts, viol


@dataclass(frozen=True)
class FrontScale:
    """Normalised hypervolume against a known true front (EvoXBench-style protocol).

    Each objective (maximised) is scaled so the true front spans [0, 1]: 0 at its nadir (the
    worst value on the front), 1 at its ideal. The reference point sits ``margin`` below the
    nadir in every scaled objective; :meth:`normalised_hv` is the hypervolume of a point set
    divided by the true front's (1.0 = the whole true front found).
    """

    ideal: tuple[float, ...]
    nadir: tuple[float, ...]
    margin: float
    true_hv: float

    @classmethod
    def from_points(
        cls, points: Sequence[Sequence[float]] | np.ndarray, margin: float = 0.1
    ) -> FrontScale:
        """The scale of every point a table holds (rows with a NaN are left out)."""
        pts = as_points(points)
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        if pts.shape[0] == 0:
            raise ValueError("no finite points to build a front from")
        front = pts[pareto_mask(pts)]
        ideal, nadir = front.max(axis=0), front.min(axis=0)
        span = np.where(ideal > nadir, ideal - nadir, 1.0)
        scaled = (front - nadir) / span
        true_hv = hypervolume(scaled, np.full(pts.shape[1], -margin))
        return cls(tuple(ideal.tolist()), tuple(nadir.tolist()), float(margin), float(true_hv))

    def _span(self) -> np.ndarray:
        """Each objective's scaling unit: ideal - nadir, or 1 where the front is flat."""
        ideal, nadir = np.asarray(self.ideal), np.asarray(self.nadir)
        return np.where(ideal > nadir, ideal - nadir, 1.0)

    def scale(self, points: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        return (as_points(points) - np.asarray(self.nadir)) / self._span()

    @property
    def reference_point(self) -> tuple[float, ...]:
        """The reference point in the objectives' own (maximised) units (the same span as
        :meth:`scale`, so a flat objective's point lies ``margin`` raw units below)."""
        return tuple((np.asarray(self.nadir) - self.margin * self._span()).tolist())

    def normalised_hv(self, points: Sequence[Sequence[float]] | np.ndarray) -> float:
        pts = as_points(points)
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        if pts.shape[0] == 0:
            return 0.0
        m = len(self.ideal)
        return hypervolume(self.scale(pts), np.full(m, -self.margin)) / self.true_hv


def hv_curve(
    points: Sequence[Sequence[float]] | np.ndarray, scale: FrontScale, budgets: Sequence[int]
) -> list[float]:
    """Normalised hypervolume of the first ``b`` points for each budget ``b`` (points in
    query order; fewer points than ``b``: all of them)."""
    pts = as_points(points)
    return [scale.normalised_hv(pts[: int(b)]) for b in budgets]
