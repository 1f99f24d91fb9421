"""The agent's own cycle, as `followup run` performs it, over one kept connection."""

from __future__ import annotations

import importlib.util
from datetime import datetime

from agent import credentials
from agent.config import Config
from agent.engine import CycleReport, Engine
from agent.mailbox import Mailbox, open_mailbox
from agent.store import Store


def connect(cfg: Config) -> Mailbox:
    mailbox = open_mailbox(cfg.account, cfg.folders, credentials.get_password(cfg.account))
    mailbox.connect()
    return mailbox


def cycle(cfg: Config, store: Store, mailbox: Mailbox, now: datetime) -> CycleReport:
    """One daemon cycle: agent/daemon.py builds an Engine per cycle on its open mailbox."""
    return Engine(cfg, store, mailbox).run_cycle(now)


def sync_available() -> bool:
    """Whether this commit has the mailbox sync (issue #4: agent/sync.py)."""
    return importlib.util.find_spec("agent.sync") is not None
