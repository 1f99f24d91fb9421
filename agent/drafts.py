"""Our drafts from claim to withdrawal, and the `draft_watch` table that follows them.

A step's draft goes: claimed (PLANNED → APPENDING, its Message-ID recorded
before any APPEND) → appended → DRAFTED; then the mailbox shows what became
of it: sent (its copy in Sent), edited (the user's words now: never touched
again), gone from Drafts unsent (agent/gone.py: SKIPPED), or withdrawn to
Trash when its sequence ended (with no Trash folder it is left in Drafts, for
the user to delete). A NO to the APPEND puts the step back to planned. A crash
between claim and record is settled by looking for the Message-ID, never by
appending again (invariant 3).

No mailbox call here runs inside a database transaction: a slow or failing
server never holds the write lock, and a crash leaves a state the next cycle
settles.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import jinja2

from . import classify, compose, effects, faults, invitestore, lint, policy
from .config import Config
from .draftid import META_KEY, DraftIds, is_legacy, new_key
from .errors import LintBlockedError, MailboxFatalError, StateError, TemplateError
from .mailbox import DraftIdentity, Folders, Mailbox
from .models import (
    Application,
    AppState,
    DraftWatch,
    MessageKind,
    Person,
    Step,
    StepState,
)
from .store import Store
from .sync import BODY_CAP, Seen, message_fault

log = logging.getLogger(__name__)


# Steps whose draft a message in Sent may be a copy of.
SENDABLE = (StepState.DRAFTED, StepState.APPENDING, StepState.SKIPPED, StepState.WITHDRAWN)
# Why an ended application's drafts are withdrawn, by its state.
ENDED = {
    AppState.RESPONDED: "they replied",
    AppState.REJECTED: "they turned the application down",
    AppState.STOPPED: "you stopped it",
}


def uid_now(step: Step, watch: DraftWatch | None) -> int | None:
    """The UID the step's draft has in Drafts now, as far as we know.

    The watch follows the draft (the user's edit replaces it under a new UID);
    until a sync has seen it, the UID the APPEND returned.
    """
    if watch is not None and watch.uid is not None:
        return watch.uid
    return step.draft_uid


def identity_of(step: Step) -> DraftIdentity:
    """What proves a message in Drafts is this step's draft, for the withdraw guard.

    Its Message-ID; a draft of the old scheme also carries our X-Followup-Id,
    and must show both, as it always had to.
    """
    legacy = step.key if is_legacy(step.message_id) else None
    return DraftIdentity(followup_id=legacy, message_id=step.message_id)


class Composer:
    """Writes a step's draft (threaded, linted) without writing it anywhere."""

    def __init__(
        self,
        cfg: Config,
        store: Store,
        env: jinja2.Environment | None = None,
        cal: policy.Calendar | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.env = env or compose.make_env(cfg.templates.dir)
        self.cal = cal or policy.make_calendar(cfg.schedule)
        self.sender = Person(cfg.account.name, cfg.account.email)
        self._ids: DraftIds | None = None

    @property
    def ids(self) -> DraftIds:
        """This database's Message-ID key, made on first use."""
        if self._ids is None:
            self._ids = draft_ids(self.store)
        return self._ids

    def compose(self, app: Application, step: Step, now: datetime) -> compose.Draft:
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
            ids=self.ids,
        )


def draft_ids(store: Store) -> DraftIds:
    """The key our Message-IDs are verified with: kept in the meta table, made once."""
    text = store.get_meta(META_KEY)
    if text is None:
        if store.conn.in_transaction:
            text = _make_key(store)
        else:
            # IMMEDIATE: two processes starting at once agree on one key.
            with store.transaction():
                text = _make_key(store)
    return DraftIds.from_hex(text)


def _make_key(store: Store) -> str:
    text = store.get_meta(META_KEY)
    if text is None:
        text = new_key()
        store.set_meta(META_KEY, text)
    return text


@dataclass
class Drafted:
    """What drafting the due steps did."""

    drafted: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Drafts:
    """The one owner of our drafts for one cycle against one mailbox."""

    def __init__(
        self,
        cfg: Config,
        store: Store,
        mailbox: Mailbox,
        folders: Folders,
        composer: Composer,
        stop: threading.Event | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.mailbox = mailbox
        self.folders = folders
        self.composer = composer
        # Set by the daemon on SIGTERM: finish the append in flight, start no other.
        self.stop = stop
        self._contacts: dict[int, str] = {}  # contact id → normalised address

    # -- claim, compose, append ---------------------------------------------------

    def due(self, now: datetime) -> list[Step]:
        return self.store.due_steps(now)

    def draft_due(self, now: datetime) -> Drafted:
        """Compose and append every due step's draft, each exactly once."""
        out = Drafted()
        for step in self.due(now):
            if self.stop is not None and self.stop.is_set():
                log.info("stopping: the remaining due drafts wait for the next start")
                break
            try:
                draft, raw = self._write(step, now)
            except Exception as exc:  # one step's bad data is that step's alone
                if not message_fault(exc):
                    raise
                out.problems.append(self._fail(step, exc, now))
                continue
            if draft.findings and self.cfg.policy.lint == "block":
                out.problems.append(self._hold_back(step, draft, now))
            elif self._append(step, draft, raw, now):
                out.drafted.append(self.store.step(step.id))
        return out

    def _write(self, step: Step, now: datetime) -> tuple[compose.Draft, bytes]:
        """The step's draft and its bytes, before anything is claimed: a value no
        message can carry (a CR in a role, an address it cannot encode) fails here."""
        draft = self.composer.compose(self.store.load(step.application_id), step, now)
        return draft, draft.to_message(now).as_bytes()

    def _fail(self, step: Step, exc: Exception, now: datetime) -> str:
        """The step stays planned with the reason on record; the next cycle tries again."""
        why = str(exc) if isinstance(exc, (TemplateError, StateError)) else None
        reason = " ".join((why or f"{type(exc).__name__}: {exc}").split())[:300]
        log.error("cannot write the draft of %s: %s", step.key, reason)
        if step.failure != reason:
            with self.store.transaction():
                self.store.set_failure(step.id, reason)
                self.store.add_event(
                    step.application_id, "failed", f"{step.key}: draft failed: {reason}", now
                )
        return f"{step.key}: {reason}"

    def _hold_back(self, step: Step, draft: compose.Draft, now: datetime) -> str:
        """policy.lint = "block": the step stays planned, its findings on record."""
        found = lint.summary(draft.findings)
        log.warning("draft %s held back by lint: %s", step.key, found)
        if not (step.held_back and step.lint_findings == found):
            with self.store.transaction():
                self.store.set_lint(step.id, found, held_back=True)
                self.store.add_event(
                    step.application_id, "lint", f"{step.key}: held back by lint: {found}", now
                )
        return f"{step.key}: {LintBlockedError(f'held back by lint: {found}')}"

    def _append(self, step: Step, draft: compose.Draft, raw: bytes, now: datetime) -> bool:
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
                classify.body_fingerprint(draft.body),
            ):
                log.info("step %s was taken by another process", step.key)
                return False
        faults.hit("claimed")
        try:
            uid = self.mailbox.append_draft(self.folders.drafts, raw, now)
        except MailboxFatalError as exc:
            # The server answered NO (over quota, read-only...): nothing was
            # stored, so the step is planned again rather than left "appending".
            with self.store.transaction():
                self.store.unclaim_step(step.id, now, reason=f"the server refused the draft: {exc}")
            raise
        faults.hit("appended")
        found = lint.summary(draft.findings) if draft.findings else ""
        with self.store.transaction():
            self.store.mark_drafted(step.id, uid, now)
            # Findings stay with the step: `status`, `show` and `preview` print them.
            self.store.set_lint(step.id, found, held_back=False)
            self.store.set_failure(step.id, "")
            self.store.add_event(
                step.application_id,
                "drafted",
                f"{step.kind.value} to {draft.to.formatted()}: {draft.subject}",
                now,
            )
        faults.hit("recorded")
        log.info("drafted %s for %s (uid %s)", step.kind.value, draft.to.email, uid)
        if found:
            log.warning("draft %s: lint: %s", step.key, found)
        return True

    # -- crash recovery -------------------------------------------------------------

    def recover_appends(self, now: datetime) -> list[Step]:
        """Settle steps whose APPEND may or may not have happened (crash, cut connection)."""
        pending = self.store.steps_in_state(StepState.APPENDING)
        if not pending:
            return []
        since = min(s.due_at for s in pending) - timedelta(days=1)
        in_drafts = self._our_messages(self.folders.drafts, None)
        in_sent = self._our_messages(self.folders.sent, since)
        recovered = []
        for step in pending:
            mid = step.message_id or ""
            if mid not in in_drafts and mid not in in_sent:
                with self.store.transaction():
                    self.store.unclaim_step(step.id, now)
                log.info("step %s: no draft in the mailbox, will draft again", step.key)
                continue
            # Only a Drafts UID is the draft's: a copy already in Sent has a
            # UID of that folder, and the Sent sync records it as sent.
            with self.store.transaction():
                self.store.mark_drafted(step.id, in_drafts.get(mid), now)
                self.store.add_event(
                    step.application_id,
                    "recovered",
                    f"{step.key}: draft found after an interruption",
                    now,
                )
            log.info("step %s: draft found in the mailbox, recorded", step.key)
            recovered.append(step)
        return recovered

    def _our_messages(self, folder: str, since: datetime | None) -> dict[str, int]:
        """Message-ID → UID of the messages we wrote in `folder`."""
        out: dict[str, int] = {}
        day = since.date() if since is not None else None
        for m in self.mailbox.fetch_new(folder, after_uid=0, since=day):
            h = classify.parse_header(m.header)
            if h.message_id and self.composer.ids.is_ours(h.message_id, h.followup_id):
                out.setdefault(h.message_id, m.uid)
        return out

    # -- what the mailbox shows of them ---------------------------------------------

    def _match(self, seen: Seen, states: Sequence[StepState], by_body: bool = False) -> Step | None:
        """The step whose draft `seen` is (a copy or an edit of), if any.

        `by_body`: when headers do not tell, and some draft could be it, read
        the body (capped) and compare it with what we wrote.
        """
        refs = []
        for step in self.store.steps_in_state(*states):
            to = self._address(step)
            if to is None or not step.kind.is_email:
                continue
            ours = self.store.draft_message(step.message_id) if step.message_id else None
            in_reply_to = step.in_reply_to or (ours.in_reply_to if ours else None)
            ref = classify.DraftRef(
                step.key, step.message_id, to, step.subject, in_reply_to, step.body_digest
            )
            refs.append((ref, step))
        drafts = [ref for ref, _ in refs]
        hit = classify.match_draft(seen.header, drafts)
        if hit is None and by_body and classify.needs_body(seen.header, drafts):
            raw = self.mailbox.fetch_body(seen.msg.folder, seen.msg.uid, BODY_CAP)
            if raw is not None:
                hit = classify.match_draft(seen.header, drafts, classify.body_text(raw))
        return next((s for ref, s in refs if hit is not None and ref is hit), None)

    def _address(self, step: Step) -> str | None:
        if step.contact_id is None:
            return None
        if step.contact_id not in self._contacts:
            for app in self.store.load_many([step.application_id], events=False):
                for c in app.contacts:
                    self._contacts[c.id] = classify.normalise_address(c.email)
        return self._contacts.get(step.contact_id)

    def sent_copy_of(self, seen: Seen) -> Step | None:
        """The step whose draft this message in Sent is, if it is one of ours."""
        return self._match(seen, SENDABLE, by_body=True)

    def record_sent(self, step: Step, seen: Seen, now: datetime) -> bool:
        """Our draft went out: the step is `sent`, timed from when it really was.

        False if this copy was handled before (a copy in another folder, a resync).
        """
        with self.store.transaction():
            if self.store.message_seen(seen.message_id, effects.SENT_KINDS):
                log.info("%s: %s already handled", seen.msg.folder, seen.message_id)
                return False
            if step.state is not StepState.SENT:
                sent_at = seen.header.date or seen.msg.internaldate or now
                self.store.set_step_state(step.id, StepState.SENT, now, sent_at=sent_at)
                self.store.add_event(
                    step.application_id, "sent", f"{step.kind.value} {step.key} was sent", now
                )
                log.info("step %s was sent (%s)", step.key, sent_at)
            effects.record(self.store, seen, now, MessageKind.OUR_SENT, step.application_id)
        return True

    def seen_in_drafts(self, seen: Seen, resync: bool, now: datetime) -> None:
        """One of our drafts (or the user's edit of it) in Drafts: follow its UID."""
        step = self._match(seen, (StepState.DRAFTED,))
        if step is None:
            return  # the user's own draft
        uid, validity = seen.msg.uid, seen.uidvalidity
        with self.store.transaction():
            watch = self.store.draft_watch(step.id)
            ours = seen.header.message_id is not None and seen.header.message_id == step.message_id
            # IMAP messages never change: a different UID in the same folder
            # generation, or a new Message-ID, is a copy the user saved.
            moved = not resync and step.draft_uid is not None and uid != step.draft_uid
            if watch is not None and watch.uidvalidity == validity:
                moved = moved and uid != watch.uid
            was_edited = watch is not None and watch.edited
            if not was_edited and (moved or not ours):
                log.info("step %s: the user edited the draft; it is theirs now", step.key)
            left = watch.left_for_user if watch is not None else ""
            self.store.save_draft_watch(
                DraftWatch(step.id, validity, uid, was_edited or moved or not ours, None, left),
                now,
            )
            effects.record(self.store, seen, now, MessageKind.OUR_DRAFT, step.application_id)

    # -- withdrawal -----------------------------------------------------------------

    def withdraw_ended(self, drafts_uidvalidity: int | None, now: datetime) -> list[Step]:
        """Move our unsent, unedited drafts of ended sequences (or cancelled interviews) away."""
        # A stopped sequence is as over as an answered one: a draft left behind
        # could still be sent by mistake; so is a note for an interview that
        # its organizer cancelled.
        drafted = self.store.steps_in_state(StepState.DRAFTED)
        if not drafted:
            return []  # the usual cycle: ended applications only grow, do not list them
        why = {
            i: text for state, text in ENDED.items() for i in self.store.application_ids([state])
        }
        cancelled = invitestore.cancelled_interviews(self.store)
        ended: list[tuple[Step, str]] = []
        for s in drafted:
            reason = why.get(s.application_id)
            if reason is None and s.interview_id in cancelled:
                reason = "the interview was cancelled"
            if reason is not None:
                ended.append((s, reason))
        return self.withdraw_steps(ended, drafts_uidvalidity, now)

    def withdraw_steps(
        self, ended: list[tuple[Step, str]], drafts_uidvalidity: int | None, now: datetime
    ) -> list[Step]:
        """Withdraw these steps' unsent drafts now, each for its reason; the withdrawn ones."""
        watches = self.store.draft_watches([s.id for s, _ in ended]) if ended else {}
        done = []
        for step, reason in ended:
            watch = watches.get(step.id)
            if watch is not None and (watch.edited or watch.left_for_user):
                continue  # the user's words now, or already left for the user
            if self._withdraw(step, watch, reason, drafts_uidvalidity, now):
                done.append(step)
        return done

    def _withdraw(
        self,
        step: Step,
        watch: DraftWatch | None,
        reason: str,
        drafts_uidvalidity: int | None,
        now: datetime,
    ) -> bool:
        uid = uid_now(step, watch)
        if uid is None:
            self._leave(step, watch, f"{reason}; draft left in Drafts (UID unknown)", now)
            return False
        if self.folders.trash is None:
            # The one rule for an account without Trash: withdrawing would mean
            # deleting for good, so the draft stays and the user is told.
            why = f"{reason}; no Trash folder, so the draft was left in Drafts: delete it yourself"
            log.warning("step %s: %s", step.key, why)
            self._leave(step, watch, why, now)
            with self.store.transaction():
                self.store.add_event(step.application_id, "kept", f"draft {step.key}: {why}", now)
            return False
        validity = watch.uidvalidity if watch is not None else drafts_uidvalidity
        try:
            done = self.mailbox.withdraw(
                self.folders.drafts,
                uid,
                self.folders.trash,
                uidvalidity=validity,
                identity=identity_of(step),
            )
        except MailboxFatalError as exc:
            log.warning("step %s: draft left in Drafts: %s", step.key, exc)
            self._leave(step, watch, f"{reason}; draft left in Drafts ({exc})", now)
            return False
        with self.store.transaction():
            self.store.set_step_state(
                step.id, StepState.WITHDRAWN, now, reason=f"{reason}; draft {done.value}"
            )
            self.store.add_event(
                step.application_id, "withdrawn", f"draft {step.key} withdrawn", now
            )
        return True

    def _leave(self, step: Step, watch: DraftWatch | None, why: str, now: datetime) -> None:
        # Not retried every cycle: the draft stays for the user to delete.
        w = watch or DraftWatch(step.id, None, step.draft_uid, False, None)
        with self.store.transaction():
            self.store.save_draft_watch(replace(w, left_for_user=why), now)
