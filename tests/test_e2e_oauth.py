"""End to end through the CLI: OAuth2 sign-in against a real authorization server.

oidc-provider (tests/oauth_server) issues the tokens; a Dovecot with the
oauth2 passdb checks every XOAUTH2/OAUTHBEARER login through its
introspection endpoint. The test plays the user's browser.
"""

from __future__ import annotations

import os
import queue
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import keyring
import pytest
import requests
from keyring.backends import fail

from tests.daemonproc import ROOT, DaemonProc, wait_for
from tests.oauthsrv import (
    CLIENT_ID,
    CONFIDENTIAL_ID,
    CONFIDENTIAL_SECRET,
    Stack,
    need_oauth_stack,
)
from tests.support import Account, make_account

pytestmark = pytest.mark.dovecot

NO_KEYRING = "keyring.backends.fail.Keyring"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    need_oauth_stack()
    s = Stack(access_ttl=3600)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(autouse=True)
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No system keyring: the refresh token must go to the 0600 file."""
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NO_KEYRING)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("FOLLOWUP_OAUTH_CLIENT_SECRET", raising=False)
    yield
    keyring.set_keyring(before)


def oauth_account(
    stack: Stack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    oauth2: str,
) -> Account:
    """A user whose config says auth = "oauth2"; no password anywhere in the environment."""
    user = stack.dovecot.add_user(f"o{secrets.token_hex(4)}", secrets.token_urlsafe(12))
    acct = make_account(stack.dovecot, user, tmp_path, capsys, monkeypatch)
    monkeypatch.delenv("FOLLOWUP_PASSWORD")
    text = acct.config.read_text()
    text = text.replace('auth = "password"\n', 'auth = "oauth2"\n', 1)
    acct.config.write_text(text + "\n" + oauth2)
    return acct


def custom_oauth2(stack: Stack, client_id: str = CLIENT_ID) -> str:
    issuer = stack.oauth.issuer
    return (
        "[account.oauth2]\n"
        'provider = "custom"\n'
        f'client_id = "{client_id}"\n'
        f'authorize_url = "{issuer}/auth"\n'
        f'token_url = "{issuer}/token"\n'
        f'device_authorization_url = "{issuer}/device/auth"\n'
        'scopes = ["openid", "offline_access", "mail"]\n'
        'redirect_uri = "http://127.0.0.1/callback"\n'
    )


class LoginProc:
    """`followup login` as a subprocess whose output the test reads as it comes."""

    def __init__(self, config: Path, *args: str, env: dict[str, str] | None = None) -> None:
        cmd = [sys.executable, "-m", "agent.cli", "--config", str(config), "login"]
        self.proc = subprocess.Popen(
            [*cmd, "--no-browser", *args],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.proc.stdout is not None
        self._pump_thread = threading.Thread(
            target=self._pump, args=(self.proc.stdout,), daemon=True
        )
        self._pump_thread.start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.put(line)

    def expect(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                err = ""
                if self.proc.poll() is not None and self.proc.stderr is not None:
                    err = self.proc.stderr.read()
                raise AssertionError(f"no {pattern!r} in {self.seen}; stderr: {err}") from None
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def finish(self, timeout: float = 30.0) -> tuple[int, str, str]:
        # stdout belongs to the pump thread: wait for its EOF, not communicate().
        self.proc.wait(timeout=timeout)
        self._pump_thread.join(timeout=timeout)
        assert self.proc.stderr is not None
        err = self.proc.stderr.read()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.proc.returncode, "".join(self.seen), err


def device_login(acct: Account, stack: Stack) -> str:
    """Run `followup login` with the device flow, approving it as the mail user."""
    login = LoginProc(acct.config)
    code = login.expect(r"enter the code (\S+)").group(1)
    login.expect(r"waiting up to \d+ min")
    stack.oauth.approve_device(code, acct.user.name)
    rc, out, err = login.finish()
    assert rc == 0, f"{out}\n{err}"
    return out


def token_file(acct: Account) -> Path:
    return acct.config.parent / "oauth-refresh-token"


def add_interview(acct: Account) -> None:
    acct.add(
        "--company",
        "Acme",
        "--role",
        "Data Engineer",
        "--at",
        "2026-11-16 14:00",
        "--kind",
        "video",
        "--interviewer",
        "Jane Doe <jane@acme.example>",
        now="2026-11-16 15:10",
    )


def test_device_login_then_run_once_writes_drafts(
    stack: Stack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acct = oauth_account(stack, tmp_path, capsys, monkeypatch, custom_oauth2(stack))
    out = device_login(acct, stack)
    assert f"signed in as {acct.user.name}; scopes: openid offline_access mail" in out
    assert "readable by you only: no keyring" in out
    assert token_file(acct).stat().st_mode & 0o777 == 0o600
    # The leak check below compares real values: the server lists what it issued.
    assert token_file(acct).read_text().strip() in stack.oauth.issued_tokens()

    check = acct.ok("check").out
    assert "auth:    OAuth2 (custom), scopes: openid offline_access mail" in check
    assert re.search(r"access token valid for (3[0-5]\d\d) s more", check), check

    add_interview(acct)
    run = acct.ok("run", "--once", now="2026-11-16 16:05")
    assert "drafted thank_you" in run.out, run.out
    assert [d["To"] for d in acct.drafts()] == ["Jane Doe <jane@acme.example>"]
    assert_no_token_leaked(acct, stack)


def test_pkce_login_with_loopback_redirect_and_client_secret(
    stack: Stack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acct = oauth_account(
        stack, tmp_path, capsys, monkeypatch, custom_oauth2(stack, client_id=CONFIDENTIAL_ID)
    )
    monkeypatch.setenv("FOLLOWUP_OAUTH_CLIENT_SECRET", CONFIDENTIAL_SECRET)
    login = LoginProc(acct.config, "--flow", "pkce")
    login.expect("open this address in a browser")
    url = login.expect(r"^(http://\S+/auth\?\S+)$").group(1)
    assert "code_challenge_method=S256" in url and "code_challenge=" in url
    redirect_to = login.expect(r"for the redirect to (http://127\.0\.0\.1:\d+/callback)").group(1)
    back = stack.oauth.follow_authorization(url, acct.user.name)
    assert back.startswith(redirect_to + "?") and "code=" in back
    # The browser follows the redirect to the app's loopback listener.
    page = requests.get(back, timeout=10)
    assert page.status_code == 200 and "close this tab" in page.text
    rc, out, err = login.finish()
    assert rc == 0, f"{out}\n{err}"
    assert f"signed in as {acct.user.name}" in out

    add_interview(acct)
    assert "drafted thank_you" in acct.ok("run", "--once", now="2026-11-16 16:05").out
    assert_no_token_leaked(acct, stack, CONFIDENTIAL_SECRET)


def test_sign_in_denied_in_the_browser_is_one_line_and_exit_3(
    stack: Stack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acct = oauth_account(stack, tmp_path, capsys, monkeypatch, custom_oauth2(stack))
    login = LoginProc(acct.config, "--flow", "pkce")
    url = login.expect(r"^(http://\S+/auth\?\S+)$").group(1)
    back = stack.oauth.deny_authorization(url)
    assert "error=access_denied" in back
    assert requests.get(back, timeout=10).status_code == 200
    rc, out, err = login.finish()
    assert rc == 3, f"{out}\n{err}"
    assert err == (
        "followup: the authorization server refused the sign-in (access denied): "
        "run followup login and approve it\n"
    )
    assert not token_file(acct).exists()


def test_revoked_refresh_token_is_one_line_and_exit_3(
    stack: Stack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acct = oauth_account(stack, tmp_path, capsys, monkeypatch, custom_oauth2(stack))
    device_login(acct, stack)
    stack.oauth.revoke(token_file(acct).read_text().strip())

    result = acct.run("run", "--once", now="2026-11-16 16:05")
    assert result.code == 3, result
    lines = result.err.strip().splitlines()
    assert lines == [
        "followup: the authorization server refused the refresh token "
        "(revoked, expired or replaced): run followup login"
    ], result.err

    # Signing in again is the way out.
    device_login(acct, stack)
    acct.ok("check")


def test_token_command_supplies_the_access_token(
    stack: Stack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = f"o{secrets.token_hex(4)}"
    holder = tmp_path / "helper-token"
    acct_user = stack.dovecot.add_user(user, secrets.token_urlsafe(12))
    acct = make_account(stack.dovecot, acct_user, tmp_path, capsys, monkeypatch)
    monkeypatch.delenv("FOLLOWUP_PASSWORD")
    holder.write_text(stack.oauth.device_token(user) + "\n")
    text = acct.config.read_text().replace(
        'auth = "password"\n', f'auth = "oauth2"\ntoken_command = "cat {holder}"\n', 1
    )
    acct.config.write_text(text)

    check = acct.ok("check").out
    assert "OAuth2 bearer token from account.token_command" in check
    add_interview(acct)
    assert "drafted thank_you" in acct.ok("run", "--once", now="2026-11-16 16:05").out

    holder.write_text("not-a-token\n")
    refused = acct.run("check")
    assert refused.code == 3 and "refused the OAuth token" in refused.err
    assert "not-a-token" not in refused.err + refused.out


def assert_no_token_leaked(acct: Account, stack: Stack, *secrets_: str) -> None:
    """No issued token nor secret in output, logs, database or config."""
    issued = stack.oauth.issued_tokens()
    assert issued, "the server log lists no issued tokens"
    # The log at debug level (-v -v) is where a careless line would show.
    log = acct.config.parent / "debug.log"
    acct.ok("-v", "-v", "--log-file", str(log), "check")
    texts = [r.out + r.err for r in acct.history]
    texts.append(log.read_text(errors="replace"))
    texts.append(acct.config.read_text())
    db = acct.config.parent / "state.sqlite3"
    blobs = [p.read_bytes() for p in acct.config.parent.glob("state.sqlite3*")]
    assert db.exists() and blobs
    for value in (*issued, *secrets_):
        for text in texts:
            assert value not in text
        for blob in blobs:
            assert value.encode() not in blob


# -- short-lived access tokens across a daemon run ---------------------------------------


@pytest.fixture(scope="module")
def short_stack() -> Iterator[Stack]:
    need_oauth_stack()
    s = Stack(access_ttl=30)
    try:
        yield s
    finally:
        s.close()


def test_daemon_refreshes_30_second_tokens_across_reconnects(
    short_stack: Stack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = short_stack
    acct = oauth_account(stack, tmp_path, capsys, monkeypatch, custom_oauth2(stack))
    device_login(acct, stack)
    add_interview(acct)
    log = tmp_path / "daemon.log"
    # The thank-you falls due 40 s into the run: after the first token expired.
    env = {"PYTHON_KEYRING_BACKEND": NO_KEYRING}
    with DaemonProc(acct.config, log, now="2026-11-16 15:59:20", env=env) as daemon:
        daemon.wait_log("connected to", timeout=20)
        for _ in range(2):
            # Past the token's 30 s: a reconnect must log in with a refreshed one.
            time.sleep(32)
            stack.dovecot.restart()
            daemon.wait_log("mailbox reachable again", timeout=60)
        wait_for(lambda: len(acct.folder("Drafts")) == 1, timeout=30)
        # The IDLE connection logged in again too: a reply is seen and stops the sequence.
        acct.deliver("INBOX", reply_to(acct.drafts()[0]))
        daemon.wait_log("1 state change(s)", timeout=30)
        assert daemon.stop() == 0
    text = daemon.log_text()
    assert text.count("access token refreshed; valid for") >= 3, text
    # "Connection refused" during the restarts is expected; no token was refused.
    refusals = [line for line in text.splitlines() if "refused the" in line]
    assert all("refused the connection" in line for line in refusals), refusals
    assert "OAuth" not in text
    assert "rotated" in text
    assert_issued_tokens_not_in(stack, [text, (tmp_path / "daemon.stderr").read_text()])


def reply_to(draft: EmailMessage) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Jane Doe <jane@acme.example>"
    msg["To"] = draft["From"]
    msg["Subject"] = f"Re: {draft['Subject']}"
    msg["Message-ID"] = f"<reply-{secrets.token_hex(4)}@acme.example>"
    msg["In-Reply-To"] = draft["Message-ID"]
    msg["Date"] = "Mon, 16 Nov 2026 16:30:00 +0100"
    msg.set_content("Thanks Alex, great talking to you. We'll be in touch next week.")
    return msg


def assert_issued_tokens_not_in(stack: Stack, texts: list[str]) -> None:
    for value in stack.oauth.issued_tokens():
        for text in texts:
            assert value not in text
