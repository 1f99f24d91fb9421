"""Real-world mail written by others: CPython's email test messages (Debian's
`libpython3.11-testsuite`) in INBOX and Sent of the real Dovecot. A cycle over
all of them exits 0, and a genuine reply after them is still detected (issue 11).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support import Account

pytestmark = pytest.mark.dovecot

BERLIN = ZoneInfo("Europe/Berlin")  # the time zone make_account configures
CORPUS = Path("/usr/lib/python3.11/test/test_email/data")


def corpus() -> list[Path]:
    found = sorted(CORPUS.glob("msg_*.txt"))
    if not found:
        msg = f"no mail corpus in {CORPUS} (apt-get install libpython3.11-testsuite)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{msg}; CI must run the corpus test", pytrace=False)
        pytest.skip(msg)
    return found


def test_a_cycle_over_the_corpus_exits_0_and_a_reply_is_still_seen(acct: Account) -> None:
    messages = corpus()
    assert len(messages) >= 40
    app_id = acct.add(
        "--company", "Acme", "--role", "Data Engineer", "--kind", "onsite",
        "--at", "2026-11-16 14:00", "--duration", "60",
        "--interviewer", "Jane Doe <jane@acme.example>",
        now="2026-11-16 15:10",
    )  # fmt: skip
    acct.ok("run", "--once", now="2026-11-16 16:05")
    for path in messages:
        raw = path.read_bytes()
        acct.deliver("INBOX", raw)
        acct.deliver("Sent", raw)
    acct.ok("run", "--once", now="2026-11-17 09:00")
    (app,) = json.loads(acct.ok("status", "--json", now="2026-11-17 09:01").out)
    assert app["state"] == "active"

    reply = EmailMessage()
    reply["From"] = "Jane Doe <jane@acme.example>"
    reply["To"] = acct.user.address
    reply["Subject"] = "Re: Thank you"
    reply["Date"] = format_datetime(datetime(2026, 11, 18, 9, 30, tzinfo=BERLIN))
    reply["Message-ID"] = "<corpus-reply@acme.example>"
    reply.set_content("Hi Alex, thanks! Next steps soon.\n")
    acct.deliver("INBOX", reply)
    out = acct.ok("run", "--once", now="2026-11-18 09:35").out
    assert f"application {app_id} is now responded" in out
