"""The daemon against Dovecot meets poison mail, then a reply: the reply is
detected within the usual IDLE latency and the daemon keeps running (issue 11)."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import pytest
from test_daemon import LATER, add_interview, health
from test_hostile_mail import deep_comment_from, far_future_date, nested_bounce

from tests.daemonproc import DaemonProc, wait_for
from tests.support import Account

pytestmark = pytest.mark.dovecot


def state(acct: Account) -> str:
    (app,) = json.loads(acct.ok("status", "--json").out)
    return str(app["state"])


def test_poison_mail_then_a_reply_the_daemon_sees_it_and_keeps_running(
    acct: Account, tmp_path: Path
) -> None:
    add_interview(acct, people=1)  # Person 0 <p0@acme.example>
    with DaemonProc(acct.config, tmp_path / "d.log", now=LATER) as d:
        wait_for(lambda: health(acct)["idle"])
        for poison in (deep_comment_from(), nested_bounce(1500), far_future_date()):
            acct.deliver("INBOX", poison.replace(b"jane@acme.example", b"p0@acme.example"))
        acct.deliver("INBOX", b"From: (((((((((" + b"(" * 5000 + b"\r\n\r\nbody\r\n")
        wait_for(lambda: health(acct)["last_ok_at"] and health(acct)["idle"], timeout=20)
        reply = EmailMessage()
        reply["From"] = "Person 0 <p0@acme.example>"
        reply["To"] = acct.user.address
        reply["Subject"] = "Re: Thank you"
        reply["Message-ID"] = "<after-poison@acme.example>"
        reply.set_content("Thanks! We will be in touch.\n")
        acct.deliver("INBOX", reply)
        wait_for(lambda: state(acct) == "responded", timeout=10)
        assert d.proc.poll() is None
        h = health(acct)
        assert h["running"] is True and h["last_error"] is None
        assert "cycle failed" not in d.log_text()
        assert d.stop() == 0
