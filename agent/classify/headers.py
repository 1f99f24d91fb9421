"""Header decoding: a raw header block → the `Header` record, and subject normalisation.

Every input may be broken (bad encodings, missing headers, unbalanced
quotes): parsing returns a best-effort record and never raises.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import email.utils
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message

from ..models import ADDRESS_PATTERN, normalise_address

_MSGID = re.compile(r"<[^<>\s]+>")


def domain_of(addr: str) -> str:
    return addr.rpartition("@")[2].lower()


def _to_text(value: object) -> str:
    """A header value as clean text: RFC 2047 decoded, odd charsets tolerated."""
    if isinstance(value, email.header.Header):
        # compat32 hands raw 8-bit headers over as unknown-8bit chunks.
        try:
            chunks = email.header.decode_header(value)
        except (email.errors.HeaderParseError, ValueError):
            chunks = [(str(value), None)]
        return _squash(_join_decoded(chunks))
    raw = _unescape(str(value) if value is not None else "")
    parts: list[tuple[bytes | str, str | None]] = []
    try:
        parts = email.header.decode_header(raw)
        text = str(email.header.make_header(parts))
    except (email.errors.HeaderParseError, LookupError, UnicodeError, ValueError):
        # Unknown charset or bytes that are not what they claim: decode piecewise.
        text = _join_decoded(parts) if parts else raw
    return _squash(text)


def _unescape(raw: str) -> str:
    """compat32 keeps raw 8-bit bytes as surrogates: recover them, then guess the charset."""
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        data = raw.encode("utf-8", "surrogateescape")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", "replace")
    return raw


def _join_decoded(parts: Sequence[tuple[bytes | str, str | None]]) -> str:
    out = []
    for i, (chunk, charset) in enumerate(parts):
        piece = chunk if isinstance(chunk, str) else decode_bytes(chunk, charset)
        if i and charset is None and not piece.startswith(" "):
            piece = " " + piece
        if i and charset is not None and parts[i - 1][1] is None:
            piece = " " + piece
        out.append(piece)
    return "".join(out)


def decode_bytes(chunk: bytes, charset: str | None) -> str:
    """Bytes in the charset they claim, else UTF-8, else cp1252; never raises."""
    for cs in (charset, "utf-8", "cp1252"):
        if not cs or cs == "unknown-8bit":
            continue
        try:
            return chunk.decode(cs)
        except (LookupError, UnicodeDecodeError):
            continue
    return chunk.decode("latin-1")


def _squash(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Header:
    """The fields of one message's header that classification uses."""

    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    from_addr: str = ""  # normalised
    from_text: str = ""  # 'Name <addr>' for display
    reply_to: tuple[str, ...] = ()  # normalised Reply-To and Sender
    recipients: tuple[str, ...] = ()  # normalised To + Cc
    subject: str = ""
    date: datetime | None = None
    # X-Followup-Id: only drafts written before issue 16 carry it; new ones
    # are known by their Message-ID (agent.draftid).
    followup_id: str | None = None
    auto_submitted: str = ""
    auto_flag: bool = False  # X-Autoreply / X-Autorespond present
    precedence: str = ""
    is_list: bool = False  # List-Id or List-Unsubscribe present
    content_type: str = ""
    return_path: str | None = None  # None when absent; "" for the null sender <>

    @property
    def thread_ids(self) -> tuple[str, ...]:
        return self.in_reply_to + self.references


def _addresses(values: Iterable[object]) -> list[tuple[str, str]]:
    texts = [_to_text(v) for v in values]
    try:
        pairs = email.utils.getaddresses(texts)
    except (ValueError, IndexError, TypeError):
        pairs = []
    out = [(name, normalise_address(addr)) for name, addr in pairs if "@" in addr]
    if not out:
        # Mangled lists ("jane@acme.com; bob@x.com" or unbalanced quotes).
        for text in texts:
            out += [("", normalise_address(a)) for a in ADDRESS_PATTERN.findall(text)]
    return out


def _parse_date(text: str) -> datetime | None:
    """A Date header as an aware datetime (UTC when it names no zone), or None."""
    if not text:
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


class _Fields:
    """Decoded reads of one parsed header block."""

    def __init__(self, msg: Message) -> None:
        self._msg = msg

    def all(self, name: str) -> list[object]:
        return list(self._msg.get_all(name) or [])

    def one(self, name: str) -> str:
        values = self.all(name)
        return _to_text(values[0]) if values else ""

    def ids(self, name: str) -> tuple[str, ...]:
        return tuple(_MSGID.findall(" ".join(_to_text(v) for v in self.all(name))))

    def addresses(self, name: str) -> tuple[str, ...]:
        return tuple(a for _, a in _addresses(self.all(name)))

    def present(self, *names: str) -> bool:
        return any(self.all(n) for n in names)


def parse_header(raw: bytes) -> Header:
    """Parse a header block (or a whole message); never raises on malformed input."""
    f = _Fields(email.message_from_bytes(raw, policy=email.policy.compat32))
    mid = f.ids("Message-ID")
    sender = f.addresses("From")
    rp = f.all("Return-Path")
    return Header(
        message_id=mid[0] if mid else None,
        in_reply_to=f.ids("In-Reply-To"),
        references=f.ids("References"),
        from_addr=sender[0] if sender else "",
        from_text=f.one("From"),
        reply_to=f.addresses("Reply-To"),
        recipients=tuple(dict.fromkeys(f.addresses("To"))) + f.addresses("Cc"),
        subject=f.one("Subject"),
        date=_parse_date(f.one("Date")),
        followup_id=f.one("X-Followup-Id").strip() or None,
        auto_submitted=f.one("Auto-Submitted").lower(),
        auto_flag=f.present("X-Autoreply", "X-Autorespond"),
        precedence=f.one("Precedence").lower(),
        is_list=f.present("List-Id", "List-Unsubscribe"),
        content_type=f.one("Content-Type").lower(),
        return_path=_to_text(rp[0]).strip() if rp else None,
    )


_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|tr|rv|r|antw|odp|ynt|ref)\s*(\[\d+\])?\s*:|\[ext(ernal)?\])\s*",
    re.IGNORECASE,
)


def fold_subject(subject: str) -> str:
    """Whitespace squashed and case folded: the same subject however a client rewrapped it."""
    return " ".join(subject.split()).casefold()


def normalise_subject(subject: str) -> str:
    """'RE: Fwd: [EXT] Thank you!' → 'thank you!' (for matching sent drafts)."""
    s = subject
    while True:
        stripped = _SUBJECT_PREFIX.sub("", s, count=1)
        if stripped == s:
            break
        s = stripped
    return fold_subject(s)


__all__ = [
    "Header",
    "decode_bytes",
    "domain_of",
    "fold_subject",
    "normalise_address",
    "normalise_subject",
    "parse_header",
]
