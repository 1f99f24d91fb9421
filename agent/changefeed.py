"""Which folders the server said changed since the last cycle (IMAP NOTIFY); no I/O.

Shared by two threads: the watcher marks what the server reported, the cycle
takes it. The feed only ever errs on the side of "everything changed":

- it starts not live, and while not live (the watcher is down, reconnecting,
  or unsure) every `take()` is ALL;
- `go_live()` comes only after NOTIFY SET succeeded, and marks everything
  once more, since changes before the SET were never reported;
- `take()` is atomic: a mark that lands after it belongs to the next take.

A cycle that took changes and then failed gives them back with `mark_all()`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Changes:
    """What one cycle may rely on: ALL, or of the `watched` folders only `folders` changed.

    A folder the watcher does not watch may always have changed.
    """

    everything: bool
    folders: frozenset[str] = frozenset()
    watched: frozenset[str] = frozenset()

    def may_have_changed(self, folder: str) -> bool:
        key = _key(folder)
        return self.everything or key in self.folders or key not in self.watched


ALL = Changes(everything=True)


def _key(folder: str) -> str:
    # INBOX is case-insensitive (RFC 3501 5.1); every other name is exact.
    return "INBOX" if folder.upper() == "INBOX" else folder


class ChangeFeed:
    """The epoch-guarded set of folders notified since the last `take()`; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live = False
        self._everything = True
        self._folders: set[str] = set()
        self._watched: frozenset[str] = frozenset()

    @property
    def live(self) -> bool:
        with self._lock:
            return self._live

    def go_live(self, watched: Iterable[str]) -> None:
        """NOTIFY SET on `watched` succeeded: from now on marks are the whole truth about them."""
        with self._lock:
            self._watched = frozenset(_key(f) for f in watched)
            self._live = True
            self._everything = True
            self._folders.clear()

    def lost(self) -> None:
        """The watcher's connection is down or unsure: every take is ALL until `go_live()`."""
        with self._lock:
            self._live = False
            self._everything = True
            self._folders.clear()

    def mark(self, folders: Iterable[str]) -> None:
        """The server reported changes in these folders."""
        with self._lock:
            if not self._everything:
                self._folders.update(_key(f) for f in folders)

    def mark_all(self) -> None:
        """Something changed, or a cycle failed after its take: the next take is ALL."""
        with self._lock:
            self._everything = True
            self._folders.clear()

    def take(self) -> Changes:
        """What changed since the last take, and start a new period."""
        with self._lock:
            if not self._live:
                return ALL
            if self._everything:
                self._everything = False
                return ALL
            taken = Changes(False, frozenset(self._folders), self._watched)
            self._folders.clear()
            return taken
