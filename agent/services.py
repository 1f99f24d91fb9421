"""The use cases: what a user can ask of followup, whatever the interface.

Each use case takes typed input and `now`, writes through the store, plans
again with the `Planner` (never a mailbox-less engine) and returns a typed
result; it never prints. The CLI parses arguments, calls one use case and
prints its result. Use cases that other features add (remove an application,
review calendar invitations, sign in) belong here too, as methods of
`Services`, each with its own request and result records.

May import: config, store, models, planner, policy, compose, lint, intake,
effects, engine, report, agenda, health, credentials, mailbox. Never the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from . import agenda, compose, credentials, effects, health, intake, invitations, lint, report
from .config import AuthMethod, Config, InvitationMode
from .connect import open_mailbox
from .drafts import Composer, Drafts
from .engine import CycleReport, Engine
from .errors import UsageError
from .mailbox import Folders, Mailbox, ServerInfo
from .models import Application, AppState, Step, StepState
from .planner import Planner
from .policy import no_checkin_warning
from .store import Store

if TYPE_CHECKING:
    # Only for annotations: authlib is loaded when an OAuth account needs it.
    from .tokens import CommandTokens, OAuthTokens

log = logging.getLogger(__name__)


def bearer_for(cfg: Config) -> OAuthTokens | CommandTokens | None:
    """The token source of an `auth = "oauth2"` account; None for a password or a Maildir."""
    if cfg.account.is_maildir or cfg.account.auth is not AuthMethod.OAUTH2:
        return None
    from .tokens import bearer_for as tokens_for

    # Tokens live beside the database (the 0600 file when there is no keyring).
    return tokens_for(cfg.account, cfg.storage.database.parent)


def mailbox_for(cfg: Config, bearer: OAuthTokens | CommandTokens | None = None) -> Mailbox:
    """The account's mailbox, not yet connected (the daemon's mailbox factory)."""
    acct = cfg.account
    bearer = bearer or bearer_for(cfg)
    # Asked again at each connection: a changed password_command output is picked
    # up. A local Maildir needs no credentials: never ask for them.
    password = None if acct.is_maildir or bearer else credentials.get_password(acct)
    # A Maildir's UID index lives beside the database it serves.
    state_dir = cfg.storage.database.parent
    return open_mailbox(acct, cfg.folders, password, state_dir=state_dir, bearer=bearer)


# -- requests and results ---------------------------------------------------


@dataclass(frozen=True)
class Added:
    application: Application
    round: int
    planned: tuple[Step, ...]  # the steps planned after the interview was recorded
    findings: tuple[lint.Finding, ...]  # spelling in the user's own notes
    warnings: tuple[str, ...] = ()  # what will not happen as the user may expect


@dataclass(frozen=True)
class Removed:
    application: Application  # as it was before it was deleted
    unsent_drafts: int  # its drafts in Drafts when it was removed
    withdrawn: int  # of those, moved to Trash (edited ones stay: they are the user's)


@dataclass(frozen=True)
class EditRequest:
    """What to correct in one interview; None leaves a field as it is."""

    application_id: int
    round: int | None = None  # default: the latest round
    learned: str | None = None
    highlight: str | None = None
    note: str | None = None
    decision_by: date | None = None
    clear_decision_by: bool = False  # "they gave no date after all"
    discussed: tuple[tuple[str, str], ...] = ()  # (contact's address, what was discussed)


@dataclass(frozen=True)
class Edited:
    application: Application
    round: int
    drafts_kept: int  # drafts already written (or sent) keep their old text
    findings: tuple[lint.Finding, ...]


@dataclass(frozen=True)
class Stopped:
    application: Application  # as it was before the stop
    reason: str
    already: bool  # it had ended before: nothing changed
    unsent_drafts: int  # withdrawn by the next cycle (kept in Drafts when there is no Trash)


@dataclass(frozen=True)
class Done:
    step: Step
    what: str
    already: bool


@dataclass(frozen=True)
class AccountCheck:
    """What `followup check` found after logging in."""

    info: ServerInfo
    folders: Folders
    auth: tuple[str, ...] = ()  # OAuth2: granted scopes and the token's remaining life


@dataclass(frozen=True)
class Status:
    daemon: health.Health  # is the daemon running, when did it last work
    applications: list[report.ApplicationView]


@dataclass(frozen=True)
class Cycle:
    report: CycleReport
    recipients: Mapping[int, str]  # step id → address, for each step the report names


@dataclass(frozen=True)
class PreviewDraft:
    step: Step
    draft: compose.Draft
    due_now: bool


@dataclass(frozen=True)
class Preview:
    application: Application
    drafts: tuple[PreviewDraft, ...]  # empty: nothing planned


# -- the use cases ----------------------------------------------------------


def check_account(cfg: Config) -> AccountCheck:
    """Log in (or open the Maildir), find the folders, read what the server supports.

    Needs no database: it is the first thing a new user runs.
    """
    bearer = bearer_for(cfg)
    mb = mailbox_for(cfg, bearer)
    mb.connect()
    try:
        info, folders = mb.info(), mb.folders()
    finally:
        mb.close()
    if bearer is None:
        return AccountCheck(info, folders)
    from .login import describe

    return AccountCheck(info, folders, tuple(describe(bearer)))


class Services:
    """The use cases over one config and one store."""

    def __init__(self, cfg: Config, store: Store) -> None:
        self.cfg = cfg
        self.store = store

    @cached_property
    def planner(self) -> Planner:
        return Planner(self.cfg, self.store)

    @cached_property
    def composer(self) -> Composer:
        return Composer(self.cfg, self.store, cal=self.planner.cal)

    def _replan(self, app_id: int, now: datetime) -> Application:
        """Plan an active application again after a change; returns it as stored now."""
        app = self.store.load(app_id)
        if app.state is AppState.ACTIVE:
            self.planner.plan_one(app, now)
            app = self.store.load(app_id)
        return app

    def _spelling(self, app: Application, texts: Sequence[str]) -> tuple[lint.Finding, ...]:
        """The user's own notes go into drafts: catch typos while they are fresh."""
        known = [app.company, app.role, *app.domains, *(c.name for c in app.contacts)]
        known += self.cfg.policy.known_words
        return tuple(lint.check_spelling([t for t in texts if t], known))

    # -- interviews ---------------------------------------------------------

    def add(
        self,
        data: intake.InterviewIn,
        now: datetime,
        application_id: int | None = None,
        *,
        force: bool = False,
    ) -> Added:
        """Record an interview: a new application, or a later round of `application_id`.

        The same interview entered again (same company, time and people) is
        refused unless `force`: it would thank everyone twice.
        """
        if application_id is not None:
            first = self.store.load(application_id)
            # A later round inherits what the first one named.
            data = replace(
                data, company=data.company or first.company, role=data.role or first.role
            )
        if not force:
            self._refuse_duplicate(data)
        app_id, _ = intake.record(self.store, data, now, application_id)
        app = self._replan(app_id, now)
        log.info(
            "application %s (%s): round %s added", app.id, app.company, app.interviews[-1].round
        )
        people = (*data.interviewers, data.hiring_manager, data.recruiter)
        texts = [data.learned, data.highlight, *(p.discussed for p in people if p)]
        return Added(
            application=app,
            round=app.interviews[-1].round,
            planned=tuple(s for s in app.steps if s.state is StepState.PLANNED),
            findings=self._spelling(app, texts),
            warnings=self._add_warnings(app),
        )

    def _refuse_duplicate(self, data: intake.InterviewIn) -> None:
        key = data.same_interview_key
        for app in self.store.load_many(events=False):
            for iv in app.interviews:
                people = frozenset(c.address for c in app.contacts if c.interview_id == iv.id)
                other_round = data.round is not None and data.round != iv.round
                if (
                    app.company.strip().casefold(),
                    iv.starts_at,
                    people,
                ) == key and not other_round:
                    raise UsageError(
                        f"this interview is already #{app.id} round {iv.round} "
                        f"({app.company}, {iv.starts_at:%Y-%m-%d %H:%M}, same people); "
                        f"correct it with `followup edit {app.id}`, or add --force to "
                        "enter it again"
                    )

    def _add_warnings(self, app: Application) -> tuple[str, ...]:
        found = no_checkin_warning(app, self.cfg.policy)
        return (found,) if found else ()

    def add_invitation(self, invite_id: int, opts: invitations.AddOptions, now: datetime) -> Added:
        """An invitation becomes an interview: a new application or a later round."""
        app_id, _ = invitations.add(self.store, invite_id, opts, now)
        app = self._replan(app_id, now)
        return Added(
            application=app,
            round=app.interviews[-1].round,
            planned=tuple(s for s in app.steps if s.state is StepState.PLANNED),
            findings=(),
        )

    def invitations_to_review(self) -> int:
        """How many interview invitations wait for the user (0 with invitations off)."""
        if self.cfg.intake.invitations is InvitationMode.OFF:
            return 0
        return invitations.to_review(self.store)

    def edit(self, req: EditRequest, now: datetime) -> Edited:
        """Correct what `add` recorded; drafts not yet written use the new text."""
        _check_edit(req)
        app = self.store.load(req.application_id)
        iv = app.latest_interview
        if req.round is not None:
            iv = next((i for i in app.interviews if i.round == req.round), None)
        if iv is None:
            raise UsageError(f"#{app.id} has no round {req.round}")
        discussed = _discussed_by_contact(app, req.discussed)
        decision = None if req.clear_decision_by else req.decision_by or iv.decision_by
        learned = iv.learned if req.learned is None else req.learned
        highlight = iv.highlight if req.highlight is None else req.highlight
        with self.store.transaction():
            self.store.update_interview(
                iv,
                learned=learned,
                highlight=highlight,
                note=iv.note if req.note is None else req.note,
                decision_by=decision,
            )
            for contact_id, text in discussed.items():
                self.store.set_discussed(contact_id, text)
            self.store.add_event(app.id, "edited", f"round {iv.round} notes edited", now)
        log.info("application %s: round %s notes edited", app.id, iv.round)
        app = self._replan(app.id, now)
        written = [s for s in app.steps if s.state in (StepState.DRAFTED, StepState.SENT)]
        return Edited(
            application=app,
            round=iv.round,
            drafts_kept=len(written),
            findings=self._spelling(app, [learned, highlight, *discussed.values()]),
        )

    # -- ending and ticking off ---------------------------------------------

    def stop(self, app_id: int, reason: str, now: datetime) -> Stopped:
        """End a sequence for good, the same way a reply ends one."""
        app = self.store.load(app_id)
        if app.state is not AppState.ACTIVE:
            return Stopped(app, reason, already=True, unsent_drafts=0)
        with self.store.transaction():
            effects.end_sequence(
                self.store, app.id, AppState.STOPPED, reason, "you stopped it", now
            )
        drafted = sum(s.state is StepState.DRAFTED for s in app.steps)
        return Stopped(app, reason, already=False, unsent_drafts=drafted)

    def remove(self, app_id: int, now: datetime) -> Removed:
        """Delete an application entered by mistake; its unsent drafts are withdrawn first.

        Withdrawing needs the mailbox: if it cannot be reached, nothing is removed.
        """
        app = self.store.load(app_id)
        drafted = [s for s in app.steps if s.state is StepState.DRAFTED]
        withdrawn = self._withdraw_now(drafted, now) if drafted else 0
        with self.store.transaction():
            self.store.delete_application(app.id, now)
            self.store.add_event(
                None, "removed", f"#{app.id} {app.company} — {app.role} removed by you", now
            )
        log.info("application %s (%s) removed", app.id, app.company)
        return Removed(app, unsent_drafts=len(drafted), withdrawn=withdrawn)

    def _withdraw_now(self, steps: list[Step], now: datetime) -> int:
        mb = mailbox_for(self.cfg)
        mb.connect()
        try:
            folders = mb.folders()
            drafts = Drafts(self.cfg, self.store, mb, folders, self.composer)
            validity = mb.status(folders.drafts).uidvalidity
            why = "you removed the application"
            return len(drafts.withdraw_steps([(s, why) for s in steps], validity, now))
        finally:
            mb.close()

    def done(self, step_id: int, now: datetime) -> Done:
        """Tick off a reminder (a call, a card, LinkedIn, references)."""
        step = self.store.step(step_id)
        if step.kind.is_email:
            raise UsageError(
                f"step {step.id} is a {step.kind.value} draft: send it from your mail client; "
                "followup notices it in Sent"
            )
        app = self.store.load(step.application_id)
        what = agenda.describe(app, step)
        if step.state is StepState.DONE:
            return Done(step, what, already=True)
        if step.state is not StepState.PLANNED:
            raise UsageError(f"step {step.id} is {step.state.value}, not a pending reminder")
        with self.store.transaction():
            # sent_at records when it was done: a call done counts as a check-in then.
            self.store.set_step_state(step.id, StepState.DONE, now, reason="done", sent_at=now)
            self.store.add_event(app.id, "done", what, now)
        log.info("step %s done: %s", step.key, what)
        self._replan(app.id, now)
        return Done(self.store.step(step.id), what, already=False)

    # -- looking ------------------------------------------------------------

    def preview(self, app_id: int, now: datetime) -> Preview:
        """The drafts due now (or else the next ones: every thank-you of an interview
        falls due together), rendered; nothing is written."""
        app = self._replan(app_id, now)
        steps = [s for s in app.steps if s.kind.is_email and s.state is StepState.PLANNED]
        due = [s for s in steps if s.due_at <= now]
        first = min((s.due_at for s in steps), default=None)
        shown = due or sorted((s for s in steps if s.due_at == first), key=lambda s: s.id)
        drafts = tuple(
            PreviewDraft(s, self.composer.compose(app, s, now), due_now=s.due_at <= now)
            for s in shown
        )
        return Preview(app, drafts)

    def status(self) -> Status:
        apps = [
            report.application_view(a, self.cfg.policy, self.store.messages_for(a.id))
            for a in self.store.load_many()
        ]
        return Status(health.read(self.store), apps)

    def health(self) -> health.Health:
        """The daemon's health as it recorded it in the database."""
        return health.read(self.store)

    def show(self, app_id: int) -> report.ApplicationView:
        app = self.store.load(app_id)
        return report.application_view(app, self.cfg.policy, self.store.messages_for(app.id))

    def agenda(self, now: datetime, days: int) -> agenda.Agenda:
        # A rejected application may still hold a reminder to answer it.
        apps = self.store.load_many(
            self.store.application_ids([AppState.ACTIVE, AppState.REJECTED])
        )
        return agenda.agenda(apps, now, self.cfg.schedule.tz, days)

    # -- the mailbox --------------------------------------------------------

    def run_once(self, now: datetime) -> Cycle:
        """One cycle against the account's mailbox (`followup run --once`)."""
        mb = mailbox_for(self.cfg)
        mb.connect()
        try:
            rep = Engine(self.cfg, self.store, mb).run_cycle(now)
        finally:
            mb.close()
        steps = [*rep.recovered, *rep.sent, *rep.rejected, *rep.withdrawn, *rep.twins]
        steps += rep.drafted
        apps = {
            a.id: a
            for a in self.store.load_many(sorted({s.application_id for s in steps}), events=False)
        }
        recipients = {}
        for s in steps:
            contact = apps[s.application_id].contact(s.contact_id)
            if contact is not None:
                recipients[s.id] = contact.email
        return Cycle(rep, recipients)


def _check_edit(req: EditRequest) -> None:
    """The notes `edit` changes obey the same door rules as `add`'s."""
    notes = (("--learned", req.learned), ("--highlight", req.highlight), ("--note", req.note))
    for flag, text in notes:
        if text is not None:
            intake.check_note(text, flag)
    for _, text in req.discussed:
        intake.check_note(text, "--discussed")


def _discussed_by_contact(app: Application, pairs: Sequence[tuple[str, str]]) -> dict[int, str]:
    """(address, text) pairs → contact id → text; every address must be a contact's."""
    out: dict[int, str] = {}
    for addr, text in pairs:
        wanted = intake.as_stored(addr).lower()
        match = [c for c in app.contacts if c.email.lower() == wanted]
        if not match:
            addresses = ", ".join(sorted({c.email for c in app.contacts}))
            raise UsageError(f"--discussed {addr!r}: expected ADDRESS=TEXT with one of {addresses}")
        for c in match:
            out[c.id] = text.strip()
    return out
