"""agent.invites reading: the corpus of invitation mails → typed records; hostile mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.invites import read_invitations, zones
from agent.invites.mime import MAX_DEPTH, calendar_parts
from agent.invites.parse import parse_calendar
from agent.invites.records import CuType, Method

CORPUS = Path(__file__).parent / "corpus" / "invites"
BERLIN = ZoneInfo("Europe/Berlin")


def read(name: str) -> tuple:
    return read_invitations((CORPUS / name).read_bytes(), BERLIN)


@pytest.mark.parametrize(
    ("name", "method", "sequence", "start", "end", "zone"),
    [
        (
            "google_request.eml",
            Method.REQUEST,
            0,
            "2026-11-20T13:00:00+00:00",
            "2026-11-20T14:00:00+00:00",
            "UTC",
        ),
        (
            "google_update.eml",
            Method.REQUEST,
            1,
            "2026-11-23T15:00:00+00:00",
            "2026-11-23T16:00:00+00:00",
            "UTC",
        ),
        (
            "google_cancel.eml",
            Method.CANCEL,
            2,
            "2026-11-23T15:00:00+00:00",
            "2026-11-23T16:00:00+00:00",
            "UTC",
        ),
        # Windows zone names through CLDR's table; the 1601 VTIMEZONE is not needed.
        (
            "outlook_request.eml",
            Method.REQUEST,
            0,
            "2026-11-24T10:00:00+01:00",
            "2026-11-24T11:00:00+01:00",
            "Europe/Berlin",
        ),
        (
            "outlook_update.eml",
            Method.REQUEST,
            1,
            "2026-11-26T14:30:00+01:00",
            "2026-11-26T15:30:00+01:00",
            "Europe/Berlin",
        ),
        (
            "outlook_cancel.eml",
            Method.CANCEL,
            2,
            "2026-11-26T14:30:00+01:00",
            "2026-11-26T15:30:00+01:00",
            "Europe/Berlin",
        ),
        (
            "outlook_eastern_phone.eml",
            Method.REQUEST,
            0,
            "2026-11-17T11:00:00-05:00",
            "2026-11-17T11:30:00-05:00",
            "America/New_York",
        ),
        (
            "calendly.eml",
            Method.REQUEST,
            0,
            "2026-11-19T17:30:00+00:00",
            "2026-11-19T18:00:00+00:00",
            "UTC",
        ),
        # An .ics sent as application/octet-stream, found by its file name.
        (
            "greenhouse.eml",
            Method.PUBLISH,
            0,
            "2026-12-01T10:00:00-05:00",
            "2026-12-01T12:00:00-05:00",
            "America/New_York",
        ),
        (
            "greenhouse_moved.eml",
            Method.PUBLISH,
            0,
            "2026-12-03T13:00:00-05:00",
            "2026-12-03T15:00:00-05:00",
            "America/New_York",
        ),
        (
            "goodtime.eml",
            Method.REQUEST,
            0,
            "2026-12-02T17:00:00+00:00",
            "2026-12-02T19:00:00+00:00",
            "Europe/London",
        ),
        (
            "goodtime_cancel.eml",
            Method.CANCEL,
            1,
            "2026-12-02T17:00:00+00:00",
            "2026-12-02T19:00:00+00:00",
            "Europe/London",
        ),
    ],
)
def test_corpus_times_and_methods(
    name: str, method: Method, sequence: int, start: str, end: str, zone: str
) -> None:
    (inv,) = read(name)
    assert inv.method is method
    assert inv.sequence == sequence
    assert inv.start.at == datetime.fromisoformat(start)
    assert inv.start.at.utcoffset() == datetime.fromisoformat(start).utcoffset()
    assert inv.end.at == datetime.fromisoformat(end)
    assert inv.start.zone == zone
    assert inv.cancelled is (method is Method.CANCEL)
    assert inv.dtstamp is not None and inv.dtstamp.tzinfo is not None


@pytest.mark.parametrize(
    ("first", "later"),
    [
        ("google_request.eml", "google_update.eml"),
        ("google_update.eml", "google_cancel.eml"),
        ("outlook_request.eml", "outlook_update.eml"),
        ("outlook_update.eml", "outlook_cancel.eml"),
        ("goodtime.eml", "goodtime_cancel.eml"),
        ("greenhouse.eml", "greenhouse_moved.eml"),
    ],
)
def test_updates_keep_the_uid_and_move_on(first: str, later: str) -> None:
    (a,) = read(first)
    (b,) = read(later)
    assert a.uid == b.uid
    assert (b.sequence, b.dtstamp) > (a.sequence, a.dtstamp)


def test_google_parties_with_rooms_and_params() -> None:
    (inv,) = read("google_request.eml")
    assert inv.uid == "5n1c0ffee7q2ab3interview@google.com"
    assert inv.organizer is not None and inv.organizer.email == "bob.smith@acme.com"
    assert inv.organizer.name == "Bob Smith"
    by_mail = {a.email: a for a in inv.attendees}
    assert by_mail["jane.doe@acme.com"].name == "Jane Doe"  # folded CN unfolded
    assert by_mail["jane.doe@acme.com"].partstat == "ACCEPTED"
    assert by_mail["alex@candidate.example"].rsvp is True
    room = by_mail["c_1880abc@resource.calendar.google.com"]
    assert room.cutype is CuType.RESOURCE
    assert inv.conference_url == "https://meet.google.com/abc-defg-hij"
    assert inv.summary == "Interview: Data Engineer at Acme"


def test_outlook_roles_and_teams_link() -> None:
    (inv,) = read("outlook_request.eml")
    by_mail = {a.email: a for a in inv.attendees}
    assert by_mail["mia.wagner@contoso.de"].role == "OPT-PARTICIPANT"
    assert by_mail["raum.spree314@contoso.de"].cutype is CuType.RESOURCE
    assert by_mail["raum.spree314@contoso.de"].role == "NON-PARTICIPANT"
    assert inv.organizer is not None and inv.organizer.name == "Anna Müller"
    assert inv.conference_url.startswith("https://teams.microsoft.com/l/meetup-join/")
    assert inv.start.tzid == "W. Europe Standard Time"


def test_inline_and_attached_copies_count_once() -> None:
    raw = (CORPUS / "google_request.eml").read_bytes()
    assert len(calendar_parts(raw)) == 1  # the same object inline and as invite.ics
    assert len(read_invitations(raw, BERLIN)) == 1


@pytest.mark.parametrize(
    ("tzid", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("Eastern Standard Time", "America/New_York"),
        ("Pacific Standard Time", "America/Los_Angeles"),
        ("GMT Standard Time", "Europe/London"),
        ("Tokyo Standard Time", "Asia/Tokyo"),
        ("India Standard Time", "Asia/Calcutta"),
        ("AUS Eastern Standard Time", "Australia/Sydney"),
        ("/freeassociation.sourceforge.net/Tzfile/Europe/Paris", "Europe/Paris"),
        (
            "/mozilla.org/20050126_1/America/Argentina/Buenos_Aires",
            "America/Argentina/Buenos_Aires",
        ),
        ('"America/Chicago"', "America/Chicago"),
        ("Customized Time Zone", None),
        ("../../etc/passwd", None),
        ("", None),
    ],
)
def test_tzid_names(tzid: str, expected: str | None) -> None:
    assert zones.iana_name(tzid) == expected


def _calendar(dtstart: str, extra: str = "") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n" + extra + "BEGIN:VEVENT\r\n"
        "UID:u1\r\nDTSTAMP:20261101T000000Z\r\n" + dtstart + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


CUSTOM_ZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\nBEGIN:STANDARD\r\n"
    "DTSTART:16010101T000000\r\nTZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\n"
    "END:STANDARD\r\nEND:VTIMEZONE\r\n"
)


@pytest.mark.parametrize(
    ("dtstart", "extra", "expected", "zone"),
    [
        ("DTSTART:20261120T090000Z", "", datetime(2026, 11, 20, 9, tzinfo=UTC), "UTC"),
        # Floating time: the user's own clock.
        ("DTSTART:20261120T090000", "", datetime(2026, 11, 20, 9, tzinfo=BERLIN), "default"),
        # A zone only this calendar defines: its own VTIMEZONE.
        (
            "DTSTART;TZID=Customized Time Zone:20261120T090000",
            CUSTOM_ZONE,
            datetime(2026, 11, 20, 9, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "vtimezone",
        ),
        # A zone nobody defines: the user's clock, said so.
        (
            "DTSTART;TZID=Nowhere Time:20261120T090000",
            "",
            datetime(2026, 11, 20, 9, tzinfo=BERLIN),
            "default",
        ),
        ("DTSTART;VALUE=DATE:20261120", "", datetime(2026, 11, 20, tzinfo=BERLIN), "default"),
    ],
)
def test_time_resolution(dtstart: str, extra: str, expected: datetime, zone: str) -> None:
    inv = parse_calendar(_calendar(dtstart, extra), BERLIN)
    assert inv is not None
    assert inv.start.at == expected
    assert inv.start.zone == zone
    assert inv.end.at - inv.start.at == (
        timedelta(days=1) if inv.start.all_day else timedelta(hours=1)
    )


def test_a_vtimezone_in_one_message_does_not_change_another() -> None:
    evil = CUSTOM_ZONE.replace("Customized Time Zone", "Eastern Standard Time")
    first = parse_calendar(
        _calendar("DTSTART;TZID=Eastern Standard Time:20260701T090000", evil), BERLIN
    )
    second = parse_calendar(_calendar("DTSTART;TZID=Eastern Standard Time:20260701T090000"), BERLIN)
    assert first is not None and second is not None
    # The real zone (EDT in July) wins over the sender's rules, both times.
    assert first.start.at.utcoffset() == second.start.at.utcoffset() == timedelta(hours=-4)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"BEGIN:VCALENDAR\r\n",
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        _calendar("DTSTART:2026XX"),
        _calendar("DTSTART:20261120T090000Z").replace(b"UID:u1\r\n", b""),
        _calendar("DTSTART;TZID=:20261120T090000"),
        _calendar("DTSTART:20261120T090000Z").replace(b"DTSTAMP:20261101T000000Z", b"DTSTAMP:x"),
        _calendar("DTSTART:20261120T090000Z\r\nSEQUENCE:many\r\nATTENDEE:not an address"),
        _calendar("DTSTART:20261120T090000Z\r\nDURATION:P99999W"),
        b"BEGIN:VCALENDAR\r\n" + b"BEGIN:VEVENT\r\n" * 3000 + b"END:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:\u0000\r\nEND:VEVENT\r\nEND:VCALENDAR".encode(),
    ],
)
def test_broken_calendars_never_raise(data: bytes) -> None:
    inv = parse_calendar(data, BERLIN)
    if inv is not None:
        assert inv.uid and inv.start.at.tzinfo is not None


def _nested(depth: int) -> bytes:
    msg = EmailMessage()
    msg.set_content("x")
    inner = EmailMessage()
    inner.add_attachment(_calendar("DTSTART:20261120T090000Z"), maintype="text", subtype="calendar")
    part = inner
    for _ in range(depth):
        outer = EmailMessage()
        outer.make_mixed()
        outer.attach(part)
        part = outer
    return part.as_bytes()


def test_depth_is_bounded() -> None:
    assert len(read_invitations(_nested(2), BERLIN)) == 1
    assert read_invitations(_nested(MAX_DEPTH + 5), BERLIN) == ()


def test_size_is_bounded() -> None:
    raw = _nested(1) + b"x" * (9 * 1024 * 1024)
    assert read_invitations(raw, BERLIN) == ()


def test_forwarded_invitation_is_not_ours() -> None:
    outer = EmailMessage()
    outer.set_content("fyi")
    outer.add_attachment(
        (CORPUS / "google_request.eml").read_bytes(), maintype="message", subtype="rfc822"
    )
    assert read_invitations(outer.as_bytes(), BERLIN) == ()


ICS_LINES = st.sampled_from(
    [
        "BEGIN:VCALENDAR",
        "END:VCALENDAR",
        "BEGIN:VEVENT",
        "END:VEVENT",
        "BEGIN:VTIMEZONE",
        "END:VTIMEZONE",
        "METHOD:REQUEST",
        "METHOD:CANCEL",
        "UID:x",
        "SEQUENCE:3",
        "DTSTART:20261120T090000Z",
        "DTSTART;TZID=Eastern Standard Time:20261120T090000",
        "DTEND;VALUE=DATE:20261121",
        "DURATION:PT30M",
        "DTSTAMP:20261101T000000Z",
        "ORGANIZER;CN=A:mailto:a@b.com",
        "ATTENDEE;CUTYPE=ROOM:mailto:r@b.com",
        "TZID:Eastern Standard Time",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:-0500",
        "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11",
        "SUMMARY:Interview",
        " folded",
        "STATUS:CANCELLED",
        "X-GOOGLE-CONFERENCE:https://meet.google.com/x",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(ICS_LINES, st.text(max_size=40)), max_size=40))
def test_any_calendar_text_never_raises(lines: list[str]) -> None:
    data = "\r\n".join(lines).encode("utf-8", "surrogatepass")
    inv = parse_calendar(data, BERLIN)
    if inv is not None:
        assert inv.start.at.tzinfo is not None and inv.end.at >= inv.start.at


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from(["text/calendar", "application/octet-stream"]))
def test_any_message_never_raises(body: bytes, ctype: str) -> None:
    head = (
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        f"--b\r\nContent-Type: {ctype}; name=a.ics\r\n\r\n"
    )
    for raw in (body, head.encode() + body + b"\r\n--b--\r\n"):
        assert isinstance(read_invitations(raw, BERLIN), tuple)


def test_an_ics_named_in_rfc2231_is_found() -> None:
    ics = _calendar("DTSTART:20261120T090000Z").decode()
    raw = (
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nsiehe Anhang\r\n"
        "--b\r\nContent-Type: application/octet-stream\r\n"
        "Content-Disposition: attachment; filename*=utf-8''Einladung%20%C3%BCber.ics\r\n\r\n"
        f"{ics}\r\n--b--\r\n"
    ).encode()
    (part,) = calendar_parts(raw)
    assert part.filename == "Einladung über.ics"
    assert len(read_invitations(raw, BERLIN)) == 1


def _icalendar_test_files() -> list[Path]:
    """The iCalendar files the icalendar package tests itself with (BSD licence), if shipped."""
    import icalendar

    root = Path(icalendar.__file__).parent / "tests"
    return sorted(root.rglob("*.ics"))


def test_the_icalendar_packages_own_test_files_never_raise() -> None:
    files = _icalendar_test_files()
    if not files:
        pytest.skip("this icalendar wheel ships no test files")
    read = 0
    for path in files:
        inv = parse_calendar(path.read_bytes(), BERLIN)
        if inv is not None:
            read += 1
            assert inv.uid and inv.start.at.tzinfo is not None and inv.end.at >= inv.start.at
    assert read > 10  # most of them hold an event with a UID and a start
