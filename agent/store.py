"""SQLite state: the single source of truth (invariant 4)."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from .errors import NotFoundError, StateError
from .models import (
    Application,
    AppState,
    Contact,
    DesiredStep,
    DraftWatch,
    Event,
    FolderSync,
    Interview,
    InterviewKind,
    Role,
    SeenMessage,
    Step,
    StepKind,
    StepState,
)

log = logging.getLogger(__name__)

# Each entry migrates from version i to i+1; PRAGMA user_version records how far.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE applications (
        id INTEGER PRIMARY KEY,
        company TEXT NOT NULL,
        role TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'active',
        stop_reason TEXT NOT NULL DEFAULT '',
        domains TEXT NOT NULL DEFAULT '[]',
        hold_until TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE interviews (
        id INTEGER PRIMARY KEY,
        application_id INTEGER NOT NULL REFERENCES applications(id),
        round INTEGER NOT NULL,
        kind TEXT NOT NULL,
        starts_at TEXT NOT NULL,
        duration_minutes INTEGER NOT NULL,
        decision_by TEXT,
        learned TEXT NOT NULL DEFAULT '',
        highlight TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE TABLE contacts (
        id INTEGER PRIMARY KEY,
        application_id INTEGER NOT NULL REFERENCES applications(id),
        interview_id INTEGER REFERENCES interviews(id),
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        role TEXT NOT NULL,
        agency INTEGER NOT NULL DEFAULT 0,
        discussed TEXT NOT NULL DEFAULT '',
        bounced_at TEXT
    );
    CREATE INDEX contacts_email ON contacts(email);
    CREATE TABLE steps (
        id INTEGER PRIMARY KEY,
        application_id INTEGER NOT NULL REFERENCES applications(id),
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        due_at TEXT NOT NULL,
        state TEXT NOT NULL,
        contact_id INTEGER REFERENCES contacts(id),
        interview_id INTEGER REFERENCES interviews(id),
        seq INTEGER NOT NULL DEFAULT 0,
        rule TEXT NOT NULL DEFAULT '',
        message_id TEXT UNIQUE,
        draft_uid INTEGER,
        drafted_at TEXT,
        sent_at TEXT,
        late INTEGER NOT NULL DEFAULT 0,
        subject TEXT,
        note TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL
    );
    CREATE INDEX steps_app ON steps(application_id);
    CREATE INDEX steps_state ON steps(state);
    CREATE TABLE folder_state (
        folder TEXT PRIMARY KEY,
        uidvalidity INTEGER NOT NULL,
        last_uid INTEGER NOT NULL,
        highestmodseq INTEGER,
        synced_at TEXT NOT NULL
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        folder TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        message_id TEXT,
        application_id INTEGER REFERENCES applications(id),
        contact_id INTEGER REFERENCES contacts(id),
        kind TEXT NOT NULL,
        from_addr TEXT NOT NULL DEFAULT '',
        to_addrs TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL DEFAULT '',
        sent_at TEXT,
        in_reply_to TEXT,
        refs TEXT NOT NULL DEFAULT '',
        seen_at TEXT NOT NULL,
        UNIQUE (folder, uidvalidity, uid)
    );
    CREATE INDEX messages_msgid ON messages(message_id);
    CREATE INDEX messages_app ON messages(application_id);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        application_id INTEGER REFERENCES applications(id),
        kind TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX events_app ON events(application_id);
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: the final round of an application (alerting references).
    """
    ALTER TABLE interviews ADD COLUMN final INTEGER NOT NULL DEFAULT 0;
    """,
    # 3: mailbox watching (agent/sync.py). messages.kind is one of
    #   reply       a human answer from the company or in the thread (stops the sequence)
    #   auto_reply  out-of-office or other auto-response (may set applications.hold_until)
    #   bounce      delivery failure for a contact (sets contacts.bounced_at)
    #   list        newsletter / mailing list from the company (no effect)
    #   automated   other machine mail from the company (no effect)
    #   prior       from the company but dated before the latest interview (no effect)
    #   user_sent   the user's own message to the company, from Sent (counts as a contact)
    #   our_sent    one of our drafts, found in Sent (its step is `sent`)
    #   our_draft   one of our drafts, or the user's edit of it, found in Drafts
    # draft_watch follows each drafted step's draft in Drafts: its current UID
    # (the user's edit replaces it), whether the user edited it (then it is
    # never withdrawn), and since when it is missing (then the step is skipped).
    """
    ALTER TABLE folder_state ADD COLUMN messages INTEGER;
    CREATE TABLE draft_watch (
        step_id INTEGER PRIMARY KEY REFERENCES steps(id),
        uidvalidity INTEGER,
        uid INTEGER,
        edited INTEGER NOT NULL DEFAULT 0,
        gone_at TEXT,
        updated_at TEXT NOT NULL
    );
    """,
    # 4: the threading headers a check-in draft was written with, so a sent
    # copy whose Message-ID the server rewrote is still recognised (check-ins
    # of one thread share a subject) and later check-ins extend the chain.
    """
    ALTER TABLE steps ADD COLUMN in_reply_to TEXT;
    ALTER TABLE steps ADD COLUMN refs TEXT NOT NULL DEFAULT '';
    """,
    # 5: applications.data_version moves on every write to anything planning
    # reads (the application, its interviews, contacts, steps and messages),
    # whoever writes: triggers, so no code path can forget. A planner that
    # remembers the version it planned at knows what it need not plan again.
    """
    ALTER TABLE applications ADD COLUMN data_version INTEGER NOT NULL DEFAULT 0;
    CREATE TRIGGER applications_version AFTER UPDATE ON applications
        WHEN NEW.data_version = OLD.data_version
        BEGIN UPDATE applications SET data_version = data_version + 1 WHERE id = NEW.id; END;
    """
    + "".join(
        f"""
    CREATE TRIGGER {table}_ins_version AFTER INSERT ON {table} BEGIN
        UPDATE applications SET data_version = data_version + 1 WHERE id = NEW.application_id;
    END;
    CREATE TRIGGER {table}_upd_version AFTER UPDATE ON {table} BEGIN
        UPDATE applications SET data_version = data_version + 1
            WHERE id IN (OLD.application_id, NEW.application_id);
    END;
    CREATE TRIGGER {table}_del_version AFTER DELETE ON {table} BEGIN
        UPDATE applications SET data_version = data_version + 1 WHERE id = OLD.application_id;
    END;
    """
        for table in ("interviews", "contacts", "steps", "messages")
    ),
    # ---- H8 (issue 15): calendar invitations; queries in agent/invitestore.py ----
    # One row per event UID, the newest copy seen (highest SEQUENCE, then
    # DTSTAMP). status: new (to review), added (became interview_id),
    # ignored (by the user), cancelled (by the organizer). proposal is the JSON
    # of what `invites add` starts from; attendees the people met, as JSON.
    # interviews.cancelled_at: the organizer cancelled it; load_many leaves such
    # an interview and its contacts out, so planning drops its steps.
    """
    CREATE TABLE invitations (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        sequence INTEGER NOT NULL DEFAULT 0,
        dtstamp TEXT,
        method TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '',
        location TEXT NOT NULL DEFAULT '',
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        organizer TEXT NOT NULL DEFAULT '',
        attendees TEXT NOT NULL DEFAULT '[]',
        proposal TEXT NOT NULL DEFAULT '{}',
        reason TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'new',
        application_id INTEGER REFERENCES applications(id),
        interview_id INTEGER REFERENCES interviews(id),
        message_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX invitations_status ON invitations(status);
    ALTER TABLE interviews ADD COLUMN cancelled_at TEXT;
    CREATE INDEX interviews_cancelled ON interviews(cancelled_at) WHERE cancelled_at IS NOT NULL;
    """,
    # ---- end H8 ----
)
SCHEMA_VERSION = len(MIGRATIONS)


def ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} cannot be stored")
    return value.astimezone(UTC).isoformat(timespec="seconds")


def parse_ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _req_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


class Store:
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
            conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=FULL")
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot open the database {path}: {exc}") from exc
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
            raise StateError(f"database is busy or locked: {exc}") from exc
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

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
                for statement in _statements(MIGRATIONS[target]):
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
                state=_APP_STATES[r["state"]],
                created_at=_req_ts(r["created_at"]),
                stop_reason=r["stop_reason"],
                domains=tuple(json.loads(r["domains"])),
                hold_until=parse_ts(r["hold_until"]),
            )
        for r in self.conn.execute(
            f"SELECT * FROM interviews WHERE application_id IN ({marks})"
            " AND cancelled_at IS NULL ORDER BY starts_at, id",
            list(ids),
        ):
            apps[r["application_id"]].interviews.append(_interview(r))
        for r in self.conn.execute(
            f"SELECT * FROM contacts WHERE application_id IN ({marks}) AND (interview_id IS NULL"
            " OR interview_id NOT IN (SELECT id FROM interviews WHERE cancelled_at IS NOT NULL))"
            " ORDER BY id",
            list(ids),
        ):
            apps[r["application_id"]].contacts.append(_contact(r))
        for r in self.conn.execute(
            f"SELECT * FROM steps WHERE application_id IN ({marks}) ORDER BY due_at, id",
            list(ids),
        ):
            apps[r["application_id"]].steps.append(_step(r))
        event_rows = (
            self.conn.execute(
                f"SELECT * FROM events WHERE application_id IN ({marks}) ORDER BY at, id", list(ids)
            )
            if events
            else ()
        )
        for r in event_rows:
            apps[r["application_id"]].events.append(
                Event(_req_ts(r["at"]), r["kind"], r["detail"], r["application_id"])
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
                    "UPDATE steps SET state = 'cancelled', note = ?, updated_at = ? WHERE id = ?",
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
    ) -> bool:
        """PLANNED → APPENDING, recording the Message-ID before any APPEND."""
        cur = self.conn.execute(
            "UPDATE steps SET state = 'appending', message_id = ?, subject = ?, updated_at = ?,"
            " in_reply_to = ?, refs = ? WHERE id = ? AND state = 'planned'",
            (message_id, subject, ts(now), in_reply_to, refs, step_id),
        )
        return cur.rowcount == 1

    def mark_drafted(self, step_id: int, uid: int | None, now: datetime) -> None:
        self.conn.execute(
            "UPDATE steps SET state = 'drafted', draft_uid = ?, drafted_at = ?, updated_at = ?"
            " WHERE id = ? AND state = 'appending'",
            (uid, ts(now), ts(now), step_id),
        )

    def unclaim_step(self, step_id: int, now: datetime) -> None:
        """APPENDING → PLANNED when the draft is known not to exist."""
        self.conn.execute(
            "UPDATE steps SET state = 'planned', updated_at = ?"
            " WHERE id = ? AND state = 'appending'",
            (ts(now), step_id),
        )

    def set_step_state(
        self,
        step_id: int,
        state: StepState,
        now: datetime,
        note: str = "",
        sent_at: datetime | None = None,
    ) -> None:
        self.conn.execute(
            "UPDATE steps SET state = ?, note = CASE WHEN ? = '' THEN note ELSE ? END,"
            " sent_at = COALESCE(?, sent_at), updated_at = ? WHERE id = ?",
            (state.value, note, note, ts(sent_at), ts(now), step_id),
        )

    def set_step_note(self, step_id: int, note: str) -> None:
        self.conn.execute("UPDATE steps SET note = ? WHERE id = ?", (note, step_id))

    def steps_in_state(self, *states: StepState) -> list[Step]:
        marks = ",".join("?" * len(states))
        rows = self.conn.execute(
            f"SELECT * FROM steps WHERE state IN ({marks}) ORDER BY due_at, id",
            [s.value for s in states],
        )
        return [_step(r) for r in rows]

    def step(self, step_id: int) -> Step:
        row = self.conn.execute("SELECT * FROM steps WHERE id = ?", (step_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no step with id {step_id}")
        return _step(row)

    def next_due(self) -> datetime | None:
        row = self.conn.execute(
            "SELECT MIN(s.due_at) FROM steps s JOIN applications a ON a.id = s.application_id"
            " WHERE s.state = 'planned' AND a.state = 'active'"
            " AND s.kind IN ('thank_you', 'checkin')"
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

    # -- mailbox sync state -------------------------------------------------

    def folder_sync(self, folder: str) -> FolderSync | None:
        row = self.conn.execute("SELECT * FROM folder_state WHERE folder = ?", (folder,)).fetchone()
        if row is None:
            return None
        return FolderSync(
            row["folder"],
            row["uidvalidity"],
            row["last_uid"],
            row["highestmodseq"],
            row["messages"],
        )

    def save_folder_sync(self, s: FolderSync, now: datetime) -> None:
        self.conn.execute(
            "INSERT INTO folder_state (folder, uidvalidity, last_uid, highestmodseq, messages,"
            " synced_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(folder) DO UPDATE SET"
            " uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,"
            " highestmodseq = excluded.highestmodseq, messages = excluded.messages,"
            " synced_at = excluded.synced_at",
            (s.folder, s.uidvalidity, s.last_uid, s.highestmodseq, s.messages, ts(now)),
        )

    def draft_watch(self, step_id: int) -> DraftWatch | None:
        row = self.conn.execute(
            "SELECT * FROM draft_watch WHERE step_id = ?", (step_id,)
        ).fetchone()
        if row is None:
            return None
        return DraftWatch(
            row["step_id"],
            row["uidvalidity"],
            row["uid"],
            bool(row["edited"]),
            parse_ts(row["gone_at"]),
        )

    def save_draft_watch(self, w: DraftWatch, now: datetime) -> None:
        self.conn.execute(
            "INSERT INTO draft_watch (step_id, uidvalidity, uid, edited, gone_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(step_id) DO UPDATE SET"
            " uidvalidity = excluded.uidvalidity, uid = excluded.uid, edited = excluded.edited,"
            " gone_at = excluded.gone_at, updated_at = excluded.updated_at",
            (w.step_id, w.uidvalidity, w.uid, int(w.edited), ts(w.gone_at), ts(now)),
        )

    def thread_ids(self) -> list[tuple[str, int]]:
        """(Message-ID, application) of every recorded message tied to an application."""
        rows = self.conn.execute(
            "SELECT message_id, application_id FROM messages"
            " WHERE message_id IS NOT NULL AND application_id IS NOT NULL"
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    def draft_message(self, message_id: str) -> SeenMessage | None:
        """The first record of one of our drafts by its Message-ID (for its In-Reply-To)."""
        row = self.conn.execute(
            "SELECT * FROM messages WHERE message_id = ? AND kind = 'our_draft'"
            " ORDER BY id LIMIT 1",
            (message_id,),
        ).fetchone()
        return _seen(row) if row is not None else None

    def earliest_interview(self, states: Iterable[AppState]) -> datetime | None:
        wanted = [s.value for s in states]
        marks = ",".join("?" * len(wanted))
        row = self.conn.execute(
            "SELECT MIN(i.starts_at) FROM interviews i JOIN applications a"
            f" ON a.id = i.application_id WHERE a.state IN ({marks})",
            wanted,
        ).fetchone()
        return parse_ts(row[0]) if row and row[0] else None

    def cancel_planned(self, app_id: int, note: str, now: datetime) -> int:
        cur = self.conn.execute(
            "UPDATE steps SET state = 'cancelled', note = ?, updated_at = ?"
            " WHERE application_id = ? AND state = 'planned'",
            (note, ts(now), app_id),
        )
        return cur.rowcount

    def record_message(self, m: SeenMessage, now: datetime) -> bool:
        """Remember a classified message; False if this folder/UID was seen before."""
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO messages (folder, uidvalidity, uid, message_id, application_id,"
            " contact_id, kind, from_addr, to_addrs, subject, sent_at, in_reply_to, refs, seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                m.folder,
                m.uidvalidity,
                m.uid,
                m.message_id,
                m.application_id,
                m.contact_id,
                m.kind,
                m.from_addr,
                m.to_addrs,
                m.subject,
                ts(m.sent_at),
                m.in_reply_to,
                m.refs,
                ts(now),
            ),
        )
        return cur.rowcount == 1

    def message_seen(self, message_id: str, kinds: Sequence[str] | None = None) -> bool:
        """True if a message with this Message-ID was already acted on in any folder.

        `kinds` narrows it to records of those kinds: one of our drafts seen in
        Drafts has the Message-ID its sent copy will have in Sent.
        """
        if kinds is None:
            row = self.conn.execute(
                "SELECT 1 FROM messages WHERE message_id = ? LIMIT 1", (message_id,)
            ).fetchone()
        else:
            marks = ",".join("?" * len(kinds))
            row = self.conn.execute(
                f"SELECT 1 FROM messages WHERE message_id = ? AND kind IN ({marks}) LIMIT 1",
                (message_id, *kinds),
            ).fetchone()
        return row is not None

    def user_sent_times(self, app_ids: Sequence[int]) -> dict[int, list[datetime]]:
        """When the user wrote to each application's contacts themselves (Sent folder)."""
        out: dict[int, list[datetime]] = {i: [] for i in app_ids}
        for r in self.conn.execute(
            "SELECT application_id, sent_at FROM messages WHERE kind = 'user_sent'"
            " AND sent_at IS NOT NULL AND application_id IS NOT NULL ORDER BY sent_at, id"
        ):
            if r[0] in out:
                out[r[0]].append(_req_ts(r[1]))
        return out

    def messages_for(self, app_id: int) -> list[SeenMessage]:
        rows = self.conn.execute(
            "SELECT * FROM messages WHERE application_id = ? ORDER BY sent_at, id", (app_id,)
        )
        return [_seen(r) for r in rows]


def _seen(r: sqlite3.Row) -> SeenMessage:
    return SeenMessage(
        r["folder"],
        r["uidvalidity"],
        r["uid"],
        r["message_id"],
        r["kind"],
        r["application_id"],
        r["contact_id"],
        r["from_addr"],
        r["to_addrs"],
        r["subject"],
        parse_ts(r["sent_at"]),
        r["in_reply_to"],
        r["refs"],
    )


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


# Enum lookups by value: EnumType.__call__ costs a microsecond, and loading
# 10,000 applications for planning makes 150,000 of them.
_APP_STATES = {e.value: e for e in AppState}
_KINDS = {e.value: e for e in InterviewKind}
_ROLES = {e.value: e for e in Role}
_STEP_KINDS = {e.value: e for e in StepKind}
_STEP_STATES = {e.value: e for e in StepState}


def _statements(script: str) -> list[str]:
    # A trigger body holds `;` too: a statement ends where SQLite says it is complete.
    out, pending = [], ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                out.append(pending.strip())
            pending = ""
    return out


def _interview(r: sqlite3.Row) -> Interview:
    return Interview(
        id=r["id"],
        application_id=r["application_id"],
        round=r["round"],
        kind=_KINDS[r["kind"]],
        starts_at=_req_ts(r["starts_at"]),
        duration_minutes=r["duration_minutes"],
        decision_by=date.fromisoformat(r["decision_by"]) if r["decision_by"] else None,
        learned=r["learned"],
        highlight=r["highlight"],
        note=r["note"],
        created_at=parse_ts(r["created_at"]),
        final=bool(r["final"]),
    )


def _contact(r: sqlite3.Row) -> Contact:
    return Contact(
        id=r["id"],
        application_id=r["application_id"],
        interview_id=r["interview_id"],
        name=r["name"],
        email=r["email"],
        role=_ROLES[r["role"]],
        agency=bool(r["agency"]),
        discussed=r["discussed"],
        bounced_at=parse_ts(r["bounced_at"]),
    )


def _step(r: sqlite3.Row) -> Step:
    return Step(
        id=r["id"],
        application_id=r["application_id"],
        key=r["key"],
        kind=_STEP_KINDS[r["kind"]],
        due_at=_req_ts(r["due_at"]),
        state=_STEP_STATES[r["state"]],
        contact_id=r["contact_id"],
        interview_id=r["interview_id"],
        seq=r["seq"],
        rule=r["rule"],
        message_id=r["message_id"],
        draft_uid=r["draft_uid"],
        drafted_at=parse_ts(r["drafted_at"]),
        sent_at=parse_ts(r["sent_at"]),
        late=bool(r["late"]),
        subject=r["subject"],
        note=r["note"],
        in_reply_to=r["in_reply_to"],
        refs=r["refs"],
    )
