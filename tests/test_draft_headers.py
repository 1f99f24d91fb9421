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
from agent.models import Person, StepKind
from tests.test_compose import ENV, make_app, step

TZ = ZoneInfo("Europe/Berlin")
ME = Person("Alex Candidate", "alex@example.org")
WHEN = datetime(2026, 11, 16, 16, 30, tzinfo=TZ)


def _headers(kind: StepKind, seq: int) -> list[tuple[str, str]]:
    app = make_app()
    s = step(app, kind, 1, seq)
    s.message_id = None  # a step being drafted for the first time
    d = compose.build_draft(ENV, app, s, ME, WHEN, TZ, 3, [], "example.org")
    msg = email.message_from_bytes(d.to_message(WHEN).as_bytes(), policy=email.policy.default)
    return [(k, str(v)) for k, v in msg.items()]


@pytest.mark.parametrize(("kind", "seq"), [(StepKind.THANK_YOU, 0), (StepKind.CHECKIN, 1)])
def test_no_header_names_the_tool(kind: StepKind, seq: int) -> None:
    for name, value in _headers(kind, seq):
        assert not name.lower().startswith("x-"), name
        assert name.lower() not in {"user-agent", "x-mailer"}, name
        assert "followup" not in value.lower(), (name, value)
