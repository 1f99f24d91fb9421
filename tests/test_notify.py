"""Desktop notifications: a real dbus-daemon on a private socket and a notification server.

Drafts nobody sees are notes never sent (issue 17): the daemon's notice goes
through the freedesktop Notifications interface; without a session it is
silently skipped, and `daemon.notify = false` turns it off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from jeepney import MessageType, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

from agent import config, notify
from tests.daemonproc import wait_for

NAME = "org.freedesktop.Notifications"


@pytest.fixture
def session_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if shutil.which("dbus-daemon") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dbus-daemon is missing (apt-get install dbus-daemon)")
        pytest.skip("no dbus-daemon")
    address = f"unix:path={tmp_path / 'bus'}"
    proc = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--nopidfile", f"--address={address}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: (tmp_path / "bus").exists(), timeout=10)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    proc.terminate()
    proc.wait(timeout=10)


class NotificationServer:
    """Owns org.freedesktop.Notifications and keeps every Notify call's arguments."""

    def __init__(self, address: str) -> None:
        self.conn = open_dbus_connection(bus=address)
        self.conn.send_and_get_reply(message_bus.RequestName(NAME))
        self.calls: list[tuple[object, ...]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                msg = self.conn.receive(timeout=0.2)
            except TimeoutError:
                continue
            fields = msg.header.fields
            if msg.header.message_type is MessageType.method_call and (
                fields.get(3) == "Notify"  # HeaderFields.member
            ):
                self.calls.append(tuple(msg.body))
                self.conn.send(new_method_return(msg, "u", (len(self.calls),)))

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.conn.close()


def test_a_notification_reaches_the_desktop(session_bus: str) -> None:
    server = NotificationServer(session_bus)
    try:
        summary, body = notify.drafts_written(3, "Thank you, Jane (Data Engineer interview)")
        assert notify.notify(summary, body) is True
        wait_for(lambda: server.calls, timeout=5)
    finally:
        server.close()
    (call,) = server.calls
    assert call[0] == "followup" and call[3] == "3 follow-up drafts waiting in Drafts"
    assert "Thank you, Jane" in str(call[4]) and "2 more" in str(call[4])


def test_no_notification_server_is_no_error(session_bus: str) -> None:
    assert notify.notify("x", "y", timeout=1) is False


def test_no_session_is_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert notify.notify("x", "y") is False


def test_the_switch_is_declared_in_the_config() -> None:
    assert config.DaemonConfig().notify is True
    assert config.DaemonConfig(notify=False).notify is False
