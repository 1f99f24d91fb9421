"""SQLite state: the single source of truth (invariant 4).

`Store` is the one connection and its transactions, applications and steps;
the schema is agent/schema.py, rows ↔ records agent/rows.py, and what it
remembers of the mailbox agent/mailstate.py (mixed in).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from .errors import DatabaseError, NotFoundError, StateError
from .mailstate import MailState
from .models import (
    Application,
    AppState,
    Contact,
    DesiredStep,
    Event,
    Interview,
    Step,
    StepKind,
    StepState,
)
from .rows import (
    APP_STATES,
    STEP_SELECT,
    contact_row,
    interview_row,
    parse_ts,
    req_ts,
    step_row,
    ts,
)
from .schema import MIGRATIONS, SCHEMA_VERSION, statements

# The kinds of step that become drafts (models.StepKind.is_email), as SQL.
EMAIL_KINDS = ", ".join(f"'{k.value}'" for k in StepKind if k.is_email)

log = logging.getLogger(__name__)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Store", "parse_ts", "ts"]


_DAMAGED = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
_UNWRITABLE = ("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_PERM")


def unwritable(path: Path, why: str) -> DatabaseError:
    return DatabaseError(
        f"cannot write the database {path} ({why}); check that its directory exists and "
        "is writable, or set storage.database to another path"
    )


def database_error(path: Path, exc: sqlite3.Error) -> DatabaseError:
    """SQLite's failure as one line that says what happened and what to do next."""
    name = exc.sqlite_errorname
    if name.startswith(_DAMAGED):
        return damaged(path, str(exc))
    if name.startswith("SQLITE_FULL"):
        return DatabaseError(
            f"the disk holding the database {path} is full ({exc}); nothing was recorded: "
            "free some space and run the command again"
        )
    if name.startswith(_UNWRITABLE):
        return unwritable(path, str(exc))
    return DatabaseError(f"the database {path} failed: {exc} ({name or 'sqlite'})")


def damaged(path: Path, why: str) -> DatabaseError:
    return DatabaseError(
        f"the database {path} is damaged ({why}): stop followup, move the file aside and "
        f"restore a backup, or salvage what is left with `sqlite3 {path} .recover | "
        "sqlite3 recovered.sqlite3`"
    )


def _check_pages(conn: sqlite3.Connection, path: Path) -> None:
    # quick_check reads every page once (milliseconds for our few hundred KB):
    # a damaged page must not pass for "nothing due".
    rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    if [r[0] for r in rows] != ["ok"]:
        found = " ".join(str(rows[0][0]).split()) if rows else "quick_check gave no answer"
        raise damaged(path, found)


class Store(MailState):
    """One connection; use `transaction()` around every multi-statement change."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Store:
        path = path.expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                # Create it private before SQLite writes anything into it.
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
        except OSError as exc:
            raise unwritable(path, exc.strerror or str(exc)) from None
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=FULL")
            _check_pages(conn, path)
        except sqlite3.Error as exc:
            raise database_error(path, exc) from None
        store = cls(conn, path)
        store.migrate()
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(path) + suffix)
            if p.exists():
                p.chmod(0o600)
        return store

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front so two processes never
        # both decide on the same step.
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorname.startswith("SQLITE_BUSY"):
                raise StateError(f"database is busy or locked: {exc}") from exc
            raise database_error(self.path, exc) from None
        try:
            yield self.conn
        except BaseException as exc:
            self._rollback()
            if isinstance(exc, sqlite3.Error):
                raise database_error(self.path, exc) from None
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise database_error(self.path, exc) from None

    def _rollback(self) -> None:
        # SQLite may already have rolled back on its own (SQLITE_FULL does).
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StateError(
                f"the database {self.path} was written by a newer followup "
                f"(schema {version}, this one knows {SCHEMA_VERSION})"
            )
        for target in range(version, SCHEMA_VERSION):
            log.info("migrating database schema %s -> %s", target, target + 1)
            with self.transaction() as c:
                for statement in statements(MIGRATIONS[target]):
                    c.execute(statement)
                c.execute(f"PRAGMA user_version = {target + 1}")

    # -- applications -------------------------------------------------------

    def add_application(
        self, company: str, role: str, now: datetime, domains: Sequence[str] = ()
    ) -> int:
        cur = self.conn.execute(
            "INSERT INTO applications (company, role, domains, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (company, role, json.dumps(list(domains)), ts(now), ts(now)),
        )
        return int(cur.lastrowid or 0)

    def add_interview(self, iv: Interview, now: datetime) -> int:
        cur = self.conn.execute(
            "INSERT INTO interviews (application_id, round, kind, starts_at, duration_minutes,"
            " decision_by, learned, highlight, note, created_at, final)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                iv.application_id,
                iv.round,
                iv.kind.value,
                ts(iv.starts_at),
                iv.duration_minutes,
                iv.decision_by.isoformat() if iv.decision_by else None,
                iv.learned,
                iv.highlight,
                iv.note,
                ts(now),
                int(iv.final),
            ),
        )
        return int(cur.lastrowid or 0)

    def add_contact(self, c: Contact) -> int:
        cur = self.conn.execute(
            "INSERT INTO contacts (application_id, interview_id, name, email, role, agency,"
            " discussed) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                c.application_id,
                c.interview_id,
                c.name,
                c.email,
                c.role.value,
                int(c.agency),
                c.discussed,
            ),
        )
        return int(cur.lastrowid or 0)

    def update_interview(
        self, iv: Interview, *, learned: str, highlight: str, note: str, decision_by: date | None
    ) -> None:
        self.conn.execute(
            "UPDATE interviews SET learned = ?, highlight = ?, note = ?, decision_by = ?"
            " WHERE id = ?",
            (learned, highlight, note, decision_by.isoformat() if decision_by else None, iv.id),
        )

    def set_discussed(self, contact_id: int, text: str) -> None:
        self.conn.execute("UPDATE contacts SET discussed = ? WHERE id = ?", (text, contact_id))

    def set_domains(self, app_id: int, domains: Sequence[str], now: datetime) -> None:
        self.conn.execute(
            "UPDATE applications SET domains = ?, updated_at = ? WHERE id = ?",
            (json.dumps(sorted(set(domains))), ts(now), app_id),
        )

    def set_app_state(self, app_id: int, state: AppState, reason: str, now: datetime) -> None:
        self.conn.execute(
            "UPDATE applications SET state = ?, stop_reason = ?, updated_at = ? WHERE id = ?",
            (state.value, reason, ts(now), app_id),
        )

    def set_hold(self, app_id: int, until: datetime | None, now: datetime) -> None:
        """Hold check-ins until `until` (an out-of-office return date)."""
        self.conn.execute(
            "UPDATE applications SET hold_until = ?, updated_at = ? WHERE id = ?",
            (ts(until), ts(now), app_id),
        )

    def mark_bounced(self, contact_id: int, now: datetime) -> None:
        self.conn.execute(
            "UPDATE contacts SET bounced_at = COALESCE(bounced_at, ?) WHERE id = ?",
            (ts(now), contact_id),
        )

    def application_ids(self, states: Iterable[AppState] | None = None) -> list[int]:
        if states is None:
            rows = self.conn.execute("SELECT id FROM applications ORDER BY id")
        else:
            wanted = [s.value for s in states]
            marks = ",".join("?" * len(wanted))
            rows = self.conn.execute(
                f"SELECT id FROM applications WHERE state IN ({marks}) ORDER BY id", wanted
            )
        return [int(r[0]) for r in rows]

    def app_versions(self) -> dict[int, int]:
        """Every application's data version (see schema v5), whatever its state."""
        rows = self.conn.execute("SELECT id, data_version FROM applications")
        return {int(r[0]): int(r[1]) for r in rows}

    def plan_versions(self) -> dict[int, int]:
        """Active application → its data version (moved by any write planning reads)."""
        rows = self.conn.execute("SELECT id, data_version FROM applications WHERE state = 'active'")
        return dict(rows.fetchall())

    def load(self, app_id: int) -> Application:
        apps = self.load_many([app_id])
        if not apps:
            raise NotFoundError(f"no application with id {app_id}")
        return apps[0]

    def load_many(
        self, ids: Sequence[int] | None = None, *, events: bool = True
    ) -> list[Application]:
        """Applications with their interviews, contacts, steps and (unless not wanted) events.

        Planning needs no events, and they only grow: leave them out there.
        """
        if ids is None:
            ids = self.application_ids()
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        apps: dict[int, Application] = {}
        for r in self.conn.execute(
            f"SELECT * FROM applications WHERE id IN ({marks}) ORDER BY id", list(ids)
        ):
            apps[r["id"]] = Application(
                id=r["id"],
                company=r["company"],
                role=r["role"],
                state=APP_STATES[r["state"]],
                created_at=req_ts(r["created_at"]),
                stop_reason=r["stop_reason"],
                domains=tuple(json.loads(r["domains"])),
                hold_until=parse_ts(r["hold_until"]),
            )
        for r in self.conn.execute(
            f"SELECT * FROM interviews WHERE application_id IN ({marks})"
            " AND cancelled_at IS NULL ORDER BY starts_at, id",
            list(ids),
        ):
            apps[r["application_id"]].interviews.append(interview_row(r))
        for r in self.conn.execute(
            f"SELECT * FROM contacts WHERE application_id IN ({marks}) AND (interview_id IS NULL"
            " OR interview_id NOT IN (SELECT id FROM interviews WHERE cancelled_at IS NOT NULL))"
            " ORDER BY id",
            list(ids),
        ):
            apps[r["application_id"]].contacts.append(contact_row(r))
        for r in self.conn.execute(
            f"{STEP_SELECT} WHERE s.application_id IN ({marks}) ORDER BY s.due_at, s.id",
            list(ids),
        ):
            apps[r["application_id"]].steps.append(step_row(r))
        event_rows = (
            self.conn.execute(
                f"SELECT * FROM events WHERE application_id IN ({marks}) ORDER BY at, id", list(ids)
            )
            if events
            else ()
        )
        for r in event_rows:
            apps[r["application_id"]].events.append(
                Event(req_ts(r["at"]), r["kind"], r["detail"], r["application_id"])
            )
        return [apps[i] for i in ids if i in apps]

    # -- steps --------------------------------------------------------------

    def reconcile_steps(self, app_id: int, desired: Sequence[DesiredStep], now: datetime) -> None:
        """Make PLANNED steps match `desired`; finished steps are history and stay."""
        existing = {
            r["key"]: r
            for r in self.conn.execute("SELECT * FROM steps WHERE application_id = ?", (app_id,))
        }
        wanted = {d.key for d in desired}
        for d in desired:
            row = existing.get(d.key)
            if row is None:
                self.conn.execute(
                    "INSERT INTO steps (application_id, key, kind, due_at, state, contact_id,"
                    " interview_id, seq, rule, late, updated_at)"
                    " VALUES (?, ?, ?, ?, 'planned', ?, ?, ?, ?, ?, ?)",
                    (
                        app_id,
                        d.key,
                        d.kind.value,
                        ts(d.due_at),
                        d.contact_id,
                        d.interview_id,
                        d.seq,
                        d.rule,
                        int(d.late),
                        ts(now),
                    ),
                )
            elif _stale(
                row["state"], row["due_at"], row["rule"], row["late"], row["contact_id"], d
            ):
                self.conn.execute(
                    "UPDATE steps SET due_at = ?, rule = ?, late = ?, contact_id = ?,"
                    " updated_at = ? WHERE id = ?",
                    (ts(d.due_at), d.rule, int(d.late), d.contact_id, ts(now), row["id"]),
                )
        for key, row in existing.items():
            if key not in wanted and row["state"] == StepState.PLANNED:
                self.conn.execute(
                    "UPDATE steps SET state = 'cancelled', end_reason = ?, updated_at = ?"
                    " WHERE id = ?",
                    ("no longer planned", ts(now), row["id"]),
                )

    @staticmethod
    def plan_unchanged(steps: Sequence[Step], desired: Sequence[DesiredStep]) -> bool:
        """True when `reconcile_steps(desired)` would write nothing, judged on loaded steps.

        Lets a cycle skip the write transaction (and its fsync) for every
        application whose plan did not move, which is nearly all of them.
        """
        by_key = {s.key: s for s in steps}
        for d in desired:
            s = by_key.get(d.key)
            if s is None or _stale(s.state, ts(s.due_at), s.rule, s.late, s.contact_id, d):
                return False
        wanted = {d.key for d in desired}
        return not any(s.state is StepState.PLANNED and s.key not in wanted for s in steps)

    def claim_step(
        self,
        step_id: int,
        message_id: str,
        subject: str,
        now: datetime,
        in_reply_to: str | None = None,
        refs: str = "",
        body_digest: str = "",
    ) -> bool:
        """PLANNED → APPENDING, recording the Message-ID before any APPEND."""
        cur = self.conn.execute(
            "UPDATE steps SET state = 'appending', message_id = ?, subject = ?, updated_at = ?,"
            " in_reply_to = ?, refs = ?, body_digest = ? WHERE id = ? AND state = 'planned'",
            (message_id, subject, ts(now), in_reply_to, refs, body_digest, step_id),
        )
        return cur.rowcount == 1

    def mark_drafted(self, step_id: int, uid: int | None, now: datetime) -> None:
        self.conn.execute(
            # A drafted step has not ended: a refusal noted on an earlier try is over.
            "UPDATE steps SET state = 'drafted', draft_uid = ?, drafted_at = ?, updated_at = ?,"
            " end_reason = '' WHERE id = ? AND state = 'appending'",
            (uid, ts(now), ts(now), step_id),
        )

    def unclaim_step(self, step_id: int, now: datetime, reason: str = "") -> None:
        """APPENDING → PLANNED when the draft is known not to exist; `reason` says why."""
        self.conn.execute(
            "UPDATE steps SET state = 'planned', updated_at = ?,"
            " end_reason = CASE WHEN ? = '' THEN end_reason ELSE ? END"
            " WHERE id = ? AND state = 'appending'",
            (ts(now), reason, reason, step_id),
        )

    def set_step_state(
        self,
        step_id: int,
        state: StepState,
        now: datetime,
        reason: str = "",
        sent_at: datetime | None = None,
    ) -> None:
        """Move a step to `state`; `reason` (why it ended) replaces the old one if given."""
        self.conn.execute(
            "UPDATE steps SET state = ?, end_reason = CASE WHEN ? = '' THEN end_reason ELSE ? END,"
            " sent_at = COALESCE(?, sent_at), updated_at = ? WHERE id = ?",
            (state.value, reason, reason, ts(sent_at), ts(now), step_id),
        )

    def set_lint(self, step_id: int, findings: str, *, held_back: bool) -> None:
        """Lint's findings on the step's draft; `held_back` when they kept it from Drafts."""
        self.conn.execute(
            "UPDATE steps SET lint_findings = ?, held_back = ? WHERE id = ?",
            (findings, int(held_back), step_id),
        )

    def set_failure(self, step_id: int, reason: str) -> None:
        """Why the step's draft could not be written ('' once it was)."""
        self.conn.execute("UPDATE steps SET failure = ? WHERE id = ?", (reason, step_id))

    def steps_in_state(self, *states: StepState) -> list[Step]:
        marks = ",".join("?" * len(states))
        rows = self.conn.execute(
            f"{STEP_SELECT} WHERE s.state IN ({marks}) ORDER BY s.due_at, s.id",
            [s.value for s in states],
        )
        return [step_row(r) for r in rows]

    def due_steps(self, now: datetime) -> list[Step]:
        """Planned email steps of active applications due by `now`, soonest first."""
        # Reminders stay planned until the user says they are done: leave them in SQLite.
        rows = self.conn.execute(
            f"{STEP_SELECT} JOIN applications a ON a.id = s.application_id"
            f" WHERE s.state = 'planned' AND s.due_at <= ? AND a.state = 'active'"
            f" AND s.kind IN ({EMAIL_KINDS}) ORDER BY s.due_at, s.id",
            (ts(now),),
        )
        return [step_row(r) for r in rows]

    def unsettled_sent(self) -> list[Step]:
        """Sent steps with a known draft UID whose draft was never settled or the user's.

        What `twins` must still look at; every other sent step is history.
        """
        rows = self.conn.execute(
            f"{STEP_SELECT} WHERE s.state = 'sent' AND COALESCE(w.uid, s.draft_uid) IS NOT NULL"
            " AND (w.step_id IS NULL OR (w.gone_at IS NULL AND w.edited = 0"
            " AND w.left_for_user = '')) ORDER BY s.due_at, s.id"
        )
        return [step_row(r) for r in rows]

    def step(self, step_id: int) -> Step:
        row = self.conn.execute(f"{STEP_SELECT} WHERE s.id = ?", (step_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no step with id {step_id}")
        return step_row(row)

    def next_due(self) -> datetime | None:
        # A step whose draft failed is retried by each cycle, not timed: its past
        # due time must not hide the next step's.
        row = self.conn.execute(
            "SELECT MIN(s.due_at) FROM steps s JOIN applications a ON a.id = s.application_id"
            " WHERE s.state = 'planned' AND s.failure = '' AND a.state = 'active'"
            f" AND s.kind IN ({EMAIL_KINDS})"
        ).fetchone()
        return parse_ts(row[0]) if row and row[0] else None

    # -- events and meta ----------------------------------------------------

    def add_event(self, app_id: int | None, kind: str, detail: str, now: datetime) -> None:
        self.conn.execute(
            "INSERT INTO events (at, application_id, kind, detail) VALUES (?, ?, ?, ?)",
            (ts(now), app_id, kind, detail),
        )

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def earliest_interview(self, states: Iterable[AppState]) -> datetime | None:
        wanted = [s.value for s in states]
        marks = ",".join("?" * len(wanted))
        row = self.conn.execute(
            "SELECT MIN(i.starts_at) FROM interviews i JOIN applications a"
            f" ON a.id = i.application_id WHERE a.state IN ({marks})",
            wanted,
        ).fetchone()
        return parse_ts(row[0]) if row and row[0] else None

    def delete_application(self, app_id: int, now: datetime) -> None:
        """Forget an application entered by mistake, with everything that hangs on it.

        Rows of mail seen for it stay (unlinked): they keep a message from
        being taken as new. An invitation it came from is set aside as ignored.
        """
        c = self.conn
        c.execute(
            "DELETE FROM draft_watch WHERE step_id IN"
            " (SELECT id FROM steps WHERE application_id = ?)",
            (app_id,),
        )
        c.execute(
            "UPDATE messages SET application_id = NULL, contact_id = NULL WHERE application_id = ?",
            (app_id,),
        )
        c.execute(
            "UPDATE invitations SET application_id = NULL, interview_id = NULL,"
            " status = 'ignored', reason = 'its application was removed', updated_at = ?"
            " WHERE application_id = ?",
            (ts(now), app_id),
        )
        for table in ("steps", "contacts", "interviews", "events"):
            c.execute(f"DELETE FROM {table} WHERE application_id = ?", (app_id,))
        c.execute("DELETE FROM applications WHERE id = ?", (app_id,))

    def cancel_planned(self, app_id: int, reason: str, now: datetime) -> int:
        cur = self.conn.execute(
            "UPDATE steps SET state = 'cancelled', end_reason = ?, updated_at = ?"
            " WHERE application_id = ? AND state = 'planned'",
            (reason, ts(now), app_id),
        )
        return cur.rowcount


def _stale(
    state: str,
    due_at: str | None,
    rule: str,
    late: int | bool,
    contact_id: int | None,
    d: DesiredStep,
) -> bool:
    """A PLANNED step that no longer matches what the policy wants.

    The recipient may change too (a bounce, a later round's recruiter).
    """
    return state == StepState.PLANNED and (
        due_at != ts(d.due_at)
        or rule != d.rule
        or bool(late) != d.late
        or contact_id != d.contact_id
    )
