"""What every CLI command needs, loaded on first use (never at import time)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from . import config
from .errors import UsageError
from .services import Services
from .store import Store

RunCli = Callable[[Sequence[str]], int]


class Context:
    """Parsed arguments plus the config, store and use cases they lead to."""

    def __init__(self, args: argparse.Namespace, run_cli: RunCli) -> None:
        self.args = args
        self.run_cli = run_cli  # `followup demo` drives the real commands
        self._cfg: config.Config | None = None
        self._store: Store | None = None
        self._services: Services | None = None

    @property
    def config_path(self) -> Path:
        return (
            Path(self.args.config).expanduser()
            if self.args.config
            else config.default_config_path()
        )

    @property
    def cfg(self) -> config.Config:
        if self._cfg is None:
            self._cfg = config.load(self.config_path)
        return self._cfg

    @property
    def tz(self) -> ZoneInfo:
        return self.cfg.schedule.tz

    def check_now(self) -> datetime:
        try:
            return datetime.fromisoformat(self.args.now)
        except ValueError:
            raise UsageError(f"--now: {self.args.now!r} is not an ISO-8601 date and time") from None

    def now(self) -> datetime:
        """The simulated clock (--now) or the real one."""
        if not self.args.now:
            return datetime.now(UTC)
        value = self.check_now()
        return value if value.tzinfo else value.replace(tzinfo=self.tz)

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.cfg.storage.database)
        return self._store

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = Services(self.cfg, self.store)
        return self._services

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
