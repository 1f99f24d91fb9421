"""One JSON encoding for every `--json` view: typed records in, JSON values out.

Times are written in ONE ISO 8601 form, `YYYY-MM-DDTHH:MM:SS±HH:MM`, in the
user's zone: seconds always present (scripts need not guess two formats) and
the offset always explicit (a local time without one is ambiguous at DST).
Dates stay `YYYY-MM-DD`. A field is named in JSON by its Python name unless its
metadata says otherwise (`field(metadata=json_name("from"))`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime, tzinfo
from enum import Enum
from typing import Any

JSONValue = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]

_NAME = "json_name"


def json_name(name: str) -> Mapping[str, str]:
    """Field metadata: this field's key in JSON (for names Python reserves, like `from`)."""
    return {_NAME: name}


def iso(moment: datetime, tz: tzinfo) -> str:
    """`2026-11-18T09:30:00+01:00`: the instant in `tz`, to the second, with its offset."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r} has no place in the output")
    return moment.astimezone(tz).isoformat(timespec="seconds")


def to_json(value: Any, tz: tzinfo) -> JSONValue:
    """A record (dataclass), or anything inside one, as JSON values; times in `tz`."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):  # before str: a StrEnum is a str
        return to_json(value.value, tz)
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):  # before date: a datetime is a date
        return iso(value, tz)
    if isinstance(value, date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.metadata.get(_NAME, f.name): to_json(getattr(value, f.name), tz)
            for f in fields(value)
        }
    if isinstance(value, list | tuple):
        return [to_json(v, tz) for v in value]
    raise TypeError(f"no JSON form for {type(value).__name__}")
