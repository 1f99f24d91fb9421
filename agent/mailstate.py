"""What the store remembers of the mailbox: folder sync state, our drafts' watch, messages seen.

A mixin of `Store` (one connection, one transaction discipline); kept apart
because sync and drafts are its only writers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .models import DraftWatch, FolderSync, SeenMessage
from .rows import draft_watch_row, req_ts, seen_row, ts


@dataclass(frozen=True)
class Unreadable:
    """A message passed over because reading, parsing or classifying it failed."""

    folder: str
    uidvalidity: int
    uid: int
    reason: str
    seen_at: datetime


class MailState:
    conn: sqlite3.Connection

    # -- folders ------------------------------------------------------------

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

    # -- messages that could not be read -------------------------------------

    def record_unreadable(self, u: Unreadable) -> bool:
        """Remember one unreadable message; False if it was recorded before."""
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO unreadable (folder, uidvalidity, uid, reason, seen_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (u.folder, u.uidvalidity, u.uid, u.reason, ts(u.seen_at)),
        )
        return cur.rowcount == 1

    def unreadable(self) -> list[Unreadable]:
        rows = self.conn.execute("SELECT * FROM unreadable ORDER BY id")
        return [
            Unreadable(r["folder"], r["uidvalidity"], r["uid"], r["reason"], req_ts(r["seen_at"]))
            for r in rows
        ]

    def unreadable_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM unreadable").fetchone()[0])

    # -- our drafts in Drafts (agent/drafts.py owns what these mean) ---------

    def draft_watch(self, step_id: int) -> DraftWatch | None:
        row = self.conn.execute(
            "SELECT * FROM draft_watch WHERE step_id = ?", (step_id,)
        ).fetchone()
        return draft_watch_row(row) if row is not None else None

    def draft_watches(self, step_ids: Sequence[int]) -> dict[int, DraftWatch]:
        marks = ",".join("?" * len(step_ids))
        rows = self.conn.execute(
            f"SELECT * FROM draft_watch WHERE step_id IN ({marks})", list(step_ids)
        )
        return {r["step_id"]: draft_watch_row(r) for r in rows}

    def save_draft_watch(self, w: DraftWatch, now: datetime) -> None:
        self.conn.execute(
            "INSERT INTO draft_watch (step_id, uidvalidity, uid, edited, gone_at, left_for_user,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(step_id) DO UPDATE SET"
            " uidvalidity = excluded.uidvalidity, uid = excluded.uid, edited = excluded.edited,"
            " gone_at = excluded.gone_at, left_for_user = excluded.left_for_user,"
            " updated_at = excluded.updated_at",
            (
                w.step_id,
                w.uidvalidity,
                w.uid,
                int(w.edited),
                ts(w.gone_at),
                w.left_for_user,
                ts(now),
            ),
        )

    # -- messages -----------------------------------------------------------

    def thread_ids(self, app_ids: Sequence[int] | None = None) -> list[tuple[str, int]]:
        """(Message-ID, application) of every recorded message tied to an application.

        With `app_ids`, of those applications only.
        """
        sql = (
            "SELECT message_id, application_id FROM messages"
            " WHERE message_id IS NOT NULL AND application_id IS NOT NULL"
        )
        if app_ids is None:
            rows = self.conn.execute(sql + " ORDER BY id")
        else:
            marks = ",".join("?" * len(app_ids))
            rows = self.conn.execute(
                sql + f" AND application_id IN ({marks}) ORDER BY id", list(app_ids)
            )
        return [(str(r[0]), int(r[1])) for r in rows]

    def draft_message(self, message_id: str) -> SeenMessage | None:
        """The first record of one of our drafts by its Message-ID (for its In-Reply-To)."""
        row = self.conn.execute(
            "SELECT * FROM messages WHERE message_id = ? AND kind = 'our_draft'"
            " ORDER BY id LIMIT 1",
            (message_id,),
        ).fetchone()
        return seen_row(row) if row is not None else None

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
                m.kind.value,
                m.from_addr,
                ", ".join(m.to_addrs),
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

    def copy_seen(self, m: SeenMessage, kinds: Sequence[str]) -> bool:
        """True if this very message was recorded before: at its folder, UIDVALIDITY and
        UID, or as a copy elsewhere (same Message-ID, same sender, same kind).

        Message-IDs are chosen by senders: one shared by another sender, or by
        another kind of mail, is a different message.
        """
        row = self.conn.execute(
            "SELECT 1 FROM messages WHERE folder = ? AND uidvalidity = ? AND uid = ?",
            (m.folder, m.uidvalidity, m.uid),
        ).fetchone()
        if row is not None:
            return True
        if m.kind.value not in kinds:
            return False
        row = self.conn.execute(
            "SELECT 1 FROM messages WHERE message_id = ? AND from_addr = ? AND kind = ? LIMIT 1",
            (m.message_id, m.from_addr, m.kind.value),
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
                out[r[0]].append(req_ts(r[1]))
        return out

    def messages_for(self, app_id: int) -> list[SeenMessage]:
        rows = self.conn.execute(
            "SELECT * FROM messages WHERE application_id = ? ORDER BY sent_at, id", (app_id,)
        )
        return [seen_row(r) for r in rows]
