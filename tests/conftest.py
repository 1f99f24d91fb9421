"""Shared fixtures: one real Dovecot per test session, a fresh user per test."""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# `agent` and `tests.*` import from the checkout: pyproject sets pythonpath = ["."].
from tests import audit
from tests.dovecot import Dovecot, MailUser, dovecot_available
from tests.support import Account, make_account

pytest_plugins = ["tests.servers.fixtures"]

_user_seq = itertools.count(1)


# Fixtures that start or need a real server: a test using one (directly or
# through another fixture) is marked `dovecot` here, so that
# `pytest -m "not dovecot and not slow"` is the fast, no-server set.
SERVER_FIXTURES = frozenset({"dovecot"})


# The inner loop (`pytest -m fast`, a few seconds): whole cycles through the
# in-memory mailbox and the rules they apply; no server, no subprocess.
FAST_MODULES = frozenset(
    {
        "test_cycle_memory",
        "test_cycle_paths",
        "test_memory",
        "test_backend",
        "test_drafts",
        "test_services",
        "test_job_paths",
        "test_policy",
        "test_classify",
        "test_compose",
        "test_models",
        "test_cycle_cost",
        "test_appindex_update",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.dovecot)
        elif item.module is not None and item.module.__name__.rpartition(".")[2] in FAST_MODULES:
            item.add_marker(pytest.mark.fast)


@pytest.fixture(scope="session", autouse=True)
def draft_audit() -> Iterator[Path]:
    """Every draft the suite writes, in this process or a child, is checked (tests/audit.py)."""
    where = Path(tempfile.mkdtemp(prefix="followup-audit-"))
    before = os.environ.get(audit.ENV_VAR)
    os.environ[audit.ENV_VAR] = str(where)
    undo = audit.install()
    try:
        yield where
    finally:
        undo()
        if before is None:
            os.environ.pop(audit.ENV_VAR, None)
        else:
            os.environ[audit.ENV_VAR] = before
        checked, bad = audit.findings(where)
        audit.SUMMARY.append(f"draft audit: {checked} drafts checked, {len(bad)} name the tool")
        shutil.rmtree(where, ignore_errors=True)
        if bad:
            pytest.fail(f"{len(bad)} of {checked} drafts name the tool:\n" + "\n".join(bad))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in audit.SUMMARY:
        terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _legacy_drafts(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test marked `legacy_drafts` writes old-scheme drafts on purpose: no audit for it."""
    legacy = request.node.get_closest_marker("legacy_drafts") is not None
    audit.set_enabled(not legacy)
    try:
        yield
    finally:
        audit.set_enabled(True)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A running Dovecot on 127.0.0.1; skipped without the binary, except in CI."""
    if not dovecot_available():
        msg = "dovecot/doveadm/openssl not installed (Debian: apt-get install dovecot-imapd)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{msg}; CI must run the real-server tests", pytrace=False)
        pytest.skip(msg)
    # Not tmp_path_factory: its 0700 parents would need loosening for Dovecot's users.
    root = Path(tempfile.mkdtemp(prefix="followup-dovecot-"))
    server = Dovecot(root / "srv")
    server.start()
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mail_user(dovecot: Dovecot) -> MailUser:
    """A new account with empty INBOX, Drafts, Sent, Trash, Archive, Junk."""
    name = f"u{next(_user_seq)}-{secrets.token_hex(3)}"
    return dovecot.add_user(name, secrets.token_urlsafe(12))


@pytest.fixture
def acct(
    dovecot: Dovecot,
    mail_user: MailUser,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Account:
    """A fresh user with a config made by `followup init`, driven through the CLI."""
    return make_account(dovecot, mail_user, tmp_path, capsys, monkeypatch)
