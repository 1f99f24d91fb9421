"""The use cases on a real store, without a mailbox or the CLI (fast: no server)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent import effects, intake
from agent.classify import Header
from agent.config import AccountConfig, Config, ScheduleConfig, StorageConfig
from agent.errors import StateError, UsageError
from agent.models import AppState, StepKind, StepState
from agent.services import EditRequest, Services
from agent.store import Store

TZ = ZoneInfo("Europe/Berlin")
AT = datetime(2026, 11, 16, 14, 0, tzinfo=TZ)  # a Monday; notes due at 16:00


def interview(**changes: object) -> intake.InterviewIn:
    data = intake.InterviewIn(
        company="Acme",
        role="Data Engineer",
        at=AT,
        interviewers=(
            intake.PersonIn("Jane Doe", "jane@acme.example", "data contracts"),
            intake.PersonIn("Raj Patel", "raj@acme.example"),
        ),
        recruiter=intake.PersonIn("Rita Roe", "rita@acme.example"),
    )
    return replace(data, **changes)  # type: ignore[arg-type]


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    cfg = Config(
        account=AccountConfig(email="alex@me.example", name="Alex Candidate"),
        storage=StorageConfig(tmp_path / "state.sqlite3"),
        schedule=ScheduleConfig("Europe/Berlin"),
    )
    store = Store.open(cfg.storage.database)
    yield Services(cfg, store)
    store.close()


def states(svc: Services, app_id: int) -> dict[StepKind, set[StepState]]:
    out: dict[StepKind, set[StepState]] = {}
    for s in svc.store.load(app_id).steps:
        out.setdefault(s.kind, set()).add(s.state)
    return out


def test_add_plans_a_thank_you_per_person_and_returns_them(svc: Services) -> None:
    added = svc.add(interview(), AT - timedelta(hours=4))
    assert added.application.company == "Acme" and added.round == 1
    thanks = [s for s in added.planned if s.kind is StepKind.THANK_YOU]
    assert len(thanks) == 3 and all(s.state is StepState.PLANNED for s in added.planned)
    assert {s.due_at for s in thanks} == {AT + timedelta(hours=2)}
    assert added.findings == ()


def test_a_later_round_inherits_company_and_role(svc: Services) -> None:
    first = svc.add(interview(), AT)
    later = interview(company="", role="", at=AT + timedelta(days=7))
    added = svc.add(later, AT + timedelta(days=6), first.application.id)
    assert added.application.id == first.application.id and added.round == 2
    assert (added.application.company, added.application.role) == ("Acme", "Data Engineer")


def test_no_later_round_on_a_stopped_application(svc: Services) -> None:
    app_id = svc.add(interview(), AT).application.id
    svc.stop(app_id, "took another offer", AT + timedelta(days=1))
    with pytest.raises(StateError, match="would not restart"):
        svc.add(interview(at=AT + timedelta(days=7)), AT + timedelta(days=2), app_id)


def test_spelling_of_the_users_notes_is_reported(svc: Services) -> None:
    added = svc.add(interview(learned="the team recieves events"), AT)
    assert any("recieves" in str(f) for f in added.findings)


def _reply(svc: Services, app_id: int, now: datetime) -> None:
    h = Header(from_addr="jane@acme.example", from_text="Jane Doe <jane@acme.example>")
    with svc.store.transaction():
        effects.reply(svc.store, [app_id], h, "from a contact", now)


def _stop(svc: Services, app_id: int, now: datetime) -> None:
    assert not svc.stop(app_id, "stopped by you", now).already


@pytest.mark.parametrize(
    ("end", "state"),
    [(_reply, AppState.RESPONDED), (_stop, AppState.STOPPED)],
    ids=["reply", "stop"],
)
def test_stop_and_a_reply_end_a_sequence_the_same_way(
    svc: Services, end: Callable[[Services, int, datetime], None], state: AppState
) -> None:
    app_id = svc.add(interview(), AT).application.id
    end(svc, app_id, AT + timedelta(hours=1))
    app = svc.store.load(app_id)
    assert app.state is state
    assert {s.state for s in app.steps} == {StepState.CANCELLED}
    assert app.events[-1].kind == state.value
    # Stopped means stopped: planning later brings nothing back.
    assert svc.preview(app_id, AT + timedelta(days=30)).drafts == ()
    assert {s.state for s in svc.store.load(app_id).steps} == {StepState.CANCELLED}


def test_stopping_twice_changes_nothing(svc: Services) -> None:
    app_id = svc.add(interview(), AT).application.id
    svc.stop(app_id, "no", AT)
    again = svc.stop(app_id, "no", AT + timedelta(hours=1))
    assert again.already and again.application.state is AppState.STOPPED


@pytest.mark.parametrize(
    ("request_", "decision"),
    [
        ({}, date(2026, 11, 27)),
        ({"decision_by": date(2026, 12, 4)}, date(2026, 12, 4)),
        ({"clear_decision_by": True}, None),
    ],
    ids=["kept", "set", "cleared"],
)
def test_edit_decision_date(svc: Services, request_: dict[str, object], decision: object) -> None:
    app_id = svc.add(interview(decision_by=date(2026, 11, 27)), AT).application.id
    edited = svc.edit(EditRequest(app_id, **request_), AT)  # type: ignore[arg-type]
    assert edited.application.interviews[0].decision_by == decision


def test_edit_changes_notes_for_drafts_not_yet_written(svc: Services) -> None:
    app_id = svc.add(interview(), AT).application.id
    req = EditRequest(
        app_id, learned="their streaming move", discussed=(("RAJ@acme.example", " on-call "),)
    )
    edited = svc.edit(req, AT + timedelta(minutes=30))
    assert edited.round == 1 and edited.drafts_kept == 0
    raj = next(c for c in edited.application.contacts if c.email == "raj@acme.example")
    assert raj.discussed == "on-call"
    assert edited.application.interviews[0].learned == "their streaming move"
    (draft,) = [
        d.draft
        for d in svc.preview(app_id, AT + timedelta(hours=2)).drafts
        if d.draft.to.email == "raj@acme.example"
    ]
    assert "on-call" in draft.body


@pytest.mark.parametrize(
    ("req", "words"),
    [
        (EditRequest(1, round=3), "has no round 3"),
        (EditRequest(1, discussed=(("nobody@acme.example", "x"),)), "one of jane@acme.example"),
    ],
)
def test_edit_refuses_what_it_cannot_apply(svc: Services, req: EditRequest, words: str) -> None:
    svc.add(interview(), AT)
    with pytest.raises(UsageError, match=words):
        svc.edit(req, AT)


def test_done_ticks_off_a_reminder_once(svc: Services) -> None:
    app_id = svc.add(interview(), AT).application.id
    (linkedin,) = [s for s in svc.store.load(app_id).steps if s.kind is StepKind.LINKEDIN]
    when = linkedin.due_at
    first = svc.done(linkedin.id, when)
    assert not first.already and first.step.state is StepState.DONE
    assert first.step.sent_at == when and "LinkedIn" in first.what
    assert svc.done(linkedin.id, when + timedelta(hours=1)).already


def test_done_refuses_an_email_step(svc: Services) -> None:
    added = svc.add(interview(), AT)
    thank_you = next(s for s in added.planned if s.kind is StepKind.THANK_YOU)
    with pytest.raises(UsageError, match="send it from your mail client"):
        svc.done(thank_you.id, AT)


def test_preview_renders_every_due_draft_and_writes_none(svc: Services) -> None:
    app_id = svc.add(interview(), AT).application.id
    early = svc.preview(app_id, AT)
    # Nothing due yet: the next ones, every thank-you that falls due together (issue 17).
    assert len(early.drafts) == 3
    assert all(not d.due_now and d.step.kind is StepKind.THANK_YOU for d in early.drafts)
    due = svc.preview(app_id, AT + timedelta(hours=3))
    assert len(due.drafts) == 3 and all(d.due_now for d in due.drafts)
    assert {d.draft.to.email for d in due.drafts} == {
        "jane@acme.example",
        "raj@acme.example",
        "rita@acme.example",
    }
    assert states(svc, app_id)[StepKind.THANK_YOU] == {StepState.PLANNED}


def test_views_come_from_the_store(svc: Services) -> None:
    app_id = svc.add(interview(), AT).application.id
    status = svc.status()
    (view,) = status.applications
    assert not status.daemon.running
    assert view.id == app_id and view.next_step is not None
    assert view.next_step.kind is StepKind.THANK_YOU and svc.show(app_id) == view
    ag = svc.agenda(AT, days=7)
    assert [i.kind for i in ag.today] == [StepKind.THANK_YOU] * 3
    assert [i.kind for i in ag.soon][:1] == [StepKind.LINKEDIN]
