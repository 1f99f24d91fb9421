"""A reply's way from delivery to `responded`: the server's part and the agent's part.

Two measurements:

- `agent_wakeup`, in process: a reply is delivered and the agent's main
  connection rests in IDLE on INBOX until the server tells it, as under
  `followup run`; then one daemon cycle is timed: the agent's whole share of
  a wake-up with one new message. With `heard=False` the bench's own session
  sees it first and the cycle runs on one that was not told: what a session
  pays on Dovecot to catch up (about 0.25 s at 100k), as before the main
  connection rested in IDLE.
- `reply_breakdown`, against `followup run` in its own process: each delivery
  split into `doveadm save` (which syncs the maildir itself), the server's
  announcement to an IDLE client (the bench's own, on a second connection),
  and the rest until the database says `responded`.
"""

from __future__ import annotations

import cProfile
import logging
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.daemon import Daemon
from agent.models import AppState
from bench import world
from bench.agentcycle import cycle
from bench.mailgen import reply
from bench.measure import measured, p95, spread, summarise
from bench.proxy import CountingProxy
from bench.serverside import IdleWatcher, ServerView

log = logging.getLogger(__name__)

# How long one reply may take before the bench gives up on it.
REPLY_TIMEOUT_S = 10.0


def active_companies(acct: world.Account) -> list[world.Company]:
    return [
        c for c in acct.companies if world.app_state(acct.database, c.app_id) is AppState.ACTIVE
    ]


def _reply_to(acct: world.Account, c: world.Company) -> bytes:
    return reply(c.interviewer, acct.user.address, c.index, c.domain, datetime.now(UTC))


def agent_wakeup(
    proxy: CountingProxy,
    acct: world.Account,
    agent: Daemon,
    deliveries: int,
    profile: Path | None = None,
    heard: bool = True,
) -> dict[str, Any]:
    """One cycle after one new reply, once the agent heard of it (or, not `heard`,
    once the bench's own session saw it).

    With `profile`, the cycles' cProfile statistics are written there
    (`python -m pstats PATH`): what limits the agent's part.
    """
    runs: list[dict[str, float]] = []
    missed = 0
    prof = cProfile.Profile() if profile is not None else None
    never, _ = os.pipe()  # a wake-up fd nothing writes to: only the server ends a rest
    with ServerView(acct.server, acct.user) as view:
        for c in active_companies(acct)[:deliveries]:
            acct.server.deliver(acct.user, "INBOX", _reply_to(acct, c))
            if heard:
                if not _heard(agent, never):
                    missed += 1
                    continue
            else:
                view.wait_for(view.exists + 1)
            with measured(proxy) as m:
                if prof is not None:
                    prof.enable()
                cycle(agent)
                if prof is not None:
                    prof.disable()
            runs.append(m)
            if world.app_state(acct.database, c.app_id) is not AppState.RESPONDED:
                missed += 1
    if not runs:
        return {"note": "no active application left to reply to"}
    if prof is not None and profile is not None:
        prof.dump_stats(profile)
    os.close(never)
    return {**summarise(runs), "missed": missed}


def _heard(agent: Daemon, never: int) -> bool:
    """Rest on the agent's main connection until the server announces new mail."""
    mb, engine = agent.mailbox, agent.engine
    assert mb is not None and engine is not None
    return mb.rest(engine.folders.inbox, REPLY_TIMEOUT_S, never)


def _one_reply(
    acct: world.Account, c: world.Company, watcher: IdleWatcher
) -> dict[str, float] | None:
    """Timestamps of one delivery; None if the application never became `responded`."""
    raw = _reply_to(acct, c)
    watcher.drain()
    # Timed from before the delivery starts: doveadm's own start-up counts against us.
    t0 = time.perf_counter()
    acct.server.deliver(acct.user, "INBOX", raw)
    saved = time.perf_counter()
    responded = None
    while time.perf_counter() - t0 < REPLY_TIMEOUT_S:
        if world.app_state(acct.database, c.app_id) is AppState.RESPONDED:
            responded = time.perf_counter()
            break
        time.sleep(0.005)
    if responded is None:
        return None
    # The announcement may come after `responded` when the agent learnt of
    # the mail some other way: then the agent's part is negative.
    announced = watcher.next_exists(max(0.0, t0 + REPLY_TIMEOUT_S - time.perf_counter()))
    out = {"total_s": responded - t0, "delivery_s": saved - t0}
    if announced is not None:
        out.update(notify_s=announced - saved, agent_s=responded - announced)
    return out


def reply_breakdown(
    acct: world.Account, deliveries: int, settle: Callable[[], object], note: str = ""
) -> dict[str, Any]:
    """Reply delivered → `responded` under the daemon, split into its parts.

    `settle()` is called after each delivery, so that the daemon is at rest
    before the next one.
    """
    rows: list[dict[str, float]] = []
    out: dict[str, Any] = {"reply_rows": rows}
    with IdleWatcher(acct.server, acct.user) as watcher:
        for c in active_companies(acct)[:deliveries]:
            row = _one_reply(acct, c, watcher)
            if row is None:
                out["reply_note"] = f"reply not noticed within {REPLY_TIMEOUT_S:.0f} s" + note
                break
            rows.append(row)
            settle()
    latencies = [r["total_s"] for r in rows]
    out["reply_latencies_s"] = latencies
    if latencies:
        out.update(reply_median_s=statistics.median(latencies), reply_p95_s=p95(latencies))
    for part in ("delivery_s", "notify_s", "agent_s"):
        values = [r[part] for r in rows if part in r]
        if values:
            out[f"reply_{part[:-2]}"] = spread(values)
    return out
