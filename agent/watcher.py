"""The watcher: a second connection that wakes the daemon's cycle when the mailbox changes.

INBOX is not its business on IMAP: the daemon's main connection rests in
IDLE on it between cycles (`Mailbox.rest`). NOTIFY (RFC 5465) when the server
has it (agent/imap_notify.py): Sent, Drafts and every watched folder by
name, nothing selected, on one connection; what the server reports goes into
the change feed (agent/changefeed.py), which tells the next cycle which
folders to ask about, and wakes it. The feed is live only between a
successful NOTIFY SET and the first sign of trouble. Otherwise, on a backend
whose main connection cannot rest in IDLE (Maildir: file events), `wait` on
INBOX here; on IMAP the watcher ends, and every cycle asks STATUS of the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from .backoff import BACKOFF_CAP, Backoff
from .changefeed import ChangeFeed
from .config import Config
from .errors import FollowupError, MailboxFatalError, NotifyRefusedError
from .mailbox import ChangeWatch, Folders, Mailbox
from .sync import folder_plan

log = logging.getLogger(__name__)


class Abortable(Protocol):
    def abort(self) -> None: ...


class WatchLink:
    """The watcher's connection (a mailbox or a NOTIFY session) and whether it is up.

    Shared by two threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._box: Abortable | None = None
        self._up = False

    @property
    def up(self) -> bool:
        with self._lock:
            return self._up

    def set_up(self, up: bool) -> bool:
        """Set; whether it was down before."""
        with self._lock:
            was, self._up = self._up, up
            return not was

    def current(self, box: Abortable | None) -> bool:
        """Whether `box` is still the watcher's connection (a reload or jump drops it)."""
        with self._lock:
            return box is self._box

    def adopt(self, box: Abortable) -> None:
        with self._lock:
            self._box = box

    def drop(self) -> Abortable | None:
        """Forget the connection (the watcher closes it) and return it, to abort its IDLE."""
        with self._lock:
            box, self._box, self._up = self._box, None, False
            return box


class Watcher:
    """The watcher thread's body; `cfg` is read afresh (a reload replaces it)."""

    def __init__(
        self,
        cfg: Callable[[], Config],
        factory: Callable[[Config], Mailbox],
        stop: threading.Event,
        wake: Callable[[str], None],
        link: WatchLink,
        feed: ChangeFeed,
    ) -> None:
        self.cfg = cfg
        self.factory = factory
        self.stop = stop
        self.wake = wake
        self.link = link
        self.feed = feed

    def run(self) -> None:
        """Watch on a second connection; wake a cycle on any change.

        NOTIFY (RFC 5465) when the server has it: Sent, Drafts and the watched
        folders on one connection, and the feed tells the cycle which of them
        changed. Otherwise `wait` on INBOX unless the main connection rests in
        IDLE on it, and every cycle asks STATUS.
        """
        backoff = Backoff()
        notify = True  # until the server shows it has none
        while not self.stop.is_set():
            try:
                if notify:
                    notify = self._watch_notify(backoff)
                elif not self._watch_idle(backoff):
                    break
            except FollowupError as exc:
                self._watch_failed(exc, backoff)
            except Exception:
                # Polling still works without the watcher; keep trying, slowly.
                log.exception("watcher failed unexpectedly")
                self.feed.lost()
                self.link.set_up(False)
                self.stop.wait(BACKOFF_CAP)
        self.feed.lost()
        self.link.set_up(False)

    def _watch_idle(self, backoff: Backoff) -> bool:
        """IDLE on INBOX until the connection breaks or is dropped; False without IDLE."""
        box = self.factory(self.cfg())
        self.link.adopt(box)
        try:
            while not self.stop.is_set() and self.link.current(box):
                if not self._idle_once(box, backoff):
                    return False
            return True
        finally:
            box.close()

    def _idle_once(self, box: Mailbox, backoff: Backoff) -> bool:
        """Connect if needed and wait for one change; False if the server has no IDLE."""
        box.connect()
        if not box.info().idle:
            # False ends the watcher, which closes this connection: providers
            # count every open one.
            log.info("server has no IDLE: polling every %g min", self.cfg().daemon.poll_minutes)
            return False
        if box.rests():
            # The main connection IDLEs on INBOX between cycles: a second one
            # would only cost a connection, and hear of mail on the wrong session.
            log.info("no NOTIFY: the main connection rests in IDLE on INBOX between cycles")
            return False
        self._connected(backoff, "idle connected")
        # The backend re-issues IDLE within the limit NATs allow (imap.py); this
        # timeout only bounds how long the loop goes without looking at `stop`
        # (a stop, a reload and a clock jump also abort the wait).
        seconds = self.cfg().daemon.poll_minutes * 60
        if box.wait(box.folders().inbox, seconds) and not self.stop.is_set():
            self.wake("new mail")
        return True

    def _connected(self, backoff: Backoff, why: str) -> None:
        if self.link.set_up(True):
            if backoff.ok():
                log.warning("IDLE connection restored")
            # Mail that came while we were not watching is not reported.
            self.wake(why)

    def _watch_notify(self, backoff: Backoff) -> bool:
        """NOTIFY until the connection breaks or is dropped; False if the server cannot."""
        box = self.factory(self.cfg())
        self.link.adopt(box)
        try:
            session = box.change_watch()
            folders = box.folders() if session is not None else None
        finally:
            box.close()  # one connection for the watcher: providers count them
        if session is None or folders is None:
            log.info("no NOTIFY here: waiting on INBOX, STATUS of the other folders every cycle")
            return False
        if not self.link.current(box):  # dropped by a reload or a jump meanwhile
            return True
        self.link.adopt(session)
        try:
            return self._notify_session(session, folders, backoff)
        finally:
            self.feed.lost()
            session.close()

    def _notify_session(self, session: ChangeWatch, folders: Folders, backoff: Backoff) -> bool:
        others = [name for _, name in folder_plan(self.cfg(), folders) if name != folders.inbox]
        try:
            # Nothing selected: INBOX is the main connection's (Mailbox.rest).
            session.open(None, others)
        except NotifyRefusedError as exc:
            log.info("%s: INBOX only, asking STATUS of the others", exc)
            return False
        if not self.link.current(session):  # dropped while opening: it will not be told
            return True
        # Only now is every change reported; what came before is not known.
        self.feed.go_live(others)
        self._connected(backoff, "notify connected")
        seconds = self.cfg().daemon.poll_minutes * 60
        while not self.stop.is_set() and self.link.current(session):
            got = session.wait(seconds)
            if not got or self.stop.is_set():
                continue
            if got.everything:
                self.feed.mark_all()
            self.feed.mark(got.folders)
            self.wake("changed: " + (", ".join(sorted(got.folders)) or "unsure what"))
        return True

    def _watch_failed(self, exc: FollowupError, backoff: Backoff) -> None:
        self.feed.lost()
        self.link.set_up(False)
        if self.stop.is_set():
            return
        wait, first = backoff.fail()
        if isinstance(exc, MailboxFatalError):
            wait = BACKOFF_CAP
        if first:
            log.warning("IDLE connection lost, reconnecting with backoff: %s", exc)
            # Maybe the server is gone: a cycle finds out and records it.
            self.wake("idle lost")
        self.stop.wait(wait)
