"""Message-IDs for our drafts that look like any mail client's, yet that we can verify.

A new id is `<uuid4@domain>` (the form Thunderbird and many others write): ten
random bytes (with the UUID version and variant bits) and six bytes of an HMAC
of those ten under a key only the database holds. Nothing in it names the
tool; a recipient sees an ordinary Message-ID, and we know ours without any
header of our own. Drafts written before this scheme carry an `X-Followup-Id`
header and a `<followup.…>` id: `is_legacy` names those, so they stay ours.

Pure: the key is handed in (see `agent.drafts.draft_ids`, which keeps it in
the meta table); no I/O here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass

# The meta table's key for the HMAC key (hex); never in config or logs.
META_KEY = "draft_id_key"
KEY_BYTES = 32
_RANDOM = 10  # bytes of the UUID that are random (version/variant bits set)
_TAG = 16 - _RANDOM  # bytes of the UUID that are the HMAC tag
_UUID_ID = re.compile(
    r"^<?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@[^<>@\s]+>?$"
)
# The scheme before issue 16: `<followup.<12 hex>.<12 hex>@domain>`.
_LEGACY_ID = re.compile(r"^<?followup\.[0-9a-f]{12}\.[0-9a-f]{12}@[^<>@\s]+>?$")


def new_key() -> str:
    """A fresh HMAC key, as hex for the meta table."""
    return secrets.token_hex(KEY_BYTES)


def is_legacy(message_id: str | None) -> bool:
    """A Message-ID of a draft written under the old scheme (with X-Followup-Id)."""
    return bool(message_id and _LEGACY_ID.match(message_id.strip()))


@dataclass(frozen=True)
class DraftIds:
    """Makes and verifies our Message-IDs under one key."""

    key: bytes

    @classmethod
    def from_hex(cls, text: str) -> DraftIds:
        return cls(bytes.fromhex(text))

    def _tag(self, random_part: bytes) -> bytes:
        return hmac.new(self.key, random_part, hashlib.sha256).digest()[:_TAG]

    def new(self, domain: str) -> str:
        """A new Message-ID on `domain`: `<uuid4@domain>`, its last bytes our tag."""
        raw = bytearray(secrets.token_bytes(_RANDOM))
        # RFC 9562 version 4 and variant bits, so it reads as any client's UUID.
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        random_part = bytes(raw)
        return f"<{uuid.UUID(bytes=random_part + self._tag(random_part))}@{domain}>"

    def verifies(self, message_id: str | None) -> bool:
        """Whether `message_id` is one we made under this key (any domain)."""
        if not message_id:
            return False
        m = _UUID_ID.match(message_id.strip().lower())
        if m is None:
            return False
        raw = uuid.UUID(m.group(1)).bytes
        return hmac.compare_digest(raw[_RANDOM:], self._tag(raw[:_RANDOM]))

    def is_ours(self, message_id: str | None, legacy_header: str | None = None) -> bool:
        """One of our drafts: a verified id, or an old-scheme draft with its header."""
        return self.verifies(message_id) or (legacy_header is not None and is_legacy(message_id))
