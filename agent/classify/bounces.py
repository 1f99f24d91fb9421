"""Bounces: recognising a delivery failure, and which addresses it reports as failed.

Anyone can send a bounce: every scan here is linear in the body's size.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..models import normalise_address
from .bodies import body_text
from .headers import Header, find_addresses

_DAEMON_LOCALPARTS = frozenset(
    {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mail-delivery-subsystem"}
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered mail|delivery status notification \((?:failure|fehler)|"
    r"delivery (?:has )?failed|mail delivery failed|delivery failure|returned mail|"
    r"failure notice|could not be delivered|unzustellbar|nicht zustellbar|non remis|"
    r"non distribuable|no se puede entregar|non recapitabile|onbestelbaar",
    re.IGNORECASE,
)
_FINAL_RECIPIENT = re.compile(
    r"^(?:final|original)-recipient:\s*rfc822\s*;\s*<?([^\s<>;]+@[^\s<>;]+)>?",
    re.IGNORECASE | re.MULTILINE,
)
_ACTION = re.compile(r"^action:\s*(\w+)", re.IGNORECASE | re.MULTILINE)
# Where a non-standard bounce starts quoting the original message.
_QUOTE_START = re.compile(
    r"^(?:-+ ?(?:this is a copy|below this line|original message|the original message)"
    r"|[ \t]*original message follows|return-path:|received:|message-id:|from:)",
    re.IGNORECASE | re.MULTILINE,
)


def looks_like_bounce(h: Header) -> bool:
    ct = h.content_type
    if ct.startswith("multipart/report") and "delivery-status" in ct:
        return True
    local = h.from_addr.partition("@")[0]
    daemon = local in _DAEMON_LOCALPARTS or "mailer-daemon" in h.from_text.lower()
    if daemon:
        return True
    # Null sender (<>) plus a failure subject: the non-standard forms.
    return (
        h.return_path is not None
        and h.return_path.strip("<> ") == ""
        and bool(_BOUNCE_SUBJECT.search(h.subject))
    )


def failed_addresses(body: bytes, known: Iterable[str] = ()) -> list[str]:
    """Which addresses a bounce reports as failed (normalised).

    The standard report's Final-Recipient fields with Action: failed come
    first; otherwise known addresses named in the bounce's own text (not in
    the quoted original, whose headers also name copied recipients).
    """
    text = body_text(body, with_status=True)
    found = _reported_failures(text)
    if found:
        return found
    if not text.strip():
        text = body.decode("utf-8", "replace")
    wanted = {normalise_address(k) for k in known}
    named = [normalise_address(a) for a in find_addresses(_notice_text(text), dotted=True)]
    return list(dict.fromkeys(a for a in named if a in wanted))


def _reported_failures(text: str) -> list[str]:
    """The Final-Recipient of each delivery-status block whose action is 'failed'."""
    found: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        rcpt = _FINAL_RECIPIENT.search(block)
        if rcpt is None:
            continue
        action = _ACTION.search(block)
        if action is not None and action.group(1).lower() != "failed":
            continue
        found.append(normalise_address(rcpt.group(1)))
    return list(dict.fromkeys(found))


def _notice_text(text: str) -> str:
    """The bounce's own words: past its header block, up to where the original is quoted."""
    _, sep, rest = text.partition("\n\n")
    own = rest if sep and _message_has_header(text) else text
    cut = _QUOTE_START.search(own)
    return own[: cut.start()] if cut else own


def _message_has_header(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    return bool(re.match(r"^[\w-]+:\s", first)) and not first.lower().startswith("final-recip")


def delay_only(body: bytes) -> bool:
    """A delivery-status report that only says 'delayed', not 'failed'."""
    actions = {a.lower() for a in _ACTION.findall(body_text(body, with_status=True))}
    return bool(actions) and "failed" not in actions
