"""Pytest fixtures for the compatibility servers: one of each per session, started lazily.

`compat_server` is parametrized over every server; a test that takes it runs
once per server. A server whose software is missing is skipped, except in CI
(`CI=true`), where that is a failure.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.dovecot import MailUser, dovecot_available
from tests.servers.base import CompatServer
from tests.servers.courier import Courier, courier_available
from tests.servers.cyrus import Cyrus, CyrusInbox, cyrus_available
from tests.servers.layouts import GmailDovecot, IspDovecot
from tests.servers.pymapd import Pymap, pymap_binary

HOW_TO = "run tests/servers/install.sh as root (CI's .ci/run does)"

# name -> (class, is it installed?)
SERVERS: dict[str, tuple[Callable[[Path], CompatServer], Callable[[], bool]]] = {
    "dovecot-gmail": (GmailDovecot, dovecot_available),
    "dovecot-isp": (IspDovecot, dovecot_available),
    "pymap": (Pymap, lambda: pymap_binary() is not None),
    "cyrus": (Cyrus, cyrus_available),
    "cyrus-inbox": (CyrusInbox, cyrus_available),
    "courier": (Courier, courier_available),
}

_seq = itertools.count(1)


def _missing(name: str) -> None:
    msg = f"{name} is not installed: {HOW_TO}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{msg}; CI must run every compatibility server", pytrace=False)
    pytest.skip(msg)


class ServerPool:
    """Servers started on first use and kept for the session."""

    def __init__(self) -> None:
        self._running: dict[str, CompatServer] = {}
        self._roots: list[Path] = []

    def get(self, name: str) -> CompatServer:
        if name not in self._running:
            factory, available = SERVERS[name]
            if not available():
                _missing(name)
            root = Path(tempfile.mkdtemp(prefix=f"followup-{name}-"))
            self._roots.append(root)
            server = factory(root / "srv")
            server.start()
            self._running[name] = server
        return self._running[name]

    def close(self) -> None:
        for server in self._running.values():
            server.cleanup()
        for root in self._roots:
            shutil.rmtree(root, ignore_errors=True)


def new_user(server: CompatServer) -> MailUser:
    """A new account on `server`, with its layout's folders."""
    return server.add_user(f"c{next(_seq)}x{secrets.token_hex(3)}", secrets.token_hex(8))


@pytest.fixture(scope="session")
def server_pool() -> Iterator[ServerPool]:
    pool = ServerPool()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(params=[pytest.param(n, marks=pytest.mark.compat) for n in SERVERS])
def compat_server(request: pytest.FixtureRequest, server_pool: ServerPool) -> CompatServer:
    """A running server of each kind on 127.0.0.1 (tests taking it run once per server)."""
    return server_pool.get(request.param)


@pytest.fixture
def compat_user(compat_server: CompatServer) -> MailUser:
    """A new account on that server, with its layout's folders."""
    return new_user(compat_server)
