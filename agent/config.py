"""TOML config → frozen dataclasses. Every error names its key path.

Each setting is declared once, as a dataclass field made by `setting()`: its
name and type (the annotation), its default, its bounds or allowed values and
the comment `followup init` writes above it (a `Spec` in the field's
metadata). The parser validates from those declarations and configfile.py
renders the commented file from them, so `PolicyConfig()` in a test and a user's
file without a [policy] table get the same values by construction. Rules that
span several keys (kind-specific keys, the port that follows security, time
zones and holiday calendars) are the `_rules_*` functions below.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from .configspec import (
    Spec,
    computed,
    default_of,
    needed,
    read_section,
    setting,
    settings,
    subtable,
)
from .errors import ConfigError
from .models import Role
from .oauthconfig import OAuth2Config, OAuth2Settings, oauth2_config
from .tomltable import TableReader

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["Spec", "default_of", "settings"]
S = TypeVar("S", bound="DataclassInstance")

APP_NAME = "followup"


class AccountKind(StrEnum):
    IMAP = "imap"
    MAILDIR = "maildir"


class Security(StrEnum):
    TLS = "tls"
    STARTTLS = "starttls"
    INSECURE = "insecure"  # plaintext: only with this explicit, loudly-logged switch


class MaildirLayout(StrEnum):
    AUTO = "auto"
    MAILDIR_PLUS = "maildir++"
    FS = "fs"


class LintMode(StrEnum):
    WARN = "warn"
    BLOCK = "block"


class AuthMethod(StrEnum):
    PASSWORD = "password"
    OAUTH2 = "oauth2"  # SASL XOAUTH2 / OAUTHBEARER with a bearer token


class InvitationMode(StrEnum):
    ASK = "ask"  # list them in `followup invites`
    AUTO = "auto"  # add interview-like invitations at once
    OFF = "off"  # leave calendar mail alone


# The allowed values as strings, for argparse choices and messages.
ACCOUNT_KINDS = tuple(k.value for k in AccountKind)
SECURITY_CHOICES = tuple(s.value for s in Security)
MAILDIR_LAYOUTS = tuple(m.value for m in MaildirLayout)
LINT_MODES = tuple(m.value for m in LintMode)
AUTH_CHOICES = tuple(m.value for m in AuthMethod)
# Who may receive check-ins.
CONTACT_ROLES = (Role.RECRUITER.value, Role.HIRING_MANAGER.value)
# Fewer than 7 days between check-ins reads as pressure (career-advice consensus).
MIN_GAP_FLOOR_DAYS = 7
PORT_TLS, PORT_PLAIN = 993, 143


def default_config_path() -> Path:
    env = os.environ.get("FOLLOWUP_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_database_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / "followup.sqlite3"


@dataclass(frozen=True)
class AccountConfig:
    """Where the mail is."""

    email: str = needed(str, "Required: the address the drafts come from.")
    name: str = needed(str, "Required: the name that signs the drafts.", why="it signs every draft")
    kind: AccountKind = setting(
        AccountKind.IMAP,
        'Where your mail is: "imap" (a server) or "maildir" (a local Maildir, kept\n'
        "in sync by mbsync or offlineimap, read with mutt, aerc or notmuch).",
    )
    host: str = setting(
        "",
        "IMAP server (required), port (default 993 for tls, 143 otherwise), and\n"
        "transport security:\n"
        '  "tls" = implicit TLS (port 993), "starttls" = upgrade on port 143,\n'
        '  "insecure" = plaintext; only for a server on this machine, logged loudly.',
        required=True,
        nonempty=True,
        only="imap",
    )
    port: int = setting(PORT_TLS, lo=1, hi=65535, only="imap")
    security: Security = setting(Security.TLS, only="imap")
    username: str = setting(
        "", "Login name when it is not the email address.", only="imap", example="me"
    )
    auth: AuthMethod = setting(
        AuthMethod.PASSWORD,
        'Sign-in: "password", or "oauth2" for Gmail / Microsoft 365 (SASL XOAUTH2 or\n'
        "OAUTHBEARER with a token from your own registered app, [account.oauth2] below;\n"
        "`followup login` signs in; see the README).",
        only="imap",
    )
    token_command: str | None = setting(
        None,
        'With auth = "oauth2": a command that prints an access token (oama,\n'
        "mutt_oauth2.py, email-oauth2-proxy), instead of [account.oauth2].",
        only="imap",
        example="oama access me@example.com",
    )
    oauth2: OAuth2Config | None = subtable(
        OAuth2Config, "Your own OAuth app: provider, client_id (see [account.oauth2]).", only="imap"
    )
    password_command: str | None = setting(
        None,
        "The password is never stored here. followup reads, in order: the\n"
        "FOLLOWUP_PASSWORD environment variable, the output of password_command,\n"
        "then the system keyring (`followup set-password`).",
        only="imap",
        example="pass show mail/imap",
    )
    ca_file: str | None = setting(
        None,
        "CA certificate (PEM) to trust, for a server with a self-signed certificate.",
        only="imap",
        example="/path/to/ca.pem",
    )
    timeout_seconds: float = setting(
        30.0, "Seconds before a silent server counts as gone.", lo=1, hi=3600, only="imap"
    )
    path: Path | None = setting(
        None,
        "The Maildir's root directory (required).",
        required=True,
        nonempty=True,
        only="maildir",
    )
    layout: MaildirLayout = setting(
        MaildirLayout.AUTO,
        'Folder layout: "maildir++" (INBOX is the root, folders are .Drafts, .Sent),\n'
        '"fs" (folders are directories: INBOX/, Drafts/, Sent/) or "auto" (detect).\n'
        "No password: followup reads and writes the files directly. Drafts land in\n"
        "Drafts/cur flagged D (draft); your sync tool uploads them.",
        only="maildir",
    )

    @property
    def is_maildir(self) -> bool:
        return self.kind is AccountKind.MAILDIR

    @property
    def login(self) -> str:
        return self.username or self.email

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()


_FOLDER_DOC = (
    "Drafts, Sent, Trash and Archive are found by their SPECIAL-USE flags\n"
    "(RFC 6154) on a server, else by their usual names in ten languages\n"
    "(Entwürfe, Sent Items, Corbeille, [Gmail].Drafts, ...; `followup check`\n"
    "shows what it found and every folder there is). Name them here only if\n"
    "it guessed wrong: as your mail client shows them, with or without an\n"
    '"INBOX." prefix (and without the leading dot of Maildir++). Without a\n'
    "Trash, drafts to withdraw stay in Drafts for you to delete."
)


@dataclass(frozen=True)
class FoldersConfig:
    drafts: str | None = setting(None, _FOLDER_DOC, example="Drafts")
    sent: str | None = setting(None, example="Sent")
    trash: str | None = setting(None, example="Trash")
    archive: str | None = setting(None, example="Archive")
    watch: tuple[str, ...] = setting(
        (),
        "More folders to watch for replies, besides INBOX and Sent\n"
        "(e.g. where a filter files mail from recruiters).",
    )

    def overrides(self) -> dict[str, str]:
        pairs = {
            "drafts": self.drafts,
            "sent": self.sent,
            "trash": self.trash,
            "archive": self.archive,
        }
        return {k: v for k, v in pairs.items() if v}


@dataclass(frozen=True)
class ScheduleConfig:
    timezone: str = setting(
        "UTC", "Your time zone (Area/City): business days, working hours and --now use it."
    )
    country: str | None = setting(
        None,
        "Public holidays are not business days: ISO country code and optional\n"
        "subdivision (state, province), as the `holidays` package names them.",
        example="US",
    )
    subdivision: str | None = setting(None, example="CA")
    workday_start: time = setting(
        time(8, 0),
        "Check-in drafts appear at the start of a working day so you can send them\n"
        "in business hours.",
    )
    workday_end: time = setting(time(18, 0))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class PolicyConfig:
    thank_you_delay_minutes: int = setting(
        60,
        "Thank-you notes are drafted this long after the interview ends, and always\n"
        "within the deadline.",
        lo=0,
        hi=24 * 60,
    )
    thank_you_deadline_hours: int = setting(24, lo=1, hi=72)
    decision_buffer_business_days: int = setting(
        2,
        "First check-in: business days after the decision date they gave you\n"
        "(at least 1), or after the interview when they gave none.",
        lo=1,
        hi=30,
    )
    no_decision_business_days: int = setting(5, lo=1, hi=30)
    min_gap_days: int = setting(
        8,
        f"Days between check-ins; less than {MIN_GAP_FLOOR_DAYS} is refused "
        "(it reads as pressure).",
        lo=MIN_GAP_FLOOR_DAYS,
        hi=90,
        why="check-ins closer than a week apart read as pressure and hurt the application",
    )
    checkin_to: tuple[str, ...] = setting(
        CONTACT_ROLES,
        'Who receives check-ins, in order: "recruiter", "hiring_manager" or both.\n'
        "Each check-in goes to ONE person: the first role listed that has someone\n"
        "with a working address. With both known, only the first listed is written\n"
        "to (the other is not copied); if that address bounces, the next role takes\n"
        "over. With neither known, the agency recruiter (they relay to the company),\n"
        "else the person met: the only interviewer, or the first listed of a panel\n"
        "(else whoever was met). `followup add` warns when no one can receive one.",
        choices=CONTACT_ROLES,
        nonempty=True,
    )
    max_checkins_phone: int = setting(
        1,
        "How many check-ins an interview earns, by kind, and the extra ones for a\n"
        "panel (several interviewers) or a later round, capped by max_extra.",
        lo=0,
        hi=5,
    )
    max_checkins_video: int = setting(2, lo=0, hi=5)
    max_checkins_onsite: int = setting(2, lo=0, hi=5)
    extra_for_panel: int = setting(1, lo=0, hi=3)
    extra_for_later_round: int = setting(1, lo=0, hi=3)
    max_extra: int = setting(3, lo=0, hi=3)
    lint: LintMode = setting(
        LintMode.WARN,
        "What happens when a draft fails the tone/length/spelling lint:\n"
        '"warn" writes it and reports the finding; "block" holds it back.',
    )
    known_words: tuple[str, ...] = setting(
        (),
        "Words of your trade the spelling check should accept (names of people,\n"
        "the company and the role are accepted already).",
    )


@dataclass(frozen=True)
class RemindersConfig:
    """Steps that are not emails: the agent reminds, the user acts."""

    linkedin: bool = setting(
        True,
        "Steps that are not emails: `followup agenda` lists them, `followup done ID`\n"
        "ticks them off. A LinkedIn invitation to the people you met, this many days\n"
        "after the thank-you notes.",
    )
    linkedin_after_days: int = setting(3, lo=0, hi=30)
    handwritten_note: bool = setting(False, "A handwritten card as well as the thank-you email.")
    alert_references: bool = setting(
        True,
        "After a final round (`followup add --final`), tell your references to\nexpect a call.",
    )
    answer_rejection: bool = setting(
        True,
        "After a rejection, a reminder (never a draft) to answer it graciously:\n"
        "thank them and ask to be kept in mind for future roles.",
    )
    calls: bool = setting(
        False,
        "Check in by phone instead of by email: check-ins become call reminders\n"
        "(same timing and limits); marking one done counts as a contact.",
    )


@dataclass(frozen=True)
class StorageConfig:
    database: Path = computed(
        default_database_path,
        "SQLite database (default: the platform data directory).",
        example="~/.local/share/followup/followup.sqlite3",
    )


@dataclass(frozen=True)
class TemplatesConfig:
    dir: Path | None = setting(
        None,
        "A directory whose templates override the built-in ones of the same name.",
        example="~/.config/followup/templates",
    )


@dataclass(frozen=True)
class DaemonConfig:
    poll_minutes: float = setting(
        5.0,
        "Minutes between mailbox checks; IDLE wakes the daemon sooner when the\n"
        "server supports it.",
        lo=0.1,
        hi=24 * 60,
    )
    idle: bool = setting(True)
    notify: bool = setting(
        True,
        "A desktop notification (freedesktop, where a desktop session exists) when\n"
        "the daemon writes drafts; false: none.",
    )


@dataclass(frozen=True)
class IntakeConfig:
    """Where interviews come from besides `followup add`."""

    invitations: InvitationMode = setting(
        InvitationMode.ASK,
        "Calendar invitations in the mailbox that look like job interviews:\n"
        '"ask" lists them in `followup invites` (agenda and status say how many),\n'
        '"auto" adds them at once (run --once says so), "off" leaves them alone.',
    )


@dataclass(frozen=True)
class Config:
    account: AccountConfig
    storage: StorageConfig = field(default_factory=StorageConfig)
    folders: FoldersConfig = field(default_factory=FoldersConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    templates: TemplatesConfig = field(default_factory=TemplatesConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    intake: IntakeConfig = field(default_factory=IntakeConfig)
    path: Path | None = None


# The tables of the file, in the order `followup init` writes them.
SECTIONS: Final[tuple[tuple[str, type[DataclassInstance]], ...]] = (
    ("account", AccountConfig),
    ("folders", FoldersConfig),
    ("schedule", ScheduleConfig),
    ("policy", PolicyConfig),
    ("reminders", RemindersConfig),
    ("storage", StorageConfig),
    ("templates", TemplatesConfig),
    ("daemon", DaemonConfig),
    ("intake", IntakeConfig),
)


# -- rules that span keys -----------------------------------------------------


def _check_email(r: TableReader, name: str, value: str) -> None:
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or " " in value:
        raise r.fail(name, f"is not an email address: {value!r}")


def _rules_account(r: TableReader, acct: AccountConfig) -> AccountConfig:
    # "password" is the one key we recognise only to refuse it.
    if r.has("password"):
        raise r.fail(
            "password",
            "passwords do not belong in the config file; use `followup set-password`, "
            "FOLLOWUP_PASSWORD or account.password_command",
        )
    _check_email(r, "email", acct.email)
    if acct.ca_file and not Path(acct.ca_file).expanduser().is_file():
        raise r.fail("ca_file", f"no such file: {acct.ca_file}")
    acct = _rules_auth(r, acct)
    if not acct.is_maildir and not r.has("port") and acct.security is not Security.TLS:
        return replace(acct, port=PORT_PLAIN)
    return acct


def _rules_auth(r: TableReader, acct: AccountConfig) -> AccountConfig:
    """auth, token_command and [account.oauth2] go together, or not at all."""
    if acct.is_maildir:
        return acct
    if acct.auth is AuthMethod.PASSWORD:
        for key in ("token_command", "oauth2"):
            if r.has(key):
                raise r.fail(key, 'is only used with account.auth = "oauth2"')
        return acct
    if r.has("password_command"):
        raise r.fail("password_command", 'is not used with account.auth = "oauth2"')
    has_table = r.has("oauth2")
    if acct.token_command and has_table:
        raise r.fail("token_command", "set either token_command or [account.oauth2], not both")
    if not acct.token_command and not has_table:
        raise r.fail(
            "oauth2",
            'is required with auth = "oauth2" (or set account.token_command); '
            "see the README for registering your own app",
        )
    if not has_table:
        return acct
    section = r.sub("oauth2")
    if section.has("client_secret"):
        raise section.fail(
            "client_secret",
            "secrets do not belong in the config file; use FOLLOWUP_OAUTH_CLIENT_SECRET, "
            "account.oauth2.client_secret_command or `followup login --store-secret`",
        )
    oauth2 = oauth2_config(section, read_section(section, OAuth2Settings, None))
    section.finish()
    return replace(acct, oauth2=oauth2)


def _rules_schedule(r: TableReader, s: ScheduleConfig) -> ScheduleConfig:
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail("timezone", f"unknown time zone {s.timezone!r} (use Area/City)") from None
    country, subdivision = s.country, s.subdivision
    if country:
        import holidays

        supported = holidays.list_supported_countries()
        country = country.upper()
        if country not in supported:
            raise r.fail("country", f"no holiday calendar for {s.country!r}")
        if subdivision and subdivision.upper() not in {str(x).upper() for x in supported[country]}:
            raise r.fail("subdivision", f"{subdivision!r} is not a subdivision of {country}")
    elif subdivision:
        raise r.fail("subdivision", "needs schedule.country too")
    if s.workday_end <= s.workday_start:
        raise r.fail("workday_end", "must be later than schedule.workday_start")
    return replace(s, country=country, subdivision=subdivision.upper() if subdivision else None)


def _rules_templates(r: TableReader, t: TemplatesConfig) -> TemplatesConfig:
    if t.dir is not None and not t.dir.is_dir():
        raise r.fail("dir", f"no such directory: {t.dir}")
    return t


def _same(r: TableReader, value: S) -> S:
    return value


def parse(data: Mapping[str, object], path: Path | None = None) -> Config:
    """Validate a decoded TOML document."""
    root = TableReader("", data, ConfigError)
    base = path.parent if path else None

    def table(name: str, cls: type[S], rules: Callable[[TableReader, S], S] = _same) -> S:
        r = root.sub(name)
        value = rules(r, read_section(r, cls, base))
        r.finish()
        return value

    cfg = Config(
        account=table("account", AccountConfig, _rules_account),
        folders=table("folders", FoldersConfig),
        schedule=table("schedule", ScheduleConfig, _rules_schedule),
        policy=table("policy", PolicyConfig),
        reminders=table("reminders", RemindersConfig),
        storage=table("storage", StorageConfig),
        templates=table("templates", TemplatesConfig, _rules_templates),
        daemon=table("daemon", DaemonConfig),
        intake=table("intake", IntakeConfig),
        path=path,
    )
    root.finish()
    return cfg


def load(path: Path | None = None) -> Config:
    """Read and validate the config file (default: the platform config dir)."""
    path = path or default_config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("", f"no config file at {path}; run `followup init` first") from None
    except OSError as exc:
        raise ConfigError("", f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("", f"{path} is not valid TOML: {exc}") from exc
    return parse(data, path)
