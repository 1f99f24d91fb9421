"""Fault injection for crash tests: kill this process at named points.

Inert unless the environment sets, for example,
``FOLLOWUP_FAULT="claimed:0.2,appended:0.2,recorded:0.1"`` (point:probability,
comma-separated; ``FOLLOWUP_FAULT_SEED`` makes the draws repeatable). At a hit
the process logs the point and sends itself SIGKILL, exactly like ``kill -9``:
no cleanup, no flush, no transaction commit.

Points: ``cycle`` (a cycle starts), ``claimed`` (step recorded as appending,
before the APPEND), ``appended`` (APPEND done, before it is recorded),
``recorded`` (draft recorded). ``fswatch`` is a refusal, not a kill: the
Maildir's file-system watch fails as if the inotify table were full (see
`refused`).
"""

from __future__ import annotations

import logging
import os
import random
import signal

log = logging.getLogger(__name__)

ENV_VAR = "FOLLOWUP_FAULT"
SEED_VAR = "FOLLOWUP_FAULT_SEED"


def _parse(spec: str) -> dict[str, float]:
    points: dict[str, float] = {}
    for part in spec.split(","):
        name, _, prob = part.strip().partition(":")
        if name:
            points[name] = float(prob) if prob else 1.0
    return points


_POINTS: dict[str, float] = _parse(os.environ.get(ENV_VAR, ""))
_RNG = random.Random(os.environ.get(SEED_VAR))


def hit(point: str) -> None:
    """Maybe die here; a dict lookup on an empty dict when not configured."""
    if not _POINTS:
        return
    p = _POINTS.get(point)
    if p is not None and _RNG.random() < p:
        log.warning("fault injection: SIGKILL at %s", point)
        for handler in logging.getLogger().handlers:
            handler.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def refused(point: str) -> bool:
    """Whether an operation at `point` fails on purpose (the same spec; no kill)."""
    p = _POINTS.get(point)
    return p is not None and _RNG.random() < p
