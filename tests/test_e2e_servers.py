"""The whole flow through the CLI on every compatibility server and folder layout.

init, check, thank-yous drafted with \\Draft, one of them sent from the mail
client and recognised in Sent, a reply: `responded` and the rest withdrawn;
then the daemon, woken by new mail (IDLE, or polling where there is none)
and stopped by SIGTERM. Runs once per server in tests/servers.
"""

from __future__ import annotations

import json
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent import cli
from tests.daemonproc import DaemonProc, wait_for
from tests.dovecot import MailUser, StoredMessage
from tests.servers.base import CompatServer
from tests.support import parse

pytestmark = pytest.mark.compat

BERLIN = ZoneInfo("Europe/Berlin")


class Session:
    """`followup` as one user of one server, with the CLI run in-process."""

    def __init__(
        self,
        server: CompatServer,
        user: MailUser,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.server, self.user, self.capsys = server, user, capsys
        self.config = tmp_path / "config.toml"
        monkeypatch.setenv("FOLLOWUP_PASSWORD", user.password)

    def run(self, *argv: str, now: str | None = None) -> tuple[int, str]:
        args = ["--config", str(self.config), *(["--now", now] if now else [])]
        self.capsys.readouterr()
        code = cli.main([*args, *argv])
        out, err = self.capsys.readouterr()
        return code, out + err

    def ok(self, *argv: str, now: str | None = None) -> str:
        code, out = self.run(*argv, now=now)
        assert code == 0, f"followup {' '.join(argv)} → {code}\n{out}"
        return out

    def folder(self, name: str | None) -> list[StoredMessage]:
        assert name is not None
        return self.server.messages(self.user, name)

    def health(self) -> dict[str, object]:
        # Exits 1 while the daemon is not running: the JSON is what counts here.
        data: dict[str, object] = json.loads(self.run("health", "--json")[1])
        return data

    def show(self, app_id: int) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.ok("show", str(app_id), "--json"))
        return data


def init(s: Session, tmp_path: Path) -> None:
    srv = s.server
    s.ok(
        "init", "--no-input", "--email", f"{s.user.name}@example.test", "--name",
        "Alex Candidate", "--username", s.user.name, "--host", srv.host, "--port",
        str(srv.port), "--security", srv.security, "--ca-file", str(srv.ca_file),
        "--timezone", "Europe/Berlin", "--database", str(tmp_path / "state.sqlite3"),
    )  # fmt: skip
    if srv.layout.config:
        lines = "".join(f'{k} = "{v}"\n' for k, v in srv.layout.config.items())
        s.config.write_text(s.config.read_text() + f"\n[folders]\n{lines}")


def add(s: Session, company: str, *people: str, day: str = "2026-11-16") -> int:
    who = [arg for p in people for arg in ("--interviewer", p)]
    out = s.ok(
        "add", "--company", company, "--role", "Data Engineer", "--at", f"{day} 08:00",
        "--kind", "onsite", *who, "--json", now=f"{day} 09:10",
    )  # fmt: skip
    return int(json.loads(out)["id"])


def reply(to: EmailMessage, frm: str, user: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = frm, user
    msg["Subject"] = "Re: " + str(to["Subject"])
    msg["Date"] = format_datetime(datetime(2026, 11, 18, 9, 30, tzinfo=BERLIN))
    msg["Message-ID"] = "<r1@acme.example>"
    msg["In-Reply-To"] = str(to["Message-ID"])
    msg.set_content("Hello Alex,\n\nThank you, we will be in touch.\n")
    return msg.as_bytes()


def sent_copy(draft: StoredMessage) -> bytes:
    """What a mail client puts in Sent when the user sends our draft."""
    return draft.raw


def steps(app: dict[str, object]) -> dict[str, str]:
    rows = app["steps"]
    assert isinstance(rows, list)
    return {str(r["to"]): str(r["state"]) for r in rows if r["kind"] == "thank_you"}


def test_whole_flow(
    compat_server: CompatServer,
    compat_user: MailUser,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    srv, lay = compat_server, compat_server.layout
    s = Session(srv, compat_user, tmp_path, capsys, monkeypatch)
    init(s, tmp_path)

    checked = s.ok("check")
    assert f"drafts   {lay.drafts}" in checked and f"sent     {lay.sent}" in checked
    assert f"IDLE {'yes' if srv.idle else 'no'}" in checked
    assert f"connections the daemon keeps open: {2 if srv.idle else 1}" in checked

    app_id = add(s, "Acme", "Jane Doe <jane@acme.example>", "Zoë Müller <zoe@acme.example>")
    out = s.ok("run", "--once", now="2026-11-16 10:05")
    assert out.count("drafted thank_you") == 2, out
    drafts = s.folder(lay.drafts)
    assert len(drafts) == 2 and all({"\\Draft", "\\Seen"} <= m.flags for m in drafts)
    s.ok("run", "--once", now="2026-11-16 10:10")
    assert len(s.folder(lay.drafts)) == 2  # exactly once

    # The user sends Zoë's note from their mail client.
    (zoe,) = [m for m in drafts if b"zoe@acme.example" in m.raw.split(b"\r\n\r\n")[0]]
    srv.deliver(compat_user, lay.sent, sent_copy(zoe), "\\Seen")
    srv.expunge(compat_user, lay.drafts, zoe.uid)
    s.ok("run", "--once", now="2026-11-17 09:00")
    assert steps(s.show(app_id))["zoe@acme.example"] == "sent"

    # Jane answers her note: responded, and her unsent draft is withdrawn.
    (jane,) = [parse(m.raw) for m in s.folder(lay.drafts)]
    srv.deliver(
        compat_user, "INBOX", reply(jane, "Jane Doe <jane@acme.example>", str(jane["From"]))
    )
    out = s.ok("run", "--once", now="2026-11-18 10:00")
    assert f"application {app_id} is now responded" in out
    app = s.show(app_id)
    assert app["state"] == "responded"
    assert steps(app) == {"jane@acme.example": "withdrawn", "zoe@acme.example": "sent"}
    assert s.folder(lay.drafts) == []
    assert [parse(m.raw)["Message-ID"] for m in s.folder(lay.trash)] == [jane["Message-ID"]]

    # The daemon: polling once an hour, so only IDLE explains a quick cycle.
    text = s.config.read_text().replace("poll_minutes = 5", "poll_minutes = 60")
    s.config.write_text(
        text if srv.idle else text.replace("poll_minutes = 60", "poll_minutes = 0.1")
    )
    with DaemonProc(s.config, tmp_path / "d.log", now="2026-11-19 10:00") as d:
        wait_for(lambda: s.health()["connected"], timeout=20)
        if srv.idle:
            wait_for(lambda: s.health()["idle"], timeout=20)
        # Due at once, but nothing tells the daemon until mail arrives.
        add(s, "Globex", "Hank Scorpio <hank@globex.example>", day="2026-11-19")
        hello = EmailMessage()
        hello["From"], hello["To"], hello["Subject"] = "a@b.example", "me@example.test", "hi"
        hello.set_content("hi")
        srv.deliver(compat_user, "INBOX", hello.as_bytes())
        wait_for(lambda: len(s.folder(lay.drafts)) == 1, timeout=15)
        assert d.stop() == 0
    health = s.health()
    assert health["running"] is False and not health["crashed"]
    assert compat_user.password not in d.log_text()
