"""Which Tune trial holds which proposal, across a save and a restore.

A searcher hands a proposal (an architecture, a user's point) to a trial and learns its result
later. When Tune restores an experiment, the trials that were in flight at save time may be
re-run under their old ids or lost; their proposals become *orphans*: an orphan is handed out
again only while the searcher would otherwise wait (then it is *stale*: its old id still counts
if Tune does re-run it), and one whose trial reports again is *live* once more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")


class TrialBook(Generic[Item]):
    """Trial id -> proposal, in three states: live (handed out in this session), orphan (in
    flight when the state was saved) and stale (an orphan handed out again)."""

    def __init__(self) -> None:
        self.live: dict[str, Item] = {}
        self.orphans: dict[str, Item] = {}
        self.stale: dict[str, Item] = {}

    def __len__(self) -> int:
        """Trials handed out in this session and not yet completed (live only: a book with
        orphans alone has length 0)."""
        return len(self.live)

    def hand_out(self, trial_id: str, item: Item) -> None:
        """``item`` now runs as ``trial_id``."""
        self.live[trial_id] = item

    def take_orphan(self, wanted: Callable[[Item], bool]) -> tuple[str, Item] | None:
        """The oldest orphan that is still ``wanted`` (the others are dropped) as ``(old trial
        id, item)``, now stale under that id; ``None`` when there is none. The caller hands the
        item out to a new trial."""
        while self.orphans:
            old_id = next(iter(self.orphans))
            item = self.orphans[old_id]
            keep = wanted(item)
            del self.orphans[old_id]
            if keep:
                self.stale[old_id] = item
                return old_id, item
        return None

    def revive(self, trial_id: str) -> None:
        """An orphan's trial reported a result after the restore: it is live again."""
        item = self.orphans.pop(trial_id, None)
        if item is not None:
            self.live[trial_id] = item

    def complete(self, trial_id: str) -> Item | None:
        """Forget ``trial_id`` and return its item (``None`` when unknown or told already)."""
        for book in (self.live, self.orphans, self.stale):
            if trial_id in book:
                return book.pop(trial_id)
        return None

    def orphan_all(self) -> None:
        """After a restore: every trial in flight at save time becomes an orphan."""
        self.orphans.update(self.live)
        self.orphans.update(self.stale)
        self.live, self.stale = {}, {}

    @classmethod
    def upgrade(cls, state: dict[str, Any], book: str, live: str, orphans: str,
                stale: str) -> dict[str, Any]:
        """A searcher's pickled ``__dict__`` with the three dicts it held before this class
        existed (``live``, ``orphans``, ``stale``) replaced by a book under ``book``; a newer
        state is returned unchanged."""
        if orphans not in state:
            return state
        state = dict(state)
        trials: TrialBook[Any] = cls()
        trials.live, trials.orphans, trials.stale = (
            dict(state.pop(live)), dict(state.pop(orphans)), dict(state.pop(stale)))
        state[book] = trials
        return state
