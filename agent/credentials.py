"""The IMAP password: FOLLOWUP_PASSWORD, then password_command, then the keyring."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess

from .config import APP_NAME, AccountConfig
from .errors import CredentialError

log = logging.getLogger(__name__)

ENV_VAR = "FOLLOWUP_PASSWORD"


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


def _from_command(command: str) -> str:
    try:
        done = subprocess.run(
            shlex.split(command), capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CredentialError(f"account.password_command failed to run: {exc}") from exc
    if done.returncode != 0:
        # stderr may help; stdout might be a partial secret and is never shown.
        raise CredentialError(
            f"account.password_command exited with {done.returncode}: {done.stderr.strip()[:200]}"
        )
    password = done.stdout.splitlines()[0] if done.stdout else ""
    if not password:
        raise CredentialError("account.password_command printed nothing")
    log.debug("password from account.password_command")
    return password


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
