"""Big mailboxes in seconds: maildir files written straight into cur/, then indexed.

One IMAP APPEND per message is far too slow for 100k messages, and `doveadm
import` from mbox slows down as the file grows; writing the files and letting
`doveadm index` build Dovecot's index takes a few seconds.
"""

from __future__ import annotations

import os
import random
import subprocess
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from tests.dovecot import Dovecot, MailUser, _which

SENDERS = (
    "news@shop.example.com",
    "friend@mail.example.org",
    "alerts@bank.example.net",
    "team@project.example.io",
    "noreply@social.example.com",
    "colleague@work.example.com",
    "digest@forum.example.org",
)
SUBJECTS = (
    "Weekly digest",
    "Re: weekend plans",
    "Your statement is ready",
    "Build failed on main",
    "Someone mentioned you",
    "Lunch on Thursday?",
    "Invoice 2024-{n}",
)


def message(
    sender: str,
    to: str,
    subject: str,
    when: datetime,
    message_id: str,
    body: str,
    extra: Sequence[tuple[str, str]] = (),
    content_type: str = "text/plain; charset=utf-8",
    return_path: str | None = None,
) -> bytes:
    lines = [
        f"Return-Path: <{sender if return_path is None else return_path}>",
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(when)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}",
        *(f"{k}: {v}" for k, v in extra),
        "",
        body,
        "",
    ]
    return "\r\n".join(lines).encode()


def filler(user: MailUser, n: int, start: datetime, end: datetime, seed: int) -> Iterator[bytes]:
    """`n` everyday messages spread between `start` and `end`, oldest first."""
    rnd = random.Random(seed)
    span = (end - start).total_seconds()
    times = sorted(rnd.uniform(0, span) for _ in range(n))
    for i, offset in enumerate(times):
        when = start + timedelta(seconds=offset)
        sender = SENDERS[i % len(SENDERS)]
        extra: list[tuple[str, str]] = []
        if sender.startswith(("news", "digest")):
            extra = [("List-Id", f"<{sender.split('@')[0]}.list>"), ("Precedence", "bulk")]
        yield message(
            sender,
            user.address,
            SUBJECTS[i % len(SUBJECTS)].format(n=i),
            when,
            f"<fill.{seed}.{i}@{sender.split('@')[1]}>",
            "Hello,\r\n\r\n" + "Some everyday text of an ordinary message.\r\n" * 8,
            extra,
        )


def when_of(raw: bytes) -> float:
    for line in raw.split(b"\r\n", 8):
        if line.startswith(b"Date: "):
            from email.utils import parsedate_to_datetime

            return parsedate_to_datetime(line[6:].decode()).timestamp()
    return time.time()


def folder_dir(server: Dovecot, user: MailUser, folder: str) -> Path:
    base = server.mail_dir / user.name
    return base if folder == "INBOX" else base / f".{folder}"


def fill_folder(server: Dovecot, user: MailUser, folder: str, messages: Iterator[bytes]) -> int:
    """Write messages as maildir files (seen, internal date = Date:) and index the folder."""
    # Any doveadm command on the user creates the maildir and the auto folders.
    server.folder_names(user)
    cur = folder_dir(server, user, folder) / "cur"
    cur.mkdir(parents=True, exist_ok=True)
    count = 0
    pid = os.getpid()
    for count, raw in enumerate(messages, start=1):
        when = when_of(raw)
        name = f"{int(when)}.M{count}P{pid}.bench,S={len(raw)}:2,S"
        path = cur / name
        path.write_bytes(raw)
        # Maildir's INTERNALDATE is the file's mtime.
        os.utime(path, (when, when))
    _chown_tree(folder_dir(server, user, folder))
    index(server, user, folder)
    return count


def _chown_tree(path: Path) -> None:
    if os.geteuid() != 0:
        return
    # Dovecot refuses to touch mail owned by root (see tests/dovecot.py).
    subprocess.run(["chown", "-R", "dovecot:dovecot", str(path)], check=True)


def index(server: Dovecot, user: MailUser, folder: str) -> None:
    subprocess.run(
        [_which("doveadm"), "-c", str(server.conf), "index", "-u", user.name, folder],
        check=True,
        capture_output=True,
        timeout=600,
    )


# -- mail about the bench's applications, for the classification corpus ------------


def reply(interviewer: str, to: str, index: int, domain: str, when: datetime) -> bytes:
    """A human reply from an interviewer, as the daemon bench delivers it."""
    return message(
        interviewer,
        to,
        f"Re: Interview at Company {index}",
        when,
        f"<reply.{index}.{time.time_ns()}@{domain}>",
        "Hi Alex,\r\n\r\nWe would like to move forward. Are you free next week?\r\n",
    )


def auto_reply(sender: str, to: str, index: int, domain: str, when: datetime) -> bytes:
    """An out-of-office answer with a return date (the agent reads its body)."""
    back = (when + timedelta(days=7)).strftime("%d %B %Y")
    return message(
        sender,
        to,
        "Automatic reply: Interview follow-up",
        when,
        f"<ooo.{index}.{time.time_ns()}@{domain}>",
        f"Thank you for your message. I am out of the office until {back}.\r\n",
        [("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes")],
    )


def bounce(failed: str, to: str, index: int, when: datetime) -> bytes:
    """A delivery status notification for a message to `failed`."""
    boundary = f"DSN.{index}"
    body = "\r\n".join(
        [
            f"--{boundary}",
            "Content-Type: text/plain; charset=us-ascii",
            "",
            "Your message could not be delivered to one or more recipients.",
            "",
            f"<{failed}>: 550 5.1.1 User unknown",
            "",
            f"--{boundary}",
            "Content-Type: message/delivery-status",
            "",
            "Reporting-MTA: dns; mail.example.test",
            "",
            f"Final-Recipient: rfc822; {failed}",
            "Action: failed",
            "Status: 5.1.1",
            "",
            f"--{boundary}--",
        ]
    )
    return message(
        "MAILER-DAEMON@mail.example.test",
        to,
        "Undelivered Mail Returned to Sender",
        when,
        f"<dsn.{index}.{time.time_ns()}@mail.example.test>",
        body,
        [("Auto-Submitted", "auto-replied")],
        content_type=f'multipart/report; report-type=delivery-status; boundary="{boundary}"',
        return_path="",
    )
