"""OAuth 2.0 client: device authorization grant, authorization code + PKCE, refresh.

Built on authlib's requests client so the protocol details (PKCE S256, client
authentication, token response parsing and errors) are a maintained library's
job. Every authlib and requests error is translated here: a refusal becomes
OAuthGrantError with one line saying what to do next, a network failure a
ConnectError (retried by the daemon). No token or secret is ever logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from .errors import ConnectError, FollowupError, OAuthGrantError
from .oauthconfig import OAuth2Config
from .providers import explain

log = logging.getLogger(__name__)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# When a token response leaves out expires_in (RFC 6749 makes it optional).
DEFAULT_LIFETIME = timedelta(hours=1)
DEVICE_INTERVAL_SECONDS = 5
REFRESHING = "refreshing the access token"


@dataclass(frozen=True)
class Grant:
    """What a token endpoint answered; tokens kept out of repr so they never reach a log."""

    access_token: str = field(repr=False)
    expires_at: datetime
    refresh_token: str | None = field(repr=False, default=None)
    scopes: tuple[str, ...] = ()

    def remaining(self, now: datetime) -> timedelta:
        return self.expires_at - now


@dataclass(frozen=True)
class DeviceCode:
    """RFC 8628 device authorization response."""

    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_at: datetime
    interval: float
    device_code: str = field(repr=False)


@dataclass(frozen=True)
class PendingAuthorization:
    """An authorization request sent to the browser, waiting for its redirect."""

    url: str
    redirect_uri: str
    state: str = field(repr=False)
    code_verifier: str = field(repr=False)


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


class OAuthClient:
    """One registered app (`[account.oauth2]`) talking to its authorization server."""

    def __init__(
        self,
        cfg: OAuth2Config,
        client_secret: str | None,
        *,
        timeout: float = 30.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.cfg = cfg
        self._secret = client_secret
        self.timeout = timeout
        self.clock = clock

    def __repr__(self) -> str:
        return f"OAuthClient({self.cfg.provider}, {self.cfg.client_id})"

    def _session(self, redirect_uri: str | None = None) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.cfg.client_id,
            client_secret=self._secret,
            # A public client (no secret) identifies itself with client_id in the body.
            token_endpoint_auth_method="client_secret_post" if self._secret else "none",
            scope=" ".join(self.cfg.scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
        )

    def _call(self, what: str, url: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (OAuthError, requests.RequestException) as exc:
            raise self._translate(what, url, exc) from exc

    def _translate(self, what: str, url: str, exc: Exception) -> FollowupError:
        if isinstance(exc, OAuthError):
            log.info("%s refused by %s: %s", what, _host(url), exc.error)
            return OAuthGrantError(
                explain(
                    self.cfg.provider,
                    str(exc.error or ""),
                    str(exc.description or ""),
                    refreshing=what == REFRESHING,
                )
            )
        # Named by type only: a status error's text could carry the request URL.
        return ConnectError(
            f"cannot reach the authorization server {_host(url)} for {what}: {type(exc).__name__}"
        )

    def _grant(self, token: dict[str, Any], old_refresh: str | None = None) -> Grant:
        lifetime = token.get("expires_in")
        life = timedelta(seconds=float(lifetime)) if lifetime else DEFAULT_LIFETIME
        access = token.get("access_token")
        if not access:
            raise OAuthGrantError(
                f"{_host(self.cfg.token_url)} answered without an access token: run followup login"
            )
        scope = token.get("scope")
        scopes = tuple(str(scope).split()) if scope else self.cfg.scopes
        return Grant(
            access_token=str(access),
            expires_at=self.clock() + life,
            # A provider that does not rotate leaves refresh_token out: keep the old one.
            refresh_token=str(token.get("refresh_token") or old_refresh or "") or None,
            scopes=scopes,
        )

    # -- refresh ------------------------------------------------------------

    def refresh(self, refresh_token: str) -> Grant:
        url = self.cfg.token_url
        token = self._call(
            REFRESHING,
            url,
            lambda: self._session().refresh_token(
                url, refresh_token=refresh_token, timeout=self.timeout
            ),
        )
        return self._grant(dict(token), old_refresh=refresh_token)

    # -- device authorization grant (RFC 8628) --------------------------------

    def start_device(self) -> DeviceCode:
        url = self.cfg.device_authorization_url
        data = {"client_id": self.cfg.client_id, "scope": " ".join(self.cfg.scopes)}
        if self._secret:
            data["client_secret"] = self._secret

        def ask() -> dict[str, Any]:
            # withhold_token: this request comes before there is any token.
            answer = self._session().request(
                "POST", url, withhold_token=True, data=data, timeout=self.timeout
            )
            body: dict[str, Any] = _json(answer)
            if "error" in body:
                raise OAuthError(body["error"], body.get("error_description"))
            answer.raise_for_status()
            return body

        body = self._call("the device sign-in", url, ask)
        try:
            uri = str(body.get("verification_uri") or body["verification_url"])
            return DeviceCode(
                user_code=str(body["user_code"]),
                verification_uri=uri,
                verification_uri_complete=str(body.get("verification_uri_complete") or ""),
                expires_at=self.clock() + timedelta(seconds=float(body.get("expires_in", 900))),
                interval=float(body.get("interval", DEVICE_INTERVAL_SECONDS)),
                device_code=str(body["device_code"]),
            )
        except (KeyError, ValueError) as exc:
            raise OAuthGrantError(
                f"{_host(url)} sent an incomplete device authorization answer ({exc})"
            ) from exc

    def poll_device(self, code: DeviceCode, sleep: Callable[[float], None] = time.sleep) -> Grant:
        """Wait until the user approves the code (or it expires)."""
        url = self.cfg.token_url
        interval = code.interval
        session = self._session()
        while True:
            try:
                token = session.fetch_token(
                    url,
                    grant_type=DEVICE_GRANT,
                    device_code=code.device_code,
                    timeout=self.timeout,
                )
                return self._grant(dict(token))
            except OAuthError as exc:
                if exc.error == "slow_down":
                    interval += 5  # RFC 8628 section 3.5
                elif exc.error != "authorization_pending":
                    raise self._translate("the device sign-in", url, exc) from exc
            except requests.RequestException as exc:
                raise self._translate("the device sign-in", url, exc) from exc
            if self.clock() + timedelta(seconds=interval) > code.expires_at:
                raise OAuthGrantError(explain(self.cfg.provider, "expired_token"))
            sleep(interval)

    # -- authorization code + PKCE --------------------------------------------

    def authorization(self, redirect_uri: str) -> PendingAuthorization:
        verifier = generate_token(64)
        session = self._session(redirect_uri)
        url, state = session.create_authorization_url(
            self.cfg.authorize_url, code_verifier=verifier, **dict(self.cfg.extra_params)
        )
        return PendingAuthorization(
            url=str(url), redirect_uri=redirect_uri, state=str(state), code_verifier=verifier
        )

    def exchange(self, pending: PendingAuthorization, params: dict[str, str]) -> Grant:
        """Turn the redirect's query parameters into tokens."""
        if "error" in params:
            raise OAuthGrantError(
                explain(self.cfg.provider, params["error"], params.get("error_description", ""))
            )
        if params.get("state") != pending.state:
            raise OAuthGrantError(
                "the sign-in answer did not match this login (state differs): "
                "run followup login again"
            )
        if not params.get("code"):
            raise OAuthGrantError("the sign-in answer carried no code: run followup login again")
        url = self.cfg.token_url
        token = self._call(
            "the sign-in",
            url,
            lambda: self._session(pending.redirect_uri).fetch_token(
                url,
                grant_type="authorization_code",
                code=params["code"],
                code_verifier=pending.code_verifier,
                redirect_uri=pending.redirect_uri,
                timeout=self.timeout,
            ),
        )
        return self._grant(dict(token))


def _json(answer: requests.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        answer.raise_for_status()
        raise requests.RequestException("the answer is not JSON") from None
    return body if isinstance(body, dict) else {}
