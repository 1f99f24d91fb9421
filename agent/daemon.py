"""`followup run`: the long-running daemon.

APScheduler (3.x, BlockingScheduler, in-memory job store rebuilt at every start)
runs one cycle at a time on the main thread:

- ``poll``: every ``daemon.poll_minutes``;
- ``due``: at the exact due time of the next planned step, recomputed from the
  database after every cycle (the database is the truth, the job store a cache);
- ``wake``: as soon as the IDLE watcher thread (its own, second connection)
  sees INBOX change, and after each (re)connection of that watcher, because
  mail that arrived before IDLE started is not reported;
- ``retry``: after a failed cycle, exponential backoff with jitter (cap 5 min);
- ``tick``: once a minute, to notice suspend/resume and clock jumps (the
  scheduler sleeps on the monotonic clock, which stops while a laptop sleeps).

Jobs coalesce, so a resume after a long sleep runs one catch-up cycle, not one
per missed poll. SIGTERM/SIGINT finish the APPEND in flight, record it, log
out and return 0; SIGHUP reloads the config, keeping the old one if the new
one is invalid.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import TIMEOUT_MAX
from types import FrameType
from typing import Any

from apscheduler.executors.debug import DebugExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from . import config, faults, health
from .config import Config
from .engine import Engine
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

log = logging.getLogger(__name__)

BACKOFF_START = 2.0
BACKOFF_CAP = 300.0
# RFC 2177 asks for a new IDLE within 29 minutes; NATs and proxies drop
# quiet connections far sooner, so refresh well inside that.
IDLE_REFRESH_SECONDS = 9 * 60
TICK_SECONDS = 60.0
# A wall-clock vs monotonic drift beyond this between ticks is a suspend or a jump.
JUMP_SECONDS = 30.0

MailboxFactory = Callable[[Config], Mailbox]


class Backoff:
    """Exponential delays with jitter; `failing` tells a new streak from a continued one."""

    def __init__(self, start: float = BACKOFF_START, cap: float = BACKOFF_CAP) -> None:
        self.start, self.cap = start, cap
        self.delay = start
        self.failing = False

    def fail(self) -> tuple[float, bool]:
        """The next delay, and whether this failure starts a streak (log it then)."""
        first = not self.failing
        self.failing = True
        # Full jitter in the upper half: many clients, one recovering server.
        wait = self.delay * random.uniform(0.5, 1.0)
        self.delay = min(self.delay * 2, self.cap)
        return wait, first

    def ok(self) -> bool:
        """Reset; True if this ends a failure streak."""
        ended = self.failing
        self.failing, self.delay = False, self.start
        return ended


class _Scheduler(BlockingScheduler):  # type: ignore[misc]
    """A BlockingScheduler whose loop also ends when `halt` is set, between jobs.

    Stopping from a signal handler with shutdown() can land mid-job, and
    APScheduler 3 then fails to remove the finished one-shot job.
    """

    def __init__(self, halt: threading.Event, **options: Any) -> None:
        super().__init__(**options)
        self._halt = halt

    def _main_loop(self) -> None:
        wait_seconds: float | None = TIMEOUT_MAX
        while self.state != STATE_STOPPED and not self._halt.is_set():
            self._event.wait(wait_seconds)
            self._event.clear()
            if self._halt.is_set():
                break
            wait_seconds = self._process_jobs()


class Daemon:
    def __init__(
        self,
        cfg: Config,
        store: Store,
        mailbox_factory: MailboxFactory,
        clock_offset: timedelta = timedelta(0),
        config_path: Path | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.mailbox_factory = mailbox_factory
        # --now: the simulated clock runs at real speed from the given instant.
        self.offset = clock_offset
        self.config_path = config_path or cfg.path
        self.stop = threading.Event()
        self.scheduler = _Scheduler(
            self.stop,
            timezone=UTC,
            jobstores={"default": MemoryJobStore()},
            # Cycles run on the scheduler's own (main) thread, one at a time:
            # the SQLite connection stays on one thread, signals land there.
            executors={"default": DebugExecutor()},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.mailbox: Mailbox | None = None
        self.engine: Engine | None = None
        self.backoff = Backoff()
        self.ever_ok = False
        self.exit_code = 0
        self.watcher: threading.Thread | None = None
        self.watch_box: Mailbox | None = None
        self.idle_up = False
        self._drift = self._wall_minus_mono()
        self._due_at: datetime | None = None
        self._ids = itertools.count(1)

    # -- clock --------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    @staticmethod
    def _wall_minus_mono() -> float:
        return time.time() - time.monotonic()

    # -- lifecycle ----------------------------------------------------------

    def run(self) -> int:
        # Its per-job INFO lines would fill the journal with one line a minute.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        health.started(self.store, os.getpid(), self.now())
        log.info(
            "followup daemon started (pid %s); polling every %g min, database %s",
            os.getpid(),
            self.cfg.daemon.poll_minutes,
            self.store.path,
        )
        self._schedule_poll()
        self.scheduler.add_job(self._tick, IntervalTrigger(seconds=TICK_SECONDS), id="tick")
        self.request_cycle("start")
        try:
            self.scheduler.start()
        finally:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            self._shutdown()
        return self.exit_code

    def _shutdown(self) -> None:
        self.stop.set()
        box = self.watch_box
        if box is not None:
            _abort(box)
        if self.mailbox is not None:
            self.mailbox.close()  # LOGOUT on the main connection
        if self.watcher is not None:
            self.watcher.join(timeout=5)
        try:
            health.stopped(self.store, self.now())
        except FollowupError as exc:
            log.warning("could not record the stop: %s", exc)
        log.info("followup daemon stopped")

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stop.is_set():
            return
        log.info("%s: finishing the draft in flight, then exiting", signal.Signals(signum).name)
        self.stop.set()
        self._halt()

    def _halt(self) -> None:
        # Only wake the loop: it ends between jobs (see _Scheduler). Calling
        # shutdown() here, possibly mid-job, makes APScheduler fail afterwards.
        with suppress(AttributeError):  # not started yet: the loop never begins
            self.scheduler.wakeup()

    def _on_hup(self, signum: int, frame: FrameType | None) -> None:
        log.info("SIGHUP: reloading the config")
        threading.Thread(
            target=lambda: self.scheduler.add_job(self._reload, id="reload", replace_existing=True),
            name="followup-hup",
            daemon=True,
        ).start()

    def _reload(self) -> None:
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
            old_watch, self.watch_box = self.watch_box, None
            if old_watch is not None:
                _abort(old_watch)
        if new.daemon != old.daemon:
            self._schedule_poll()
        log.info("config reloaded from %s", self.config_path)
        self.request_cycle("config reloaded")

    # -- scheduling ---------------------------------------------------------

    def _schedule_poll(self) -> None:
        self.scheduler.add_job(
            self._cycle,
            IntervalTrigger(minutes=self.cfg.daemon.poll_minutes),
            args=("poll",),
            id="poll",
            replace_existing=True,
        )

    def _at(self, when: datetime, why: str, job_id: str | None = None) -> None:
        # Job times are real time; `when` is on the (possibly simulated) clock.
        # One-shot jobs scheduled from inside a job get fresh ids: the scheduler
        # removes the running job's id after it returns, whatever it now names.
        self.scheduler.add_job(
            self._cycle,
            DateTrigger(run_date=when - self.offset),
            args=(why,),
            id=job_id or f"{why}-{next(self._ids)}",
            replace_existing=job_id is not None,
        )

    def request_cycle(self, why: str) -> None:
        """Run a cycle as soon as the current one (if any) returns; thread-safe."""
        if not self.stop.is_set():
            self._at(self.now(), why, job_id="wake")

    def _schedule_due(self, now: datetime) -> None:
        due = self.store.next_due()
        # A step still due after a cycle failed to compose: polling retries it,
        # an immediate job would spin. A superseded job just runs an idle cycle.
        if due is not None and due > now and due != self._due_at:
            self._at(due, "due")
            log.debug("next step due at %s", due)
        self._due_at = due

    def _tick(self) -> None:
        drift = self._wall_minus_mono()
        jump, self._drift = drift - self._drift, drift
        if abs(jump) > JUMP_SECONDS:
            # Suspend/resume or a clock change: catch up once, restart the poll
            # interval from now, and don't trust the old IDLE socket.
            log.warning("clock jumped by %+.0f s (sleep or clock change); catching up", jump)
            self._schedule_poll()
            if self.watch_box is not None:
                _abort(self.watch_box)
            self.request_cycle("clock jump")

    # -- the cycle ----------------------------------------------------------

    def _engine(self) -> Engine:
        if self.mailbox is None:
            self.mailbox = self.mailbox_factory(self.cfg)
        if self.engine is None:
            self.engine = Engine(self.cfg, self.store, self.mailbox)
            self.engine.stop = self.stop
        self.engine.mailbox = self.mailbox
        return self.engine

    def _cycle(self, why: str) -> None:
        if self.stop.is_set():
            return
        if self.backoff.failing and why in ("poll", "due"):
            return  # the retry job owns the pace during an outage
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
        if self.backoff.ok():
            log.warning("mailbox reachable again")
        self.ever_ok = True
        if self.watcher is None and self.cfg.daemon.idle:
            self._start_watcher()
        health.cycle_ok(self.store, now, self.idle_up)
        if report.drafted or report.recovered or report.state_changes or report.withdrawn:
            log.info(
                "cycle: %d drafted, %d recovered, %d withdrawn, %d state change(s)",
                len(report.drafted),
                len(report.recovered),
                len(report.withdrawn),
                len(report.state_changes),
            )
        self._schedule_due(self.now())

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
        self._at(self.now() + timedelta(seconds=wait), "retry")

    def _record_failure(self, now: datetime, exc: BaseException) -> None:
        try:
            health.cycle_failed(self.store, now, str(exc))
        except FollowupError as err:
            log.warning("cannot record the failure: %s", err)

    # -- IDLE watcher -------------------------------------------------------

    def _start_watcher(self) -> None:
        self.watcher = threading.Thread(target=self._watch, name="followup-idle", daemon=True)
        self.watcher.start()

    def _watch(self) -> None:
        """Hold an IDLE on INBOX on a second connection; wake a cycle on any change."""
        backoff = Backoff()
        box: Mailbox | None = None
        while not self.stop.is_set():
            if box is not None and box is not self.watch_box:  # a reload replaced it
                box.close()
                box = None
            try:
                if box is None:
                    box = self.watch_box = self.mailbox_factory(self.cfg)
                box.connect()
                info = box.info()
                if not info.idle:
                    log.info(
                        "server has no IDLE: polling every %g min", self.cfg.daemon.poll_minutes
                    )
                    break  # and close it: providers count every open connection
                if not self.idle_up:
                    self.idle_up = True
                    if backoff.ok():
                        log.warning("IDLE connection restored")
                    # Mail that came while we were not idling is not reported.
                    self.request_cycle("idle connected")
                inbox = box.folders().inbox
                if box.wait(inbox, IDLE_REFRESH_SECONDS) and not self.stop.is_set():
                    self.request_cycle("new mail")
            except FollowupError as exc:
                self.idle_up = False
                if self.stop.is_set():
                    break
                if box is not None:
                    box.close()
                wait, first = backoff.fail()
                if isinstance(exc, MailboxFatalError):
                    wait = BACKOFF_CAP
                if first:
                    log.warning("IDLE connection lost, reconnecting with backoff: %s", exc)
                    # Maybe the server is gone: a cycle finds out and records it.
                    self.request_cycle("idle lost")
                self.stop.wait(wait)
            except Exception:
                # Polling still works without the watcher; keep trying, slowly.
                log.exception("IDLE watcher failed unexpectedly")
                self.idle_up = False
                self.stop.wait(BACKOFF_CAP)
        if box is not None:
            box.close()
        self.idle_up = False


def _abort(box: Mailbox) -> None:
    """Break a blocking IDLE from another thread (its thread then sees an error)."""
    abort = getattr(box, "abort", None)
    if abort is not None:
        abort()


def run_daemon(
    cfg: Config,
    store: Store,
    mailbox_factory: MailboxFactory,
    clock_offset: timedelta = timedelta(0),
) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    return Daemon(cfg, store, mailbox_factory, clock_offset).run()
