"""Pure classification of fetched mail: what a message is, and which application it concerns.

Nothing here reads the clock, the database or the network. Every input may be
broken (bad encodings, missing headers, truncated MIME): the functions return
a best-effort answer and never raise for malformed mail.

The package is split by role; this module only re-exports the names callers use.
"""

from __future__ import annotations

from ..maildomains import PUBLIC_PROVIDERS, is_public_provider
from .appindex import AppIndex, Match, MatchedBy
from .automail import is_auto_reply, is_automated, is_list, is_out_of_office_subject
from .bodies import body_text
from .bounces import delay_only, failed_addresses, looks_like_bounce
from .drafts import DraftRef, body_fingerprint, match_draft, needs_body, same_body
from .headers import (
    Header,
    decode_bytes,
    domain_of,
    fold_subject,
    normalise_address,
    normalise_subject,
    parse_header,
)
from .returndates import parse_return_date
from .verdict import Verdict, classify

__all__ = [
    "PUBLIC_PROVIDERS",
    "AppIndex",
    "DraftRef",
    "Header",
    "Match",
    "MatchedBy",
    "Verdict",
    "body_fingerprint",
    "body_text",
    "classify",
    "decode_bytes",
    "delay_only",
    "domain_of",
    "failed_addresses",
    "fold_subject",
    "is_auto_reply",
    "is_automated",
    "is_list",
    "is_out_of_office_subject",
    "is_public_provider",
    "looks_like_bounce",
    "match_draft",
    "needs_body",
    "normalise_address",
    "normalise_subject",
    "parse_header",
    "parse_return_date",
    "same_body",
]
