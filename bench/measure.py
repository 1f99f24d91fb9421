"""How the bench measures a block: wall time, CPU time, bytes on the wire; and percentiles."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Iterator, Sequence

from bench.proxy import CountingProxy, Traffic


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def spread(values: Sequence[float], scale: float = 1.0) -> dict[str, float]:
    """Median, p95 and max of `values`, multiplied by `scale` (1000: seconds → ms)."""
    return {
        "median": statistics.median(values) * scale,
        "p95": p95(values) * scale,
        "max": max(values) * scale,
    }


@contextlib.contextmanager
def measured(proxy: CountingProxy) -> Iterator[dict[str, float]]:
    """Wall time, CPU time and bytes on the wire of the block.

    `cpu` is the whole process (the proxy's threads included); `thread_cpu`
    only the calling thread, where the agent's cycle runs.
    """
    out: dict[str, float] = {}
    t0, c0, b0 = time.perf_counter(), time.process_time(), proxy.traffic()
    tc0 = time.thread_time()
    yield out
    delta: Traffic = proxy.traffic() - b0
    out.update(
        seconds=time.perf_counter() - t0,
        cpu=time.process_time() - c0,
        thread_cpu=time.thread_time() - tc0,
        sent=delta.sent,
        received=delta.received,
        bytes=delta.total,
    )


def summarise(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    return {
        "runs": len(runs),
        "ms_median": statistics.median(r["seconds"] for r in runs) * 1000,
        "ms_p95": p95([r["seconds"] for r in runs]) * 1000,
        "cpu_ms_median": statistics.median(r["cpu"] for r in runs) * 1000,
        "thread_cpu_ms_median": statistics.median(r["thread_cpu"] for r in runs) * 1000,
        "bytes_median": statistics.median(r["bytes"] for r in runs),
        "bytes_max": max(r["bytes"] for r in runs),
        "sent_median": statistics.median(r["sent"] for r in runs),
        "received_median": statistics.median(r["received"] for r in runs),
    }
