"""The paths job searches really take (issue 14), on a real store without a mailbox.

Each "Measured" item of the issue has a test here that failed before the fix:
a recruiter-run screen gets its check-in, a later round after a reply, a
rejection ends as `rejected`, mistakes can be undone, `--at` needs a time.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent import effects, intake
from agent.classify import Header
from agent.config import AccountConfig, Config, ScheduleConfig, StorageConfig
from agent.errors import StateError, UsageError
from agent.models import AppState, Role, StepKind, StepState
from agent.services import Services
from agent.store import Store

TZ = ZoneInfo("Europe/Berlin")
AT = datetime(2026, 11, 16, 14, 0, tzinfo=TZ)  # a Monday
RITA = intake.PersonIn("Rita Roe", "rita@globex.example")


def screen(**changes: object) -> intake.InterviewIn:
    """A phone screen run by the in-house recruiter, entered as both roles."""
    data = intake.InterviewIn(
        company="Globex",
        role="Analyst",
        at=AT,
        kind=intake.InterviewKind.PHONE,
        interviewers=(RITA,),
        recruiter=RITA,
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


def email_steps(svc: Services, app_id: int) -> list[tuple[StepKind, str, StepState]]:
    app = svc.store.load(app_id)
    out = []
    for s in app.steps:
        c = app.contact(s.contact_id)
        if s.kind.is_email:
            out.append((s.kind, c.email if c else "", s.state))
    return out


# -- one person, two roles -------------------------------------------------------


def test_the_recruiter_who_ran_the_screen_is_one_contact_with_one_thank_you(
    svc: Services,
) -> None:
    added = svc.add(screen(), AT)
    app = added.application
    assert [(c.email, c.role) for c in app.contacts] == [("rita@globex.example", Role.RECRUITER)]
    thanks = [s for s in app.steps if s.kind is StepKind.THANK_YOU]
    assert len(thanks) == 1


@pytest.mark.parametrize(
    "data",
    [
        screen(),  # entered as both roles
        screen(recruiter=None),  # entered as interviewer only
    ],
    ids=["both-roles", "interviewer-only"],
)
def test_a_recruiter_run_screen_gets_a_check_in(svc: Services, data: intake.InterviewIn) -> None:
    app_id = svc.add(data, AT).application.id
    checkins = [s for s in email_steps(svc, app_id) if s[0] is StepKind.CHECKIN]
    assert checkins == [(StepKind.CHECKIN, "rita@globex.example", StepState.PLANNED)]
    assert svc.add(data, AT, force=True).warnings == ()


def test_the_same_address_twice_in_one_role_is_still_refused(svc: Services) -> None:
    with pytest.raises(UsageError, match="listed twice"):
        svc.add(screen(interviewers=(RITA, RITA), recruiter=None), AT)


# -- later rounds ---------------------------------------------------------------


def _reply(svc: Services, app_id: int, now: datetime, rejection: str = "") -> None:
    h = Header(from_addr="rita@globex.example", from_text="Rita Roe <rita@globex.example>")
    with svc.store.transaction():
        effects.reply(svc.store, [app_id], h, "from a contact", now, rejection)


def test_a_later_round_after_their_reply_starts_again(svc: Services) -> None:
    app_id = svc.add(screen(), AT).application.id
    _reply(svc, app_id, AT + timedelta(days=2))
    assert svc.store.load(app_id).state is AppState.RESPONDED
    later = screen(
        company="",
        role="",
        kind=intake.InterviewKind.ONSITE,
        at=AT + timedelta(days=9),
        interviewers=(intake.PersonIn("Hank Scorpio", "hank@globex.example"),),
    )
    added = svc.add(later, AT + timedelta(days=3), app_id)
    app = added.application
    assert app.state is AppState.ACTIVE and added.round == 2
    planned = [
        (s.kind, app.contact(s.contact_id).email)  # type: ignore[union-attr]
        for s in app.steps
        if s.kind.is_email
        and s.state is StepState.PLANNED
        and s.interview_id == app.latest_interview.id  # type: ignore[union-attr]
    ]
    assert (StepKind.THANK_YOU, "hank@globex.example") in planned
    assert (StepKind.THANK_YOU, "rita@globex.example") in planned  # recruiter met again
    assert any(k is StepKind.CHECKIN for k, _ in planned)
    # The reply that led to it stays in the timeline.
    assert [e.kind for e in app.events].count("reply") == 1
    assert "responded" in [e.kind for e in app.events]


@pytest.mark.parametrize(
    ("end", "hint"),
    [("stop", "you stopped it"), ("reject", "rejected")],
)
def test_no_later_round_on_a_stopped_or_rejected_application(
    svc: Services, end: str, hint: str
) -> None:
    app_id = svc.add(screen(), AT).application.id
    if end == "stop":
        svc.stop(app_id, "you stopped it", AT + timedelta(days=1))
    else:
        _reply(svc, app_id, AT + timedelta(days=1), rejection="position has been filled")
    with pytest.raises(StateError, match=rf"{hint}.*without --application"):
        svc.add(screen(at=AT + timedelta(days=7)), AT + timedelta(days=2), app_id)


# -- rejections -------------------------------------------------------------------


def test_a_rejection_ends_the_sequence_as_rejected(svc: Services) -> None:
    app_id = svc.add(screen(), AT).application.id
    _reply(svc, app_id, AT + timedelta(days=2), rejection="position has been filled")
    app = svc.store.load(app_id)
    assert app.state is AppState.REJECTED
    assert {s.state for s in app.steps} == {StepState.CANCELLED}
    assert "position has been filled" in app.stop_reason
    view = svc.show(app_id)
    assert view.state is AppState.REJECTED
    assert view.to_json(TZ)["state"] == "rejected"  # type: ignore[index,call-overload]


def test_a_rejection_after_a_first_answer_still_ends_as_rejected(svc: Services) -> None:
    app_id = svc.add(screen(), AT).application.id
    _reply(svc, app_id, AT + timedelta(days=2))
    _reply(svc, app_id, AT + timedelta(days=9), rejection="will not be moving forward")
    assert svc.store.load(app_id).state is AppState.REJECTED


# -- mistakes ---------------------------------------------------------------------


def test_the_same_interview_twice_is_refused_unless_forced(svc: Services) -> None:
    svc.add(screen(), AT)
    with pytest.raises(UsageError, match="--force"):
        svc.add(screen(), AT + timedelta(minutes=5))
    forced = svc.add(screen(), AT + timedelta(minutes=5), force=True)
    assert len(svc.store.application_ids()) == 2 and forced.application.id == 2


def test_remove_deletes_an_application_entered_by_mistake(svc: Services) -> None:
    keep = svc.add(screen(company="Initech"), AT).application.id
    gone = svc.add(screen(), AT).application.id
    removed = svc.remove(gone, AT + timedelta(minutes=1))
    assert removed.application.id == gone and removed.unsent_drafts == 0
    assert svc.store.application_ids() == [keep]
    assert [a.id for a in svc.status().applications] == [keep]


@pytest.mark.parametrize("text", ["2026-12-20", "2026-12-20 ", " 2026-12-20"])
def test_at_without_a_time_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(UsageError, match=r"no time.*2026-12-20 14:00"):
        intake.parse_when(text, TZ)


def test_at_with_a_time_is_taken() -> None:
    assert intake.parse_when("2026-12-20 09:30", TZ) == datetime(2026, 12, 20, 9, 30, tzinfo=TZ)
    assert intake.parse_when("2026-12-20T09:30:00+01:00", TZ).utcoffset() == timedelta(hours=1)


# -- the CLI's confirmation -----------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "code", "left"), [("y\n", 0, 0), ("\n", 1, 1), ("no\n", 1, 1)])
def test_remove_asks_first_at_a_terminal(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
    left: int,
) -> None:
    from tests.test_cli_local import init_noninteractive, run

    cfg = str(init_noninteractive(tmp_path, capsys))
    added = run(
        capsys, "--config", cfg, "add", "--company", "Globex", "--role", "Analyst",
        "--at", "2026-11-16 10:00", "--interviewer", "Rita Roe <rita@globex.example>",
    )  # fmt: skip
    assert added[0] == 0
    monkeypatch.setattr("sys.stdin", _Terminal(answer))
    got, out, _ = run(capsys, "--config", cfg, "remove", "1")
    assert got == code
    assert "Remove #1 Globex — Analyst (active) for good?" in out
    status = json.loads(run(capsys, "--config", cfg, "status", "--json")[1])
    assert len(status) == left
