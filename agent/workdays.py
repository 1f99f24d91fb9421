"""The user's working calendar: business days, holidays and working hours in their time zone.

Pure: every method takes the moment it is asked about.
"""

from __future__ import annotations

import functools
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .config import ScheduleConfig


@dataclass(frozen=True)
class Calendar:
    """Business days and working hours in the user's time zone."""

    tz: ZoneInfo
    holidays: Container[date] = field(default_factory=frozenset)
    workday_start: time = time(8, 0)
    workday_end: time = time(18, 0)

    def is_business_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.holidays

    def add_business_days(self, d: date, n: int) -> date:
        """The n-th business day after d (n ≥ 1)."""
        while n > 0:
            d += timedelta(days=1)
            if self.is_business_day(d):
                n -= 1
        return d

    def work_start(self, d: date) -> datetime:
        # Built from wall-clock parts so DST days keep 08:00 local.
        return datetime.combine(d, self.workday_start, tzinfo=self.tz)

    def next_work_time(self, moment: datetime) -> datetime:
        """`moment` if it falls in working hours of a business day, else the next start."""
        local = moment.astimezone(self.tz)
        d = local.date()
        if self.is_business_day(d):
            if local.time() < self.workday_start:
                return self.work_start(d)
            if local.time() < self.workday_end:
                return moment
        d += timedelta(days=1)
        while not self.is_business_day(d):
            d += timedelta(days=1)
        return self.work_start(d)

    def in_working_hours(self, moment: datetime) -> bool:
        return self.next_work_time(moment) == moment

    def next_hours_change(self, moment: datetime) -> datetime:
        """No later than the next instant `in_working_hours` flips after `moment`."""
        local = moment.astimezone(self.tz)
        if self.in_working_hours(moment):
            return self.local_instant(local.date(), self.workday_end)
        return self.local_instant(
            self.next_work_time(moment).astimezone(self.tz).date(), self.workday_start
        )

    def next_midnight(self, moment: datetime) -> datetime:
        """No later than the start of the next local day after `moment`."""
        return self.local_instant(moment.astimezone(self.tz).date() + timedelta(days=1), time(0))

    def local_instant(self, d: date, t: time) -> datetime:
        # A wall-clock time in a DST gap or overlap names two instants: the
        # earlier one, so a boundary is never reported late.
        first = datetime.combine(d, t, tzinfo=self.tz)
        return min(first, first.replace(fold=1))

    def days_later(self, moment: datetime, days: int) -> datetime:
        """The same wall-clock time `days` calendar days later (DST-safe)."""
        # Arithmetic on an aware datetime keeps the wall clock; the offset is
        # recomputed, so 08:00 before a DST change stays 08:00 after it.
        local = moment.astimezone(self.tz) + timedelta(days=days)
        return local.replace(fold=0).astimezone(self.tz)


@functools.lru_cache(maxsize=16)
def _holiday_table(country: str, subdivision: str | None) -> Container[date]:
    import holidays

    # Years are filled in lazily on lookup and kept: one table per country
    # serves every application and every cycle.
    table: Container[date] = holidays.country_holidays(country, subdiv=subdivision)
    return table


def make_calendar(schedule: ScheduleConfig, years: Sequence[int] | None = None) -> Calendar:
    """The user's calendar; the holiday table is built once per country/subdivision."""
    days: Container[date] = frozenset()
    if schedule.country:
        days = _holiday_table(schedule.country, schedule.subdivision)
        if years:
            for y in years:  # warm the table up front (benchmarks, daemons)
                _ = date(y, 1, 1) in days
    return Calendar(schedule.tz, days, schedule.workday_start, schedule.workday_end)
