"""Accounts whose folders are not all there, and servers that refuse a plain login.

On pymap (which has no SPECIAL-USE and creates no folder for a new user) and
Cyrus's plain port (LOGINDISABLED), through the CLI.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.daemonproc import DaemonProc, wait_for
from tests.dovecot import MailUser
from tests.servers.base import CompatServer
from tests.servers.courier import Courier
from tests.servers.cyrus import Cyrus
from tests.servers.fixtures import ServerPool
from tests.servers.layouts import IspDovecot
from tests.servers.pymapd import Pymap, pymap_binary
from tests.support import parse
from tests.test_e2e_servers import Session, add, init, reply, steps

pytestmark = pytest.mark.compat

MakeSession = Callable[[CompatServer, MailUser], Session]


@pytest.fixture
def pymap_server(server_pool: ServerPool) -> CompatServer:
    return server_pool.get("pymap")


def pymap_user(server: CompatServer, folders: tuple[str, ...]) -> MailUser:
    assert isinstance(server, Pymap)
    user = server.add_user(f"p{secrets.token_hex(4)}", secrets.token_hex(8), folders=False)
    server.create_folders(user, folders)
    return user


@pytest.fixture
def session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> MakeSession:
    def make(server: CompatServer, user: MailUser) -> Session:
        s = Session(server, user, tmp_path, capsys, monkeypatch)
        init(s, tmp_path)
        return s

    return make


@pytest.mark.parametrize(
    ("folders", "missing"),
    [((), "Drafts"), (("Drafts",), "Sent")],
    ids=["brand-new", "no-sent"],
)
def test_check_on_an_account_without_drafts_or_sent_says_what_to_create(
    pymap_server: CompatServer, session: MakeSession, folders: tuple[str, ...], missing: str
) -> None:
    s = session(pymap_server, pymap_user(pymap_server, folders))
    code, out = s.run("check")
    assert code == 2, out
    assert f"no {missing} folder" in out and f'Create one named "{missing}"' in out
    assert f'{missing.lower()} = "..."' in out and "INBOX" in out  # what exists


def test_without_trash_a_withdrawn_draft_is_kept_and_the_user_told(
    pymap_server: CompatServer, session: MakeSession
) -> None:
    user = pymap_user(pymap_server, ("Drafts", "Sent"))
    s = session(pymap_server, user)
    checked = s.ok("check")
    assert "no Trash folder" in checked and 'trash = "' in checked

    app_id = add(s, "Acme", "Jane Doe <jane@acme.example>")
    s.ok("run", "--once", now="2026-11-16 10:05")
    (draft,) = s.folder("Drafts")
    jane = parse(draft.raw)
    pymap_server.deliver(user, "INBOX", reply(jane, "Jane Doe <jane@acme.example>", "me"))
    out = s.ok("run", "--once", now="2026-11-18 10:00")
    assert "withdrawn to Trash" not in out
    assert "left in Drafts" in out and "no Trash" in out
    # Never deleted for good: the draft is still there, and stays.
    assert [m.uid for m in s.folder("Drafts")] == [draft.uid]
    app = s.show(app_id)
    assert app["state"] == "responded"
    rows = app["steps"]
    assert isinstance(rows, list)
    (step,) = [r for r in rows if r["kind"] == "thank_you"]
    assert "no Trash folder" in str(step["note"]) and "left in Drafts" in str(step["note"])
    assert steps(app) == {"jane@acme.example": "drafted"}
    s.ok("run", "--once", now="2026-11-18 11:00")
    assert [m.uid for m in s.folder("Drafts")] == [draft.uid]
    assert json.loads(s.ok("status", "--json"))  # still readable


def test_login_disabled_on_a_plain_port_is_named_with_the_fix(
    server_pool: ServerPool, session: MakeSession
) -> None:
    cyrus = server_pool.get("cyrus")
    user = cyrus.add_user(f"l{secrets.token_hex(4)}", secrets.token_hex(8))
    s = session(cyrus, user)
    text = s.config.read_text()
    s.config.write_text(
        text.replace(f"port = {cyrus.port}", f"port = {cyrus.port_plain}").replace(  # type: ignore[attr-defined]
            'security = "tls"', 'security = "insecure"'
        )
    )
    code, out = s.run("check")
    assert code == 4, out
    assert "LOGINDISABLED" in out and "only accepts a login over TLS" in out
    assert 'security = "starttls"' in out and user.password not in out


def test_without_idle_the_daemon_keeps_one_connection(
    server_pool: ServerPool, session: MakeSession, tmp_path: Path
) -> None:
    isp = server_pool.get("dovecot-isp")
    assert isinstance(isp, IspDovecot) and not isp.idle
    user = isp.add_user(f"i{secrets.token_hex(4)}", secrets.token_hex(8))
    s = session(isp, user)
    assert "connections the daemon keeps open: 1" in s.ok("check")
    with DaemonProc(s.config, tmp_path / "d.log", now="2026-11-19 10:00") as d:
        wait_for(lambda: s.health()["connected"], timeout=20)
        d.wait_log("polling every")
        time.sleep(0.5)
        assert isp.connections(user) == 1
        assert s.health()["idle"] is False
        assert d.stop() == 0


def test_courier_uidvalidity_churn_is_quiet(server_pool: ServerPool, session: MakeSession) -> None:
    # Courier writes no UID database for a folder only ever EXAMINEd, so each
    # session sees a new UIDVALIDITY there, with the same messages and UIDs.
    courier = server_pool.get("courier")
    assert isinstance(courier, Courier)
    user = courier.add_user(f"u{secrets.token_hex(4)}", secrets.token_hex(8))
    s = session(courier, user)
    add(s, "Acme", "Jane Doe <jane@acme.example>")
    outs = [s.ok("run", "--once", now="2026-11-16 09:10")]
    courier.drop(
        user, b"From: a@b.example\r\nSubject: hi\r\nMessage-ID: <d1@b.example>\r\n\r\nhi\r\n"
    )
    outs += [s.ok("run", "--once", now=f"2026-11-16 09:1{i}") for i in range(1, 4)]
    assert not any("UIDVALIDITY" in out for out in outs), outs


def test_starttls_asked_of_a_server_without_it_is_named_with_the_fix(
    tmp_path: Path, session: MakeSession
) -> None:
    if pymap_binary() is None:
        pytest.skip("pymap not installed")
    plain = Pymap(tmp_path / "plain", tls=False)
    plain.start()
    try:
        user = plain.add_user(f"s{secrets.token_hex(4)}", secrets.token_hex(8))
        s = session(plain, user)
        text = s.config.read_text()
        s.config.write_text(text.replace('security = "insecure"', 'security = "starttls"'))
        code, out = s.run("check")
        assert code == 4, out
        assert "does not offer STARTTLS" in out and "security = tls" in out
    finally:
        plain.cleanup()


def test_a_full_mailbox_does_not_end_the_daemon(
    server_pool: ServerPool, session: MakeSession, tmp_path: Path
) -> None:
    # Cyrus answers NO [OVERQUOTA] to the very first APPEND: the daemon must
    # retry with backoff and say so in health, not exit.
    cyrus = server_pool.get("cyrus")
    assert isinstance(cyrus, Cyrus)
    user = cyrus.add_user(f"q{secrets.token_hex(4)}", secrets.token_hex(8))
    cyrus.set_quota(user, 0)
    s = session(cyrus, user)
    add(s, "Acme", "Jane Doe <jane@acme.example>", day="2026-11-19")
    with DaemonProc(s.config, tmp_path / "d.log", now="2026-11-19 10:00") as d:
        wait_for(lambda: s.health()["last_error"], timeout=20)
        time.sleep(1.0)
        assert d.proc.poll() is None, d.log_text()
        h = s.health()
        assert h["running"] is True and not h["crashed"]
        assert "quota" in str(h["last_error"]).lower()
        assert d.stop() == 0
    assert s.folder("Drafts") == []
    rows = s.show(1)["steps"]
    assert isinstance(rows, list)
    # The refused APPEND put the step back to planned, not "appending".
    assert {str(r["state"]) for r in rows} <= {"planned", "due"}


def test_gmail_all_mail_is_never_synced_even_when_watched(
    server_pool: ServerPool, session: MakeSession
) -> None:
    gmail = server_pool.get("dovecot-gmail")
    user = gmail.add_user(f"g{secrets.token_hex(4)}", secrets.token_hex(8))
    s = session(gmail, user)
    text = s.config.read_text()
    assert "\nwatch = []" in text
    s.config.write_text(text.replace("\nwatch = []", '\nwatch = ["[Gmail]/All Mail"]'))
    checked = s.ok("check")
    assert "[Gmail]/All Mail (all mail)" in checked and "never read" in checked
    add(s, "Acme", "Jane Doe <jane@acme.example>")
    # Jane's answer, only in All Mail: read there, it would end the sequence.
    answer = b"From: Jane Doe <jane@acme.example>\r\nSubject: Your interview\r\n"
    answer += b"Message-ID: <am1@acme.example>\r\n\r\nThanks for coming in.\r\n"
    gmail.deliver(user, "[Gmail]/All Mail", answer)
    code, out = s.run("run", "--once", now="2026-11-16 09:20")
    assert code == 0 and "not watching '[Gmail]/All Mail'" in out
    assert s.show(1)["state"] == "active"


@pytest.mark.parametrize(
    ("line", "code", "shown"),
    [
        ('drafts = "Entwürfe"', 0, "drafts   INBOX.Entwürfe  (by config)"),
        ('drafts = "Entw&APw-rfe"', 0, "drafts   INBOX.Entwürfe  (by config)"),
        ('sent = "Gesendet"', 2, "INBOX.Gesendete Elemente"),
    ],
    ids=["as-the-client-shows-it", "modified-utf7", "not-there"],
)
def test_isp_folder_names_from_the_config(
    server_pool: ServerPool, session: MakeSession, line: str, code: int, shown: str
) -> None:
    isp = server_pool.get("dovecot-isp")
    s = session(isp, isp.add_user(f"n{secrets.token_hex(4)}", secrets.token_hex(8)))
    text = s.config.read_text()
    s.config.write_text(text.replace("\nwatch = []", f"\nwatch = []\n{line}"))
    got, out = s.run("check")
    assert got == code and shown in out, out
