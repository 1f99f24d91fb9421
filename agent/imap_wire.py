"""What imapclient hands back, read without imapclient: responses, flags, items.

Pure helpers of `agent.imap` (which alone imports imapclient), plus the log
filter that keeps credentials out of imapclient's protocol log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from typing import Any

from agent.mailbox import FolderStatus

CHANGE_RESPONSES = frozenset({b"EXISTS", b"RECENT", b"EXPUNGE", b"FETCH", b"VANISHED"})
# The same, as imaplib files unsolicited responses (by type, whatever command they came with).
CHANGE_KEYS = tuple(r.decode() for r in CHANGE_RESPONSES)
# NO responses that say "later", not "never" (RFC 5530 response codes).
TRANSIENT_CODES = ("[UNAVAILABLE]", "[INUSE]", "[LIMIT]", "[SERVERBUG]", "[OVERQUOTA]")

APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)
_SECRET_COMMAND = re.compile(r"\b(LOGIN|AUTHENTICATE)\b.*", re.IGNORECASE | re.DOTALL)


class _RedactCredentials(logging.Filter):
    """Drops the arguments of LOGIN/AUTHENTICATE from imapclient's protocol log.

    imapclient already redacts these, but only for the exact line format it
    expects; this keeps passwords out even if that format changes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        if _SECRET_COMMAND.search(message):
            record.msg = _SECRET_COMMAND.sub(r"\1 **REDACTED**", message)
            record.args = None
        return True


_redactor = _RedactCredentials()
# Logger filters only see records created on that very logger, so cover each.
for _name in ("imapclient", "imapclient.imapclient", "imapclient.imaplib"):
    logging.getLogger(_name).addFilter(_redactor)


def as_text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def is_change(response: Any) -> bool:
    # Parsed untagged responses look like (4, b'EXISTS') or (b'OK', b'Still here').
    return (
        isinstance(response, tuple)
        and len(response) >= 2
        and isinstance(response[1], bytes)
        and response[1].upper() in CHANGE_RESPONSES
    )


def is_refusal(response: Any) -> bool:
    # An untagged NO or BAD: the server could not do part of what was asked.
    return (
        isinstance(response, tuple)
        and len(response) >= 1
        and isinstance(response[0], bytes)
        and response[0].upper() in (b"NO", b"BAD")
    )


def flags_of(raw: Sequence[bytes | str]) -> frozenset[str]:
    # \Recent only says which session saw a message first (gone in IMAP4rev2);
    # keeping it would make the same message's flags differ between cycles.
    return frozenset(as_text(f) for f in raw) - {"\\Recent"}


def fetched_item(data: dict[bytes, Any], prefix: bytes) -> Any:
    # The server echoes BODY[...] keys in its own spelling (case, partial <0>).
    for key, value in data.items():
        if isinstance(key, bytes) and key.upper().startswith(prefix):
            return value
    return None


def selected_status(answer: dict[bytes, Any], condstore: bool) -> FolderStatus | None:
    """A folder's status from the answer to EXAMINE; None if the server left a part out."""
    try:
        modseq = answer.get(b"HIGHESTMODSEQ")
        if condstore and modseq is None:
            return None
        return FolderStatus(
            uidvalidity=int(answer[b"UIDVALIDITY"]),
            uidnext=int(answer[b"UIDNEXT"]),
            messages=int(answer[b"EXISTS"]),
            highestmodseq=int(modseq) if modseq is not None else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
