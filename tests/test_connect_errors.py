"""Connection failures say in one line what happened and what to change (issue 17).

Each case was a raw exception or a 30 s traceback before: a silent server, TLS
on a STARTTLS port and the reverse, an unknown host, a refused connection.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from agent.errors import ConnectError
from agent.imap import ImapMailbox
from tests.dovecot import Dovecot, MailUser


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    for c in held:
        c.close()
    srv.close()


def _problem(box: ImapMailbox) -> str:
    with pytest.raises(ConnectError) as err:
        box.connect()
    text = str(err.value)
    assert "\n" not in text and err.value.exit_code == 4
    return text


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_a_silent_server_is_a_timeout_in_one_line(silent_port: int, security: str) -> None:
    box = ImapMailbox("127.0.0.1", silent_port, security, "u", "p", timeout=0.5)
    started = time.monotonic()
    text = _problem(box)
    assert time.monotonic() - started < 3
    assert "did not answer within 0.5 s (timeout)" in text
    assert "timeout_seconds" in text


def test_a_refused_connection_names_the_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text = _problem(ImapMailbox("127.0.0.1", port, "tls", "u", "p", timeout=2))
    assert f"127.0.0.1:{port} refused the connection" in text and "993" in text


def test_an_unknown_host_is_named() -> None:
    text = _problem(ImapMailbox("no-such-host.invalid", 993, "tls", "u", "p", timeout=2))
    assert "unknown host 'no-such-host.invalid'" in text and "[account]" in text


@pytest.mark.dovecot
def test_tls_on_the_starttls_port_names_starttls(dovecot: Dovecot, mail_user: MailUser) -> None:
    box = ImapMailbox(
        dovecot.host,
        dovecot.port_starttls,
        "tls",
        mail_user.name,
        "x",
        timeout=5,
        ca_file=str(dovecot.ca_file),
    )
    text = _problem(box)
    assert "answered without TLS" in text and "security = starttls (port 143)" in text


@pytest.mark.dovecot
def test_starttls_on_the_tls_port_names_tls(dovecot: Dovecot, mail_user: MailUser) -> None:
    box = ImapMailbox(
        dovecot.host,
        dovecot.port_tls,
        "starttls",
        mail_user.name,
        "x",
        timeout=1,
        ca_file=str(dovecot.ca_file),
    )
    text = _problem(box)
    assert "security = tls (port 993)" in text


@pytest.mark.dovecot
def test_an_untrusted_certificate_names_the_section_and_init(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    box = ImapMailbox(dovecot.host, dovecot.port_tls, "tls", mail_user.name, "x", timeout=5)
    text = _problem(box)
    assert "[account]" in text and "followup init --force --ca-file" in text
