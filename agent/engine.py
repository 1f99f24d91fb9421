"""One cycle: reconcile → plan → compose and append due drafts → record.

A cycle is idempotent: running it twice in a row changes nothing the second time.
"""

from __future__ import annotations

import email
import email.policy
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import jinja2

from . import compose, faults, lint, policy
from .config import Config
from .errors import LintBlockedError, MailboxFatalError, StateError, TemplateError
from .mailbox import Folders, Mailbox
from .models import Application, AppState, Person, Step, StepState
from .planner import Planner
from .store import Store
from .sync import Syncer

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    drafted: list[Step] = field(default_factory=list)
    recovered: list[Step] = field(default_factory=list)
    state_changes: list[tuple[int, AppState, str]] = field(default_factory=list)
    # What the mailbox showed happened to our drafts.
    sent: list[Step] = field(default_factory=list)
    withdrawn: list[Step] = field(default_factory=list)
    rejected: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Engine:
    """Ties the store, the policy, the templates and a mailbox together."""

    def __init__(
        self,
        cfg: Config,
        store: Store,
        mailbox: Mailbox | None,
        env: jinja2.Environment | None = None,
        cal: policy.Calendar | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.mailbox = mailbox
        self.env = env or compose.make_env(cfg.templates.dir)
        self.cal = cal or policy.make_calendar(cfg.schedule)
        self.sender = Person(cfg.account.name, cfg.account.email)
        self._folders: Folders | None = None
        self.planner = Planner(cfg, store, self.cal)
        # Set by the daemon on SIGTERM: finish the append in flight, start no other.
        self.stop: threading.Event | None = None

    @property
    def folders(self) -> Folders:
        if self.mailbox is None:
            raise StateError("no mailbox")
        if self._folders is None:
            self._folders = self.mailbox.folders()
        return self._folders

    # -- the cycle ------------------------------------------------------------

    def run_cycle(self, now: datetime) -> CycleReport:
        report = CycleReport()
        self.recover_appends(now, report)
        self.sync(now, report)  # before planning: a reply stops a check-in due now
        report.state_changes += self.planner.plan_all(now)
        self.draft_due(now, report)
        return report

    def sync(self, now: datetime, report: CycleReport) -> None:
        """Read what is new in the watched folders and apply it to the store."""
        if self.mailbox is None:
            return
        rep = Syncer(self.cfg, self.store, self.mailbox, self.folders, self.cal.tz).run(now)
        report.state_changes += [(c.application_id, c.state, c.reason) for c in rep.state_changes]
        report.sent += rep.sent
        report.withdrawn += rep.withdrawn
        report.rejected += rep.rejected
        report.problems += rep.problems
        log.debug(
            "sync: %d header(s), %d body(ies) fetched; %d folder(s) unchanged",
            rep.fetched,
            rep.bodies,
            rep.skipped_folders,
        )

    def due_steps(self, now: datetime) -> list[Step]:
        active = set(self.store.application_ids([AppState.ACTIVE]))
        return [
            s
            for s in self.store.steps_in_state(StepState.PLANNED)
            if s.kind.is_email and s.due_at <= now and s.application_id in active
        ]

    def compose_step(self, app: Application, step: Step, now: datetime) -> compose.Draft:
        """The draft for a step (threaded, linted); nothing is written."""
        return compose.build_draft(
            self.env,
            app,
            step,
            self.sender,
            now,
            self.cal.tz,
            policy.max_checkins(app, self.cfg.policy),
            self.store.messages_for(app.id),
            self.cfg.account.domain,
            self.cfg.policy.known_words,
        )

    def draft_due(self, now: datetime, report: CycleReport) -> None:
        if self.mailbox is None:
            return
        for step in self.due_steps(now):
            if self.stop is not None and self.stop.is_set():
                log.info("stopping: the remaining due drafts wait for the next start")
                return
            app = self.store.load(step.application_id)
            try:
                draft = self.compose_step(app, step, now)
            except (TemplateError, StateError) as exc:
                # One broken template must not stop the other drafts.
                log.error("cannot compose %s: %s", step.key, exc)
                report.problems.append(f"{step.key}: {exc}")
                continue
            if draft.findings and self.cfg.policy.lint == "block":
                self._hold_back(step, draft, now, report)
                continue
            self.append(step, draft, now, report)

    def _hold_back(
        self, step: Step, draft: compose.Draft, now: datetime, report: CycleReport
    ) -> None:
        """policy.lint = "block": the step stays planned, its findings on record."""
        found = lint.summary(draft.findings)
        note = f"held back by lint: {found}"
        log.warning("draft %s held back by lint: %s", step.key, found)
        report.problems.append(f"{step.key}: {LintBlockedError(note)}")
        if step.note != note:
            with self.store.transaction():
                self.store.set_step_note(step.id, note)
                self.store.add_event(step.application_id, "lint", f"{step.key}: {note}", now)

    def append(self, step: Step, draft: compose.Draft, now: datetime, report: CycleReport) -> None:
        assert self.mailbox is not None
        with self.store.transaction():
            # Recorded before the APPEND: a crash after it is recovered by
            # looking for this Message-ID in Drafts, never by appending again.
            if not self.store.claim_step(
                step.id,
                draft.message_id,
                draft.subject,
                now,
                draft.in_reply_to,
                " ".join(draft.references),
            ):
                log.info("step %s was taken by another process", step.key)
                return
        faults.hit("claimed")
        raw = draft.to_message(now).as_bytes()
        try:
            uid = self.mailbox.append_draft(self.folders.drafts, raw, now)
        except MailboxFatalError as exc:
            # The server answered NO (over quota, read-only...): nothing was
            # stored, so the step is planned again rather than left "appending".
            with self.store.transaction():
                self.store.unclaim_step(step.id, now)
                self.store.set_step_note(step.id, f"the server refused the draft: {exc}")
            raise
        faults.hit("appended")
        with self.store.transaction():
            self.store.mark_drafted(step.id, uid, now)
            # Findings stay with the step: `status`, `show` and `preview` print them.
            self.store.set_step_note(
                step.id, f"lint: {lint.summary(draft.findings)}" if draft.findings else ""
            )
            self.store.add_event(
                step.application_id,
                "drafted",
                f"{step.kind.value} to {draft.to.formatted()}: {draft.subject}",
                now,
            )
        faults.hit("recorded")
        log.info("drafted %s for %s (uid %s)", step.kind.value, draft.to.email, uid)
        if draft.findings:
            log.warning("draft %s: lint: %s", step.key, lint.summary(draft.findings))
        report.drafted.append(self.store.step(step.id))

    # -- crash recovery -------------------------------------------------------

    def recover_appends(self, now: datetime, report: CycleReport) -> None:
        """Settle steps whose APPEND may or may not have happened (crash, cut connection)."""
        pending = self.store.steps_in_state(StepState.APPENDING)
        if not pending or self.mailbox is None:
            return
        found = self._our_drafts(since=min(s.due_at for s in pending) - timedelta(days=1))
        for step in pending:
            hit = found.get(step.message_id or "")
            with self.store.transaction():
                if hit is not None:
                    self.store.mark_drafted(step.id, hit, now)
                    self.store.add_event(
                        step.application_id,
                        "recovered",
                        f"{step.key}: draft found after an interruption",
                        now,
                    )
                    log.info("step %s: draft found in the mailbox, recorded", step.key)
                    report.recovered.append(step)
                else:
                    self.store.unclaim_step(step.id, now)
                    log.info("step %s: no draft in the mailbox, will draft again", step.key)

    def _our_drafts(self, since: datetime) -> dict[str, int]:
        """Message-ID → UID of our messages in Drafts (and Sent, if already sent)."""
        assert self.mailbox is not None
        out: dict[str, int] = {}
        for folder, since_day in ((self.folders.drafts, None), (self.folders.sent, since.date())):
            for m in self.mailbox.fetch_new(folder, after_uid=0, since=since_day):
                hdr = email.message_from_bytes(m.header, policy=email.policy.compat32)
                if hdr.get(compose.FOLLOWUP_HEADER) is None:
                    continue
                mid = (hdr.get("Message-ID") or "").strip()
                if mid:
                    out.setdefault(mid, m.uid)
        return out
