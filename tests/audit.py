"""The audit of every draft the test suite writes: no header may name the tool (issue 16).

`install()` wraps `BaseMailbox.append_draft`, the one door every backend's
drafts go through (IMAP, Maildir, memory): each message appended is checked
with `tests.ours.tool_marks` before it reaches the mailbox, and a draft that
names the tool fails the test that wrote it. conftest.py installs it for the
whole session; daemons and benchmarks started as processes run through
`python -m tests.audited`, which installs it too and reports into the same
directory (FOLLOWUP_TEST_AUDIT), checked when the session ends.

A test that deliberately writes an old-scheme draft (with X-Followup-Id, to
show it is still recognised) is marked `legacy_drafts`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from agent.backend import BaseMailbox
from tests.ours import tool_marks

ENV_VAR = "FOLLOWUP_TEST_AUDIT"
_Append = Callable[[BaseMailbox, str, bytes, datetime], "int | None"]
_state = {"enabled": True}
# What the session's audit found, for the terminal summary (conftest.py).
SUMMARY: list[str] = []


def audit_dir() -> Path | None:
    value = os.environ.get(ENV_VAR)
    return Path(value) if value else None


def _note(kind: str, raw: bytes) -> None:
    """One file per draft appended (`ok`) or refused (`bad`), for the session's count."""
    where = audit_dir()
    if where is not None:
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        (where / f"{kind}-{os.getpid()}-{secrets.token_hex(6)}.eml").write_bytes(head)


def install() -> Callable[[], None]:
    """Check every appended draft from now on; returns the undo."""
    original: _Append = BaseMailbox.append_draft

    def append_draft(self: BaseMailbox, folder: str, message: bytes, when: datetime) -> int | None:
        if _state["enabled"]:
            marks = tool_marks(message)
            _note("bad" if marks else "ok", message)
            if marks:
                raise AssertionError(f"a draft names the tool: {marks}")
        return original(self, folder, message, when)

    BaseMailbox.append_draft = append_draft  # type: ignore[method-assign]

    def undo() -> None:
        BaseMailbox.append_draft = original  # type: ignore[method-assign]

    return undo


def set_enabled(on: bool) -> None:
    """Off only around a test's own old-scheme drafts (marker `legacy_drafts`)."""
    _state["enabled"] = on


def findings(where: Path) -> tuple[int, list[str]]:
    """(drafts checked, the bad ones' headers) across every process of the session."""
    ok = list(where.glob("ok-*.eml"))
    bad = [p.read_text(errors="replace") for p in where.glob("bad-*.eml")]
    return len(ok) + len(bad), bad
