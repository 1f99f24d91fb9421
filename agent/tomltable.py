"""Reads one decoded TOML table key by key, typed, naming the key path in every error.

Shared by the config file and interview files (`add --from`); each passes the
error it raises, so a mistake is reported against the file it is in.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from datetime import time
from enum import Enum
from typing import Final, TypeVar, overload

from .errors import FollowupError

T = TypeVar("T")
ErrorFactory = Callable[[str, str], FollowupError]


class _Required(Enum):
    REQUIRED = "required"


# Passed as a default: the key must be present.
REQUIRED: Final = _Required.REQUIRED


class TableReader:
    """One TOML table; remembers which keys were read so `finish` can refuse the rest."""

    def __init__(self, path: str, data: object, error: ErrorFactory) -> None:
        if not isinstance(data, Mapping):
            raise error(path, f"must be a table, got {type(data).__name__}")
        self.path = path
        self.data: Mapping[str, object] = data
        self.error = error
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, problem: str) -> FollowupError:
        return self.error(self.key(name), problem)

    def has(self, name: str) -> bool:
        return name in self.data

    def _get(
        self, name: str, kind: type[T] | tuple[type[T], ...], what: str, default: T | _Required
    ) -> T | _Required:
        self.used.add(name)
        if name not in self.data:
            if default is REQUIRED:
                raise self.fail(name, "is required")
            return default
        value = self.data[name]
        # bool is an int subclass; a `true` where a number belongs is a mistake
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            raise self.fail(name, f"must be {what}, got {value!r}")
        return value

    @overload
    def text(
        self, name: str, default: str | _Required = ..., choices: tuple[str, ...] = ()
    ) -> str: ...
    @overload
    def text(
        self, name: str, default: str | _Required | None, choices: tuple[str, ...] = ()
    ) -> str | None: ...
    def text(
        self, name: str, default: str | _Required | None = REQUIRED, choices: tuple[str, ...] = ()
    ) -> str | None:
        value = self._get(name, str, "a string", default)
        assert value is not REQUIRED
        if value is not None and choices and value not in choices:
            raise self.fail(name, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    @overload
    def integer(
        self,
        name: str,
        default: int | _Required,
        lo: int | None = ...,
        hi: int | None = ...,
        why: str = ...,
    ) -> int: ...
    @overload
    def integer(
        self, name: str, default: None, lo: int | None = ..., hi: int | None = ..., why: str = ...
    ) -> int | None: ...
    def integer(
        self,
        name: str,
        default: int | _Required | None,
        lo: int | None = None,
        hi: int | None = None,
        why: str = "",
    ) -> int | None:
        value = self._get(name, int, "a whole number", default)
        assert value is not REQUIRED
        if value is not None:
            self._range(name, value, lo, hi, why)
        return value

    def number(
        self,
        name: str,
        default: float | _Required,
        lo: float | None = None,
        hi: float | None = None,
        why: str = "",
    ) -> float:
        value = self._get(name, (int, float), "a number", default)
        assert value is not REQUIRED
        # TOML has inf and nan; neither is a timeout or an interval.
        if not math.isfinite(value):
            raise self.fail(name, f"must be a finite number; got {value}")
        self._range(name, value, lo, hi, why)
        return float(value)

    def flag(self, name: str, default: bool | _Required) -> bool:
        value = self._get(name, bool, "true or false", default)
        assert value is not REQUIRED
        return value

    def strings(
        self, name: str, default: tuple[str, ...], choices: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        value = self._get(name, list, "a list of strings", list(default))
        assert value is not REQUIRED
        if not all(isinstance(v, str) for v in value):
            raise self.fail(name, "must be a list of strings")
        if choices and any(v not in choices for v in value):
            raise self.fail(name, f"may only list {', '.join(choices)}; got {value!r}")
        return tuple(value)

    def clock(self, name: str, default: time) -> time:
        value = self._get(name, str, 'a time like "08:00"', default.strftime("%H:%M"))
        assert value is not REQUIRED
        try:
            return time.fromisoformat(value)
        except ValueError:
            raise self.fail(name, f'must be a time like "08:00"; got {value!r}') from None

    def tables(self, name: str) -> list[TableReader]:
        """An array of tables (`[[name]]`), absent meaning none."""
        value = self._get(name, list, f"an array of tables ([[{name}]])", [])
        assert value is not REQUIRED
        return [TableReader(f"{self.key(name)}[{i}]", v, self.error) for i, v in enumerate(value)]

    def sub(self, name: str) -> TableReader:
        self.used.add(name)
        return TableReader(self.key(name), self.data.get(name, {}), self.error)

    def finish(self) -> None:
        for name in self.data:
            if name not in self.used:
                hint = difflib.get_close_matches(name, sorted(self.used), n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise self.fail(name, f"unknown key{extra}")

    def _range(self, name: str, value: float, lo: float | None, hi: float | None, why: str) -> None:
        extra = f" ({why})" if why else ""
        if lo is not None and value < lo:
            raise self.fail(name, f"must be at least {lo:g}; got {value:g}{extra}")
        if hi is not None and value > hi:
            raise self.fail(name, f"must be at most {hi:g}; got {value:g}{extra}")
