"""The withdraw guard of `agent.backend`, pure: one table, one property."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.backend import Peek, draft_refusal, header_fields, identity_mismatch
from agent.classify import parse_header
from agent.mailbox import DraftIdentity

HEADER = b"Message-ID: <n1.a1@example.net>\r\nX-Followup-Id: a1.i1.thank_you.2\r\n\r\n"
DRAFT = frozenset({"\\Draft", "\\Seen"})


@pytest.mark.parametrize(
    ("flags", "identity", "refusal"),
    [
        (DRAFT, DraftIdentity(followup_id="a1.i1.thank_you.2"), None),
        (DRAFT, DraftIdentity(message_id="<n1.a1@example.net>"), None),
        (DRAFT, DraftIdentity(message_id="n1.a1@example.net"), None),
        (DRAFT, DraftIdentity("a1.i1.thank_you.2", "<n1.a1@example.net>"), None),
        (frozenset({"\\draft"}), DraftIdentity("a1.i1.thank_you.2"), None),  # any case
        (frozenset({"\\Seen"}), DraftIdentity("a1.i1.thank_you.2"), "not flagged"),
        (DRAFT, DraftIdentity(), "no identity given"),
        (DRAFT, DraftIdentity(followup_id=""), "no identity given"),
        (DRAFT, DraftIdentity("a1.i1.thank_you.3"), "X-Followup-Id is a1.i1.thank_you.2"),
        (DRAFT, DraftIdentity("a1.i1.thank_you"), "not our draft"),  # no prefix match
        (DRAFT, DraftIdentity("a1.i1.thank_you.2", "<other@example.net>"), "Message-ID"),
    ],
)
def test_draft_refusal(flags: frozenset[str], identity: DraftIdentity, refusal: str | None) -> None:
    found = draft_refusal(Peek(flags, HEADER), identity)
    if refusal is None:
        assert found is None
    else:
        assert found is not None and refusal in found


def test_a_message_without_our_header_is_never_ours() -> None:
    bare = parse_header(b"Message-ID: <x@example.net>\r\n\r\n")
    assert identity_mismatch(DraftIdentity("a1.x"), bare) == (
        "it is not our draft a1.x (its X-Followup-Id is missing)"
    )


_ID = st.from_regex(r"[A-Za-z0-9._%+-]{1,20}@[a-z0-9.-]{1,20}", fullmatch=True)


@given(ours=_ID, other=_ID, key=st.from_regex(r"a[0-9]{1,4}\.[a-z0-9_.]{1,20}", fullmatch=True))
def test_identity_matches_exactly_its_own_draft(ours: str, other: str, key: str) -> None:
    header = parse_header(
        header_fields(
            f"Message-ID: <{ours}>\r\nX-Followup-Id: {key}\r\nSubject: x\r\n\r\n".encode()
        )
    )
    assert identity_mismatch(DraftIdentity(key, f"<{ours}>"), header) is None
    assert identity_mismatch(DraftIdentity(message_id=ours), header) is None
    mismatch = identity_mismatch(DraftIdentity(key, f"<{other}>"), header)
    assert (mismatch is None) == (other == ours)
    assert identity_mismatch(DraftIdentity(key + "x"), header) is not None
