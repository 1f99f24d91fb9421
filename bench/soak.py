"""Child process: many steady-state cycles, reporting resident memory before and after.

Run apart from the benchmark so that only the agent's own memory is counted.
Usage: python -m bench.soak CONFIG CYCLES NOW-ISO
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

from agent import config
from agent.store import Store
from bench.agentcycle import close, cycle, daemon
from bench.procstat import rss_bytes

WARMUP = 20


def main(argv: list[str]) -> int:
    cfg = config.load(Path(argv[0]))
    n, now = int(argv[1]), datetime.fromisoformat(argv[2])
    store = Store.open(cfg.storage.database)
    agent = daemon(cfg, store, now)
    try:
        for _ in range(WARMUP):
            cycle(agent)
        before = rss_bytes()
        t0 = time.perf_counter()
        for _ in range(n):
            cycle(agent)
        elapsed = time.perf_counter() - t0
        after = rss_bytes()
    finally:
        close(agent)
        store.close()
    json.dump(
        {"cycles": n, "rss_before": before, "rss_after": after, "seconds": elapsed}, sys.stdout
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
