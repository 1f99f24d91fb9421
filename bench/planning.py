"""Planning on its own: engine.plan_all and policy.plan over many active applications."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agent import config, policy
from agent.models import AppState
from agent.planner import Planner
from agent.store import Store
from bench import world
from tests.dovecot import Dovecot


def bench_planning(server: Dovecot, work: Path, n: int, now: datetime) -> dict[str, Any]:
    """engine.plan_all and policy.plan over a database of `n` active applications."""
    user = server.add_user("planner", "planner-pw")
    database = work / "planning.sqlite3"
    cfg_path = work / "planning.toml"
    world.write_config(cfg_path, user, server, server.port_tls, database, 5.0)
    cfg = config.load(cfg_path)
    store = world.fast_store(database)
    t0 = time.perf_counter()
    try:
        world.record_applications(cfg, store, n, now)
    finally:
        store.close()
    out: dict[str, Any] = {"apps": n, "setup_s": time.perf_counter() - t0}
    store = Store.open(database)
    try:
        # A new engine (daemon start, `run --once`) plans every application;
        # then a cycle plans only those whose data changed or whose plan came due.
        full, cycles = [], []
        for _ in range(3):
            engine = Planner(cfg, store)
            t = time.perf_counter()
            engine.plan_all(now)
            full.append(time.perf_counter() - t)
        for k in range(5):
            t = time.perf_counter()
            engine.plan_all(now + timedelta(minutes=5 * (k + 1)))
            cycles.append(time.perf_counter() - t)
        out["full_plan_ms"] = statistics.median(full) * 1000
        out["plan_all_ms"] = statistics.median(cycles) * 1000
        t = time.perf_counter()
        apps = store.load_many(store.application_ids([AppState.ACTIVE]), events=False)
        out["load_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        for app in apps:
            policy.plan(app, cfg.policy, engine.cal, now)
        out["policy_plan_ms"] = (time.perf_counter() - t) * 1000
    finally:
        store.close()
    return out
