"""Return dates: the day an out-of-office says its person is back, in several languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

_MONTHS: dict[str, int] = {}
for _num, _names in enumerate(
    (
        "january jan januar janvier enero gennaio janeiro januari janv ene gen jän",
        "february feb februar février fevrier febrero febbraio fevereiro februari févr fevr",
        "march mar märz maerz mars marzo março maart mär mrt",
        "april apr avril abril aprile abr",
        "may mai mayo maggio maio mei",
        "june jun juni juin junio giugno junho",
        "july jul juli juillet julio luglio julho juil",
        "august aug août aout agosto augustus ago",
        "september sep sept septembre septiembre settembre setembro set",
        "october oct oktober octobre octubre ottobre outubro okt ott out",
        "november nov novembre noviembre novembro",
        "december dec dezember décembre decembre diciembre dicembre dezembro dez déc dic",
    ),
    start=1,
):
    for _n in _names.split():
        _MONTHS.setdefault(_n, _num)
_WEEKDAYS: dict[str, int] = {}
for _num, _names in enumerate(
    (
        "monday mon montag lundi lunes lunedì maandag",
        "tuesday tue tues dienstag mardi martes martedì dinsdag",
        "wednesday wed mittwoch mercredi miércoles miercoles mercoledì woensdag",
        "thursday thu thur thurs donnerstag jeudi jueves giovedì donderdag",
        "friday fri freitag vendredi viernes venerdì vrijdag",
        "saturday sat samstag samedi sábado sabado sabato zaterdag",
        "sunday sun sonntag dimanche domingo domenica zondag",
    )
):
    for _n in _names.split():
        _WEEKDAYS.setdefault(_n, _num)

# Words after which an out-of-office names the day the person is back; the
# explicit ones win over "until ..." (often the last day away).
_RETURN_CUES = (
    re.compile(
        r"\b(?:back|return(?:ing|s)?|returned|reachable again"
        r"|in the office (?:on|from)|available (?:on|from|again)"
        r"|zurück|wieder (?:im büro|erreichbar|da)|ab dem|ab"
        r"|de retour|retour|à partir du|de vuelta|regreso|regresaré"
        r"|terug|rientro)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:until|till|til|through|thru|bis(?: zum| einschließlich)?"
        r"|jusqu'au|jusqu’au|hasta el|hasta|tot en met|tot|fino al)\b",
        re.IGNORECASE,
    ),
)
_MONTH_WORD = r"([a-zäéèûôçñìíóúå]{3,10})\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th|er|e|º|\.)?"
_YEAR = r"(?:,?\s*(\d{4}))?"
_WEEKDAY_ONLY = re.compile(
    r"^\W*(?:on\s+|am\s+|le\s+|el\s+|op\s+)?([a-zäéèûôçñìíóú]{3,10})\b", re.IGNORECASE
)
_WINDOW = 60  # characters after a cue in which the date must appear


def _resolve(month: int, day: int, year: int | None, ref: date) -> date | None:
    try:
        if year is not None:
            year = year + 2000 if year < 100 else year
            return date(year, month, day)
        candidate = date(ref.year, month, day)
    except ValueError:
        return None
    # No year: the next such date, allowing for a message read a little late.
    if candidate < ref - timedelta(days=14):
        try:
            candidate = date(ref.year + 1, month, day)
        except ValueError:
            return None
    return candidate


def _year(m: re.Match[str]) -> int | None:
    return int(m.group(3)) if m.group(3) else None


def _ymd(m: re.Match[str], ref: date) -> date | None:
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _word(word: str, day: str, m: re.Match[str], ref: date) -> date | None:
    month = _MONTHS.get(word.lower().rstrip("."))
    return None if month is None else _resolve(month, int(day), _year(m), ref)


def _md_word(m: re.Match[str], ref: date) -> date | None:
    return _word(m.group(1), m.group(2), m, ref)


def _dm_word(m: re.Match[str], ref: date) -> date | None:
    return _word(m.group(2), m.group(1), m, ref)


def _dmy_dots(m: re.Match[str], ref: date) -> date | None:
    return _resolve(int(m.group(2)), int(m.group(1)), _year(m), ref)


def _mdy_slash(m: re.Match[str], ref: date) -> date | None:  # US month/day
    return _resolve(int(m.group(1)), int(m.group(2)), _year(m), ref)


_DATE_FORMS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], date], date | None]], ...] = (
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), _ymd),
    (re.compile(rf"\b{_MONTH_WORD}\s+{_DAY}{_YEAR}", re.IGNORECASE), _md_word),
    (re.compile(rf"\b{_DAY}\s*(?:of\s+|de\s+)?{_MONTH_WORD}{_YEAR}", re.IGNORECASE), _dm_word),
    (re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(?:(\d{2,4})\b)?"), _dmy_dots),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b"), _mdy_slash),
)


def _date_in(window: str, ref: date) -> date | None:
    """The date written first in `window`: each form's first readable match, earliest wins."""
    best: tuple[int, date] | None = None
    for pattern, read in _DATE_FORMS:
        for m in pattern.finditer(window):
            found = read(m, ref)
            if found is None:
                continue
            if best is None or m.start() < best[0]:
                best = (m.start(), found)
            break
    return best[1] if best else None


def parse_return_date(text: str, ref: date) -> date | None:
    """The day an out-of-office says the person is back, if it names one.

    `ref` is the day the auto-reply was written; dates without a year are
    taken as the next such day, a bare weekday as the next such weekday.
    """
    text = " ".join(text.split())
    for cues in _RETURN_CUES:
        found = _after_cue(cues, text, ref)
        if found is not None:
            return found
    return None


def _after_cue(cues: re.Pattern[str], text: str, ref: date) -> date | None:
    for cue in cues.finditer(text):
        window = text[cue.end() : cue.end() + _WINDOW]
        found = _date_in(window, ref)
        if found is not None and found >= ref - timedelta(days=1):
            return found
        wd = _WEEKDAY_ONLY.match(window)
        if wd is not None and wd.group(1).lower() in _WEEKDAYS:
            ahead = (_WEEKDAYS[wd.group(1).lower()] - ref.weekday()) % 7 or 7
            return ref + timedelta(days=ahead)
    return None
