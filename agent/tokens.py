"""Bearer tokens for IMAP: the refresh token's storage and the access token's life.

The refresh token lives in the keyring or, where there is none, in a 0600
file beside the database. The access token lives in memory only, and is
refreshed shortly before it expires or once when a login was refused.
Refreshing re-reads the stored refresh token under a lock, so a `check` run
while the daemon works never leaves either with a rotated-out token.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import credentials
from .config import APP_NAME, AccountConfig
from .errors import CredentialError, OAuthGrantError
from .oauth import Grant, OAuthClient

log = logging.getLogger(__name__)

TOKEN_FILE = "oauth-refresh-token"
LOCK_FILE = "oauth.lock"
# Refresh this long before expiry at most; a quarter of the lifetime for short-lived tokens.
REFRESH_MARGIN = timedelta(seconds=60)


class TokenStore:
    """Where the refresh token is kept: the keyring, else a 0600 file in `state_dir`."""

    def __init__(self, account: AccountConfig, state_dir: Path) -> None:
        self._service = f"{APP_NAME}-oauth:{account.host}"
        self.user = account.login
        self.file = state_dir / TOKEN_FILE

    def load(self) -> str | None:
        import keyring
        import keyring.errors

        try:
            token = keyring.get_password(self._service, self.user)
        except keyring.errors.KeyringError:
            token = None
        if token:
            return str(token)
        try:
            text = self.file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CredentialError(f"cannot read {self.file}: {exc.strerror}") from exc
        return text or None

    def save(self, token: str) -> str:
        """Store the token; returns where it went, for the user."""
        import keyring
        import keyring.errors

        try:
            keyring.set_password(self._service, self.user, token)
        except keyring.errors.KeyringError as exc:
            log.debug("no usable keyring (%s); using %s", type(exc).__name__, self.file)
        else:
            self.file.unlink(missing_ok=True)
            return "the system keyring"
        self._write_file(token)
        return f"{self.file} (readable by you only: no keyring on this system)"

    def _write_file(self, token: str) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_name(self.file.name + ".tmp")
        try:
            # Created 0600 from the start: the token is never readable by others.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(token + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.file)
        except OSError as exc:
            raise CredentialError(f"cannot write {self.file}: {exc.strerror}") from exc


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class OAuthTokens:
    """Access tokens from a stored refresh token (the `BearerSource` of an OAuth app)."""

    def __init__(
        self,
        client: OAuthClient,
        store: TokenStore,
        lock: Path,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.store = store
        self._lock = lock
        self._clock = clock
        self._grant: Grant | None = None
        self._margin = REFRESH_MARGIN

    def __repr__(self) -> str:
        return f"OAuthTokens({self.client!r})"

    @property
    def grant(self) -> Grant | None:
        """The access token in use (scopes and expiry for `check`)."""
        return self._grant

    def access_token(self, *, force_refresh: bool = False) -> str:
        grant = self._grant
        if force_refresh or grant is None or grant.remaining(self._clock()) < self._margin:
            grant = self.refresh()
        return grant.access_token

    def refresh(self) -> Grant:
        with _locked(self._lock):
            refresh_token = self.store.load()
            if refresh_token is None:
                raise OAuthGrantError(
                    f"no OAuth sign-in stored for {self.store.user}: run followup login"
                )
            grant = self.client.refresh(refresh_token)
            if grant.refresh_token and grant.refresh_token != refresh_token:
                where = self.store.save(grant.refresh_token)
                log.info("the refresh token was rotated; the new one is in %s", where)
        lifetime = grant.remaining(self._clock())
        self._margin = min(REFRESH_MARGIN, lifetime / 4)
        self._grant = grant
        log.info("access token refreshed; valid for %d s", lifetime.total_seconds())
        return grant

    def adopt(self, grant: Grant) -> str:
        """Keep a grant from `followup login`; returns where the refresh token went."""
        if not grant.refresh_token:
            raise OAuthGrantError(
                "the authorization server gave no refresh token (Microsoft needs the "
                "offline_access scope, Google access_type=offline): check "
                "account.oauth2.scopes, then run followup login"
            )
        with _locked(self._lock):
            where = self.store.save(grant.refresh_token)
        self._grant = grant
        return where


class CommandTokens:
    """Access tokens printed by account.token_command (oama, mutt_oauth2.py, ...)."""

    key = "account.token_command"

    def __init__(self, command: str) -> None:
        self._command = command
        self.grant: Grant | None = None

    def __repr__(self) -> str:
        return "CommandTokens()"

    def access_token(self, *, force_refresh: bool = False) -> str:
        # The helper owns caching and refresh: ask it at every login.
        return credentials.command_secret(self._command, self.key)


def bearer_for(account: AccountConfig, state_dir: Path) -> OAuthTokens | CommandTokens:
    """The token source for an `auth = "oauth2"` account."""
    if account.token_command:
        return CommandTokens(account.token_command)
    if account.oauth2 is None:
        raise CredentialError('account.auth = "oauth2" needs [account.oauth2] or token_command')
    client = OAuthClient(
        account.oauth2,
        credentials.get_client_secret(account),
        timeout=account.timeout_seconds,
    )
    return OAuthTokens(client, TokenStore(account, state_dir), state_dir / LOCK_FILE)
