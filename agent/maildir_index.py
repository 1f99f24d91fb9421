"""The UID index of a Maildir: stable integer UIDs and a UIDVALIDITY per folder.

Kept in a small SQLite file *outside* the Maildir (notmuch and sync tools
would trip over foreign files inside it). UIDs are handed out in the order
given and never reused; a folder's UIDVALIDITY is drawn when the index first
sees the folder, so it changes only if the index is lost.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


def index_path(root: Path, state_dir: Path) -> Path:
    """Where the UID index of the Maildir at `root` lives inside `state_dir`."""
    digest = hashlib.sha256(str(root.expanduser().resolve()).encode()).hexdigest()[:16]
    return state_dir / f"maildir-index-{digest}.sqlite3"


class UidIndex:
    """The UID index: per folder a UIDVALIDITY, the next UID and key -> UID."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # The daemon may open a mailbox in one thread and use or close it in
        # another; the lock keeps each use whole.
        self.db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        self.lock = threading.RLock()
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS folder (
                name TEXT PRIMARY KEY,
                uidvalidity INTEGER NOT NULL,
                uidnext INTEGER NOT NULL,
                digest TEXT NOT NULL DEFAULT '',
                modseq INTEGER NOT NULL DEFAULT 1
            );
            CREATE TABLE IF NOT EXISTS uid (
                folder TEXT NOT NULL,
                key TEXT NOT NULL,
                uid INTEGER NOT NULL,
                PRIMARY KEY (folder, key)
            );
            """
        )

    def close(self) -> None:
        with self.lock:
            self.db.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        # IMMEDIATE: two processes must not hand out the same UID.
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _folder_row(self, folder: str) -> tuple[int, int, str, int]:
        row = self.db.execute(
            "SELECT uidvalidity, uidnext, digest, modseq FROM folder WHERE name = ?", (folder,)
        ).fetchone()
        if row is None:
            # Random, not the clock: a reset index within the same second must differ.
            validity = secrets.randbelow(2**31 - 2) + 1
            self.db.execute(
                "INSERT INTO folder (name, uidvalidity, uidnext) VALUES (?, ?, 1)",
                (folder, validity),
            )
            log.info("maildir index: new folder %s, UIDVALIDITY %d", folder, validity)
            return validity, 1, "", 1
        return int(row[0]), int(row[1]), str(row[2]), int(row[3])

    def folder(self, folder: str) -> tuple[int, int]:
        """(UIDVALIDITY, UIDNEXT), creating the folder's entry on first sight."""
        with self._write():
            validity, uidnext, _, _ = self._folder_row(folder)
        return validity, uidnext

    def keys(self, folder: str) -> dict[str, int]:
        with self.lock:
            rows = self.db.execute("SELECT key, uid FROM uid WHERE folder = ?", (folder,))
            return {str(k): int(u) for k, u in rows}

    def update(
        self, folder: str, new_keys: Sequence[str], digest: str
    ) -> tuple[dict[str, int], int]:
        """UIDs for keys not seen before (in the given order), and the folder's modseq."""
        assigned: dict[str, int] = {}
        with self._write():
            _, uidnext, old_digest, modseq = self._folder_row(folder)
            for key in new_keys:
                # Another process may have numbered it since we last looked.
                row = self.db.execute(
                    "SELECT uid FROM uid WHERE folder = ? AND key = ?", (folder, key)
                ).fetchone()
                if row is not None:
                    assigned[key] = int(row[0])
                    continue
                assigned[key] = uidnext
                self.db.execute(
                    "INSERT INTO uid (folder, key, uid) VALUES (?, ?, ?)", (folder, key, uidnext)
                )
                uidnext += 1
            if digest != old_digest:
                modseq += 1
            self.db.execute(
                "UPDATE folder SET uidnext = ?, digest = ?, modseq = ? WHERE name = ?",
                (uidnext, digest, modseq, folder),
            )
        return assigned, modseq
