"""Local search (hill climbing over one-decision neighbours) with random restarts, as in White
et al., "Local Search is State of the Art for NAS Benchmarks" (2021)."""

from __future__ import annotations

from ednag.checks import int_at_least
from ednag.optimizers.base import Optimizer
from ednag.spaces.base import Choices, SearchSpace

#: how the climb moves: ``best`` = the paper's Algorithm 1, ``first`` = first improvement
MOVES: tuple[str, ...] = ("best", "first")
_MAX_STEPS = 100_000


class LocalSearch(Optimizer):
    """Hill climbing with random restarts.

    The run starts with ``num_init`` random architectures and climbs from the best of them.
    The neighbours of the current architecture (:meth:`SearchSpace.neighbours`, one decision
    changed) are visited in a random order. With ``move="best"`` (default; Algorithm 1 of White
    et al.) the whole neighbourhood is evaluated -- asked as one batch -- and the climb moves to
    the best neighbour if it beats the current architecture (steepest ascent). With
    ``move="first"`` neighbours are asked one at a time and the climb moves to the first one that
    improves. When no neighbour improves, the current architecture is a local optimum (kept in
    :attr:`local_optima`) and the climb restarts from one fresh random architecture.
    Neighbours already evaluated (e.g. the architecture the climb came from) are answered from
    the cache for free and logged as repeats.

    >>> from ednag.spaces import make_space
    >>> opt = LocalSearch(make_space("nb201"), seed=0, max_queries=60)
    >>> while not opt.finished:
    ...     opt.tell([(arch, float(sum(arch))) for arch in opt.ask()])
    >>> opt.num_queries
    60
    """

    name = "local_search"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        num_init: int = 10,
        move: str = "best",
    ) -> None:
        super().__init__(space, seed, max_queries)
        int_at_least("num_init", num_init, 1)
        if move not in MOVES:
            raise ValueError(f"move must be one of {', '.join(MOVES)}; got {move!r}")
        self.num_init = num_init
        self.move = move
        #: the architecture the climb stands on and its fitness (``None``: (re)starting)
        self.current: Choices | None = None
        self.current_fitness = float("-inf")
        #: neighbours of ``current`` still to visit, and the best visited one of this scan
        self._queue: list[Choices] = []
        self._scan_best: tuple[Choices, float] | None = None
        #: a start batch (initial samples or a restart) is being evaluated
        self._starting = False
        self._start_best: tuple[Choices, float] | None = None
        self._waiting: set[str] = set()
        self.restarts = 0
        self.moves = 0
        #: every local optimum reached, in order: (architecture, fitness)
        self.local_optima: list[tuple[Choices, float]] = []

    # ------------------------------------------------------------------ hooks
    def _propose(self, remaining: int | None) -> list[Choices]:
        if self._waiting:
            return []
        for _ in range(_MAX_STEPS):
            if self.current is None:
                n = self.num_init if self.restarts == 0 else 1
                if remaining is not None:
                    n = min(n, remaining)
                return self._ask(self._sample_unseen(n), starting=True)
            if not self._queue and not self._finish_scan():
                continue
            batch: list[Choices] = []
            batch_keys: set[str] = set()
            while self._queue and self.current is not None:
                nb = self._queue.pop()
                key = self.space.key(nb)
                # two neighbours with one key (an isomorphic pair) are one query
                if key in batch_keys or self.is_pending(nb):
                    continue
                cached = self.lookup(nb)
                if cached is not None:
                    self._record_repeat(nb, cached)
                    self._consider(nb, cached)
                    continue
                batch.append(nb)
                batch_keys.add(key)
                if self.move == "first" or (remaining is not None and len(batch) >= remaining):
                    break
            if batch:
                return self._ask(batch, starting=False)
        return self._ask(self._first_unseen(), starting=True)

    def _observe(self, results: list[tuple[Choices, float]]) -> None:
        for choices, fitness in results:
            self._waiting.discard(self.space.key(choices))
            if self._starting:
                if self._start_best is None or fitness > self._start_best[1]:
                    self._start_best = (choices, fitness)
            else:
                self._consider(choices, fitness)
        if self._starting and not self._waiting and self._start_best is not None:
            self._starting = False
            self._move_to(*self._start_best)
            self._start_best = None

    # ------------------------------------------------------------------ the climb
    def _ask(self, batch: list[Choices], starting: bool) -> list[Choices]:
        self._starting = starting and bool(batch)
        self._waiting = {self.space.key(c) for c in batch}
        return batch

    def _move_to(self, choices: Choices, fitness: float) -> None:
        """Stand on ``choices``: its neighbours, in a random order, are the next to visit."""
        self.current, self.current_fitness = choices, fitness
        nbhd = self.space.neighbours(choices)
        self._queue = [nbhd[i] for i in self.rng.permutation(len(nbhd))]
        self._scan_best = None

    def _consider(self, choices: Choices, fitness: float) -> None:
        """A neighbour's fitness is known: move at once (``first``) or remember the best."""
        if self.move == "first":
            if fitness > self.current_fitness:
                self.moves += 1
                self._move_to(choices, fitness)
        elif self._scan_best is None or fitness > self._scan_best[1]:
            self._scan_best = (choices, fitness)

    def _finish_scan(self) -> bool:
        """The whole neighbourhood is known: move to the best neighbour if it improves (True),
        else record a local optimum and restart (False)."""
        best = self._scan_best
        if best is not None and best[1] > self.current_fitness:
            self.moves += 1
            self._move_to(*best)
            return True
        assert self.current is not None
        self.local_optima.append((self.current, self.current_fitness))
        self.restarts += 1
        self.current, self.current_fitness = None, float("-inf")
        self._scan_best = None
        return False
