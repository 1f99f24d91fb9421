"""How `followup init` asks: one answer at a time, checked where it is given, asked again.

Each `check_*` turns an answer into its value or raises `AnswerError` with what is
wrong and what would be right; `Prompter.ask` prints that and asks again (with
`--no-input` it becomes a usage error naming the flag).
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

EMAIL = re.compile(r"^[^@\s<>(),;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
# What people call the modes elsewhere (mail clients, provider help pages).
SECURITY_ALIASES = {
    "ssl": "tls",
    "ssl/tls": "tls",
    "implicit": "tls",
    "start_tls": "starttls",
    "start-tls": "starttls",
    "none": "insecure",
    "plain": "insecure",
}


class AnswerError(ValueError):
    """An answer that cannot be used; the message says what would be."""


Check = Callable[[str], str]


def check_email(text: str) -> str:
    if not EMAIL.match(text):
        raise AnswerError(f"{text!r} is not an email address (like jane@example.com)")
    return text


def check_nonempty(text: str) -> str:
    if not text.strip():
        raise AnswerError("please answer (it cannot be empty)")
    return text.strip()


def check_choice(choices: tuple[str, ...], aliases: dict[str, str] | None = None) -> Check:
    def check(text: str) -> str:
        value = text.strip().lower()
        if value in choices:
            return value
        alias = (aliases or {}).get(value)
        hint = f"; {text!r} is called {alias!r} here" if alias else ""
        if not hint and (close := difflib.get_close_matches(value, choices, n=1)):
            hint = f"; did you mean {close[0]!r}?"
        raise AnswerError(f"choose one of {', '.join(choices)}{hint}")

    return check


def check_port(text: str) -> str:
    if not text.strip().isdigit() or not 1 <= int(text) <= 65535:
        raise AnswerError(f"{text!r} is not a port: a number from 1 to 65535 (993 for tls)")
    return str(int(text))


def zone_suggestions(text: str) -> list[str]:
    """Zones the user may have meant: same city first, then close spellings."""
    zones = sorted(zoneinfo.available_timezones())
    key = text.strip().replace(" ", "_").lower()
    same_city = [z for z in zones if z.rpartition("/")[2].lower() == key]
    by_lower = {z.lower(): z for z in zones}
    close = [by_lower[z] for z in difflib.get_close_matches(key, by_lower, n=3, cutoff=0.6)]
    return list(dict.fromkeys(same_city + close))[:3]


def check_timezone(text: str) -> str:
    name = text.strip()
    if name in zoneinfo.available_timezones():
        return name
    found = zone_suggestions(name)
    hint = f"; did you mean {' or '.join(found)}?" if found else " (like Europe/Berlin)"
    raise AnswerError(f"{name!r} is not a time zone name{hint}")


def country_of_zone(zone: str) -> str:
    """The ISO country code the tz database gives a zone, or "" (UTC, Etc/…)."""
    for base in zoneinfo.TZPATH:
        table = Path(base) / "zone.tab"
        if not table.is_file():
            continue
        for line in table.read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if not line.startswith("#") and len(fields) >= 3 and fields[2] == zone:
                return fields[0]
    return ""


def check_country(text: str) -> str:
    import holidays

    code = text.strip().upper()
    if code in ("", "NONE", "-"):
        return ""
    supported = holidays.list_supported_countries()
    if code in supported:
        return code
    close = difflib.get_close_matches(code, list(supported), n=3)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise AnswerError(f"{text!r} is no country code the holidays table knows (like US, DE){hint}")


def check_ca_file(text: str) -> str:
    import ssl

    path = Path(text.strip()).expanduser()
    if not text.strip():
        return ""
    try:
        ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise AnswerError(f"{path} is not a readable PEM certificate file ({exc})") from exc
    return str(path.resolve())


def _takes_empty(check: Check) -> bool:
    """Whether no answer is an answer (the country: no holidays)."""
    try:
        check("")
    except AnswerError:
        return False
    return True


@dataclass
class Prompter:
    """Asks on the terminal, or (no_input) takes the flags and defaults as they are."""

    no_input: bool
    read: Callable[[str], str]
    write: Callable[[str], None]
    terminal: bool = True  # stdin is a terminal: a person can answer

    @property
    def asks(self) -> bool:
        return self.terminal and not self.no_input

    def ask(
        self,
        prompt: str,
        default: str = "",
        given: object = None,
        check: Check | None = None,
        flag: str = "",
    ) -> str:
        """The answer to `prompt`: `given` (a flag) if set, else asked until `check` takes it."""
        if given not in (None, ""):
            return self._checked(str(given), check, flag or prompt)
        if not self.asks:
            if default or check is None or _takes_empty(check):
                return self._checked(default, check, flag or prompt)
            if self.no_input:
                raise UsageError(f"--no-input needs {prompt.lower()} (see followup init --help)")
            raise UsageError(
                f"followup init has to ask for {prompt.lower()} and needs a terminal for it; "
                "in a script pass --no-input with the answers as options (followup init --help)"
            )
        shown = f" [{default}]" if default else ""
        while True:
            answer = self.read(f"{prompt}{shown}: ").strip() or default
            try:
                return check(answer) if check else answer
            except AnswerError as exc:
                self.write(f"  {exc}")

    def yes(self, prompt: str, default: bool = True) -> bool:
        if not self.asks:
            return default and self.terminal
        shown = "[Y/n]" if default else "[y/N]"
        while True:
            answer = self.read(f"{prompt} {shown} ").strip().lower()
            if not answer:
                return default
            if answer in ("y", "yes", "n", "no"):
                return answer.startswith("y")
            self.write("  please answer y or n")

    def _checked(self, value: str, check: Check | None, flag: str) -> str:
        if check is None:
            return value
        try:
            return check(value)
        except AnswerError as exc:
            if not self.asks:
                raise UsageError(f"{flag}: {exc}") from None
            self.write(f"  {flag}: {exc}")
            return self.ask(flag.removeprefix("--").capitalize(), "", None, check)
