"""Config loading: every error names its key path."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent import config
from agent.configfile import EXAMPLE, AccountAnswers, render_config
from agent.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

BASE: dict[str, Any] = {
    "account": {"email": "a@example.com", "name": "A B", "host": "imap.example.com"},
}


MAILDIR: dict[str, Any] = {"account": {**BASE["account"], "kind": "maildir", "path": "m"}}


def with_(section: str, **values: Any) -> dict[str, Any]:
    data = {k: dict(v) for k, v in BASE.items()}
    data.setdefault(section, {}).update(values)
    return data


def test_example_config_loads_and_matches_the_generator() -> None:
    path = ROOT / "config.example.toml"
    cfg = config.load(path)
    assert cfg.account.email == EXAMPLE.email
    assert cfg.policy.min_gap_days == 8
    # One source for the commented file: `init` writes what the example shows.
    assert path.read_text(encoding="utf-8") == render_config(EXAMPLE)


def test_defaults() -> None:
    cfg = config.parse(BASE)
    assert cfg.account.port == 993 and cfg.account.security == "tls"
    assert cfg.account.login == "a@example.com"
    assert cfg.policy.checkin_to == ("recruiter", "hiring_manager")
    assert cfg.storage.database.name == "followup.sqlite3"


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        ({}, "account.email", "required"),
        (with_("account", email="nope"), "account.email", "not an email"),
        (with_("account", port="993"), "account.port", "whole number"),
        (with_("account", port=70000), "account.port", "at most 65535"),
        (with_("account", security="ssl"), "account.security", "one of tls, starttls"),
        (with_("account", password="hunter2"), "account.password", "do not belong"),
        (with_("account", hots="x"), "account.hots", "did you mean 'host'"),
        (with_("account", ca_file="/nonexistent/ca.pem"), "account.ca_file", "no such file"),
        (with_("schedule", timezone="Mars/Base"), "schedule.timezone", "unknown time zone"),
        (with_("schedule", country="XX"), "schedule.country", "no holiday calendar"),
        (with_("schedule", country="US", subdivision="ZZ"), "schedule.subdivision", "not a"),
        (with_("schedule", workday_start="8am"), "schedule.workday_start", "a time like"),
        (with_("policy", min_gap_days=3), "policy.min_gap_days", "pressure"),
        (with_("policy", checkin_to=["ceo"]), "policy.checkin_to", "recruiter"),
        (with_("policy", lint="maybe"), "policy.lint", "warn, block"),
        (with_("policy", max_checkins_video=True), "policy.max_checkins_video", "whole number"),
        (with_("daemon", poll_minutes=0), "daemon.poll_minutes", "at least"),
        # Issue 11: accepted by validation, then crashing the socket timeout.
        (with_("account", timeout_seconds=float("inf")), "account.timeout_seconds", "finite"),
        (with_("account", timeout_seconds=float("nan")), "account.timeout_seconds", "finite"),
        (with_("daemon", poll_minutes=float("inf")), "daemon.poll_minutes", "finite"),
        ({**BASE, "polcy": {}}, "polcy", "did you mean 'policy'"),
        (with_("templates", dir="/nonexistent"), "templates.dir", "no such directory"),
        (with_("account", kind="pop3"), "account.kind", "one of imap, maildir"),
        (with_("account", path="~/Mail"), "account.path", 'only for kind = "maildir"'),
        (MAILDIR, "account.host", 'only for kind = "imap"'),
        (
            {"account": {"email": "a@example.com", "name": "A", "kind": "maildir"}},
            "account.path",
            "required",
        ),
        (
            {
                "account": {
                    "email": "a@b.example",
                    "name": "A",
                    "kind": "maildir",
                    "path": "m",
                    "layout": "mh",
                }
            },
            "account.layout",
            "one of auto, maildir++, fs",
        ),
    ],
)
def test_errors_name_the_key(data: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        config.parse(data)
    assert err.value.key == key
    assert words in str(err.value)


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[account]\nemail = "a@example.com"\nname = "A"\nhost = "h.example.com"\n'
        '[storage]\ndatabase = "state/db.sqlite3"\n'
    )
    assert config.load(path).storage.database == tmp_path / "state" / "db.sqlite3"


def test_bad_toml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[account\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(path)


def test_rendered_config_round_trips() -> None:
    text = render_config(EXAMPLE)
    assert config.parse(tomllib.loads(text)).schedule.country == "GB"


def test_maildir_account_needs_no_server(tmp_path: Path) -> None:
    text = render_config(
        AccountAnswers(email="a@example.com", name="A", kind="maildir", path="Mail", layout="fs")
    )
    path = tmp_path / "c.toml"
    path.write_text(text)
    acct = config.load(path).account
    assert acct.is_maildir and acct.path == tmp_path / "Mail" and acct.layout == "fs"
    assert "host" not in tomllib.loads(text)["account"]


def test_a_minimal_file_gets_exactly_the_declared_defaults() -> None:
    # What tests build with PolicyConfig() is what a user without [policy] gets.
    cfg = config.parse(BASE)
    assert cfg.policy == config.PolicyConfig()
    assert cfg.schedule == config.ScheduleConfig()
    assert cfg.reminders == config.RemindersConfig()
    assert cfg.folders == config.FoldersConfig()
    assert cfg.templates == config.TemplatesConfig()
    assert cfg.daemon == config.DaemonConfig()
    assert cfg.storage == config.StorageConfig()
    assert cfg.account == config.AccountConfig(
        email="a@example.com", name="A B", host="imap.example.com"
    )


@pytest.mark.parametrize(("section", "cls"), config.SECTIONS, ids=[s for s, _ in config.SECTIONS])
def test_every_declared_key_is_in_the_rendered_file_with_its_default(
    section: str, cls: type[Any]
) -> None:
    rendered = tomllib.loads(render_config(EXAMPLE))
    answered = EXAMPLE.by_section().get(section, {})
    text = render_config(EXAMPLE)
    for f, spec, _ in config.settings(cls):
        if spec.only not in (None, EXAMPLE.kind):
            assert f.name not in rendered[section]
            continue
        if spec.table:  # a sub-table, written only when answered (test_oauth covers it)
            assert f.name not in rendered[section]
            continue
        if answered.get(f.name) or spec.example is not None:
            assert f.name in rendered[section] or f"# {f.name} = " in text
            continue
        default = config.default_of(f)
        got = config.parse(with_(section, **{f.name: rendered[section][f.name]}))
        assert getattr(getattr(got, section), f.name) == default


@pytest.mark.parametrize(("security", "port"), [("tls", 993), ("starttls", 143), ("insecure", 143)])
def test_the_port_follows_security_unless_given(security: str, port: int) -> None:
    assert config.parse(with_("account", security=security)).account.port == port
    assert config.parse(with_("account", security=security, port=1143)).account.port == 1143


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        (with_("account", name="  "), "account.name", "signs every draft"),
        (with_("account", host=""), "account.host", "must not be empty"),
        (with_("policy", checkin_to=[]), "policy.checkin_to", "must not be empty"),
        (with_("policy", min_gap_days=91), "policy.min_gap_days", "at most 90"),
        (with_("daemon", poll_minutes="5"), "daemon.poll_minutes", "a number"),
        (with_("reminders", calls="yes"), "reminders.calls", "true or false"),
        (with_("folders", watch="Jobs"), "folders.watch", "a list of strings"),
        (with_("schedule", workday_start="18:00"), "schedule.workday_end", "later than"),
        ({**BASE, "daemon": 5}, "daemon", "must be a table"),
    ],
)
def test_generic_rules_name_the_key(data: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        config.parse(data)
    assert err.value.key == key
    assert words in str(err.value)


NUMERIC = [
    (section, f.name, hint, spec)
    for section, cls in config.SECTIONS
    for f, spec, hint in config.settings(cls)
    if hint in (int, float) and spec.only in (None, "imap")
]


@pytest.mark.parametrize(
    ("section", "name", "hint", "spec"), NUMERIC, ids=[f"{s}.{n}" for s, n, _, _ in NUMERIC]
)
@settings(max_examples=20, deadline=None)
@given(
    value=st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.text(max_size=5),
    )
)
def test_any_number_is_taken_within_its_bounds_or_refused_naming_the_key(
    section: str, name: str, hint: type, spec: config.Spec, value: object
) -> None:
    try:
        got = getattr(getattr(config.parse(with_(section, **{name: value})), section), name)
    except ConfigError as exc:
        assert exc.key == f"{section}.{name}"
        return
    assert isinstance(got, hint) and not isinstance(value, bool | str)
    assert math.isfinite(got)
    assert spec.lo is None or got >= spec.lo
    assert spec.hi is None or got <= spec.hi
