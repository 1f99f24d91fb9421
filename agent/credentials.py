"""The IMAP password: FOLLOWUP_PASSWORD, then password_command, then the keyring.

An OAuth client secret is found the same way: FOLLOWUP_OAUTH_CLIENT_SECRET,
account.oauth2.client_secret_command, the keyring; a public client has none.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess

from .config import APP_NAME, AccountConfig
from .errors import CredentialError

log = logging.getLogger(__name__)

ENV_VAR = "FOLLOWUP_PASSWORD"
SECRET_ENV_VAR = "FOLLOWUP_OAUTH_CLIENT_SECRET"


def _keyring_service(account: AccountConfig) -> str:
    return f"{APP_NAME}:{account.host}"


def get_password(account: AccountConfig) -> str:
    env = os.environ.get(ENV_VAR)
    if env:
        log.debug("password from %s", ENV_VAR)
        return env
    if account.password_command:
        return _from_command(account.password_command)
    return _from_keyring(account)


def _from_command(command: str, key: str = "account.password_command") -> str:
    try:
        done = subprocess.run(
            shlex.split(command), capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CredentialError(f"{key} failed to run: {exc}") from exc
    if done.returncode != 0:
        # stderr may help; stdout might be a partial secret and is never shown.
        raise CredentialError(f"{key} exited with {done.returncode}: {done.stderr.strip()[:200]}")
    password = done.stdout.splitlines()[0] if done.stdout else ""
    if not password:
        raise CredentialError(f"{key} printed nothing")
    log.debug("secret from %s", key)
    return password


def command_secret(command: str, key: str) -> str:
    """The first line a secret-printing command (e.g. account.token_command) writes."""
    return _from_command(command, key)


def _no_keyring_help() -> str:
    return (
        f"set the {ENV_VAR} environment variable, or set account.password_command "
        'in the config (e.g. "pass show mail/imap")'
    )


def _from_keyring(account: AccountConfig) -> str:
    import keyring
    import keyring.errors

    try:
        password = keyring.get_password(_keyring_service(account), account.login)
    except keyring.errors.KeyringError as exc:
        raise CredentialError(f"no usable system keyring ({exc}); {_no_keyring_help()}") from exc
    if not password:
        raise CredentialError(
            f"no password stored for {account.login} on {account.host}: run "
            f"`followup set-password`, or {_no_keyring_help()}"
        )
    log.debug("password from the keyring")
    return str(password)


def store_password(account: AccountConfig, password: str) -> None:
    import keyring
    import keyring.errors

    try:
        keyring.set_password(_keyring_service(account), account.login, password)
    except keyring.errors.KeyringError as exc:
        raise CredentialError(
            f"cannot store the password: no usable system keyring ({exc}); {_no_keyring_help()}"
        ) from exc


def _secret_service(client_id: str) -> str:
    return f"{APP_NAME}-oauth-client:{client_id}"


def get_client_secret(account: AccountConfig) -> str | None:
    """The OAuth client secret, or None for a public client (Microsoft, custom)."""
    import keyring
    import keyring.errors

    oauth2 = account.oauth2
    if oauth2 is None:
        return None
    env = os.environ.get(SECRET_ENV_VAR)
    if env:
        return env
    if oauth2.client_secret_command:
        return _from_command(oauth2.client_secret_command, "account.oauth2.client_secret_command")
    try:
        secret = keyring.get_password(_secret_service(oauth2.client_id), account.login)
    except keyring.errors.KeyringError:
        return None
    return str(secret) if secret else None


def store_client_secret(account: AccountConfig, secret: str) -> None:
    import keyring
    import keyring.errors

    if account.oauth2 is None:
        raise CredentialError("account.oauth2 is not configured")
    try:
        keyring.set_password(_secret_service(account.oauth2.client_id), account.login, secret)
    except keyring.errors.KeyringError as exc:
        raise CredentialError(
            f"cannot store the client secret: no usable system keyring ({exc}); set "
            f"{SECRET_ENV_VAR} or account.oauth2.client_secret_command instead"
        ) from exc
