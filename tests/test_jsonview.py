"""One JSON form for every --json view: names from the records, one time format."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.jsonview import iso, json_name, to_json
from agent.models import StepKind

FORM = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]


@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3, minutes=-30))]),
    ),
    st.sampled_from(ZONES),
)
def test_iso_is_one_form_in_the_users_zone_and_the_same_instant(
    moment: datetime, zone: str
) -> None:
    tz = ZoneInfo(zone)
    text = iso(moment, tz)
    assert FORM.match(text), text
    back = datetime.fromisoformat(text)
    assert back.utcoffset() == moment.astimezone(tz).utcoffset()
    assert abs(back - moment) < timedelta(seconds=1)  # only the microseconds are dropped


@pytest.mark.parametrize(
    ("moment", "zone", "text"),
    [
        (datetime(2026, 12, 1, 7, 0, tzinfo=UTC), "Europe/Berlin", "2026-12-01T08:00:00+01:00"),
        (
            datetime(2026, 7, 1, 7, 0, 5, 999, tzinfo=UTC),
            "Europe/Berlin",
            "2026-07-01T09:00:05+02:00",
        ),
        (datetime(2026, 12, 1, 7, 0, tzinfo=UTC), "UTC", "2026-12-01T07:00:00+00:00"),
        (datetime(2026, 12, 1, 3, 0, tzinfo=UTC), "America/New_York", "2026-11-30T22:00:00-05:00"),
    ],
)
def test_iso_examples(moment: datetime, zone: str, text: str) -> None:
    assert iso(moment, ZoneInfo(zone)) == text


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        iso(datetime(2026, 12, 1, 7, 0), UTC)


@dataclass(frozen=True)
class Inner:
    sender: str = field(metadata=json_name("from"))
    when: datetime | None


@dataclass(frozen=True)
class Outer:
    kind: StepKind
    day: date
    items: tuple[Inner, ...]
    flags: list[bool]
    count: int
    nothing: None


def test_records_become_json_values_with_their_json_names() -> None:
    when = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    rec = Outer(
        StepKind.THANK_YOU, date(2026, 12, 4), (Inner("a@b.example", when),), [True], 3, None
    )
    assert to_json(rec, ZoneInfo("Europe/Berlin")) == {
        "kind": "thank_you",
        "day": "2026-12-04",
        "items": [{"from": "a@b.example", "when": "2026-12-01T08:00:00+01:00"}],
        "flags": [True],
        "count": 3,
        "nothing": None,
    }
    assert type(to_json(StepKind.CHECKIN, UTC)) is str  # the value, not the enum


def test_what_has_no_json_form_is_an_error() -> None:
    with pytest.raises(TypeError, match="set"):
        to_json({1, 2}, UTC)
