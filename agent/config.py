"""TOML config → frozen dataclasses. Every error names its key path."""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from .errors import ConfigError
from .providers import PRESETS, PROVIDERS, Flow, Preset

APP_NAME = "followup"
SECURITY_CHOICES = ("tls", "starttls", "insecure")
ACCOUNT_KINDS = ("imap", "maildir")
MAILDIR_LAYOUTS = ("auto", "maildir++", "fs")
# Keys that only make sense for one kind of account.
IMAP_ONLY_KEYS = (
    "host",
    "port",
    "security",
    "username",
    "password_command",
    "ca_file",
    "timeout_seconds",
    "auth",
    "token_command",
    "oauth2",
)
AUTH_CHOICES = ("password", "oauth2")
MAILDIR_ONLY_KEYS = ("path", "layout")
CONTACT_ROLES = ("recruiter", "hiring_manager")
LINT_MODES = ("warn", "block")
# Fewer than 7 days between check-ins reads as pressure (career-advice consensus).
MIN_GAP_FLOOR_DAYS = 7

T = TypeVar("T")


@dataclass(frozen=True)
class OAuth2Config:
    """`[account.oauth2]` with the provider preset filled in; the secret is never here."""

    provider: str
    client_id: str
    authorize_url: str
    token_url: str
    device_authorization_url: str
    scopes: tuple[str, ...]
    flow: Flow
    redirect_uri: str
    extra_params: tuple[tuple[str, str], ...] = ()
    client_secret_command: str | None = None


@dataclass(frozen=True)
class AccountConfig:
    email: str
    name: str
    host: str = ""
    port: int = 993
    security: str = "tls"
    username: str = ""
    password_command: str | None = None
    ca_file: str | None = None
    timeout_seconds: float = 30.0
    kind: str = "imap"
    # kind = "maildir": the Maildir's root and its folder layout
    path: Path | None = None
    layout: str = "auto"
    # "oauth2": SASL XOAUTH2/OAUTHBEARER with a token from [account.oauth2] or token_command
    auth: str = "password"
    oauth2: OAuth2Config | None = None
    token_command: str | None = None

    @property
    def is_maildir(self) -> bool:
        return self.kind == "maildir"

    @property
    def login(self) -> str:
        return self.username or self.email

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()


@dataclass(frozen=True)
class FoldersConfig:
    drafts: str | None = None
    sent: str | None = None
    trash: str | None = None
    archive: str | None = None
    watch: tuple[str, ...] = ()

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
    timezone: str = "UTC"
    country: str | None = None
    subdivision: str | None = None
    workday_start: time = time(8, 0)
    workday_end: time = time(18, 0)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class PolicyConfig:
    thank_you_delay_minutes: int = 60
    thank_you_deadline_hours: int = 24
    decision_buffer_business_days: int = 2
    no_decision_business_days: int = 5
    min_gap_days: int = 8
    checkin_to: tuple[str, ...] = CONTACT_ROLES
    max_checkins_phone: int = 1
    max_checkins_video: int = 2
    max_checkins_onsite: int = 2
    extra_for_panel: int = 1
    extra_for_later_round: int = 1
    max_extra: int = 3
    lint: str = "warn"
    known_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemindersConfig:
    """Steps that are not emails: the agent reminds, the user acts."""

    linkedin: bool = True
    linkedin_after_days: int = 3
    handwritten_note: bool = False
    alert_references: bool = True
    calls: bool = False  # check in by phone instead of by email


@dataclass(frozen=True)
class StorageConfig:
    database: Path


@dataclass(frozen=True)
class TemplatesConfig:
    dir: Path | None = None


@dataclass(frozen=True)
class DaemonConfig:
    poll_minutes: float = 5.0
    idle: bool = True


@dataclass(frozen=True)
class Config:
    account: AccountConfig
    storage: StorageConfig
    folders: FoldersConfig = field(default_factory=FoldersConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    templates: TemplatesConfig = field(default_factory=TemplatesConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    path: Path | None = None


def default_config_path() -> Path:
    env = os.environ.get("FOLLOWUP_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_database_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / "followup.sqlite3"


class TableReader:
    """Reads one TOML table, remembering which keys were used."""

    def __init__(self, path: str, data: Any) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(path, f"must be a table, got {type(data).__name__}")
        self.path = path
        self.data: Mapping[str, Any] = data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def _get(self, name: str, kind: type[T] | tuple[type, ...], what: str, default: Any) -> Any:
        self.used.add(name)
        if name not in self.data:
            if default is _REQUIRED:
                raise ConfigError(self.key(name), "is required")
            return default
        value = self.data[name]
        # bool is an int subclass; a `true` where a number belongs is a mistake
        if isinstance(value, bool) and kind is not bool:
            raise ConfigError(self.key(name), f"must be {what}, got {value!r}")
        if not isinstance(value, kind):
            raise ConfigError(self.key(name), f"must be {what}, got {value!r}")
        return value

    def text(self, name: str, default: Any = None, choices: tuple[str, ...] = ()) -> Any:
        value = self._get(name, str, "a string", default)
        if value is not None and choices and value not in choices:
            raise ConfigError(self.key(name), f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def integer(self, name: str, default: Any, lo: int | None = None, hi: int | None = None) -> Any:
        value = self._get(name, int, "a whole number", default)
        _check_range(self.key(name), value, lo, hi)
        return value

    def number(self, name: str, default: Any, lo: float | None = None) -> Any:
        value = self._get(name, (int, float), "a number", default)
        _check_range(self.key(name), value, lo, None)
        return float(value)

    def flag(self, name: str, default: bool) -> bool:
        return bool(self._get(name, bool, "true or false", default))

    def strings(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self._get(name, list, "a list of strings", list(default))
        if not all(isinstance(v, str) for v in value):
            raise ConfigError(self.key(name), "must be a list of strings")
        return tuple(value)

    def clock(self, name: str, default: time) -> time:
        value = self._get(name, str, 'a time like "08:00"', None)
        if value is None:
            return default
        try:
            return time.fromisoformat(value)
        except ValueError:
            raise ConfigError(
                self.key(name), f'must be a time like "08:00"; got {value!r}'
            ) from None

    def sub(self, name: str) -> TableReader:
        self.used.add(name)
        return TableReader(self.key(name), self.data.get(name, {}))

    def finish(self) -> None:
        for name in self.data:
            if name not in self.used:
                hint = difflib.get_close_matches(name, sorted(self.used), n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise ConfigError(self.key(name), f"unknown key{extra}")


_REQUIRED = object()


def _check_range(key: str, value: Any, lo: Any, hi: Any) -> None:
    if value is None:
        return
    if lo is not None and value < lo:
        raise ConfigError(key, f"must be at least {lo}; got {value}")
    if hi is not None and value > hi:
        raise ConfigError(key, f"must be at most {hi}; got {value}")


def _email(section: TableReader, name: str) -> str:
    value: str = section.text(name, _REQUIRED)
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or " " in value:
        raise ConfigError(section.key(name), f"is not an email address: {value!r}")
    return value


def _account(s: TableReader, base: Path | None) -> AccountConfig:
    kind = s.text("kind", "imap", choices=ACCOUNT_KINDS)
    email = _email(s, "email")
    name = s.text("name", _REQUIRED)
    if not name.strip():
        raise ConfigError(s.key("name"), "must not be empty (it signs every draft)")
    # "password" is the one key we recognise only to refuse it.
    if "password" in s.data:
        raise ConfigError(
            s.key("password"),
            "passwords do not belong in the config file; use `followup set-password`, "
            "FOLLOWUP_PASSWORD or account.password_command",
        )
    for other in MAILDIR_ONLY_KEYS if kind == "imap" else IMAP_ONLY_KEYS:
        if other in s.data:
            wanted = "maildir" if kind == "imap" else "imap"
            raise ConfigError(s.key(other), f'is only for kind = "{wanted}" accounts')
    if kind == "maildir":
        path = _path(s.text("path", _REQUIRED), base)
        if path is None:
            raise ConfigError(s.key("path"), "must not be empty")
        return AccountConfig(
            kind=kind,
            email=email,
            name=name,
            path=path,
            layout=s.text("layout", "auto", choices=MAILDIR_LAYOUTS),
        )
    security = s.text("security", "tls", choices=SECURITY_CHOICES)
    auth, oauth2, token_command = _auth(s)
    default_port = 993 if security == "tls" else 143
    acct = AccountConfig(
        kind=kind,
        email=email,
        name=name,
        host=s.text("host", _REQUIRED),
        port=s.integer("port", default_port, 1, 65535),
        security=security,
        username=s.text("username", ""),
        password_command=s.text("password_command", None) or None,
        ca_file=s.text("ca_file", None) or None,
        timeout_seconds=s.number("timeout_seconds", 30.0, lo=1),
        auth=auth,
        oauth2=oauth2,
        token_command=token_command,
    )
    if not acct.host:
        raise ConfigError(s.key("host"), "must not be empty")
    if acct.ca_file and not Path(acct.ca_file).expanduser().is_file():
        raise ConfigError(s.key("ca_file"), f"no such file: {acct.ca_file}")
    return acct


def _auth(s: TableReader) -> tuple[str, OAuth2Config | None, str | None]:
    """account.auth, account.token_command and [account.oauth2]."""
    auth: str = s.text("auth", "password", choices=AUTH_CHOICES)
    token_command: str | None = s.text("token_command", None) or None
    has_table = "oauth2" in s.data
    if auth == "password":
        for key in ("token_command", "oauth2"):
            if key in s.data:
                raise ConfigError(s.key(key), 'is only used with account.auth = "oauth2"')
        return auth, None, None
    if "password_command" in s.data:
        raise ConfigError(s.key("password_command"), 'is not used with account.auth = "oauth2"')
    if token_command and has_table:
        raise ConfigError(
            s.key("token_command"), "set either token_command or [account.oauth2], not both"
        )
    if not token_command and not has_table:
        raise ConfigError(
            s.key("oauth2"),
            'is required with auth = "oauth2" (or set account.token_command); '
            "see the README for registering your own app",
        )
    oauth2 = None
    if has_table:
        section = s.sub("oauth2")
        oauth2 = _oauth2(section)
        section.finish()
    return auth, oauth2, token_command


def _oauth2(s: TableReader) -> OAuth2Config:
    provider = s.text("provider", _REQUIRED, choices=PROVIDERS)
    client_id = s.text("client_id", _REQUIRED)
    if not client_id.strip():
        raise ConfigError(s.key("client_id"), "must not be empty: register your own app")
    if "client_secret" in s.data:
        raise ConfigError(
            s.key("client_secret"),
            "secrets do not belong in the config file; use FOLLOWUP_OAUTH_CLIENT_SECRET, "
            "account.oauth2.client_secret_command or `followup login --store-secret`",
        )
    preset = PRESETS.get(provider)
    urls = _oauth2_urls(s, preset, s.text("tenant", None) if provider == "microsoft" else None)
    flow = _oauth2_flow(s, preset, urls)
    scopes = s.strings("scopes", preset.scopes if preset else ())
    if not scopes:
        raise ConfigError(s.key("scopes"), "must list the scopes IMAP access needs")
    redirect = s.text("redirect_uri", preset.redirect_uri if preset else "http://127.0.0.1/")
    if not redirect.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise ConfigError(
            s.key("redirect_uri"), "must be a loopback address like http://127.0.0.1/"
        )
    return OAuth2Config(
        provider=provider,
        client_id=client_id,
        scopes=scopes,
        flow=flow,
        redirect_uri=redirect,
        extra_params=preset.extra_params if preset else _custom_params(scopes),
        client_secret_command=s.text("client_secret_command", None) or None,
        **urls,
    )


def _oauth2_urls(s: TableReader, preset: Preset | None, tenant: str | None) -> dict[str, str]:
    """The three endpoints: from the preset, unless the config names them (custom must)."""
    urls: dict[str, str] = {}
    for key in ("authorize_url", "token_url", "device_authorization_url"):
        value = s.text(key, _REQUIRED if preset is None and key == "token_url" else None) or ""
        if value and not _safe_url(value):
            raise ConfigError(
                s.key(key), f"must be https:// (or http:// on loopback); got {value!r}"
            )
        if preset is not None:
            value = value or getattr(preset, key)
            # A Microsoft tenant (organisation) in place of the multi-tenant endpoint.
            value = value.replace("/common/", f"/{tenant}/") if tenant else value
        urls[key] = value
    return urls


def _oauth2_flow(s: TableReader, preset: Preset | None, urls: dict[str, str]) -> Flow:
    if preset is not None:
        default = preset.flow
    else:
        default = Flow.DEVICE if urls["device_authorization_url"] else Flow.PKCE
    flow = Flow(s.text("flow", default.value, choices=tuple(f.value for f in Flow)))
    if flow is Flow.DEVICE and not urls["device_authorization_url"]:
        raise ConfigError(s.key("device_authorization_url"), 'is required with flow = "device"')
    if flow is Flow.PKCE and not urls["authorize_url"]:
        raise ConfigError(s.key("authorize_url"), 'is required with flow = "pkce"')
    return flow


def _safe_url(url: str) -> bool:
    # Tokens cross this connection: TLS, except to this machine itself.
    if url.startswith("https://"):
        return True
    host = urlsplit(url).hostname or ""
    return url.startswith("http://") and host in ("127.0.0.1", "localhost", "::1")


def _custom_params(scopes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # OpenID Connect servers ignore offline_access (no refresh token) unless
    # the user is asked for consent (OIDC Core 1.0 section 11).
    return (("prompt", "consent"),) if "offline_access" in scopes else ()


def _schedule(s: TableReader) -> ScheduleConfig:
    tz = s.text("timezone", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(s.key("timezone"), f"unknown time zone {tz!r} (use Area/City)") from None
    country = s.text("country", None) or None
    subdivision = s.text("subdivision", None) or None
    if country:
        import holidays

        supported = holidays.list_supported_countries()
        if country.upper() not in supported:
            raise ConfigError(s.key("country"), f"no holiday calendar for {country!r}")
        country = country.upper()
        if subdivision and subdivision.upper() not in {str(x).upper() for x in supported[country]}:
            raise ConfigError(
                s.key("subdivision"), f"{subdivision!r} is not a subdivision of {country}"
            )
    elif subdivision:
        raise ConfigError(s.key("subdivision"), "needs schedule.country too")
    start = s.clock("workday_start", time(8, 0))
    end = s.clock("workday_end", time(18, 0))
    if end <= start:
        raise ConfigError(s.key("workday_end"), "must be later than schedule.workday_start")
    return ScheduleConfig(tz, country, subdivision.upper() if subdivision else None, start, end)


def _policy(s: TableReader) -> PolicyConfig:
    min_gap = s.integer("min_gap_days", 8, 1, 90)
    if min_gap < MIN_GAP_FLOOR_DAYS:
        raise ConfigError(
            s.key("min_gap_days"),
            f"must be at least {MIN_GAP_FLOOR_DAYS}: check-ins closer than a week apart "
            "read as pressure and hurt the application",
        )
    checkin_to = s.strings("checkin_to", CONTACT_ROLES)
    if not checkin_to or any(r not in CONTACT_ROLES for r in checkin_to):
        raise ConfigError(
            s.key("checkin_to"), f"must list one or both of {', '.join(CONTACT_ROLES)}"
        )
    return PolicyConfig(
        thank_you_delay_minutes=s.integer("thank_you_delay_minutes", 60, 0, 24 * 60),
        thank_you_deadline_hours=s.integer("thank_you_deadline_hours", 24, 1, 72),
        decision_buffer_business_days=s.integer("decision_buffer_business_days", 2, 1, 30),
        no_decision_business_days=s.integer("no_decision_business_days", 5, 1, 30),
        min_gap_days=min_gap,
        checkin_to=checkin_to,
        max_checkins_phone=s.integer("max_checkins_phone", 1, 0, 5),
        max_checkins_video=s.integer("max_checkins_video", 2, 0, 5),
        max_checkins_onsite=s.integer("max_checkins_onsite", 2, 0, 5),
        extra_for_panel=s.integer("extra_for_panel", 1, 0, 3),
        extra_for_later_round=s.integer("extra_for_later_round", 1, 0, 3),
        max_extra=s.integer("max_extra", 3, 0, 3),
        lint=s.text("lint", "warn", choices=LINT_MODES),
        known_words=s.strings("known_words", ()),
    )


def _reminders(s: TableReader) -> RemindersConfig:
    return RemindersConfig(
        linkedin=s.flag("linkedin", True),
        linkedin_after_days=s.integer("linkedin_after_days", 3, 0, 30),
        handwritten_note=s.flag("handwritten_note", False),
        alert_references=s.flag("alert_references", True),
        calls=s.flag("calls", False),
    )


def _path(value: str | None, base: Path | None) -> Path | None:
    if not value:
        return None
    p = Path(value).expanduser()
    if not p.is_absolute() and base is not None:
        p = base / p
    return p


def parse(data: Mapping[str, Any], path: Path | None = None) -> Config:
    """Validate a decoded TOML document."""
    root = TableReader("", data)
    base = path.parent if path else None
    account = _account(acc := root.sub("account"), base)
    acc.finish()
    fs = root.sub("folders")
    folders = FoldersConfig(
        drafts=fs.text("drafts", None) or None,
        sent=fs.text("sent", None) or None,
        trash=fs.text("trash", None) or None,
        archive=fs.text("archive", None) or None,
        watch=fs.strings("watch", ()),
    )
    fs.finish()
    schedule = _schedule(sc := root.sub("schedule"))
    sc.finish()
    policy = _policy(po := root.sub("policy"))
    po.finish()
    reminders = _reminders(rm := root.sub("reminders"))
    rm.finish()
    st = root.sub("storage")
    database = _path(st.text("database", None), base) or default_database_path()
    st.finish()
    tp = root.sub("templates")
    tdir = _path(tp.text("dir", None), base)
    if tdir is not None and not tdir.is_dir():
        raise ConfigError("templates.dir", f"no such directory: {tdir}")
    tp.finish()
    dm = root.sub("daemon")
    daemon = DaemonConfig(
        poll_minutes=dm.number("poll_minutes", 5.0, lo=0.1), idle=dm.flag("idle", True)
    )
    dm.finish()
    root.finish()
    return Config(
        account=account,
        storage=StorageConfig(database=database),
        folders=folders,
        schedule=schedule,
        policy=policy,
        reminders=reminders,
        templates=TemplatesConfig(dir=tdir),
        daemon=daemon,
        path=path,
    )


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
