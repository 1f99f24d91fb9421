"""File-system change events for a waiter, through watchdog (inotify, FSEvents, kqueue).

Only entries created, deleted or renamed in the watched directories count:
reading a file (ours included) opens and closes it, and those events are not
even asked of the kernel, so a reader never wakes itself. Directories are
watched one by one, never recursively, so a Maildir's tmp/ stays unseen.

When the platform cannot watch (no native observer, the inotify limits
reached, a file system that refuses), `open_watch` says so once at info and
returns None: the caller polls instead. watchdog's own polling observer is
never used: it lists and stats every file each second, far dearer than the
two stat calls per folder of the Maildir's own poll.
"""

from __future__ import annotations

import enum
import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from . import faults

log = logging.getLogger(__name__)

ObserverFactory = Callable[[], BaseObserver]
# What changes a directory's list of entries; opens, reads, closes and
# attribute changes do not.
EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]
STOP_SECONDS = 5.0
# A burst of events (a mail client moving mail from new/ to cur/) is one
# wake-up: reported once QUIET passes without another, never later than
# SETTLE after the first.
QUIET_SECONDS = 0.015
SETTLE_SECONDS = 0.04
# The fault point (agent/faults.py) that makes watching fail as a full inotify table does.
FAULT_POINT = "fswatch"

_fallback_told = threading.Event()


class _StopRace(logging.Filter):
    """Drops watchdog's error about an event read while its emitter stops.

    An inotify emitter stopped while an event is in flight drops the event
    and logs an ERROR (watchdog 7.1); stopping is ours to do, so the dropped
    event is of no interest, and an error line in the user's log would alarm.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in record.getMessage()


_STOP_RACE = _StopRace()


def native_observer() -> BaseObserver:
    """The platform's own observer; OSError where watchdog would poll."""
    inotify_log = logging.getLogger("watchdog.observers.inotify")
    if _STOP_RACE not in inotify_log.filters:
        inotify_log.addFilter(_STOP_RACE)
    if faults.refused(FAULT_POINT):
        raise OSError(errno.ENOSPC, "inotify watch limit reached (fault injection)")
    observer = Observer()
    if isinstance(observer, PollingObserver):
        raise OSError(errno.ENOSYS, "no native file-system events on this platform")
    return observer


class _Handler(FileSystemEventHandler):
    def __init__(self, watch: DirWatch) -> None:
        self._watch = watch

    def on_any_event(self, event: FileSystemEvent) -> None:
        self._watch.seen(event)


class DirWatch:
    """Calls `on_change` (from watchdog's thread) when entries of `dirs` change."""

    def __init__(
        self,
        dirs: Sequence[Path],
        on_change: Callable[[], None],
        factory: ObserverFactory = native_observer,
    ) -> None:
        self.dirs = tuple(dirs)
        self._paths = frozenset(os.fsdecode(d) for d in self.dirs)
        self._on_change = on_change
        self._broken = threading.Event()
        self._observer = factory()
        # Started first so that a refused watch raises here, in schedule().
        self._observer.start()
        try:
            handler = _Handler(self)
            for path in self.dirs:
                self._observer.schedule(handler, os.fsdecode(path), event_filter=EVENTS)
        except BaseException:
            self.close()
            raise

    @property
    def broken(self) -> bool:
        """A watched directory itself went away: this watch sees nothing more there."""
        return self._broken.is_set()

    def seen(self, event: FileSystemEvent) -> None:
        """One event from watchdog's thread."""
        if event.is_directory and os.fsdecode(event.src_path) in self._paths:
            self._broken.set()
        self._on_change()

    def close(self) -> None:
        """Stop watchdog's threads and release the kernel watches; idempotent."""
        observer = self._observer
        if observer.is_alive():
            observer.stop()
            observer.join(STOP_SECONDS)
        else:
            observer.unschedule_all()


def open_watch(
    dirs: Sequence[Path],
    on_change: Callable[[], None],
    factory: ObserverFactory = native_observer,
) -> DirWatch | None:
    """A running watch of `dirs`, or None (said once per process) when the platform refuses."""
    try:
        return DirWatch(dirs, on_change, factory)
    except OSError as exc:
        level = logging.DEBUG if _fallback_told.is_set() else logging.INFO
        _fallback_told.set()
        log.log(level, "cannot watch the Maildir for changes (%s): polling it instead", exc)
        return None


class Woke(enum.Enum):
    CHANGE = "change"
    TIMEOUT = "timeout"
    ABORT = "abort"


class ChangeWaiter:
    """What a mailbox's wait() sleeps on: debounced events of a watch, or an abort.

    One per mailbox; the watch is started by the first wait that wants it and
    kept until `close()`, so a change between two waits is not lost.
    """

    def __init__(self, factory: ObserverFactory = native_observer) -> None:
        self._factory = factory
        self._woken = threading.Event()
        self._aborted = threading.Event()
        self._watch: DirWatch | None = None
        self._names: frozenset[str] = frozenset()
        self._refused = False

    def covers(self, names: Collection[str]) -> bool:
        """Whether a working watch already sees every one of `names`."""
        watch = self._watch
        return watch is not None and not watch.broken and self._names.issuperset(names)

    def start(self, names: Collection[str], dirs: Sequence[Path]) -> bool:
        """Watch `dirs` (the directories of `names`); False if the platform refuses."""
        self._stop()
        if self._refused:
            return False
        self._watch = open_watch(dirs, self._woken.set, self._factory)
        if self._watch is None:
            self._refused = True  # asked again only after close(): a reconnect
            return False
        self._names = frozenset(names)
        log.debug("watching %d directories for changes", len(dirs))
        return True

    def changed(self) -> None:
        """A change the caller saw itself: the next wait reports it."""
        self._woken.set()

    def wait(self, timeout: float) -> Woke:
        """Sleep until a change (a burst counts once), an abort, or `timeout`."""
        if not self._woken.wait(timeout):
            return Woke.TIMEOUT
        first = time.monotonic()
        while True:
            if self._take_abort():
                return Woke.ABORT
            self._woken.clear()
            if time.monotonic() - first >= SETTLE_SECONDS or not self._woken.wait(QUIET_SECONDS):
                return Woke.CHANGE

    def sleep(self, seconds: float) -> bool:
        """Sleep between two polls; True if aborted meanwhile."""
        if self._woken.wait(seconds):
            self._woken.clear()
            return self._take_abort()
        return False

    def abort(self) -> None:
        """From another thread: the current or next wait returns ABORT at once."""
        self._aborted.set()
        self._woken.set()

    def _take_abort(self) -> bool:
        if not self._aborted.is_set():
            return False
        self._aborted.clear()
        self._woken.clear()
        return True

    def close(self) -> None:
        """Stop the watch (its threads and kernel watches); a new connection may try again."""
        self._stop()
        self._refused = False

    def _stop(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.close()
