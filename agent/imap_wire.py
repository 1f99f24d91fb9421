"""The IMAP wire, read and written without a library: responses, names, NOTIFY, SASL.

Pure helpers of `agent.imap` (which alone imports imapclient) and of
`agent.imap_notify` (stdlib imaplib), plus the log filter that keeps
credentials out of imapclient's protocol log.
"""

from __future__ import annotations

import base64
import binascii
import enum
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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


# -- folder names on the wire (RFC 3501 5.1.3 modified UTF-7) -------------------


def utf7_encode(name: str) -> str:
    """A folder name as the server spells it: printable ASCII as is, the rest base64."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + raw.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def utf7_decode(name: str) -> str:
    """The Unicode folder name of a wire name; ValueError if it is not modified UTF-7."""
    out: list[str] = []
    i = 0
    while i < len(name):
        start = name.find("&", i)
        if start < 0:
            out.append(name[i:])
            break
        out.append(name[i:start])
        end = name.find("-", start)
        if end < 0:
            raise ValueError(f"unterminated &-sequence in {name!r}")
        chunk = name[start + 1 : end]
        if not chunk:
            out.append("&")
        else:
            padded = chunk.replace(",", "/") + "=" * (-len(chunk) % 4)
            try:
                out.append(base64.b64decode(padded, validate=True).decode("utf-16-be"))
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise ValueError(f"bad &-sequence in {name!r}") from exc
        i = end + 1
    return "".join(out)


def quoted(text: str) -> str:
    """An IMAP quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- NOTIFY (RFC 5465) -----------------------------------------------------------

# New, expunged and re-flagged messages: what a cycle reads (MessageNew needs
# MessageExpunge, RFC 5465 5.2; FlagChange tells edited and deleted drafts).
NOTIFY_EVENTS = "(MessageNew MessageExpunge FlagChange)"


def notify_set_arguments(others: Sequence[str], *, selected: bool = True) -> str:
    """The arguments of NOTIFY SET: the selected folder (if any), then each of `others` by name."""
    groups = [f"(selected {NOTIFY_EVENTS})"] if selected else []
    if others:
        names = " ".join(quoted(utf7_encode(name)) for name in others)
        groups.append(f"(mailboxes ({names}) {NOTIFY_EVENTS})")
    return "SET " + " ".join(groups)


class NoticeKind(enum.Enum):
    """What one line the server sent on the watching connection means."""

    STATUS = "status"  # a listed folder changed (its name in `Notice.mailbox`)
    SELECTED = "selected"  # the selected folder changed (EXISTS, EXPUNGE, FETCH, ...)
    ALIVE = "alive"  # nothing changed: "+ idling", "* OK Still here"
    DONE = "done"  # our tagged command completed
    REFUSED = "refused"  # our tagged command was refused (NO/BAD)
    BYE = "bye"  # the server is closing the connection
    OVERFLOW = "overflow"  # NOTIFICATIONOVERFLOW: the server stopped telling
    UNKNOWN = "unknown"  # anything else: every folder may have changed


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    mailbox: str | None = None
    tag: str | None = None


_QUOTED = r'"(?:[^"\\]|\\.)*"'
_ATOM = r'[^\s(){%*"\\\x00-\x1f\x7f]+'
_STATUS_LINE = re.compile(rf"^\* STATUS ({_QUOTED}|{_ATOM}) \(", re.IGNORECASE)
_SELECTED_LINE = re.compile(
    r"^\* (?:\d+ (?:EXISTS|EXPUNGE|FETCH|RECENT)\b|VANISHED\b|FLAGS\b)", re.IGNORECASE
)
_TAGGED_LINE = re.compile(r"^([A-Za-z0-9.]+) (OK|NO|BAD)\b", re.IGNORECASE)


def parse_notice(line: bytes) -> Notice:
    """One line of the watching connection, read as little as needed."""
    text = line.decode("utf-8", "replace").rstrip("\r\n")
    upper = text.upper()
    if upper.startswith("+"):
        return Notice(NoticeKind.ALIVE)
    if upper.startswith("* BYE"):
        return Notice(NoticeKind.BYE)
    if upper.startswith("* OK"):
        overflow = upper.startswith("* OK [NOTIFICATIONOVERFLOW")
        return Notice(NoticeKind.OVERFLOW if overflow else NoticeKind.ALIVE)
    if _SELECTED_LINE.match(text):
        return Notice(NoticeKind.SELECTED)
    status = _STATUS_LINE.match(text)
    if status:
        name = status.group(1)
        if name.startswith('"'):
            name = re.sub(r"\\(.)", r"\1", name[1:-1])
        try:
            return Notice(NoticeKind.STATUS, mailbox=utf7_decode(name))
        except ValueError:
            return Notice(NoticeKind.UNKNOWN)
    tagged = _TAGGED_LINE.match(text)
    if tagged and tagged.group(1) != "*":
        ok = tagged.group(2).upper() == "OK"
        return Notice(NoticeKind.DONE if ok else NoticeKind.REFUSED, tag=tagged.group(1))
    return Notice(NoticeKind.UNKNOWN)


# -- signing in --------------------------------------------------------------------

BEARER_MECHANISMS = ("OAUTHBEARER", "XOAUTH2")


def bearer_mechanism(capabilities: frozenset[str]) -> str | None:
    """The SASL mechanism for a bearer token: OAUTHBEARER (RFC 7628) before XOAUTH2."""
    return next((m for m in BEARER_MECHANISMS if f"AUTH={m}" in capabilities), None)


def login_needs_sasl(username: str, password: str) -> bool:
    """LOGIN is ASCII-only in imaplib; SASL PLAIN carries UTF-8."""
    return not (username + password).isascii()


def plain_payload(username: str, password: str) -> bytes:
    """SASL PLAIN (RFC 4616): no authorization identity, then the user and password."""
    return b"\0" + username.encode("utf-8") + b"\0" + password.encode("utf-8")


def bearer_payload(mechanism: str, username: str, token: str) -> bytes:
    """The first client response of OAUTHBEARER (RFC 7628) or XOAUTH2 (Google's)."""
    if mechanism == "OAUTHBEARER":
        # The GS2 header's saslname escapes "," and "=" (RFC 5801 4).
        user = username.replace("=", "=3D").replace(",", "=2C")
        return f"n,a={user},\x01auth=Bearer {token}\x01\x01".encode()
    if mechanism == "XOAUTH2":
        return f"user={username}\x01auth=Bearer {token}\x01\x01".encode()
    raise ValueError(f"not a bearer mechanism: {mechanism}")


def bearer_error_reply(mechanism: str) -> bytes:
    # The server's error challenge wants a dummy answer before its NO: a ^A for
    # OAUTHBEARER (RFC 7628 3.2.3), an empty line for XOAUTH2.
    return b"\x01" if mechanism == "OAUTHBEARER" else b""
