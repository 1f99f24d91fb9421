"""`followup login`: run the provider's sign-in flow and keep the refresh token.

The device flow (RFC 8628) where the provider allows it, otherwise the
authorization code with PKCE and a loopback redirect. What the user must see
(URL, code, how long we wait) goes through `say`; printing is the CLI's job.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .config import AccountConfig
from .errors import OAuthGrantError, UsageError
from .loopback import LoopbackReceiver
from .oauth import Grant, OAuthClient
from .providers import Flow
from .tokens import CommandTokens, OAuthTokens, bearer_for

log = logging.getLogger(__name__)

Say = Callable[[str], None]


@dataclass(frozen=True)
class LoginResult:
    grant: Grant
    stored_in: str


def can_open_browser() -> bool:
    """A graphical browser is likely: never start a text browser in the user's terminal."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open(url: str, say: Say) -> None:
    try:
        opened = webbrowser.get().open(url)
    except webbrowser.Error:
        opened = False
    if opened:
        say("opened your browser")


def _minutes(wait: timedelta) -> str:
    seconds = wait.total_seconds()
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def login(
    account: AccountConfig,
    state_dir: Path,
    say: Say,
    *,
    flow: Flow | None = None,
    browser: bool = True,
    timeout: timedelta = timedelta(minutes=5),
) -> LoginResult:
    """Sign in interactively; the refresh token is stored, the access token kept."""
    tokens = bearer_for(account, state_dir)
    if isinstance(tokens, CommandTokens) or account.oauth2 is None:
        raise UsageError(
            "account.token_command supplies the tokens: sign in with that program instead"
        )
    chosen = flow or account.oauth2.flow
    browser = browser and can_open_browser()
    if chosen is Flow.DEVICE:
        if not account.oauth2.device_authorization_url:
            raise UsageError("this provider has no device sign-in: use --flow pkce")
        grant = _device(tokens.client, say, browser, timeout)
    else:
        grant = _pkce(tokens.client, account.oauth2.redirect_uri, say, browser, timeout)
    return LoginResult(grant=grant, stored_in=tokens.adopt(grant))


def _device(client: OAuthClient, say: Say, browser: bool, timeout: timedelta) -> Grant:
    code = client.start_device()
    limit = min(code.expires_at, client.clock() + timeout)
    code = dataclasses.replace(code, expires_at=limit)
    say(f"to sign in, open {code.verification_uri} and enter the code {code.user_code}")
    if code.verification_uri_complete:
        say(f"(or open {code.verification_uri_complete})")
    say(f"waiting up to {_minutes(limit - client.clock())} for your approval...")
    if browser:
        _open(code.verification_uri_complete or code.verification_uri, say)
    return client.poll_device(code)


def _pkce(
    client: OAuthClient, registered: str, say: Say, browser: bool, timeout: timedelta
) -> Grant:
    try:
        receiver = LoopbackReceiver(registered)
    except OSError as exc:
        raise OAuthGrantError(
            f"cannot listen on {registered} for the sign-in redirect ({exc.strerror}): "
            "free that port or change account.oauth2.redirect_uri"
        ) from exc
    with receiver:
        pending = client.authorization(receiver.redirect_uri)
        say("to sign in, open this address in a browser on this computer:")
        say(pending.url)
        say(f"waiting up to {_minutes(timeout)} for the redirect to {receiver.redirect_uri} ...")
        if browser:
            _open(pending.url, say)
        answer = receiver.wait(timeout.total_seconds())
    if answer is None:
        raise OAuthGrantError(
            f"no sign-in arrived within {_minutes(timeout)}: run followup login again"
        )
    return client.exchange(pending, answer.params)


def describe(tokens: OAuthTokens | CommandTokens, now: datetime | None = None) -> list[str]:
    """`check` lines: the granted scopes and how long the access token still lives."""
    if isinstance(tokens, CommandTokens):
        return ["  auth:    OAuth2 bearer token from account.token_command"]
    grant = tokens.grant
    provider = tokens.client.cfg.provider
    if grant is None:
        return [f"  auth:    OAuth2 ({provider}), no access token yet"]
    left = grant.remaining(now or datetime.now(UTC))
    return [
        f"  auth:    OAuth2 ({provider}), scopes: {' '.join(grant.scopes)}",
        f"  token:   access token valid for {max(0, int(left.total_seconds()))} s more "
        "(refreshed automatically)",
    ]
