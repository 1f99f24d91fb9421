"""Classifying one new message, the pure path on its own: no IMAP, no database writes.

The application index is built the way the sync builds it (every application,
the thread ids, the user's address), and each message of a corpus goes through
the functions the sync calls for one new message: `classify.parse_header`, then
`classify.classify`, and again with the (capped) body when the verdict asks for it.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agent import classify
from agent.config import Config
from agent.indexcache import IndexCache
from agent.models import FolderRole
from agent.store import Store
from agent.sync import BODY_CAP, message_fault
from bench import world
from bench.mailgen import auto_reply, bounce, filler, reply
from bench.measure import spread

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
# Debian's libpython3.11-testsuite: CPython's own email test messages.
CPYTHON_EMAIL = Path("/usr/lib/python3.11/test/test_email/data")
# Generated messages per kind (replies, out-of-office, bounces, everyday mail).
GENERATED = 50


@dataclass(frozen=True)
class Sample:
    source: str  # where the message comes from (corpus, cpython, generated kind)
    name: str
    raw: bytes
    role: FolderRole


def _files(source: str, paths: list[Path]) -> Iterator[Sample]:
    for p in sorted(paths):
        # The user's own sent mail is read in Sent; everything else arrives.
        role = FolderRole.SENT if p.name.startswith("sent_") else FolderRole.INCOMING
        yield Sample(source, p.name, p.read_bytes(), role)


def corpus(acct: world.Account, now: datetime) -> list[Sample]:
    """The test corpus, CPython's email test data (if installed) and generated mail."""
    out = list(_files("tests/corpus", list(CORPUS.rglob("*.eml"))))
    if CPYTHON_EMAIL.is_dir():
        out += _files("cpython email tests", list(CPYTHON_EMAIL.glob("msg_*.txt")))
    me = acct.user.address
    when = now - timedelta(minutes=1)
    for c in acct.companies[:GENERATED]:
        made = {
            "reply": reply(c.interviewer, me, c.index, c.domain, when),
            "auto-reply": auto_reply(c.recruiter, me, c.index, c.domain, when),
            "bounce": bounce(c.interviewer, me, c.index, when),
        }
        out += [Sample(k, c.domain, raw, FolderRole.INCOMING) for k, raw in made.items()]
    for i, raw in enumerate(filler(acct.user, GENERATED, now - timedelta(days=1), now, seed=7)):
        out.append(Sample("everyday mail", str(i), raw, FolderRole.INCOMING))
    return out


def index_for(cfg: Config, store: Store) -> classify.AppIndex:
    """The index the engine's sync classifies with (its IndexCache, built once)."""
    return IndexCache(store, [cfg.account.email]).current()


def classify_one(s: Sample, idx: classify.AppIndex, received: datetime) -> classify.Verdict:
    """What `Syncer._classify` does with one fetched message, minus the IMAP body fetch."""
    h = classify.parse_header(s.raw)
    v = classify.classify(h, s.role, idx, received=received)
    if v.needs_body:
        v = classify.classify(h, s.role, idx, received=received, body=s.raw[:BODY_CAP])
    return v


def _time_one(s: Sample, idx: classify.AppIndex, now: datetime, repeats: int) -> tuple[float, str]:
    """Median seconds over `repeats` classifications, and the verdict's kind."""
    times = []
    kind = ""
    for _ in range(repeats):
        t = time.perf_counter()
        try:
            kind = classify_one(s, idx, now).kind.value
        except Exception as exc:  # as the sync does: a message's own fault is passed over
            if not message_fault(exc):
                raise
            kind = "unreadable"
        times.append(time.perf_counter() - t)
    return statistics.median(times), kind


def bench_classify(
    cfg: Config, store: Store, acct: world.Account, now: datetime, repeats: int
) -> dict[str, Any]:
    t = time.perf_counter()
    idx = index_for(cfg, store)
    build_ms = (time.perf_counter() - t) * 1000
    samples = corpus(acct, now)
    per: list[tuple[float, Sample, str]] = []
    for s in samples:
        seconds, kind = _time_one(s, idx, now, repeats)
        per.append((seconds, s, kind))
    slowest = max(per, key=lambda x: x[0])
    by_source: dict[str, list[float]] = {}
    for seconds, s, _ in per:
        by_source.setdefault(s.source, []).append(seconds)
    return {
        "messages": len(per),
        "apps": len(idx.states),
        "index_build_ms": build_ms,
        "ms": spread([x[0] for x in per], 1000),
        "slowest": f"{slowest[1].source}: {slowest[1].name}",
        "by_source_ms_median": {k: statistics.median(v) * 1000 for k, v in by_source.items()},
        "kinds": dict(Counter(x[2] for x in per)),
    }
