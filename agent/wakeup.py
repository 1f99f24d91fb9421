"""The CLI wakes a running daemon after a change to the plan (SIGUSR1 to its pid).

The daemon records its pid in health; a pid alone could by now belong to some
other program (SIGUSR1 would end it), so the signal goes only to the process
that also holds the database's instance lock under that same pid.
"""

from __future__ import annotations

import logging
import os
import signal

from . import health
from .lock import InstanceLock
from .store import Store

log = logging.getLogger(__name__)

WAKE_SIGNAL = signal.SIGUSR1


def wake_daemon(store: Store) -> int | None:
    """Ask the running daemon to run a cycle now; its pid, or None if none runs."""
    pid = health.read(store).pid
    if pid is None or pid == os.getpid() or InstanceLock(store.path).holder() != pid:
        return None
    try:
        os.kill(pid, WAKE_SIGNAL)
    except OSError as exc:
        log.debug("could not wake the daemon (pid %s): %s", pid, exc)
        return None
    log.info("woke the daemon (pid %s) to act on the change now", pid)
    return pid
