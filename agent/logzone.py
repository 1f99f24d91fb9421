"""Log lines stamped in the user's zone with its offset (`2026-12-01T16:05:09+01:00`).

Until a command has read the config, the system's local zone is used; the
daemon switches to `schedule.timezone` once it has it, so its log agrees with
every time the CLI shows.
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_zone: list[tzinfo | None] = [None]


def use_zone(tz: tzinfo | None) -> None:
    """Stamp every later log line in `tz` (None: the system's local zone)."""
    _zone[0] = tz


class ZoneFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(FORMAT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        zone = _zone[0]
        moment = (
            datetime.fromtimestamp(record.created, zone)
            if zone
            else datetime.fromtimestamp(record.created).astimezone()
        )
        return moment.isoformat(timespec="seconds")
