"""A real OAuth 2.0 authorization server (oidc-provider under node) for tests.

The server script and its locked npm dependencies live in tests/oauth_server/
(installed by `npm ci`, never downloaded at run time). The test plays the
user's browser: it approves device codes and follows authorization redirects
through the server's own HTML forms, with a cookie jar like a browser's.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.dovecot import Dovecot, dovecot_available

log = logging.getLogger(__name__)

SERVER_DIR = Path(__file__).parent / "oauth_server"
CLIENT_ID = "followup-test"
# A confidential client, like a Google "Desktop app" with its client secret.
CONFIDENTIAL_ID = "followup-confidential"
CONFIDENTIAL_SECRET = "confidential-app-secret"
INTROSPECTION_CLIENT = "dovecot"
SCOPES = ("openid", "offline_access", "mail")

_FORM = re.compile(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", re.DOTALL)
_HIDDEN = re.compile(r"<input[^>]*type=\"hidden\"[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"")


class OAuthServerError(RuntimeError):
    """The test authorization server could not be started or driven."""


def node_available() -> bool:
    """True when node is installed and `npm ci` has been run in tests/oauth_server."""
    return bool(shutil.which("node")) and (SERVER_DIR / "node_modules" / "oidc-provider").is_dir()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class OAuthServer:
    """oidc-provider on 127.0.0.1 with the test clients; `access_ttl` in seconds."""

    host = "127.0.0.1"

    def __init__(self, root: Path, access_ttl: int = 3600) -> None:
        self.root = Path(root)
        self.access_ttl = access_ttl
        self.port = 0
        self.introspection_secret = secrets.token_urlsafe(16)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def introspection_url(self) -> str:
        return f"{self.issuer}/token/introspection"

    @property
    def log_file(self) -> Path:
        return self.root / "oauth-server.log"

    def start(self) -> None:
        if self._proc is not None:
            return
        node = shutil.which("node")
        if node is None or not node_available():
            raise OAuthServerError("node or tests/oauth_server/node_modules missing: run npm ci")
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = _free_port()
        out = self.log_file.open("ab")
        try:
            self._proc = subprocess.Popen(
                [
                    node,
                    str(SERVER_DIR / "server.mjs"),
                    str(self.port),
                    str(self.access_ttl),
                    self.introspection_secret,
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=SERVER_DIR,
                start_new_session=True,
            )
        finally:
            out.close()
        self._wait_listening()
        log.info("oauth server up at %s (access tokens live %ss)", self.issuer, self.access_ttl)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def __enter__(self) -> OAuthServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_listening(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError):
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return
            if self._proc is not None and self._proc.poll() is not None:
                raise OAuthServerError(f"oauth server exited: {self._log_tail()}")
            if time.monotonic() > deadline:
                raise OAuthServerError(f"oauth server not listening: {self._log_tail()}")
            time.sleep(0.05)

    def _log_tail(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    # -- playing the user's browser -------------------------------------------

    def approve_device(self, user_code: str, account: str) -> None:
        """Enter the user code at /device, sign in as `account` and consent."""
        browser = requests.Session()
        page = browser.get(f"{self.issuer}/device", params={"user_code": user_code}, timeout=10)
        page = self._submit(browser, page)  # the auto-posting form with the code
        page = self._submit(browser, page)  # "confirm this code"
        final = self._sign_in(browser, page, account)
        if "Sign-in Success" not in final.text and "success" not in final.text.lower():
            raise OAuthServerError(f"device approval did not succeed: {final.text[:300]}")

    def follow_authorization(self, url: str, account: str) -> str:
        """Open the authorization URL, sign in, consent; return where it redirects to."""
        browser = requests.Session()
        answer = browser.get(url, allow_redirects=False, timeout=10)
        page = self._follow(browser, answer)
        final = self._sign_in(browser, page, account)
        if not isinstance(final, _RedirectResponse):
            raise OAuthServerError(f"authorization did not redirect back: {final.text[:300]}")
        return final.url

    def deny_authorization(self, url: str) -> str:
        """Open the authorization URL and press "cancel"; return where it redirects to."""
        browser = requests.Session()
        page = self._follow(browser, browser.get(url, allow_redirects=False, timeout=10))
        uid = page.url.rstrip("/").rsplit("/", 1)[-1]
        answer = browser.get(
            f"{self.issuer}/interaction/{uid}/abort", allow_redirects=False, timeout=10
        )
        final = self._follow(browser, answer)
        if not isinstance(final, _RedirectResponse):
            raise OAuthServerError(f"denial did not redirect back: {final.text[:300]}")
        return final.url

    def _sign_in(
        self,
        browser: requests.Session,
        page: requests.Response,
        account: str,
    ) -> requests.Response:
        for _ in range(6):
            if 'name="prompt" value="login"' in page.text:
                page = self._submit(browser, page, {"login": account, "password": "x"})
            elif 'name="prompt" value="consent"' in page.text:
                page = self._submit(browser, page)
            else:
                return page
        raise OAuthServerError(f"sign-in did not finish: {page.text[:300]}")

    def _submit(
        self,
        browser: requests.Session,
        page: requests.Response,
        extra: dict[str, str] | None = None,
    ) -> requests.Response:
        match = _FORM.search(page.text)
        if match is None:
            raise OAuthServerError(f"no form on {page.url}: {page.text[:300]}")
        action, body = match.groups()
        fields = {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(body)}
        fields.update(extra or {})
        url = urljoin(page.url, html.unescape(action))
        return self._post_following(browser, url, fields)

    def _post_following(
        self, browser: requests.Session, url: str, fields: dict[str, str]
    ) -> requests.Response:
        # Follow redirects by hand so one to the app's loopback address is
        # handed back instead of fetched by us.
        answer = browser.post(url, data=fields, allow_redirects=False, timeout=10)
        return self._follow(browser, answer)

    def _follow(self, browser: requests.Session, answer: requests.Response) -> requests.Response:
        while answer.is_redirect:
            target = urljoin(answer.url, answer.headers["location"])
            if not target.startswith(self.issuer):
                return _RedirectResponse(target, answer.status_code)
            answer = browser.get(target, allow_redirects=False, timeout=10)
        return answer

    def revoke(self, token: str) -> None:
        """Revoke a token (a refresh token takes its whole grant with it)."""
        answer = requests.post(
            f"{self.issuer}/token/revocation",
            data={"token": token, "client_id": CLIENT_ID},
            timeout=10,
        )
        if answer.status_code != 200:
            raise OAuthServerError(f"revocation failed: {answer.status_code} {answer.text}")

    def issued_tokens(self) -> set[str]:
        """Every access and refresh token the server has issued so far."""
        lines = self._log_tail_all().splitlines()
        return {line.split()[2] for line in lines if line.startswith("issued ")}

    def _log_tail_all(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""

    def device_token(self, account: str) -> str:
        """An access token for `account`, as a helper like oama would hold."""
        start = requests.post(
            f"{self.issuer}/device/auth",
            data={"client_id": CLIENT_ID, "scope": " ".join(SCOPES)},
            timeout=10,
        ).json()
        self.approve_device(start["user_code"], account)
        answer = requests.post(
            f"{self.issuer}/token",
            data={
                "client_id": CLIENT_ID,
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": start["device_code"],
            },
            timeout=10,
        ).json()
        token: str = answer["access_token"]
        return token

    def introspect(self, token: str) -> dict[str, object]:
        answer = requests.post(
            self.introspection_url,
            data={"token": token},
            auth=(INTROSPECTION_CLIENT, self.introspection_secret),
            timeout=10,
        )
        answer.raise_for_status()
        result: dict[str, object] = answer.json()
        return result


class _RedirectResponse(requests.Response):
    """A redirect out of the authorization server, not followed."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__()
        self.url = url
        self.status_code = status
        self._content = b""


class Stack:
    """An authorization server and a Dovecot that trusts its tokens."""

    def __init__(self, access_ttl: int) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="followup-oauth-"))
        self.oauth = OAuthServer(self.root / "oauth", access_ttl=access_ttl)
        self.oauth.start()
        url = (
            f"http://dovecot:{self.oauth.introspection_secret}@127.0.0.1:{self.oauth.port}"
            "/token/introspection"
        )
        self.dovecot = Dovecot(self.root / "imap", oauth2_introspection_url=url)
        self.dovecot.start()

    def close(self) -> None:
        self.dovecot.cleanup()
        self.oauth.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def need_oauth_stack() -> None:
    """Skip without dovecot or node; in CI (CI=true) fail instead."""
    missing = []
    if not dovecot_available():
        missing.append("dovecot (apt-get install dovecot-imapd)")
    if not node_available():
        missing.append("node + tests/oauth_server/node_modules (cd tests/oauth_server && npm ci)")
    if missing:
        msg = f"{' and '.join(missing)} not installed"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{msg}; CI must run the OAuth tests", pytrace=False)
        pytest.skip(msg)
