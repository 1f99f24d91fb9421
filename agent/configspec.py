"""How a config setting is declared once and read by its declaration.

A setting is a dataclass field made by `setting()` (or `needed()`, `computed()`):
the annotation gives its type, the field its default, and a `Spec` in the
field's metadata its bounds, allowed values and the comment the config file
shows. `read_section` validates one TOML table against such a dataclass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar, cast, get_type_hints

from .tomltable import REQUIRED, TableReader

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T")
S = TypeVar("S", bound="DataclassInstance")
_SPEC: Final = "followup.spec"


@dataclass(frozen=True)
class Spec:
    """What the parser checks and the config file says about one setting."""

    doc: str = ""  # the comment above the key (lines separated by \n)
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()  # for a list: what each item may be
    required: bool = False  # the key must be present
    nonempty: bool = False  # an empty string or list is refused
    only: str | None = None  # the account kind the key belongs to
    example: str | None = None  # shown commented out when the value is unset
    why: str = ""  # appended to a bounds error
    table: bool = False  # a sub-table ([account.oauth2]), read by its section's rules


def setting(
    default: T,
    doc: str = "",
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] = (),
    required: bool = False,
    nonempty: bool = False,
    only: str | None = None,
    example: str | None = None,
    why: str = "",
) -> T:
    """A dataclass field with its `Spec`."""
    spec = Spec(doc, lo, hi, choices, required, nonempty, only, example, why)
    return field(default=default, metadata={_SPEC: spec})


def needed(kind: type[T], doc: str, why: str = "") -> T:
    """A field without default: the key must be present and not empty."""
    spec = Spec(doc, required=True, nonempty=True, why=why)
    return cast(T, field(metadata={_SPEC: spec}))


def computed(factory: Callable[[], T], doc: str, example: str) -> T:
    """A field whose default depends on the platform (computed when used, not at import)."""
    return field(default_factory=factory, metadata={_SPEC: Spec(doc, example=example)})


def subtable(kind: type[T], doc: str, *, only: str | None = None) -> T | None:
    """A field holding a sub-table of `kind`: read by the section's rules, None when absent."""
    spec = Spec(doc, only=only, table=True)
    return cast(T | None, field(default=None, metadata={_SPEC: spec}))


def spec_of(f: Field[object]) -> Spec:
    spec = f.metadata.get(_SPEC)
    return spec if isinstance(spec, Spec) else Spec()


def settings(cls: type[DataclassInstance]) -> Iterator[tuple[Field[object], Spec, object]]:
    """Each field of a section with its spec and its type."""
    hints = get_type_hints(cls)
    for f in fields(cls):
        yield f, spec_of(f), hints[f.name]


def default_of(f: Field[object]) -> object:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return REQUIRED


# -- reading ----------------------------------------------------------------

Values = dict[str, object]


Reader = Callable[[TableReader, str, object, Spec, Path | None], object]


def _read_path(r: TableReader, name: str, default: object, _: Spec, base: Path | None) -> object:
    value = resolve_path(r.text(name, REQUIRED if default is REQUIRED else None), base)
    return value or (None if default is REQUIRED else default)


def _read_optional(r: TableReader, name: str, default: object, spec: Spec, _: object) -> object:
    return r.text(name, None, spec.choices) or None


# How each declared type is read; a type missing here is a programming error.
_READERS: Final[Mapping[object, Reader]] = {
    bool: lambda r, name, default, spec, _: r.flag(name, cast(bool, default)),
    int: lambda r, name, default, spec, _: r.integer(
        name, cast(int, default), _int(spec.lo), _int(spec.hi), why=spec.why
    ),
    float: lambda r, name, default, spec, _: r.number(
        name, cast(float, default), spec.lo, spec.hi, why=spec.why
    ),
    time: lambda r, name, default, spec, _: r.clock(name, cast(time, default)),
    tuple[str, ...]: lambda r, name, default, spec, _: r.strings(
        name, cast(tuple[str, ...], default), spec.choices
    ),
    str: lambda r, name, default, spec, _: r.text(name, cast(str, default), spec.choices),
    str | None: _read_optional,
    Path: _read_path,
    Path | None: _read_path,
}


def _read_value(
    r: TableReader, f: Field[object], spec: Spec, hint: object, base: Path | None
) -> object:
    """One key, read by its declared type."""
    default = REQUIRED if spec.required else default_of(f)
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        # The enum is the one statement of the allowed values.
        choices = tuple(m.value for m in hint)
        return hint(r.text(f.name, cast(str, default), choices))
    return _READERS[hint](r, f.name, default, spec, base)


def _int(bound: float | None) -> int | None:
    return None if bound is None else int(bound)


def read_section(r: TableReader, cls: type[S], base: Path | None) -> S:
    values: Values = {}
    for f, spec, hint in settings(cls):
        if spec.only is not None and spec.only != values.get("kind"):
            r.used.add(f.name)
            if r.has(f.name):
                raise r.fail(f.name, f'is only for kind = "{spec.only}" accounts')
            continue
        if spec.table:
            r.used.add(f.name)  # the section's rules read it
            continue
        value = _read_value(r, f, spec, hint, base)
        if spec.nonempty and (value is None or not str(value).strip() or value == ()):
            extra = f" ({spec.why})" if spec.why else ""
            raise r.fail(f.name, f"must not be empty{extra}")
        values[f.name] = value
    return cls(**values)


def resolve_path(value: str | None, base: Path | None) -> Path | None:
    if not value:
        return None
    p = Path(value).expanduser()
    if not p.is_absolute() and base is not None:
        p = base / p
    return p
