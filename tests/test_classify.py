"""agent/classify as tables: a corpus of real-world-shaped messages → kind, application, details."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import classify
from agent.classify import AppIndex, DraftRef, MatchedBy
from agent.models import (
    Application,
    AppState,
    Contact,
    FolderRole,
    Interview,
    InterviewKind,
    MessageKind,
    Role,
    Step,
    StepKind,
    StepState,
)

CORPUS = Path(__file__).parent / "corpus"
THANK_YOU_ID = "<followup.aaaa.1111@example.net>"
T0 = datetime(2026, 11, 16, 13, 0, tzinfo=UTC)


def acme() -> Application:
    app = Application(
        1, "Acme", "Data Engineer", AppState.ACTIVE, T0, domains=("acmecareers.example",)
    )
    app.interviews.append(Interview(1, 1, 1, InterviewKind.ONSITE, T0, 60))
    app.contacts += [
        Contact(1, 1, 1, "Jane Doe", "jane.doe@acme.example", Role.INTERVIEWER),
        Contact(2, 1, 1, "Maria Garcia", "maria@acme.example", Role.HIRING_MANAGER),
        Contact(3, 1, 1, "Bob Smith", "bob@talentco.example", Role.RECRUITER, agency=True),
        Contact(4, 1, 1, "Jane Doe", "jane@acme.example", Role.INTERVIEWER),
        Contact(5, 1, 1, "Zoë Müller", "zoe@acme.example", Role.INTERVIEWER),
    ]
    app.steps.append(
        Step(
            1,
            1,
            "a1.i1.thank_you.c4",
            StepKind.THANK_YOU,
            T0,
            StepState.DRAFTED,
            4,
            1,
            message_id=THANK_YOU_ID,
            subject="Thank you for today",
        )
    )
    return app


def globex() -> Application:
    app = Application(2, "Globex", "Analyst", AppState.ACTIVE, T0)
    app.interviews.append(Interview(2, 2, 1, InterviewKind.VIDEO, T0, 45))
    app.contacts.append(Contact(6, 2, 2, "Hank Scorpio", "hank@gmail.com", Role.HIRING_MANAGER))
    return app


@pytest.fixture(scope="module")
def idx() -> AppIndex:
    return AppIndex.build([acme(), globex()], [("<old@acme.example>", 1)], ["alex@example.net"])


def load(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "kind", "apps", "contact", "how"),
    [
        ("reply_interviewer.eml", MessageKind.REPLY, [1], None, MatchedBy.THREAD),
        ("reply_colleague.eml", MessageKind.REPLY, [1], None, MatchedBy.DOMAIN),
        ("reply_personal_in_thread.eml", MessageKind.REPLY, [1], None, MatchedBy.THREAD),
        ("newsletter.eml", MessageKind.LIST, [1], None, MatchedBy.DOMAIN),
        ("ats_notice.eml", MessageKind.AUTOMATED, [1], None, MatchedBy.DOMAIN),
        ("broken_headers.eml", MessageKind.REPLY, [1], 5, MatchedBy.CONTACT),
        ("huge_malformed_mime.eml", MessageKind.REPLY, [1], 4, MatchedBy.CONTACT),
    ],
)
def test_incoming_without_body(
    idx: AppIndex,
    name: str,
    kind: MessageKind,
    apps: list[int],
    contact: int | None,
    how: MatchedBy,
) -> None:
    h = classify.parse_header(load(name))
    v = classify.classify(h, FolderRole.INCOMING, idx)
    assert (v.kind, [m.application_id for m in v.matches], v.contact_id) == (kind, apps, contact)
    assert v.matches[0].how is how
    # A person's reply or an ATS notice may be a rejection: only its body tells.
    assert v.needs_body is (kind in (MessageKind.REPLY, MessageKind.AUTOMATED))
    if v.needs_body:
        full = classify.classify(h, FolderRole.INCOMING, idx, body=load(name))
        assert (full.kind, full.matches, full.rejection) == (v.kind, v.matches, "")
        assert not full.needs_body


@pytest.mark.parametrize(
    ("name", "kind", "rejection"),
    [
        ("rejection_ats.eml", MessageKind.REPLY, "move forward with other candidate"),
        ("rejection_person.eml", MessageKind.REPLY, "position has been filled"),
        ("rejection_ats_bulk.eml", MessageKind.REPLY, "not be moving forward with your"),
        # Our own "if the position has been filled" quoted back is no rejection.
        ("delay_person.eml", MessageKind.REPLY, ""),
    ],
)
def test_rejections_are_told_from_the_body(
    idx: AppIndex, name: str, kind: MessageKind, rejection: str
) -> None:
    raw = load(name)
    h = classify.parse_header(raw)
    assert classify.classify(h, FolderRole.INCOMING, idx).needs_body
    v = classify.classify(h, FolderRole.INCOMING, idx, body=raw)
    assert v.kind is kind
    assert [m.application_id for m in v.matches] == [1]
    assert (rejection in v.rejection) if rejection else v.rejection == ""


@pytest.mark.parametrize(
    ("name", "kind", "apps", "back", "failed"),
    [
        ("ooo_exchange_no_headers.eml", MessageKind.AUTO_REPLY, [1], date(2026, 12, 14), ()),
        ("ooo_gmail_vacation.eml", MessageKind.AUTO_REPLY, [1], date(2026, 12, 11), ()),
        ("ooo_german.eml", MessageKind.AUTO_REPLY, [1], date(2026, 12, 15), ()),
        ("bounce_dsn.eml", MessageKind.BOUNCE, [1], None, ("maria@acme.example",)),
        ("bounce_qmail.eml", MessageKind.BOUNCE, [1], None, ("jane@acme.example",)),
        ("bounce_exchange.eml", MessageKind.BOUNCE, [1], None, ("bob@talentco.example",)),
        ("delay_dsn.eml", MessageKind.AUTOMATED, [], None, ()),
    ],
)
def test_incoming_needing_the_body(
    idx: AppIndex,
    name: str,
    kind: MessageKind,
    apps: list[int],
    back: date | None,
    failed: tuple[str, ...],
) -> None:
    raw = load(name)
    h = classify.parse_header(raw)
    first = classify.classify(h, FolderRole.INCOMING, idx)
    assert first.needs_body
    v = classify.classify(h, FolderRole.INCOMING, idx, body=raw)
    assert not v.needs_body
    assert (v.kind, [m.application_id for m in v.matches]) == (kind, apps)
    assert v.return_date == back
    assert v.failed == failed


def test_bounce_names_the_contact_that_failed(idx: AppIndex) -> None:
    raw = load("bounce_dsn.eml")
    v = classify.classify(classify.parse_header(raw), FolderRole.INCOMING, idx, body=raw)
    assert [m.contact_id for m in v.matches] == [2]  # Maria, not Bob who was copied


def test_bounce_truncated_by_the_size_cap_still_parses(idx: AppIndex) -> None:
    raw = load("bounce_dsn.eml")[:700]
    v = classify.classify(classify.parse_header(raw), FolderRole.INCOMING, idx, body=raw)
    assert v.kind in (MessageKind.BOUNCE, MessageKind.UNRELATED)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"", MessageKind.UNRELATED),
        (b"\xff\xfe\x00garbage", MessageKind.UNRELATED),
        (b"From: <<<>>>\nSubject: =?bogus?Q?x?=\n\n", MessageKind.UNRELATED),
        (b"From: alex@example.net\nTo: jane@acme.example\n\n", MessageKind.UNRELATED),
        (
            b"From: someone@elsewhere.example\nIn-Reply-To: <old@acme.example>\n\n",
            MessageKind.REPLY,
        ),
        (b"From: Hank <hank@gmail.com>\nSubject: hi\n\n", MessageKind.REPLY),
        (b"From: friend@gmail.com\nSubject: hi\n\n", MessageKind.UNRELATED),
        (b"From: x@jobs.acmecareers.example\nSubject: Interview\n\n", MessageKind.REPLY),
        (
            b"From: Jane <JANE+cal@Acme.Example>\nSubject: x\n"
            b"Date: Sun, 1 Nov 2026 10:00 +0000\n\n",
            MessageKind.PRIOR,
        ),
        (b"From: jane@acme.example\nAuto-Submitted: no\nSubject: x\n\n", MessageKind.REPLY),
        (b"From: jane@acme.example\nSubject: Out of Office: back soon\n\n", MessageKind.AUTO_REPLY),
        (
            b"From: jane@acme.example\nSubject: R\xc3\xa9ponse automatique : x\n\n",
            MessageKind.AUTO_REPLY,
        ),
        (
            b"From: jane@acme.example\nSubject: =?utf-8?B?6Ieq5Yqo5Zue5aSN?=\n\n",
            MessageKind.AUTO_REPLY,
        ),
        (b"From: jane@acme.example\nX-Autorespond: 1\nSubject: Thanks\n\n", MessageKind.AUTO_REPLY),
        (b"From: jane@acme.example\nPrecedence: junk\nSubject: x\n\n", MessageKind.LIST),
    ],
)
def test_headers_table(idx: AppIndex, raw: bytes, kind: MessageKind) -> None:
    v = classify.classify(classify.parse_header(raw), FolderRole.INCOMING, idx, body=raw)
    assert v.kind is kind, v


def test_agency_domain_is_not_the_company(idx: AppIndex) -> None:
    raw = b"From: someone.else@talentco.example\nSubject: new role for you\n\n"
    v = classify.classify(classify.parse_header(raw), FolderRole.INCOMING, idx)
    assert v.kind is MessageKind.UNRELATED


@pytest.mark.parametrize(
    ("text", "ref", "back"),
    [
        ("I am back on Monday, December 1.", date(2026, 11, 24), date(2026, 12, 1)),
        ("returning 12/01", date(2026, 11, 24), date(2026, 12, 1)),
        ("Out of office until Dec 1st, 2026.", date(2026, 11, 24), date(2026, 12, 1)),
        ("I'll return on 2027-01-05.", date(2026, 12, 20), date(2027, 1, 5)),
        ("back on January 4", date(2026, 12, 20), date(2027, 1, 4)),
        ("I'll be back Monday", date(2026, 11, 25), date(2026, 11, 30)),
        ("Ich bin ab dem 01.12. wieder im Büro", date(2026, 11, 24), date(2026, 12, 1)),
        ("bis einschließlich 30. November abwesend", date(2026, 11, 24), date(2026, 11, 30)),
        ("de retour le lundi 1er décembre", date(2026, 11, 24), date(2026, 12, 1)),
        ("estaré de vuelta el 1 de diciembre", date(2026, 11, 24), date(2026, 12, 1)),
        ("ik ben terug op 3 december", date(2026, 11, 24), date(2026, 12, 3)),
        ("Thanks for your message, I'm travelling.", date(2026, 11, 24), None),
        ("On Mon, Nov 2, 2026 Alex wrote: back then", date(2026, 11, 24), None),
    ],
)
def test_return_date(text: str, ref: date, back: date | None) -> None:
    assert classify.parse_return_date(text, ref) == back


@pytest.mark.parametrize(
    ("addr", "norm"),
    [
        ("Jane+jobs@Acme.COM", "jane@acme.com"),
        ("<bob@x.example>", "bob@x.example"),
        ("plain@x.example", "plain@x.example"),
    ],
)
def test_normalise_address(addr: str, norm: str) -> None:
    assert classify.normalise_address(addr) == norm


@pytest.mark.parametrize(
    ("subject", "norm"),
    [
        ("RE: AW: [EXT] Fwd:  Thank You", "thank you"),
        ("Sv: Tack", "tack"),
        ("Rebooting", "rebooting"),
    ],
)
def test_normalise_subject(subject: str, norm: str) -> None:
    assert classify.normalise_subject(subject) == norm


DRAFTS = [
    DraftRef(
        "a1.i1.checkin1",
        "<followup.c1@example.net>",
        "maria@acme.example",
        "Following up on the Data Engineer role",
    ),
    DraftRef("a1.i1.thank_you.c4", THANK_YOU_ID, "jane@acme.example", "Thank you for today"),
    DraftRef("a1.i1.checkin2", None, "bob@talentco.example", "Any news?", "<thread@acme.example>"),
]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b"X-Followup-Id: a1.i1.checkin1\nMessage-ID: <other@x>\n\n", "a1.i1.checkin1"),
        (b"Message-ID: " + THANK_YOU_ID.encode() + b"\n\n", "a1.i1.thank_you.c4"),
        (load("sent_exchange_rewritten.eml"), "a1.i1.checkin1"),
        (b"To: bob@talentco.example\nSubject: Any news?\nIn-Reply-To: <somewhere@else>\n\n", None),
        (
            b"To: Bob@TalentCo.example\nSubject: RE: Any news?\n"
            b"In-Reply-To: <thread@acme.example>\n\n",
            "a1.i1.checkin2",
        ),
        (
            b"To: maria@acme.example\nSubject: Following up on the Data Engineer role\n"
            b"In-Reply-To: <not-known-for-this-draft@x>\n\n",
            "a1.i1.checkin1",
        ),
        (b"To: bob@talentco.example\nSubject: Following up on the Data Engineer role\n\n", None),
        (load("sent_by_user.eml"), None),
    ],
)
def test_match_draft(raw: bytes, key: str | None) -> None:
    hit = classify.match_draft(classify.parse_header(raw), DRAFTS)
    assert (hit.step_key if hit else None) == key


@pytest.mark.parametrize(
    ("name", "kind", "apps"),
    [
        ("sent_by_user.eml", MessageKind.USER_SENT, [1]),
        ("sent_exchange_rewritten.eml", MessageKind.USER_SENT, [1]),
        ("newsletter.eml", MessageKind.UNRELATED, []),
    ],
)
def test_sent_folder(idx: AppIndex, name: str, kind: MessageKind, apps: list[int]) -> None:
    v = classify.classify(classify.parse_header(load(name)), FolderRole.SENT, idx)
    assert (v.kind, [m.application_id for m in v.matches]) == (kind, apps)


def test_every_corpus_file_parses_without_error(idx: AppIndex) -> None:
    for path in sorted(CORPUS.glob("*.eml")):
        raw = path.read_bytes()
        h = classify.parse_header(raw)
        for role in FolderRole:
            classify.classify(h, role, idx, body=raw)
        classify.body_text(raw)


header_lines = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "From",
                "To",
                "Cc",
                "Reply-To",
                "Subject",
                "Date",
                "Message-ID",
                "In-Reply-To",
                "References",
                "Auto-Submitted",
                "Precedence",
                "Return-Path",
                "Content-Type",
                "X-Followup-Id",
                "List-Id",
            ]
        ),
        st.binary(max_size=60),
    ),
    max_size=8,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header_lines, st.binary(max_size=200))
def test_any_header_parses_and_classifies_without_error(
    idx: AppIndex, lines: list[tuple[str, bytes]], body: bytes
) -> None:
    raw = b"".join(
        name.encode() + b": " + value.replace(b"\n", b" ") + b"\n" for name, value in lines
    )
    h = classify.parse_header(raw + b"\n" + body)
    assert all(a == classify.normalise_address(a) for a in (*h.recipients, *h.reply_to))
    for role in FolderRole:
        for given_body in (None, raw + b"\n" + body):
            v = classify.classify(h, role, idx, body=given_body)
            assert v.kind in MessageKind


@pytest.mark.parametrize(
    ("raw", "kind", "reason"),
    [
        # Ours now: no header of ours, the Message-ID a step was given (even to a new address).
        (b"Message-ID: " + THANK_YOU_ID.encode() + b"\nTo: jane@new.example\n\n", "our", "step"),
        # Ours before issue 16: the header names the step.
        (b"X-Followup-Id: a1.i1.thank_you.c4\nTo: x@y.example\n\n", "our", "X-Followup-Id"),
        # Possibly the user's edit of one of ours: to a contact.
        (b"Message-ID: <e@x>\nTo: maria@acme.example\n\n", "our", "draft to a contact"),
        (b"Message-ID: <mine@x>\nTo: friend@else.example\n\n", "unrelated", ""),
    ],
)
def test_drafts_folder(idx: AppIndex, raw: bytes, kind: str, reason: str) -> None:
    v = classify.classify(classify.parse_header(raw), FolderRole.DRAFTS, idx)
    want = MessageKind.OUR_DRAFT if kind == "our" else MessageKind.UNRELATED
    assert v.kind is want and reason in v.reason
