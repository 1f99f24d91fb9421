"""The door's rules for text a user types: one-line fields, free-text notes, one address.

A value that reaches a mail header must be one line of printable text: a
carriage return or U+2028 copied from a web page would otherwise fail every
draft later (or, with CR LF, add a header of its own). Addresses are checked
and normalised by `email-validator` (IDNA domains, non-ASCII local parts),
which knows RFC 5321/6531 better than a hand-written parser would.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from email.utils import getaddresses

from email_validator import EmailNotValidError, validate_email

from .errors import AddressError

# Named so the error says what was found, not just "a control character".
_NAMED = {
    "\r": "a carriage return (CR)",
    "\n": "a line break (LF)",
    "\x00": "a NUL character",
    "\t": "a tab",
    "\u2028": "a line separator (U+2028)",
    "\u2029": "a paragraph separator (U+2029)",
}
# What a note may keep: it goes into a draft's body, never into a header.
_NOTE_KEEPS = frozenset("\n\r\t\u2028\u2029")


def _describe(ch: str) -> str:
    return _NAMED.get(ch) or f"the control character U+{ord(ch):04X}"


def _is_control(ch: str) -> bool:
    # Cc (C0/C1 controls), Cf (format: bidi overrides, zero-width), Zl/Zp
    # (U+2028/U+2029), Cs (lone surrogates) and Co (private use) never belong
    # in a name.
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co")


def line_problem(value: str) -> str | None:
    """Why `value` cannot go into a header (or None when it can)."""
    bad = next((ch for ch in value if _is_control(ch)), None)
    return None if bad is None else f"contains {_describe(bad)}; it must be one line of text"


def note_problem(value: str) -> str | None:
    """Why `value` cannot be a free-text note: line breaks are fine, other controls not."""
    bad = next((ch for ch in value if ch not in _NOTE_KEEPS and _is_control(ch)), None)
    return None if bad is None else f"contains {_describe(bad)}"


@dataclass(frozen=True)
class ParsedAddress:
    name: str
    email: str  # ASCII-compatible: the domain IDNA-encoded


def parse_one(text: str, *, utf8_local: bool = False, flag: str = "") -> ParsedAddress:
    """'Name <address>' or a bare address → one normalised address.

    A list is refused (with a hint to repeat `flag`); the domain is IDNA-encoded;
    a non-ASCII local part is refused unless the server accepts UTF-8 addresses.
    """
    if problem := line_problem(text):
        raise AddressError(problem)
    pairs = [(n, a) for n, a in getaddresses([text]) if n or a]
    if len(pairs) > 1:
        repeat = f"; repeat {flag} once per person" if flag else ""
        raise AddressError(
            f"{text!r} holds {len(pairs)} addresses, expected one{repeat} "
            '(a name with a comma goes in quotes: "Last, First" <first@example.com>)'
        )
    if not pairs or not pairs[0][1]:
        raise AddressError(f"{text!r} is not 'Name <address>'")
    name, addr = pairs[0]
    try:
        checked = validate_email(
            addr,
            check_deliverability=False,  # no DNS at the door; the server will say
            test_environment=True,  # `.test` domains are fine (tests, demos)
            allow_smtputf8=utf8_local,
        )
    except EmailNotValidError as exc:
        hint = ""
        if not utf8_local and not addr.partition("@")[0].isascii():
            hint = (
                "; such an address needs a server that announces UTF8=ACCEPT, "
                "so give this person's ASCII address"
            )
        raise AddressError(f"{text!r} is not 'Name <address>': {exc}{hint}") from None
    if "." not in checked.ascii_domain:
        raise AddressError(f"{addr!r} has no domain with a dot")
    return ParsedAddress(name=name.strip(), email=f"{checked.local_part}@{checked.ascii_domain}")


def ascii_domain(text: str) -> str:
    """A company's mail domain as headers carry it: lower case, IDNA-encoded."""
    domain = text.strip().removeprefix("@")
    if problem := line_problem(domain):
        raise AddressError(problem)
    try:
        checked = validate_email(
            f"postmaster@{domain}", check_deliverability=False, test_environment=True
        )
    except EmailNotValidError as exc:
        raise AddressError(f"{text!r} is not a mail domain: {exc}") from None
    return checked.ascii_domain
