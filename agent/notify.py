"""Desktop notifications (freedesktop.org Notifications over the session D-Bus).

A draft nobody sees is a note never sent: when the daemon writes drafts it says
so on the desktop, where there is one. Through jeepney (pure Python, already
what keyring's Secret Service backend uses). Best effort: no session bus, no
notification server, a slow one: logged at INFO, never an error of the cycle.
"""

from __future__ import annotations

import logging
import os

from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import DBusErrorResponse, unwrap_msg

log = logging.getLogger(__name__)

APP_NAME = "followup"
NOTIFICATIONS = DBusAddress(
    "/org/freedesktop/Notifications",
    bus_name="org.freedesktop.Notifications",
    interface="org.freedesktop.Notifications",
)


def notify(summary: str, body: str, timeout: float = 3.0) -> bool:
    """Show one notification; whether a notification server took it."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        log.debug("no desktop session bus: no notification")
        return False
    # app_name, replaces_id, icon, summary, body, actions, hints, expire (-1: server's default)
    call = new_method_call(
        NOTIFICATIONS,
        "Notify",
        "susssasa{sv}i",
        (APP_NAME, 0, "mail-unread", summary, body, [], {}, -1),
    )
    try:
        conn = open_dbus_connection(bus="SESSION", auth_timeout=timeout)
        try:
            unwrap_msg(conn.send_and_get_reply(call, timeout=timeout))  # an error reply raises
        finally:
            conn.close()
    except (OSError, ValueError, KeyError, DBusErrorResponse) as exc:
        log.info("no desktop notification (%s)", exc)
        return False
    return True


def drafts_written(count: int, oldest_subject: str) -> tuple[str, str]:
    """The summary and body telling the user that drafts wait in Drafts."""
    noun = "draft" if count == 1 else "drafts"
    return (
        f"{count} follow-up {noun} waiting in Drafts",
        f"Review and send from your mail client: {oldest_subject}"
        + (f" and {count - 1} more" if count > 1 else ""),
    )
