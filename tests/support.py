"""Helpers for end-to-end tests: drive the real CLI against the test Dovecot."""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest

from agent import cli
from tests.dovecot import Dovecot, MailUser, StoredMessage
from tests.ours import step_key


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Account:
    """One user's config on the test server, and a way to run `followup` as them."""

    dovecot: Dovecot
    user: MailUser
    config: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    history: list[Result] = field(default_factory=list)

    def run(self, *argv: str, now: str | None = None) -> Result:
        args = ["--config", str(self.config)]
        if now:
            args += ["--now", now]
        self.capsys.readouterr()
        code = cli.main([*args, *argv])
        out, err = self.capsys.readouterr()
        result = Result(code, out, err)
        self.history.append(result)
        return result

    def ok(self, *argv: str, now: str | None = None) -> Result:
        r = self.run(*argv, now=now)
        assert r.code == 0, f"followup {' '.join(argv)} → {r.code}\n{r.out}\n{r.err}"
        return r

    def add(self, *argv: str, now: str | None = None) -> int:
        return int(json.loads(self.ok("add", "--json", *argv, now=now).out)["id"])

    def folder(self, name: str) -> list[StoredMessage]:
        return self.dovecot.messages(self.user, name)

    def drafts(self) -> list[EmailMessage]:
        return [parse(m.raw) for m in self.folder("Drafts")]

    @property
    def database(self) -> Path:
        return self.config.parent / "state.sqlite3"  # as make_account sets it

    def key_of(self, draft: EmailMessage) -> str:
        """The step a draft is for, by the Message-ID the store recorded for it."""
        return step_key(self.database, draft)

    def deliver(self, mailbox: str, msg: EmailMessage | bytes) -> None:
        raw = msg if isinstance(msg, bytes) else msg.as_bytes()
        self.dovecot.deliver(self.user, mailbox, raw)


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def make_account(
    dovecot: Dovecot,
    user: MailUser,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *extra: str,
) -> Account:
    monkeypatch.setenv("FOLLOWUP_PASSWORD", user.password)
    config = tmp_path / "config.toml"
    acct = Account(dovecot, user, config, capsys, monkeypatch)
    acct.ok(
        "init",
        "--no-input",
        "--email",
        user.address,
        "--name",
        "Alex Candidate",
        "--username",
        user.name,
        "--host",
        dovecot.host,
        "--port",
        str(dovecot.port_tls),
        "--security",
        "tls",
        "--ca-file",
        str(dovecot.ca_file),
        "--timezone",
        "Europe/Berlin",
        "--database",
        str(tmp_path / "state.sqlite3"),
        *extra,
    )
    return acct
