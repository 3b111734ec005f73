"""Optuna's independent multi-objective TPE on a categorical space, computed from counts.

With a finite space every repeat of an architecture is one more Optuna trial, so a long
``mo_tpe`` run holds tens of thousands of trials, most of them copies. Optuna's sampler reads
every trial at each ask and evaluates each candidate under one kernel per trial, so an ask costs
time in proportion to the study and a run in proportion to its square: NAS-Bench-Macro seed 0
needed 10 minutes to go from 225 to 250 queries.

Here the same ask is computed from arrays that grow by one row per finished trial:

- :class:`TrialTable` reads each finished trial once (state, objectives, violation, choices);
- :func:`split` is Optuna's ``_split_trials`` (non-domination rank, the hypervolume tie-break,
  then pruned and infeasible trials) computed on the distinct objective vectors, whose ranks and
  tie-breaks are kept until a new vector appears;
- :class:`CategoricalParzen` is Optuna's Parzen estimator of one categorical decision: every
  kernel on the same choice is the same distribution, so the mixture is a sum over the choices
  (plus the prior), weighted by the total weight of the kernels on each choice;
- those totals come from counts: the good set's directly, the bad set's (every other trial,
  weighted by Optuna's ``default_weights``, a ramp by position) from per-row running counts
  and the good rows alone (:func:`bad_set_weights`), so an ask costs the good set's size
  (a tenth of the trials, Optuna's gamma with several objectives) rather than the study's.

Candidates are drawn exactly as Optuna draws them (the same kernel weights, the same calls to
the random state). The mixture's log density is Optuna's up to rounding (summed per choice
instead of per kernel), and where that rounding could change Optuna's choice (two choices'
acquisitions within :data:`TIE_TOLERANCE`) the caller asks Optuna's own estimators, so the
proposals are Optuna's. Pure numpy apart from Optuna's own non-domination rank and
hypervolume subset selection, which are called on the distinct vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: state codes in :class:`TrialTable`
COMPLETE, PRUNED = 0, 1

#: :class:`TrialTable`'s per-row arrays, moved together when a row is inserted
_COLUMNS = ("_numbers", "_states", "_violations", "_choices", "_cumulative", "_groups")


def _doubled(array: np.ndarray) -> np.ndarray:
    """``array`` in a zeroed array twice as long (at least 64 rows), for growing by doubling."""
    grown = np.zeros((max(64, 2 * len(array)), *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def _filled(name: str, doc: str) -> property:
    """A read-only view of the filled rows of the per-row array ``name``."""
    return property(lambda table: getattr(table, name)[: table.size], doc=doc)


class TrialTable:
    """Finished (complete or pruned) trials of a study, one row each, in trial-number order,
    in arrays that grow by doubling.

    ``groups`` numbers the distinct objective vectors of complete trials (-1 for pruned ones);
    ``vectors[g]`` is vector ``g``, ``first_rows[g]`` the first row of a feasible trial with it
    (-1 while none has it). Every (decision, choice) pair is one "cell" (:attr:`offsets`): per
    row, how many rows up to it hold each cell, and the sum of the rows holding each cell, so
    that totals over a set of rows need only the rows outside it (:meth:`bad_set_totals`)."""

    def __init__(self, num_choices: Sequence[int], num_objectives: int) -> None:
        self.num_choices = [int(k) for k in num_choices]
        self.num_decisions = len(self.num_choices)
        self.num_objectives = num_objectives
        #: where each decision's cells start
        self.offsets = np.concatenate([[0], np.cumsum(self.num_choices)]).astype(np.int64)
        self.size = 0
        self._numbers = np.zeros(64, dtype=np.int64)
        self._states = np.zeros(64, dtype=np.int8)
        self._violations = np.zeros(64, dtype=float)
        self._choices = np.zeros((64, self.num_decisions), dtype=np.int64)
        self._cumulative = np.zeros((64, int(self.offsets[-1])), dtype=np.int32)
        self._row_sums = np.zeros(int(self.offsets[-1]), dtype=np.int64)
        self._groups = np.zeros(64, dtype=np.int64)
        self.inserts = 0  # trials added out of order (each moved the later rows)
        # rows of complete feasible, pruned feasible and infeasible trials, and their counts
        self._kinds = [np.zeros(64, dtype=np.int64) for _ in range(3)]
        self._kind_sizes = [0, 0, 0]
        self.vectors: list[tuple[float, ...]] = []
        self.first_rows = np.zeros(0, dtype=np.int64)
        self.num_feasible_vectors = 0
        self._group_of: dict[tuple[float, ...], int] = {}

    def __len__(self) -> int:
        return self.size

    def add(self, number: int, state: int, violation: float, choices: Sequence[int],
            values: Sequence[float] | None) -> None:
        """One finished trial (``values`` for a complete one), in its place by number."""
        group = -1
        if state == COMPLETE:
            vector = tuple(float(v) for v in (() if values is None else values))
            if len(vector) != self.num_objectives:
                raise ValueError(f"trial {number} has {len(vector)} values, expected "
                                 f"{self.num_objectives}")
            group = self._group_of.setdefault(vector, len(self.vectors))
            if group == len(self.vectors):
                self.vectors.append(vector)
                self.first_rows = np.append(self.first_rows, -1)
        if self.size == len(self._numbers):
            for name in _COLUMNS:
                setattr(self, name, _doubled(getattr(self, name)))
        at = self.size
        if at and number <= self._numbers[at - 1]:  # finished after a later trial
            at = int(np.searchsorted(self._numbers[: self.size], number))
            if self._numbers[at] == number:
                raise ValueError(f"trial {number} added twice")
            for name in _COLUMNS:
                column = getattr(self, name)
                column[at + 1: self.size + 1] = column[at: self.size].copy()
            self.first_rows[self.first_rows >= at] += 1
            inserted = True
        else:
            inserted = False
        if group >= 0 and violation <= 0:
            if self.first_rows[group] < 0:
                self.num_feasible_vectors += 1
                self.first_rows[group] = at
            else:
                self.first_rows[group] = min(int(self.first_rows[group]), at)
        self._numbers[at] = number
        self._states[at] = state
        self._violations[at] = violation
        self._choices[at] = choices
        self._groups[at] = group
        self.size += 1
        if inserted:  # every later row moved: count again
            self.inserts += 1
            self._recount()
        else:
            kind = 2 if violation > 0 else 0 if state == COMPLETE else 1
            if self._kind_sizes[kind] == self._kinds[kind].size:
                self._kinds[kind] = _doubled(self._kinds[kind])
            self._kinds[kind][self._kind_sizes[kind]] = at
            self._kind_sizes[kind] += 1
            cells = self.offsets[:-1] + np.asarray(choices, dtype=np.int64)
            self._cumulative[at] = self._cumulative[at - 1] if at else 0
            self._cumulative[at, cells] += 1
            self._row_sums[cells] += at

    def _recount(self) -> None:
        infeasible = self.violations > 0
        self._kinds = [np.flatnonzero(mask) for mask in (
            (self.states == COMPLETE) & ~infeasible, (self.states == PRUNED) & ~infeasible,
            infeasible)]
        self._kind_sizes = [rows.size for rows in self._kinds]
        cells = self.choices + self.offsets[:-1]
        hot = np.zeros((self.size, int(self.offsets[-1])), dtype=np.int32)
        np.put_along_axis(hot, cells, 1, axis=1)
        self._cumulative[: self.size] = np.cumsum(hot, axis=0)
        self._row_sums[:] = np.arange(self.size) @ hot

    numbers = _filled("_numbers", "Each row's trial number.")
    states = _filled("_states", "Each row's state code (:data:`COMPLETE` or :data:`PRUNED`).")
    violations = _filled("_violations", "Each row's constraint violation (> 0 infeasible).")
    choices = _filled("_choices", "Each row's choice indices, one per decision.")
    groups = _filled("_groups", "Each row's objective vector number (-1 when pruned).")

    def kinds(self) -> list[np.ndarray]:
        """The rows of complete feasible, pruned feasible and infeasible trials, in order."""
        return [rows[:n] for rows, n in zip(self._kinds, self._kind_sizes, strict=True)]

    def cells(self, rows: np.ndarray) -> np.ndarray:
        """The cell of each decision of each row in ``rows`` (rows x decisions)."""
        return self._choices[rows] + self.offsets[:-1]

    def split_totals(self, totals: np.ndarray) -> list[np.ndarray]:
        """Per-cell totals as one array per decision."""
        return [totals[a:b] for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True)]

    def bad_set_totals(self, good: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For the rows not in ``good`` (sorted), taken in order with positions 0, 1, ...:
        per cell, how many hold it and the sum of their positions, and the rows last in that
        order (up to 25, Optuna's ``default_weights`` flat part); then how many good rows
        hold each cell. Costs the size of ``good``, not of the table: a row's position is its
        row index less the good rows before it."""
        cells = self.cells(good)
        k = int(self.offsets[-1])
        n_good = good.size
        counts_good = np.bincount(cells.ravel(), minlength=k)
        rows_good = np.bincount(cells.ravel(), weights=np.repeat(good, cells.shape[1]),
                                minlength=k)
        # sum over good rows g of how many good rows up to g hold the cell
        within = np.bincount(cells.ravel(), minlength=k,
                             weights=np.repeat(n_good - np.arange(n_good), cells.shape[1]))
        all_counts = (self._cumulative[self.size - 1].astype(np.int64) if self.size
                      else np.zeros(k, dtype=np.int64))
        up_to_good = self._cumulative[good].sum(axis=0, dtype=np.int64)
        counts = all_counts - counts_good
        # positions: row index less the good rows before it, summed over the bad rows
        good_before = (n_good * counts - (up_to_good - within)).astype(np.int64) if n_good \
            else np.zeros(k, dtype=np.int64)
        positions = (self._row_sums - rows_good.astype(np.int64)) - good_before
        return counts, positions, self._last_bad_rows(good, 25), counts_good

    def _last_bad_rows(self, good: np.ndarray, count: int) -> np.ndarray:
        """The last ``count`` rows not in ``good`` (fewer if the table has fewer)."""
        lo = max(0, self.size - count)
        while lo > 0 and (self.size - lo) - (good.size - np.searchsorted(good, lo)) < count:
            lo = max(0, lo - count)
        tail = np.arange(lo, self.size)
        tail = tail[~np.isin(tail, good[np.searchsorted(good, lo):])]
        return tail[-count:] if count else tail[:0]


@dataclass
class RankCache:
    """Non-domination ranks of the distinct vectors, of each complete feasible row and how
    many rows each rank holds, and the last hypervolume tie-break, kept while the vectors stay
    the same."""

    key: tuple[int, int, int] = (-1, -1, -1)  # (vectors, feasible ones, table inserts) ranked
    ranks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    row_ranks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    rank_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    tie_key: tuple | None = None
    tie_groups: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def split(table: TrialTable, signs: np.ndarray, n_below: int, cache: RankCache,
          rank: Callable[[np.ndarray], np.ndarray],
          hssp: Callable[[np.ndarray, np.ndarray, int, np.ndarray], np.ndarray],
          reference_point: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the good and the bad set, each in trial-number order: Optuna's ``_split_trials``
    without running trials. ``signs`` turn values into losses (-1 for a maximised objective);
    ``rank``, ``hssp`` and ``reference_point`` are Optuna's non-domination rank, hypervolume
    subset selection and reference point."""
    complete, pruned, infeasible = table.kinds()
    below = _split_complete(table, complete, signs, min(n_below, complete.size), cache, rank,
                            hssp, reference_point)
    n_below = max(0, n_below - below.size)
    parts = [below]
    if n_below and pruned.size:  # no intermediate values: all pruned trials tie
        parts.append(pruned[:n_below])
        n_below = max(0, n_below - parts[-1].size)
    if n_below and infeasible.size:
        order = np.argsort(table.violations[infeasible], kind="stable")
        parts.append(infeasible[order[:n_below]])
    if len(parts) > 1:
        below = np.sort(np.concatenate(parts))
    is_above = np.ones(len(table), dtype=bool)
    is_above[below] = False
    return below, np.flatnonzero(is_above)


def _split_complete(table: TrialTable, rows: np.ndarray, signs: np.ndarray, n_below: int,
                    cache: RankCache, rank: Callable, hssp: Callable,
                    reference_point: Callable) -> np.ndarray:
    """Optuna's ``_split_complete_trials_multi_objective`` on the complete feasible ``rows``:
    the good rows. Each row's rank is kept while the ranks stay the same."""
    if n_below == 0:
        return rows[:0]
    if n_below == rows.size:
        return rows
    losses = np.asarray(table.vectors, dtype=float) * signs
    key = (len(table.vectors), table.num_feasible_vectors, table.inserts)
    if cache.key != key:  # the ranks of the feasible trials' vectors
        present = np.flatnonzero(table.first_rows >= 0)
        ranks = np.full(len(table.vectors), -1, dtype=np.int64)
        ranks[present] = rank(losses[present])
        cache.key, cache.ranks, cache.tie_key = key, ranks, None
        cache.row_ranks = ranks[table.groups[rows]]
        cache.rank_counts = np.bincount(cache.row_ranks)
    elif cache.row_ranks.size < rows.size:  # rows added since: only theirs to rank
        new = cache.ranks[table.groups[rows[cache.row_ranks.size:]]]
        cache.row_ranks = np.concatenate([cache.row_ranks, new])
        cache.rank_counts = cache.rank_counts + np.bincount(
            new, minlength=cache.rank_counts.size)
    row_ranks, counts = cache.row_ranks, cache.rank_counts
    full = np.flatnonzero(np.cumsum(counts) <= n_below)
    last = int(full[-1]) if full.size else -1
    chosen = row_ranks <= last
    subset = n_below - int(counts[: last + 1].sum())
    if subset > 0:  # Optuna's ``_solve_hssp`` over the next rank's rows
        distinct = np.flatnonzero(cache.ranks == last + 1)  # its vectors, as np.unique sorts
        first = np.searchsorted(rows, table.first_rows[distinct])  # where each first occurs
        if subset == counts[last + 1]:
            chosen |= row_ranks == last + 1
        elif distinct.size < subset:  # every vector once, then the first repeats in order
            chosen[first] = True
            rest = np.flatnonzero((row_ranks == last + 1) & ~chosen)
            chosen[rest[: subset - distinct.size]] = True
        else:
            tie_key = (tuple(distinct.tolist()), subset)
            if cache.tie_key != tie_key:
                vectors = losses[distinct]
                cache.tie_groups = hssp(vectors, distinct, subset, reference_point(vectors))
                cache.tie_key = tie_key
            chosen[first[np.searchsorted(distinct, cache.tie_groups)]] = True
    return rows[chosen]


class KernelWeights:
    """The mixture weights of one Parzen estimator as Optuna normalises them (the kernels' in
    order, then the prior's), and their cumulative sums as ``RandomState.choice`` forms them;
    shared by every decision of an ask."""

    def __init__(self, weights: np.ndarray, prior_weight: float) -> None:
        self.num_kernels = weights.size
        if weights.size == 0:
            self.normalized = np.array([1.0])
        else:
            w = np.append(weights, [prior_weight])
            w /= w.sum()
            self.normalized = w
        self._cdf: np.ndarray | None = None

    def draw(self, rng: np.random.RandomState, size: int) -> np.ndarray:
        """``rng.choice(len(w), p=w, size=size)`` with the cumulative sums made once."""
        if self._cdf is None:
            cdf = self.normalized.cumsum()
            cdf /= cdf[-1]
            self._cdf = cdf
        return self._cdf.searchsorted(rng.random_sample(size), side="right")


def bad_set_weights(table: TrialTable, good: np.ndarray, prior_weight: float
                    ) -> tuple[list[np.ndarray], float, np.ndarray]:
    """Optuna's normalised mixture weights of the bad set (every row not in ``good``, in
    order, weighted by ``default_weights``: a ramp from ``1/n`` up, the last 25 at 1), totalled
    per decision and choice, and the prior kernel's weight; in the size of ``good``, from the
    table's counts (:meth:`TrialTable.bad_set_totals`). Also how many good rows hold each
    choice, per decision."""
    n = table.size - good.size
    counts, positions, last, counts_good = table.bad_set_totals(good)
    if n < 25:  # all ones
        raw, total = counts.astype(float), float(n)
    else:
        ramp = n - 25  # np.linspace(1 / n, 1, ramp): start + j * step
        start = 1.0 / n
        step = (1.0 - start) / (ramp - 1) if ramp > 1 else 0.0
        cells = table.cells(last)
        last_positions = last - np.searchsorted(good, last)
        flat_counts = np.bincount(cells.ravel(), minlength=counts.size)
        flat_positions = np.bincount(cells.ravel(), minlength=counts.size,
                                     weights=np.repeat(last_positions, cells.shape[1]))
        raw = (start * (counts - flat_counts) + step * (positions - flat_positions)
               + flat_counts)
        total = start * ramp + step * ramp * (ramp - 1) / 2 + 25
    norm = total + prior_weight
    return table.split_totals(raw / norm), prior_weight / norm, counts_good


class CategoricalParzen:
    """Optuna's Parzen estimator (``_ParzenEstimator``) of one categorical decision, from the
    normalised weight of its ``num_kernels`` kernels on each choice and of the prior: each
    kernel puts ``prior_weight / (n + 1)`` on every choice and 1 more on its own, normalised,
    and the prior kernel is uniform. Sampling needs the kernels' own weights (``weights``) and
    ``kernel_choices``, mapping kernel indices to their choices."""

    def __init__(self, choice_weights: np.ndarray, prior_share: float, num_kernels: int,
                 num_choices: int, prior_weight: float, weights: KernelWeights | None = None,
                 kernel_choices: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self.num_kernels = num_kernels
        self.weights = weights
        self.kernel_choices = kernel_choices
        if num_kernels == 0:
            self.kernel_rows = np.full((1, num_choices), 1.0 / num_choices)
            self.type_weights = np.array([1.0])
        else:
            rows = np.full((num_choices + 1, num_choices), prior_weight / (num_kernels + 1))
            rows[np.arange(num_choices), np.arange(num_choices)] += 1
            sums = rows.sum(axis=1, keepdims=True)
            rows /= np.where(sums == 0, 1, sums)
            self.kernel_rows = rows  # row c: a kernel on choice c; the last: the prior
            self.type_weights = np.append(choice_weights, prior_share)

    @classmethod
    def of(cls, observed: np.ndarray, weights: KernelWeights, num_choices: int,
           prior_weight: float) -> CategoricalParzen:
        """The estimator of kernels on ``observed`` (in order) weighing ``weights``."""
        n = observed.size
        totals = np.bincount(observed, weights=weights.normalized[:n], minlength=num_choices)
        return cls(totals, float(weights.normalized[n]) if n else 1.0, n, num_choices,
                   prior_weight, weights, observed.__getitem__)

    def sample(self, rng: np.random.RandomState, size: int) -> np.ndarray:
        """``size`` choices, drawn with Optuna's calls to ``rng``."""
        if self.weights is None or self.kernel_choices is None:
            raise ValueError("sampling needs the kernels' weights and choices")
        active = self.weights.draw(rng, size)
        n = self.num_kernels
        if n == 0:
            kernel_type = np.zeros(size, dtype=np.int64)
        else:  # an observation's choice, or the prior's row
            kernel_type = np.where(active < n, self.kernel_choices(np.minimum(active, n - 1)),
                                   self.kernel_rows.shape[0] - 1)
        active_rows = self.kernel_rows[kernel_type, :]
        quantile = rng.rand(size)
        cumulative = np.cumsum(active_rows, axis=-1)
        cumulative[:, -1] = 1
        return np.sum(cumulative < quantile[:, np.newaxis], axis=-1).astype(float)

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        """The mixture's log density at choices ``x``."""
        density = self.type_weights @ self.kernel_rows[:, x.astype(np.int64)]
        with np.errstate(divide="ignore"):
            return np.log(density)


#: how close (relative) two choices' acquisitions must be for :func:`near_tie`
TIE_TOLERANCE = 1e-9


def near_tie(samples: np.ndarray, acquisition: np.ndarray) -> bool:
    """Whether a choice other than the best sample's comes within :data:`TIE_TOLERANCE` of
    its acquisition (or any value is not finite): there the sums per choice, which differ from
    Optuna's sums per kernel by rounding, cannot say which one Optuna's ``argmax`` picks."""
    if not np.all(np.isfinite(acquisition)):
        return True
    best = int(np.argmax(acquisition))
    others = acquisition[samples != samples[best]]
    margin = TIE_TOLERANCE * (1.0 + abs(float(acquisition[best])))
    return bool(np.any(others >= acquisition[best] - margin))
