"""`followup run`: the long-running daemon.

A small loop of its own (timers.py) runs one cycle at a time on the main
thread, on an injected clock, woken early through a pipe:

- ``poll``: every ``daemon.poll_minutes``;
- ``due``: at the exact due time of the next planned step, recomputed from the
  database after every cycle (the database is the truth, the timers a cache);
- ``wake``: as soon as the main connection, resting in IDLE on INBOX between
  cycles (`Mailbox.rest`), hears of new mail, so the cycle reads it on the
  session the server told (another session would pay the server's resync);
  or as soon as the watcher thread (watcher.py, a second connection, only
  with NOTIFY: Sent, Drafts, watched folders; on Maildir: file events) hears
  of a change, and after each (re)connection of that watcher, because mail
  that arrived before it started is not reported;
- ``retry``: after a failed cycle, exponential backoff with jitter (cap 5 min);
- ``tick``: once a minute, to notice suspend/resume and clock jumps (the
  clock moved by more than the monotonic one, which stops while a laptop sleeps).

Everything due at once runs as one cycle, so a resume after a long sleep runs
one catch-up cycle, not one per missed poll. SIGTERM/SIGINT finish the APPEND
in flight, record it, log out and return 0; SIGHUP reloads the config, keeping
the old one if the new one is invalid.

Why not APScheduler: its BlockingScheduler cannot be stopped between jobs
from a signal handler through its public API (shutdown() mid-job leaves the
finished one-shot job behind), its job times are real time while ours are on
the simulated `--now` clock, and it cannot be stepped by a test. The loop this
needs is `run`/`run_pending` below and the timers of timers.py.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType

from . import config, faults, health, notify
from .backoff import BACKOFF_CAP, Backoff
from .changefeed import ChangeFeed
from .config import Config
from .engine import CycleReport, Engine
from .errors import (
    AuthError,
    ConfigError,
    FolderError,
    FollowupError,
    MailboxFatalError,
    MailboxTransientError,
)
from .mailbox import Mailbox
from .store import Store
from .timers import Clock, Monotonic, PipeWaker, Timers, Waker, system_clock
from .wakeup import WAKE_SIGNAL
from .watcher import Watcher, WatchLink

log = logging.getLogger(__name__)

TICK_SECONDS = 60.0
# A clock vs monotonic drift beyond this between ticks is a suspend or a jump.
JUMP_SECONDS = 30.0
# Timers that only pace the mailbox: during an outage the retry timer owns the pace.
PACED = frozenset({"poll", "due"})

MailboxFactory = Callable[[Config], Mailbox]


class Daemon:
    def __init__(
        self,
        cfg: Config,
        store: Store,
        mailbox_factory: MailboxFactory,
        clock: Clock = system_clock,
        config_path: Path | None = None,
        monotonic: Monotonic = time.monotonic,
        waker: Waker | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.mailbox_factory = mailbox_factory
        self.clock = clock
        self.monotonic = monotonic
        self.waker: Waker = waker or PipeWaker()
        self.config_path = config_path or cfg.path
        self.stop = threading.Event()
        self.timers = Timers()
        self.mailbox: Mailbox | None = None
        self.engine: Engine | None = None
        self.backoff = Backoff()
        self.ever_ok = False
        self.exit_code = 0
        self.watcher: threading.Thread | None = None
        # No watcher thread is needed: the main connection rests in IDLE and
        # the server has no NOTIFY (one connection fewer: providers count them).
        self._no_watcher = False
        # Paces rests after a failed one, so a server that breaks IDLE at once
        # costs a cycle per backoff step, not a spin.
        self.rest_backoff = Backoff()
        self._rest_after = 0.0
        self.watch = WatchLink()
        # What the NOTIFY watcher heard; the cycle takes it (ALL while not live).
        self.feed = ChangeFeed()
        self._drift = self._clock_minus_mono()
        self._due_at: datetime | None = None
        # Set by the SIGHUP handler, acted on by the loop (see PipeWaker).
        self._reload_wanted = False
        # Set by SIGUSR1: the CLI changed the plan (agent/wakeup.py).
        self._cycle_wanted = False

    def now(self) -> datetime:
        return self.clock()

    def _clock_minus_mono(self) -> float:
        return self.clock().timestamp() - self.monotonic()

    # -- lifecycle ----------------------------------------------------------

    def run(self) -> int:
        """Run until SIGTERM/SIGINT (or a fatal error at start); the exit code."""
        if isinstance(self.waker, PipeWaker):
            self.waker.wake_on_signals()
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        signal.signal(WAKE_SIGNAL, self._on_wake)
        self.start()
        try:
            while not self.stop.is_set():
                self.run_pending()
                if not self.stop.is_set():
                    self.sleep(self.seconds_to_next())
        finally:
            self.close()
        return self.exit_code

    def start(self) -> None:
        """Record the start and arm the poll, the tick and a first cycle."""
        health.started(self.store, os.getpid(), self.now())
        log.info(
            "followup daemon started (pid %s); polling every %g min, database %s",
            os.getpid(),
            self.cfg.daemon.poll_minutes,
            self.store.path,
        )
        self._arm_poll()
        self.timers.set("tick", self.now() + timedelta(seconds=TICK_SECONDS))
        self.request_cycle("start")

    def close(self) -> None:
        """Stop the watcher, log out, record the stop."""
        self.stop.set()
        self._drop_watch()
        if self.mailbox is not None:
            self.mailbox.close()  # LOGOUT on the main connection
        if self.watcher is not None:
            self.watcher.join(timeout=5)
        try:
            health.stopped(self.store, self.now())
        except FollowupError as exc:
            log.warning("could not record the stop: %s", exc)
        self.waker.close()
        log.info("followup daemon stopped")

    def request_stop(self) -> None:
        """Finish the draft in flight, then leave the loop; thread-safe."""
        self.stop.set()
        self.waker.wake()

    def request_reload(self) -> None:
        """Reload the config before the next cycle; safe from a signal handler."""
        self._reload_wanted = True
        self.waker.wake()

    def request_cycle(self, why: str) -> None:
        """Run a cycle as soon as the current one (if any) returns; thread-safe."""
        if not self.stop.is_set():
            self.timers.set("wake", self.now(), why)
            self.waker.wake()

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stop.is_set():
            return
        log.info("%s: finishing the draft in flight, then exiting", signal.Signals(signum).name)
        # Only a flag: the engine checks it between drafts, the loop after the cycle.
        self.stop.set()

    def _on_hup(self, signum: int, frame: FrameType | None) -> None:
        self._reload_wanted = True

    def _on_wake(self, signum: int, frame: FrameType | None) -> None:
        self._cycle_wanted = True

    # -- the loop -----------------------------------------------------------

    def seconds_to_next(self) -> float:
        if self._reload_wanted or self._cycle_wanted:
            return 0.0
        nxt = self.timers.next_at()
        if nxt is None:
            return TICK_SECONDS
        # Capped: a clock that jumps forward is noticed within a tick.
        return min(max((nxt - self.now()).total_seconds(), 0.0), TICK_SECONDS)

    def run_pending(self) -> list[str]:
        """Do whatever is due on the clock: a reload, the tick, then one cycle.

        Returns why the cycle ran (every timer it stood for), or [] if none did.
        """
        if self._reload_wanted:
            self._reload_wanted = False
            self._reload()
        if self._cycle_wanted:
            self._cycle_wanted = False
            self.timers.set("wake", self.now(), "the plan changed")
        if self.timers.take("tick", self.now()):
            self._tick()
        return self._run_due(self.timers.take_due(self.now()))

    def sleep(self, seconds: float) -> None:
        """Until the next timer or a wake-up; in IDLE on INBOX when the main connection can."""
        mb, inbox, fd = self.mailbox, self._inbox(), self._wake_fd()
        if mb is None or inbox is None or fd is None or seconds <= 0 or not self._can_rest():
            # Paused after a failed rest: rest again once the pause is over,
            # not at the next timer (INBOX would go unheard until then).
            paused = self._rest_after - self.monotonic()
            self.waker.wait(min(seconds, paused) if paused > 0 else seconds)
            return
        try:
            changed = mb.rest(inbox, seconds, fd)
        except FollowupError as exc:
            # Dropped by the backend: the cycle reconnects, and records health if it cannot.
            log.info("resting in IDLE on %s failed (%s); a cycle reconnects", inbox, exc)
            mb.close()
            wait, _ = self.rest_backoff.fail()
            self._rest_after = self.monotonic() + wait
            self.request_cycle("idle lost")
            return
        self.rest_backoff.ok()
        self.waker.wait(0)  # take the wake-up that ended the rest, if one did
        if changed:
            self.request_cycle("new mail")

    def _can_rest(self) -> bool:
        mb = self.mailbox
        return (
            self.cfg.daemon.idle
            and mb is not None
            and self._wake_fd() is not None
            and not self.backoff.failing
            and self.monotonic() >= self._rest_after
            and mb.rests()
        )

    def _wake_fd(self) -> int | None:
        return self.waker.fileno() if isinstance(self.waker, PipeWaker) else None

    def _inbox(self) -> str | None:
        # Only once a cycle has resolved the folders (a reload forgets them).
        engine = self.engine
        return (
            engine.folders.inbox if engine is not None and engine.mailbox is self.mailbox else None
        )

    def _run_due(self, due: list[tuple[str, str]]) -> list[str]:
        if not due or self.stop.is_set():
            return []
        names = {name for name, _ in due}
        if "poll" in names:
            self._arm_poll()
        if self.backoff.failing and names <= PACED:
            return []  # the retry timer owns the pace during an outage
        whys = [why for _, why in due]
        self._cycle(", ".join(whys))
        return whys

    def pending(self) -> dict[str, datetime]:
        """What is armed, by name, on the daemon's clock."""
        return self.timers.pending()

    def _arm_poll(self) -> None:
        self.timers.set("poll", self.now() + timedelta(minutes=self.cfg.daemon.poll_minutes))

    def _tick(self) -> None:
        self.timers.set("tick", self.now() + timedelta(seconds=TICK_SECONDS))
        drift = self._clock_minus_mono()
        jump, self._drift = drift - self._drift, drift
        if abs(jump) > JUMP_SECONDS:
            # Suspend/resume or a clock change: catch up once, restart the poll
            # interval from now, and don't trust the old IDLE socket.
            log.warning("clock jumped by %+.0f s (sleep or clock change); catching up", jump)
            self._arm_poll()
            self._drop_watch()
            self.request_cycle("clock jump")

    def _drop_watch(self) -> None:
        """Abort the watcher's connection (it reconnects); its feed is not trusted meanwhile."""
        self.feed.lost()
        box = self.watch.drop()
        if box is not None:
            box.abort()

    def _reload(self) -> None:
        log.info("SIGHUP: reloading the config")
        if self.config_path is None:
            log.warning("SIGHUP ignored: the config was not loaded from a file")
            return
        try:
            new = config.load(self.config_path)
        except ConfigError as exc:
            log.error("new config in %s is invalid, keeping the old one: %s", self.config_path, exc)
            return
        old, self.cfg = self.cfg, new
        self.engine = None  # templates, calendar and policy come from the config
        if new.account != old.account or new.folders != old.folders:
            log.info("account settings changed: reconnecting")
            if self.mailbox is not None:
                self.mailbox.close()
            self.mailbox = None
            self._no_watcher = False  # the new server may have NOTIFY
            self._drop_watch()
        if new.daemon != old.daemon:
            self._arm_poll()
        log.info("config reloaded from %s", self.config_path)
        self.request_cycle("config reloaded")

    # -- the cycle ----------------------------------------------------------

    def _engine(self) -> Engine:
        if self.mailbox is None:
            self.mailbox = self.mailbox_factory(self.cfg)
        if self.engine is None:
            self.engine = Engine(self.cfg, self.store, self.mailbox)
            self.engine.stop = self.stop
            self.engine.changes = self.feed
        self.engine.mailbox = self.mailbox
        return self.engine

    def _cycle(self, why: str) -> None:
        faults.hit("cycle")
        now = self.now()
        log.debug("cycle (%s)", why)
        try:
            engine = self._engine()
            self._ready(engine)
            report = engine.run_cycle(now)
        except FollowupError as exc:
            self._failed(exc, now)
            return
        except Exception as exc:
            # A bug must not end a daemon that is meant to run for months.
            log.exception("cycle failed unexpectedly")
            self._failed(exc, now, logged=True)
            return
        self._succeeded(report, now)

    def _succeeded(self, report: CycleReport, now: datetime) -> None:
        if self.backoff.ok():
            log.warning("mailbox reachable again")
        self.ever_ok = True
        if self.watcher is None and not self._no_watcher and self.cfg.daemon.idle:
            self._start_watcher()
        health.cycle_ok(self.store, now, self.watch.up or self._can_rest())
        if report.drafted and self.cfg.daemon.notify:
            notify.notify(
                *notify.drafts_written(len(report.drafted), report.drafted[0].subject or "")
            )
        withdrawn = len(report.withdrawn) + len(report.twins)
        if report.drafted or report.recovered or report.state_changes or withdrawn:
            log.info(
                "cycle: %d drafted, %d recovered, %d withdrawn, %d state change(s)",
                len(report.drafted),
                len(report.recovered),
                withdrawn,
                len(report.state_changes),
            )
        self._schedule_due(self.now())

    def _schedule_due(self, now: datetime) -> None:
        due = self.store.next_due()
        # A step still due after a cycle failed to compose: polling retries it,
        # an immediate timer would spin.
        if due is not None and due > now and due != self._due_at:
            self.timers.set("due", due)
            log.debug("next step due at %s", due)
        self._due_at = due

    def _ready(self, engine: Engine) -> None:
        """Make sure the main connection works, even for a cycle with nothing to do."""
        mb = engine.mailbox
        assert mb is not None
        try:
            mb.connect()
            mb.wait(engine.folders.inbox, 0)  # a NOOP once selected: ~0.2 ms
        except MailboxTransientError as exc:
            # A connection idle since the last cycle may have been dropped by a
            # NAT or the server's autologout: one fresh try before backing off.
            log.debug("main connection stale (%s); reconnecting", exc)
            mb.close()
            mb.connect()

    def _failed(self, exc: BaseException, now: datetime, logged: bool = False) -> None:
        # The failed cycle may have taken changes it did not get to record.
        self.feed.mark_all()
        if self.mailbox is not None:
            # Drop it; the next try opens a fresh connection.
            self.mailbox.close()
        wait, first = self.backoff.fail()
        if isinstance(exc, MailboxFatalError):
            if not self.ever_ok and isinstance(exc, (AuthError, FolderError)):
                # Wrong password, missing Drafts: only the user can fix those, so
                # say it now, not in a log. Any other answer is retried.
                log.error("%s", exc)
                self._record_failure(now, exc)
                self.exit_code = exc.exit_code
                self.stop.set()
                return
            wait = BACKOFF_CAP
        if first and not logged:
            log.warning("cycle failed, retrying with backoff (logged once until it works): %s", exc)
        else:
            log.debug("cycle failed again, next try in %.0f s: %s", wait, exc)
        self._record_failure(now, exc)
        self.timers.set("retry", self.now() + timedelta(seconds=wait))

    def _record_failure(self, now: datetime, exc: BaseException) -> None:
        try:
            health.cycle_failed(self.store, now, str(exc))
        except FollowupError as err:
            log.warning("cannot record the failure: %s", err)

    # -- the watcher --------------------------------------------------------

    def _start_watcher(self) -> None:
        mb = self.mailbox
        if mb is not None and self._can_rest() and not mb.info().notify:
            log.info(
                "no NOTIFY here: the main connection rests in IDLE on INBOX between cycles, "
                "and every cycle asks STATUS of the other folders"
            )
            self._no_watcher = True
            return
        body = Watcher(
            lambda: self.cfg,
            self.mailbox_factory,
            self.stop,
            self.request_cycle,
            self.watch,
            self.feed,
        )
        self.watcher = threading.Thread(target=body.run, name="followup-idle", daemon=True)
        self.watcher.start()


def run_daemon(
    cfg: Config, store: Store, mailbox_factory: MailboxFactory, clock: Clock = system_clock
) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    return Daemon(cfg, store, mailbox_factory, clock).run()
