"""Incremental planning (Planner.plan_all) ends in exactly the state planning everything does.

Two databases receive the same random history (interviews, drafts, sends,
replies, bounces, out-of-office holds, the user's own mail, later rounds,
reminders ticked off) and the same clock, which mostly moves forward and
sometimes back. One engine lives through the whole run and plans only what
changed or came due; the other is new at every cycle and plans everything.
After each cycle every table of both databases must be identical.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent import intake
from agent.config import (
    AccountConfig,
    Config,
    PolicyConfig,
    RemindersConfig,
    ScheduleConfig,
    StorageConfig,
)
from agent.models import (
    Application,
    AppState,
    InterviewKind,
    MessageKind,
    SeenMessage,
    StepKind,
    StepState,
)
from agent.planner import Planner
from agent.store import Store

START = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)  # DST in Europe and America soon after
TABLES = ("applications", "interviews", "contacts", "steps", "messages", "events")

Op = Callable[[Store, datetime], object]


def config(tmp_path: Path, tz: str, country: str | None, reminders: RemindersConfig) -> Config:
    return Config(
        account=AccountConfig(email="alex@me.test", name="Alex"),
        storage=StorageConfig(tmp_path / "unused.sqlite3"),
        schedule=ScheduleConfig(tz, country),
        policy=PolicyConfig(),
        reminders=reminders,
    )


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {
        t: [tuple(r) for r in store.conn.execute(f"SELECT * FROM {t} ORDER BY id")] for t in TABLES
    }


def interview(rng: random.Random, n: int, at: datetime) -> intake.InterviewIn:
    people = rng.randint(1, 3)
    return intake.InterviewIn(
        company=f"Company {n}",
        role="Engineer",
        at=at,
        kind=rng.choice(list(InterviewKind)),
        interviewers=tuple(
            intake.PersonIn(f"Ivan Person{n}x{k}", f"ivan{k}.{n}.{at:%d%H}@c{n}.test")
            for k in range(people)
        ),
        hiring_manager=(
            intake.PersonIn(f"Mia Manager{n}", f"mia.{n}@c{n}.test") if rng.random() < 0.4 else None
        ),
        recruiter=(
            intake.PersonIn(f"Rita Recruiter{n}", f"rita.{n}@c{n}.test")
            if rng.random() < 0.8
            else None
        ),
        agency=rng.random() < 0.3,
        decision_by=(at + timedelta(days=rng.randint(0, 25))).date()
        if rng.random() < 0.6
        else None,
        final=rng.random() < 0.3,
    )


def random_op(rng: random.Random, store: Store, now: datetime, made: int) -> Op | None:
    """One change to the data, chosen on one store and replayable on the other by keys."""
    apps = store.load_many(store.application_ids([AppState.ACTIVE]), events=False)
    steps = [s for a in apps for s in a.steps]
    kind = rng.choice(
        [
            "new",
            "draft",
            "draft",
            "send",
            "skip",
            "done",
            "mine",
            "bounce",
            "hold",
            "round",
            "reply",
        ]
    )
    if kind == "new":
        data = interview(rng, made, now + timedelta(hours=rng.randint(-200, 48)))
        return lambda s, t: intake.record(s, data, now=t)
    if not apps:
        return None
    app: Application = rng.choice(apps)
    if kind == "draft":
        due = [s for s in steps if s.state is StepState.PLANNED and s.kind.is_email]
        if not due:
            return None
        key = rng.choice(due).key

        def draft(s: Store, t: datetime) -> None:
            step_id = _step_id(s, key)
            with s.transaction():
                assert s.claim_step(step_id, f"<{key}@me.test>", "Subject", t)
                s.mark_drafted(step_id, 7, t)

        return draft
    if kind in ("send", "skip", "done"):
        want = StepState.DRAFTED if kind != "done" else StepState.PLANNED
        pick = [s for s in steps if s.state is want and (kind != "done" or not s.kind.is_email)]
        if not pick:
            return None
        key = rng.choice(pick).key
        state = {"send": StepState.SENT, "skip": StepState.SKIPPED, "done": StepState.DONE}[kind]
        back = timedelta(minutes=rng.randint(0, 600))
        return lambda s, t: _in_tx(
            s, lambda: s.set_step_state(_step_id(s, key), state, t, "", t - back)
        )
    if kind == "mine":
        sent = now - timedelta(hours=rng.randint(0, 100))
        uid = rng.randint(1, 10**9)
        msg = SeenMessage(
            "Sent",
            1,
            uid,
            f"<mine{uid}@me.test>",
            MessageKind.USER_SENT,
            app.id,
            None,
            "alex@me.test",
            ("x@c.test",),
            "Hello",
            sent,
            None,
            "",
        )
        return lambda s, t: _in_tx(s, lambda: s.record_message(msg, t))
    if kind == "bounce":
        contact = rng.choice(app.contacts)
        return lambda s, t: _in_tx(s, lambda: s.mark_bounced(contact.id, t))
    if kind == "hold":
        until = now + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 23))
        return lambda s, t: _in_tx(s, lambda: s.set_hold(app.id, until, t))
    if kind == "round":
        data = interview(rng, app.id, now + timedelta(hours=rng.randint(-30, 72)))
        return lambda s, t: intake.record(s, data, t, app.id)
    return lambda s, t: _in_tx(s, lambda: s.set_app_state(app.id, AppState.RESPONDED, "reply", t))


def _step_id(store: Store, key: str) -> int:
    row = store.conn.execute("SELECT id FROM steps WHERE key = ?", (key,)).fetchone()
    return int(row[0])


def _in_tx(store: Store, fn: Callable[[], object]) -> None:
    with store.transaction():
        fn()


def clock_step(rng: random.Random, now: datetime) -> datetime:
    r = rng.random()
    if r < 0.05:
        return now - timedelta(hours=rng.randint(1, 72))  # a clock set back
    if r < 0.4:
        return now + timedelta(minutes=rng.randint(0, 90))
    if r < 0.8:
        return now + timedelta(hours=rng.randint(1, 30))
    return now + timedelta(days=rng.randint(1, 9), minutes=rng.randint(0, 59))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("seed", "tz", "country", "reminders"),
    [
        (1, "Europe/Berlin", "DE", RemindersConfig()),
        (2, "America/New_York", "US", RemindersConfig(calls=True, handwritten_note=True)),
        (3, "UTC", None, RemindersConfig(linkedin=False, alert_references=False)),
        (4, "Asia/Kolkata", "IN", RemindersConfig(calls=True)),
        (5, "Europe/Berlin", None, RemindersConfig()),
    ],
)
def test_incremental_planning_equals_planning_everything(
    tmp_path: Path, seed: int, tz: str, country: str | None, reminders: RemindersConfig
) -> None:
    rng = random.Random(seed)
    cfg = config(tmp_path, tz, country, reminders)
    inc_store, full_store = (
        Store.open(tmp_path / "inc.sqlite3"),
        Store.open(tmp_path / "full.sqlite3"),
    )
    incremental = Planner(cfg, inc_store)
    loaded: list[int] = []
    load_many = inc_store.load_many

    def counting(ids: Sequence[int] | None = None, *, events: bool = True) -> list[Application]:
        loaded.extend(ids or ())
        return load_many(ids, events=events)

    inc_store.load_many = counting  # type: ignore[method-assign]
    everything = 0
    now = START
    for n in range(8):
        data = interview(rng, n, now - timedelta(hours=rng.randint(0, 300)))
        for s in (inc_store, full_store):
            intake.record(s, data, now=now)
    for cycle in range(150):
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            op = random_op(rng, full_store, now, 100 + cycle)
            if op is not None:
                op(inc_store, now)
                op(full_store, now)
        now = clock_step(rng, now)
        everything += len(full_store.application_ids([AppState.ACTIVE]))
        incremental.plan_all(now)
        Planner(cfg, full_store, incremental.cal).plan_all(now)
        assert dump(inc_store) == dump(full_store), f"cycle {cycle} at {now}"
    kinds = {r[0] for r in full_store.conn.execute("SELECT DISTINCT state FROM steps")}
    assert {StepState.PLANNED, StepState.SENT, StepState.CANCELLED} <= kinds  # the run did things
    assert {StepKind.CHECKIN, StepKind.THANK_YOU} <= {
        r[0] for r in full_store.conn.execute("SELECT DISTINCT kind FROM steps")
    } or reminders.calls
    # And it is incremental: most applications were not loaded again.
    # And it is incremental, even in a history this busy.
    assert len(loaded) < everything * 0.75, (len(loaded), everything)


def test_an_idle_cycle_plans_only_what_changed_or_came_due(tmp_path: Path) -> None:
    cfg = config(tmp_path, "Europe/Berlin", "DE", RemindersConfig())
    store = Store.open(tmp_path / "s.sqlite3")
    rng = random.Random(9)
    for n in range(5):
        intake.record(store, interview(rng, n, START - timedelta(days=3)), now=START)
    engine = Planner(cfg, store)
    loaded: list[int] = []
    load_many = store.load_many

    def counting(ids: Sequence[int] | None = None, *, events: bool = True) -> list[Application]:
        loaded.extend(ids or ())
        return load_many(ids, events=events)

    store.load_many = counting  # type: ignore[method-assign]
    engine.plan_all(START)
    engine.plan_all(START)  # its own writes moved the versions: planned once more
    loaded.clear()
    engine.plan_all(START + timedelta(minutes=5))
    assert loaded == []
    with store.transaction():  # another process (`followup add`, sync) writes
        store.set_hold(3, START + timedelta(days=30), START)
    engine.plan_all(START + timedelta(minutes=10))
    assert loaded == [3]
    loaded.clear()
    planned = store.steps_in_state(StepState.PLANNED)
    checkins = {s.application_id for s in planned if s.kind is StepKind.CHECKIN}
    engine.plan_all(START + timedelta(days=60))  # every check-in came due
    assert set(loaded) == checkins and len(loaded) == len(checkins) > 0
