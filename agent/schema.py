"""The database schema, as the migrations that build it (PRAGMA user_version)."""

from __future__ import annotations

import sqlite3

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
    # 6: state that lived in free text gets columns of its own. steps.note was
    # why a step ended, its lint findings and the "held back" flag at once:
    # now end_reason, lint_findings and held_back. draft_watch.edited was also
    # set on drafts a withdrawal had to leave behind: now left_for_user says
    # why, and edited means only that the user changed the draft.
    """
    ALTER TABLE steps RENAME COLUMN note TO end_reason;
    ALTER TABLE steps ADD COLUMN lint_findings TEXT NOT NULL DEFAULT '';
    ALTER TABLE steps ADD COLUMN held_back INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE draft_watch ADD COLUMN left_for_user TEXT NOT NULL DEFAULT '';
    UPDATE steps SET lint_findings = substr(end_reason, 7), end_reason = ''
        WHERE end_reason LIKE 'lint: %';
    UPDATE steps SET lint_findings = substr(end_reason, 20), held_back = 1, end_reason = ''
        WHERE end_reason LIKE 'held back by lint: %';
    UPDATE draft_watch SET edited = 0, left_for_user =
        (SELECT end_reason FROM steps WHERE steps.id = draft_watch.step_id)
        WHERE step_id IN (SELECT id FROM steps WHERE end_reason LIKE '%; draft left in Drafts (%');
    UPDATE steps SET end_reason = '' WHERE end_reason LIKE '%; draft left in Drafts (%'
        OR end_reason = 'edited by you in Drafts';
    """,
    # v7 (issue 15): calendar invitations; queries in agent/invitestore.py.
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
    # v8 (issue 16): our drafts carry no header of ours. body_digest is the
    # fingerprint of the body a step's draft was written with
    # (agent.classify.drafts.body_fingerprint): a sent copy whose Message-ID
    # the server rewrote and whose subject the user changed is still known by
    # it. '' for drafts written before (their X-Followup-Id still names them).
    """
    ALTER TABLE steps ADD COLUMN body_digest TEXT NOT NULL DEFAULT '';
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def statements(script: str) -> list[str]:
    """The statements of one migration, in order."""
    # A trigger body holds `;` too: a statement ends where SQLite says it is complete.
    out, pending = [], ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                out.append(pending.strip())
            pending = ""
    return out
