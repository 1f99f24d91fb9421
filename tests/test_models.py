"""The domain predicates in agent/models.py, each rule as a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.models import (
    Application,
    AppState,
    Contact,
    MessageKind,
    Person,
    Role,
    SeenMessage,
    Step,
    StepKind,
    StepState,
    address_in,
    normalise_address,
)
from agent.store import Store

T0 = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("addr", "norm"),
    [
        ("Jane+jobs@Acme.COM", "jane@acme.com"),
        (" <bob@x.example> ", "bob@x.example"),
        ("plain@x.example", "plain@x.example"),
        ("a+b+c@x.example", "a@x.example"),
    ],
)
def test_normalise_address(addr: str, norm: str) -> None:
    assert normalise_address(addr) == norm


@pytest.mark.parametrize(
    ("text", "addr"),
    [
        ("Maria Garcia <Maria@Acme.example>", "maria@acme.example"),
        ('"Lee, Ash" <ash+x@acme.example>', "ash@acme.example"),
        ("lee@acme.example", "lee@acme.example"),
        ("Broken <<lee@acme.example", "lee@acme.example"),  # mangled: found by pattern
        ("Nobody", ""),
        ("", ""),
    ],
)
def test_address_in(text: str, addr: str) -> None:
    assert address_in(text) == addr


local = st.from_regex(r"[a-z0-9]{1,6}(?:[._-][a-z0-9]{1,4}){0,2}", fullmatch=True)
domain = st.from_regex(r"[a-z0-9]{1,8}\.[a-z]{2,4}", fullmatch=True)


@given(local, st.text(alphabet="abcXYZ09", max_size=5), domain, st.booleans())
def test_an_address_however_written_normalises_to_one_value(
    user: str, tag: str, host: str, upper: bool
) -> None:
    plain = f"{user}@{host}"
    written = f"{user}+{tag}@{host}" if tag else plain
    written = written.upper() if upper else written
    assert normalise_address(written) == plain
    assert normalise_address(normalise_address(written)) == plain
    assert address_in(Person("Some One", written).formatted()) == plain


def contact(cid: int, role: Role, agency: bool = False, **kw: object) -> Contact:
    return Contact(cid, 1, 1, f"C{cid}", f"c{cid}@acme.example", role, agency, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("role", "agency", "is_agency"),
    [
        (Role.RECRUITER, True, True),
        (Role.RECRUITER, False, False),  # the company's own recruiter
        (Role.HIRING_MANAGER, True, False),  # only a recruiter comes from an agency
        (Role.INTERVIEWER, False, False),
    ],
)
def test_is_agency_recruiter(role: Role, agency: bool, is_agency: bool) -> None:
    assert contact(1, role, agency).is_agency_recruiter is is_agency


def test_the_agency_recruiter_is_the_latest_one_still_reachable() -> None:
    app = Application(1, "Acme", "Engineer", AppState.ACTIVE, T0)
    assert app.agency_recruiter is None
    app.contacts += [contact(1, Role.RECRUITER, True), contact(2, Role.INTERVIEWER)]
    assert app.agency_recruiter is app.contacts[0]
    app.contacts.append(contact(3, Role.RECRUITER, True, bounced_at=T0))
    assert app.agency_recruiter is app.contacts[0]  # the newer one bounced
    app.contacts.append(contact(4, Role.RECRUITER, True))
    assert app.agency_recruiter is app.contacts[3]


def test_people_met_leave_out_the_agency_recruiter_and_other_interviews() -> None:
    app = Application(1, "Acme", "Engineer", AppState.ACTIVE, T0)
    app.contacts += [
        contact(1, Role.INTERVIEWER),
        contact(2, Role.RECRUITER, True),
        contact(3, Role.RECRUITER),
        Contact(4, 1, 2, "Later", "later@acme.example", Role.INTERVIEWER),
    ]
    assert [c.id for c in app.people_met(1)] == [1, 3]
    assert [c.id for c in app.people_met(2)] == [4]


H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("drafted", "sent", "expected"),
    [
        (None, None, T0),  # planned: its due time
        (T0 + H, None, T0 + H),  # drafted: when it reached the Drafts folder
        (T0 + H, T0 + 3 * H, T0 + 3 * H),  # sent: when it really went out
        (None, T0 + 2 * H, T0 + 2 * H),
    ],
)
def test_contacted_at(drafted: datetime | None, sent: datetime | None, expected: datetime) -> None:
    s = Step(1, 1, "k", StepKind.CHECKIN, T0, StepState.DRAFTED, drafted_at=drafted, sent_at=sent)
    assert s.contacted_at == expected


@pytest.mark.parametrize(
    ("sender", "to", "participants"),
    [
        (
            "Ash Lee <AshLee@acme.example>",
            ("alex@x.example",),
            ("ashlee@acme.example", "alex@x.example"),
        ),
        ("alex@x.example", (), ("alex@x.example",)),
        ("", ("lee@acme.example",), ("", "lee@acme.example")),
    ],
)
def test_participants_are_normalised_addresses(
    sender: str, to: tuple[str, ...], participants: tuple[str, ...]
) -> None:
    m = SeenMessage(
        "INBOX", 1, 1, "<m@x>", MessageKind.REPLY, 1, None, sender, to, "", T0, None, ""
    )
    assert m.participants == participants


@pytest.mark.parametrize("to", [(), ("lee@acme.example",), ("a@x.example", "b@y.example")])
@pytest.mark.parametrize("kind", [MessageKind.REPLY, MessageKind.USER_SENT, MessageKind.OUR_DRAFT])
def test_a_seen_message_reads_back_from_the_store_as_it_was_written(
    tmp_path: Path, kind: MessageKind, to: tuple[str, ...]
) -> None:
    store = Store.open(tmp_path / "state.sqlite3")
    with store.transaction():
        app_id = store.add_application("Acme", "Engineer", T0)
        m = SeenMessage(
            "INBOX",
            1,
            7,
            "<m@x>",
            kind,
            app_id,
            None,
            "Ash <ash@acme.example>",
            to,
            "Hi",
            T0,
            None,
            "",
        )
        assert store.record_message(m, T0)
    assert store.messages_for(app_id) == [m]


@pytest.mark.parametrize(
    ("state", "reached"),
    [
        (StepState.PLANNED, False),
        (StepState.APPENDING, False),  # the APPEND may not have happened
        (StepState.DRAFTED, True),
        (StepState.SENT, True),
        (StepState.SKIPPED, False),  # the user threw the draft away
        (StepState.WITHDRAWN, False),
        (StepState.CANCELLED, False),
        (StepState.DONE, False),  # a reminder, not a note
    ],
)
def test_reached_person(state: StepState, reached: bool) -> None:
    # A draft waiting in Drafts counts: the user sends what we write.
    assert state.reached_person is reached
