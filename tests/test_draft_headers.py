"""Issue 16 (measured): a draft's headers must not name the tool (invariant 10).

neomutt and aerc keep a draft's headers when sending it, so whatever the
agent writes in them reaches the hiring manager.
"""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent import compose
from agent.draftid import DraftIds
from agent.models import Person, StepKind
from tests.ours import tool_marks
from tests.test_compose import ENV, make_app, step

TZ = ZoneInfo("Europe/Berlin")
ME = Person("Alex Candidate", "alex@example.org")
IDS = DraftIds(b"k" * 32)
WHEN = datetime(2026, 11, 16, 16, 30, tzinfo=TZ)


def _headers(kind: StepKind, seq: int) -> list[tuple[str, str]]:
    app = make_app()
    s = step(app, kind, 1, seq)
    s.message_id = None  # a step being drafted for the first time
    d = compose.build_draft(ENV, app, s, ME, WHEN, TZ, 3, [], "example.org", ids=IDS)
    msg = email.message_from_bytes(d.to_message(WHEN).as_bytes(), policy=email.policy.default)
    return [(k, str(v)) for k, v in msg.items()]


@pytest.mark.parametrize(("kind", "seq"), [(StepKind.THANK_YOU, 0), (StepKind.CHECKIN, 1)])
def test_no_header_names_the_tool(kind: StepKind, seq: int) -> None:
    for name, value in _headers(kind, seq):
        assert not name.lower().startswith("x-"), name
        assert name.lower() not in {"user-agent", "x-mailer"}, name
        assert "followup" not in value.lower(), (name, value)


def test_a_new_message_id_is_an_ordinary_one_on_the_users_domain() -> None:
    mid = dict(_headers(StepKind.THANK_YOU, 0))["Message-ID"]
    assert mid.endswith("@example.org>") and IDS.verifies(mid)
    # The form Thunderbird writes: <uuid4@domain>.
    local = mid[1:].partition("@")[0]
    assert [len(p) for p in local.split("-")] == [8, 4, 4, 4, 12] and local[14] == "4"


def test_an_old_scheme_message_id_is_never_reused_for_a_new_draft() -> None:
    app = make_app()
    s = step(app, StepKind.THANK_YOU, 1)
    s.message_id = "<followup.9b7d85e13618.e47cd9e87e45@example.org>"
    d = compose.build_draft(ENV, app, s, ME, WHEN, TZ, 3, [], "example.org", ids=IDS)
    assert "followup" not in d.message_id and IDS.verifies(d.message_id)


@pytest.mark.parametrize(
    ("header", "flagged"),
    [
        ("X-Followup-Id: a1.i1.thank_you.c4", True),
        ("User-Agent: followup/0.3", True),
        ("X-Mailer: anything", True),
        ("Message-ID: <followup.9b7d85e13618.e47cd9e87e45@example.test>", True),
        ("Subject: Sent with Python", True),
        ("To: Follow_Up Bot <jane@acme.example>", True),  # a display name is ours to write
        ("To: Jane Doe <followup-jobs@acme.example>", False),  # her address is hers
        ("Subject: Following up on the Data Engineer role", False),
        ("Message-ID: <10ad1eb0-6e18-4d3e-830a-f310d74b4403@example.net>", False),
    ],
)
def test_the_audit_flags_what_names_the_tool(header: str, flagged: bool) -> None:
    raw = f"From: Alex <alex@example.org>\r\n{header}\r\n\r\nbody\r\n".encode()
    assert bool(tool_marks(raw)) is flagged
