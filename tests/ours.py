"""Test helpers for our drafts now that they carry no header of ours (issue 16).

`step_key` finds which step a draft is for the way the agent does: by the
Message-ID recorded for the step. `tool_marks` is the audit every draft the
suite writes goes through (see conftest.py): a header that names the tool.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
import sqlite3
from email.message import Message
from pathlib import Path

# Words that would tell a recipient a tool wrote the note.
_TOOL = re.compile(r"follow_?up|python|jinja|\bagent\b", re.IGNORECASE)
# Headers only software writes, and that name it.
_SOFTWARE = frozenset({"user-agent", "x-mailer", "x-generator", "x-originating-program"})
_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender"})


def step_key(db: Path | sqlite3.Connection, msg: Message) -> str:
    """The key of the step whose draft `msg` is, by its Message-ID."""
    conn = db if isinstance(db, sqlite3.Connection) else sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT key FROM steps WHERE message_id = ?", (str(msg["Message-ID"]),)
        ).fetchone()
    finally:
        if conn is not db:
            conn.close()
    assert row is not None, f"no step has Message-ID {msg['Message-ID']}"
    return str(row[0])


def tool_marks(raw: bytes) -> list[str]:
    """Every header of `raw` whose name or value (addresses aside) names the tool."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    found = []
    for name, value in msg.items():
        lname = name.lower()
        if lname.startswith("x-") or lname in _SOFTWARE:
            found.append(f"{name}: {value}")
            continue
        text = str(value)
        if lname in _ADDRESS_HEADERS:
            # The people's addresses are theirs; only the display names are ours to write.
            text = " ".join(n for n, _ in email.utils.getaddresses([text]))
        if _TOOL.search(text):
            found.append(f"{name}: {value}")
    return found
