"""Password lookup order and the messages when none is found."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import keyring
import keyring.backend
import pytest
from keyring.backends import fail

from agent import credentials
from agent.config import AccountConfig
from agent.errors import CredentialError


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-process keyring: the test must not touch the machine's real one."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv(credentials.ENV_VAR, raising=False)
    before = keyring.get_keyring()
    mem = MemoryKeyring()
    keyring.set_keyring(mem)
    yield mem
    keyring.set_keyring(before)


def account(command: str | None = None) -> AccountConfig:
    return AccountConfig(
        email="a@example.com", name="A", host="imap.example.com", password_command=command
    )


def py(code: str) -> str:
    return f"{sys.executable} -c '{code}'"


def test_env_wins_over_everything(ring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    credentials.store_password(account(), "from-keyring")
    monkeypatch.setenv(credentials.ENV_VAR, "from-env")
    assert credentials.get_password(account(py("print(1)"))) == "from-env"


def test_command_before_keyring(ring: MemoryKeyring) -> None:
    credentials.store_password(account(), "from-keyring")
    assert credentials.get_password(account(py('print("s3cret")'))) == "s3cret"


def test_keyring_last(ring: MemoryKeyring) -> None:
    credentials.store_password(account(), "from-keyring")
    assert credentials.get_password(account()) == "from-keyring"


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (py("import sys; sys.exit(3)"), "exited with 3"),
        (py("pass"), "printed nothing"),
        ("/nonexistent/binary", "failed to run"),
    ],
)
def test_broken_command(ring: MemoryKeyring, command: str, words: str) -> None:
    with pytest.raises(CredentialError, match=words):
        credentials.get_password(account(command))


def test_command_output_never_in_the_error(ring: MemoryKeyring) -> None:
    cmd = py('import sys; print("hunter2"); sys.exit(1)')
    with pytest.raises(CredentialError) as err:
        credentials.get_password(account(cmd))
    assert "hunter2" not in str(err.value)


def test_nothing_stored_says_how(ring: MemoryKeyring) -> None:
    with pytest.raises(CredentialError, match="followup set-password"):
        credentials.get_password(account())


def test_headless_machine_names_the_other_two_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(credentials.ENV_VAR, raising=False)
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(CredentialError) as err:
            credentials.get_password(account())
        with pytest.raises(CredentialError):
            credentials.store_password(account(), "x")
    finally:
        keyring.set_keyring(before)
    assert credentials.ENV_VAR in str(err.value)
    assert "password_command" in str(err.value)
