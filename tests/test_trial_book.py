"""The bookkeeping of trials across a restore, shared by the searchers (searchers.trial_book)."""

from __future__ import annotations

from searchers.trial_book import TrialBook


def test_a_book_moves_trials_through_live_orphan_and_stale():
    book: TrialBook[str] = TrialBook()
    book.hand_out("a", "A")
    book.hand_out("b", "B")
    book.hand_out("c", "C")
    assert len(book) == 3 and book.complete("b") == "B" and book.complete("b") is None
    book.orphan_all()  # a restore: a and c were in flight
    assert len(book) == 0 and book.orphans == {"a": "A", "c": "C"}
    book.revive("c")  # c's trial reports again: live, not an orphan any more
    assert book.live == {"c": "C"} and book.orphans == {"a": "A"}
    assert book.take_orphan(lambda item: True) == ("a", "A")  # handed out again: stale
    assert book.stale == {"a": "A"} and book.take_orphan(lambda item: True) is None
    book.hand_out("n", "A")
    assert book.complete("a") == "A" and book.complete("n") == "A"  # either copy reports
    book.orphan_all()
    assert book.orphans == {"c": "C"} and not book.live and not book.stale


def test_orphans_no_longer_wanted_are_dropped_in_order():
    book: TrialBook[int] = TrialBook()
    for i in range(4):
        book.hand_out(f"t{i}", i)
    book.orphan_all()
    assert book.take_orphan(lambda item: item >= 2) == ("t2", 2)  # 0 and 1 dropped on the way
    assert list(book.orphans) == ["t3"] and book.stale == {"t2": 2}
    assert book.complete("t0") is None


def test_a_state_pickled_before_the_book_is_upgraded():
    old = {"x": 1, "_live": {"a": 1}, "_orphans": {"b": 2}, "_stale": {"c": 3}}
    new = TrialBook.upgrade(old, "_trials", "_live", "_orphans", "_stale")
    book = new["_trials"]
    assert set(new) == {"x", "_trials"} and "_live" in old  # the given state is not changed
    assert (book.live, book.orphans, book.stale) == ({"a": 1}, {"b": 2}, {"c": 3})
    assert TrialBook.upgrade(new, "_trials", "_live", "_orphans", "_stale") is new
    # the book may take the name of one of the old dicts (ParamSpaceSearch's points)
    old = {"_p": {"a": 1}, "_po": {}, "_ps": {"c": 3}}
    book = TrialBook.upgrade(old, "_p", "_p", "_po", "_ps")["_p"]
    assert (book.live, book.orphans, book.stale) == ({"a": 1}, {}, {"c": 3})
