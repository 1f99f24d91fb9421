"""The NOTIFY change feed: what a cycle may skip, and that no change is ever lost."""

from __future__ import annotations

import threading

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from agent.changefeed import ALL, ChangeFeed, Changes

pytestmark = pytest.mark.fast

WATCHED = ("INBOX", "Sent", "Drafts", "Archive")
FOLDERS = (*WATCHED, "Elsewhere")  # the last one no watcher ever listed


def live_feed() -> ChangeFeed:
    feed = ChangeFeed()
    feed.go_live(WATCHED)
    assert feed.take() == ALL  # what came before NOTIFY SET was never reported
    return feed


@pytest.mark.parametrize(
    ("changes", "folder", "expected"),
    [
        (ALL, "Sent", True),
        (Changes(False, frozenset(), frozenset({"Sent"})), "Sent", False),
        (Changes(False, frozenset({"Sent"}), frozenset({"Sent"})), "Sent", True),
        # Not watched: the watcher cannot vouch for it.
        (Changes(False, frozenset(), frozenset({"Sent"})), "Archive", True),
        # INBOX in any case is INBOX; other names are exact.
        (Changes(False, frozenset({"INBOX"}), frozenset({"INBOX"})), "inbox", True),
        (Changes(False, frozenset(), frozenset({"INBOX"})), "Inbox", False),
        (Changes(False, frozenset({"Sent"}), frozenset({"Sent", "sent"})), "sent", False),
    ],
)
def test_what_a_cycle_may_skip(changes: Changes, folder: str, expected: bool) -> None:
    assert changes.may_have_changed(folder) is expected


def test_a_new_feed_is_all_until_live_and_all_once_more_when_it_goes_live() -> None:
    feed = ChangeFeed()
    assert not feed.live
    feed.mark(["Sent"])
    assert feed.take() == ALL and feed.take() == ALL
    feed.go_live(WATCHED)
    assert feed.live
    assert feed.take() == ALL
    quiet = feed.take()
    assert not quiet.everything and quiet.folders == frozenset()
    assert not quiet.may_have_changed("Sent") and quiet.may_have_changed("Elsewhere")


def test_marks_are_taken_once_and_a_later_mark_belongs_to_the_next_take() -> None:
    feed = live_feed()
    feed.mark(["Sent", "Drafts"])
    first = feed.take()
    feed.mark(["Archive"])
    second = feed.take()
    assert first.folders == {"Sent", "Drafts"}
    assert second.folders == {"Archive"}
    assert feed.take().folders == frozenset()


def test_a_lost_connection_makes_every_take_all_until_live_again() -> None:
    feed = live_feed()
    feed.mark(["Sent"])
    feed.lost()
    assert not feed.live
    assert feed.take() == ALL and feed.take() == ALL
    feed.go_live(WATCHED)
    assert feed.take() == ALL
    assert feed.take().folders == frozenset()


def test_a_failed_cycle_gives_back_what_it_took() -> None:
    feed = live_feed()
    feed.mark(["Sent"])
    assert feed.take().folders == {"Sent"}
    feed.mark_all()  # the daemon, when that cycle fails
    assert feed.take() == ALL


def test_marks_from_another_thread_are_never_lost() -> None:
    feed = live_feed()
    names = [f"F{i}" for i in range(2000)]
    feed.go_live(names)
    assert feed.take() == ALL
    taken: set[str] = set()
    done = threading.Event()

    def marker() -> None:
        for name in names:
            feed.mark([name])
        done.set()

    thread = threading.Thread(target=marker)
    thread.start()
    while not done.is_set():
        taken |= feed.take().folders
    thread.join()
    taken |= feed.take().folders
    assert taken == set(names)


class FeedMachine(RuleBasedStateMachine):
    """A server, a watcher connection that drops and comes back, and cycles taking.

    The model keeps every change no take has covered yet, and which of them
    the server has still to report on the live connection. The property: a
    take covers every uncovered change, except one still on its way (it will
    be marked, or the connection will drop and make the next take ALL).
    """

    def __init__(self) -> None:
        super().__init__()
        self.feed = ChangeFeed()
        self.connected = False  # NOTIFY SET done on the current connection
        self.uncovered: set[str] = set()
        self.in_flight: set[str] = set()  # changed, the server has not said so yet

    @rule(folder=st.sampled_from(FOLDERS))
    def server_change(self, folder: str) -> None:
        self.uncovered.add(folder)
        if self.connected and folder in WATCHED:
            self.in_flight.add(folder)

    @precondition(lambda self: self.connected and self.in_flight)
    @rule(data=st.data())
    def server_reports(self, data: st.DataObject) -> None:
        told = data.draw(st.sets(st.sampled_from(sorted(self.in_flight)), min_size=1))
        self.feed.mark(told)
        self.in_flight -= told

    @precondition(lambda self: self.connected)
    @rule()
    def unreadable_line(self) -> None:
        self.feed.mark_all()

    @precondition(lambda self: self.connected)
    @rule()
    def connection_drops(self) -> None:
        self.connected = False
        self.in_flight.clear()  # never reported now
        self.feed.lost()

    @precondition(lambda self: not self.connected)
    @rule()
    def watcher_reconnects(self) -> None:
        self.feed.go_live(WATCHED)
        self.connected = True

    @rule()
    def cycle(self) -> None:
        changes = self.feed.take()
        assert changes.may_have_changed("Elsewhere")  # no watcher vouches for it
        covered = {f for f in self.uncovered if changes.may_have_changed(f)}
        missed = self.uncovered - covered
        assert missed <= self.in_flight, f"lost {missed - self.in_flight} ({changes})"
        self.uncovered -= covered

    @rule()
    def cycle_fails(self) -> None:
        self.feed.take()
        self.feed.mark_all()  # nothing recorded: every change stays uncovered


FeedMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
test_feed_never_loses_a_change = FeedMachine.TestCase
