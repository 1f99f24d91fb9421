"""Setting up: `followup init`, `set-password` and `check` (prompts and their answers)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from . import config, credentials, presets, providers, trylogin, wizard
from .cli_context import Context
from .configfile import AccountAnswers, render_config
from .errors import CredentialError, FollowupError, UsageError
from .folders import folder_notes
from .services import check_account


def cmd_init(ctx: Context) -> int:
    a = ctx.args
    path = ctx.config_path
    if path.exists() and not a.force:
        raise UsageError(f"{path} exists; pass --force to change it (its values are the defaults)")
    # Without a terminal, what the options and defaults leave open is an error, not a prompt.
    ask = wizard.Prompter(a.no_input, input, print, terminal=sys.stdin.isatty())
    old = _current(path) if path.exists() else None
    answers = _ask_all(a, ask, old)
    # Validate before writing: a config we cannot load is worse than none.
    cfg = config.parse(tomllib.loads(render_config(answers)), path)
    oauth2 = cfg.account.auth is config.AuthMethod.OAUTH2
    password = ""
    if not (oauth2 or cfg.account.is_maildir or a.no_input or os.environ.get(credentials.ENV_VAR)):
        if ask.asks:
            password = getpass.getpass(f"IMAP password for {cfg.account.login}: ")
        else:
            print("no terminal to ask the password: store it with followup set-password")
    if password:
        answers = _tested(answers, path, ask, password)
    text = render_config(answers)
    cfg = config.parse(tomllib.loads(text), path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    print(f"wrote {path}")
    if password:
        _store_password(cfg.account, password)
    if oauth2 and ask.yes("Sign in now?"):
        return run_login(ctx)
    print("next: followup login, then followup check" if oauth2 else "next: followup check")
    return 0


def _current(path: Path) -> config.Config | None:
    """The config `init --force` starts from; None when it cannot be read."""
    try:
        return config.load(path)
    except FollowupError as exc:
        print(f"(not starting from {path}: {exc})")
        return None


@dataclass(frozen=True)
class _Defaults:
    """What each question offers: the current config's values (`--force`), else blanks."""

    email: str = ""
    name: str = ""
    maildir: str = ""
    host: str = ""
    security: str = ""
    port: int = 0
    username: str | None = None  # None: from the preset
    ca_file: str = ""
    timezone: str = ""
    country: str | None = None  # None: from the time zone
    subdivision: str = ""
    database: str = ""

    @classmethod
    def of(cls, old: config.Config | None) -> _Defaults:
        if old is None:
            return cls()
        acct, sched = old.account, old.schedule
        imap = not acct.is_maildir
        return cls(
            email=acct.email,
            name=acct.name,
            maildir=str(acct.path) if acct.is_maildir else "",
            host=acct.host if imap else "",
            security=str(acct.security) if imap else "",
            port=acct.port if imap else 0,
            username=acct.username or "",
            ca_file=acct.ca_file or "",
            timezone=sched.timezone,
            country=sched.country or "",
            subdivision=sched.subdivision or "",
            database=str(old.storage.database),
        )


def _ask_all(
    a: argparse.Namespace, ask: wizard.Prompter, old: config.Config | None
) -> AccountAnswers:
    was = _Defaults.of(old)
    email = ask.ask("Email address", was.email, a.email, wizard.check_email, "--email")
    name = ask.ask(
        "Your name (signs the drafts)", was.name, a.name, wizard.check_nonempty, "--name"
    )
    maildir = a.maildir or ("" if _imap_flags(a) else was.maildir)
    if maildir:
        root = Path(maildir).expanduser().resolve()
        if not root.is_dir():
            raise UsageError(f"--maildir: no such directory: {root}")
        store: dict[str, Any] = {"kind": "maildir", "path": str(root), "layout": a.layout}
    else:
        store = _init_imap(a, email, ask, was)
    tzname = ask.ask(
        "Time zone (Area/City)",
        was.timezone or _system_timezone(),
        a.timezone,
        wizard.check_timezone,
        "--timezone",
    )
    # Offered from the zone where a person confirms it; a script's holidays stay as it says.
    guess = wizard.country_of_zone(tzname) if ask.asks else ""
    country = ask.ask(
        "Country for public holidays (ISO code; none: no holidays)",
        guess if was.country is None else was.country,
        a.country,
        wizard.check_country,
        "--country",
    )
    if not country:
        print("public holidays: none are skipped (init --force --country XX to change that)")
    database = a.database or was.database
    return AccountAnswers(
        email=email,
        name=name,
        **store,
        timezone=tzname,
        country=country,
        subdivision=a.subdivision or was.subdivision,
        database=str(Path(database).expanduser().resolve()) if database else "",
    )


def _imap_flags(a: argparse.Namespace) -> bool:
    return bool(a.host or a.port or a.security)


def _tested(
    answers: AccountAnswers, path: Path, ask: wizard.Prompter, password: str
) -> AccountAnswers:
    """Log in with the answers before anything is written; offer a CA file for a strange cert."""
    while True:
        acct = config.parse(tomllib.loads(render_config(answers)), path).account
        print(f"trying {acct.host}:{acct.port} ({acct.security}) as {acct.login} ...")
        tried = trylogin.try_login(acct, password)
        if not tried.problem:
            print("  logged in")
            return answers
        print(f"  {tried.problem}")
        if tried.untrusted:
            if fp := trylogin.fingerprint(acct):
                print(f"  its certificate's SHA-256 fingerprint: {fp}")
            ca = ask.ask(
                "CA file (PEM) to trust for it (empty: none)", "", None, wizard.check_ca_file
            )
            if ca:
                answers = replace(answers, ca_file=ca)
                continue
        if ask.yes("Keep these answers anyway (fix them later, then followup check)?"):
            return answers
        raise UsageError("nothing written: run followup init again")


def _store_password(account: config.AccountConfig, password: str) -> None:
    """Store the password in the keyring; without one, say the other ways (config kept)."""
    try:
        credentials.store_password(account, password)
    except CredentialError:
        print(
            "no system keyring can store the password here (headless, SSH, root?); your answers "
            "are kept. Give the password one of these ways:\n"
            f"  - the environment: export {credentials.ENV_VAR}=... (for the systemd unit: the "
            "env file in the README)\n"
            '  - a command in the config: [account] password_command = "pass show mail/imap"\n'
            "  - a keyring: install one (gnome-keyring, KeePassXC), then followup set-password"
        )
        return
    print("password stored in the system keyring")


def _init_imap(
    a: argparse.Namespace, email: str, ask: wizard.Prompter, was: _Defaults
) -> dict[str, Any]:
    preset = presets.preset_for(email)
    if preset is not None and not was.host:
        print(f"{preset.label}: {preset.host}, port {preset.port} ({preset.security})")
        print(f"  {preset.advice}")
    oauth = _init_oauth2(
        a, email, lambda value, prompt, default="": ask.ask(prompt, default, value)
    )
    host, security, port = _ask_server(a, email, ask, was, preset, oauth)
    ca_file = a.ca_file or was.ca_file
    if preset and preset.needs_ca_file and not ca_file:
        ca_file = ask.ask(
            "CA file (PEM) to trust for this server (empty: none)", "", None, wizard.check_ca_file
        )
    elif ca_file:
        ca_file = ask.ask("CA file", "", ca_file, wizard.check_ca_file, "--ca-file")
    username = a.username or (
        presets.username_for(preset, email) if was.username is None else was.username
    )
    return {
        "host": host,
        "port": port,
        "security": security,
        "username": username,
        "ca_file": ca_file,
        **oauth.fields(),
    }


def _ask_server(
    a: argparse.Namespace,
    email: str,
    ask: wizard.Prompter,
    was: _Defaults,
    preset: presets.MailPreset | None,
    oauth: _OAuthAnswers,
) -> tuple[str, str, int]:
    """Host, security and port: the current values, else the preset's, else the usual."""
    guess = (preset.host if preset else "") or providers.IMAP_HOSTS.get(oauth.oauth2_provider, "")
    host = ask.ask(
        "IMAP server",
        was.host or guess or f"imap.{email.rpartition('@')[2]}",
        a.host,
        wizard.check_nonempty,
        "--host",
    )
    choices = config.SECURITY_CHOICES
    security = ask.ask(
        f"Security ({', '.join(choices)})",
        was.security or (preset.security if preset else "tls"),
        a.security,
        wizard.check_choice(choices, wizard.SECURITY_ALIASES),
        "--security",
    )
    if was.security == security:
        default_port = was.port
    elif preset and preset.security == security:
        default_port = preset.port
    else:
        default_port = config.PORT_TLS if security == "tls" else config.PORT_PLAIN
    port = ask.ask("Port", str(default_port), a.port, wizard.check_port, "--port")
    return host, security, int(port)


@dataclass(frozen=True)
class _OAuthAnswers:
    oauth2_provider: str = ""
    oauth2_client_id: str = ""

    def fields(self) -> dict[str, str]:
        return {"oauth2_provider": self.oauth2_provider, "oauth2_client_id": self.oauth2_client_id}


def _init_oauth2(a: argparse.Namespace, email: str, ask: Callable[..., str]) -> _OAuthAnswers:
    """Offer OAuth2 for an address at Google or Microsoft (their IMAP wants it)."""
    provider = a.oauth2_provider or providers.provider_for_address(email) or ""
    if not provider or (a.no_input and not a.oauth2_client_id):
        return _OAuthAnswers()
    label = providers.PRESETS[provider].label
    client_id = a.oauth2_client_id or ask(
        None,
        f"Client id of your own {label} OAuth app for OAuth2 sign-in (see the README; "
        "empty: use a password)",
    )
    if not client_id.strip():
        return _OAuthAnswers()
    return _OAuthAnswers(provider, client_id.strip())


def cmd_login(ctx: Context) -> int:
    a = ctx.args
    if a.store_secret:
        secret = getpass.getpass("client secret of your OAuth app (stored in the keyring): ")
        if secret:
            credentials.store_client_secret(ctx.cfg.account, secret)
    return run_login(ctx, a.flow, not a.no_browser, a.wait)


def run_login(ctx: Context, flow: str | None = None, browser: bool = True, wait: float = 5) -> int:
    """Sign in with OAuth2 and keep the refresh token; prints what it waits for."""
    from .login import login

    cfg = ctx.cfg
    if cfg.account.auth is not config.AuthMethod.OAUTH2:
        raise UsageError('followup login is for account.auth = "oauth2" (see the README)')
    result = login(
        cfg.account,
        cfg.storage.database.parent,
        lambda line: print(line, flush=True),
        flow=providers.Flow(flow) if flow else None,
        browser=browser,
        timeout=timedelta(minutes=wait),
    )
    print(f"signed in as {cfg.account.login}; scopes: {' '.join(result.grant.scopes)}")
    print(f"refresh token stored in {result.stored_in}")
    print("next: followup check")
    return 0


def _system_timezone() -> str:
    try:
        target = os.readlink("/etc/localtime")
        return target.split("zoneinfo/", 1)[1]
    except (OSError, IndexError):
        return os.environ.get("TZ", "UTC") or "UTC"


def cmd_set_password(ctx: Context) -> int:
    acct = ctx.cfg.account
    if acct.is_maildir:
        raise UsageError("a Maildir account needs no password: followup reads the files directly")
    password = getpass.getpass(f"IMAP password for {acct.login} at {acct.host}: ")
    if not password:
        raise UsageError("no password given")
    credentials.store_password(acct, password)
    print("stored in the system keyring")
    return 0


def cmd_check(ctx: Context) -> int:
    found = check_account(ctx.cfg)
    info, folders = found.info, found.folders
    acct = ctx.cfg.account
    if acct.is_maildir:
        print(f"opened {info.greeting}: no server, no password")
    else:
        print(f"logged in to {acct.host}:{acct.port} ({acct.security}) as {acct.login}")
    for line in found.auth:
        print(line)
    for role in ("drafts", "sent", "trash", "archive"):
        name = getattr(folders, role)
        how = folders.found_by.get(role, "")
        print(f"  {role:8} {name or '— (none)'}" + (f"  (by {how})" if name else ""))
    for line in folder_notes(folders):
        print(line)
    if acct.is_maildir:
        print("  drafts are written to Drafts/cur flagged D (draft) and S (seen); your files")
        print("  are only read, never renamed or re-flagged; new mail is noticed within a second")
        return 0
    feats = ("IDLE", "CONDSTORE", "QRESYNC", "UIDPLUS", "MOVE")
    print("  server:  " + ", ".join(f"{f} {'yes' if info.has(f) else 'no'}" for f in feats))
    if not info.idle:
        print(f"  no IDLE: the daemon polls every {ctx.cfg.daemon.poll_minutes:g} minutes")
    if not (info.move or info.uidplus):
        print("  no MOVE or UIDPLUS: stale drafts cannot be withdrawn safely; they stay")
    idle = 1 if info.idle and ctx.cfg.daemon.idle else 0
    print(f"  connections the daemon keeps open: {1 + idle} (providers cap these; Gmail at 15)")
    return 0
