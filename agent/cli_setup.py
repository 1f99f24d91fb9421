"""Setting up: `followup init`, `set-password` and `check` (prompts and their answers)."""

from __future__ import annotations

import argparse
import getpass
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from . import config, credentials, providers
from .cli_context import Context
from .configfile import AccountAnswers, render_config
from .errors import UsageError
from .services import check_account


def cmd_init(ctx: Context) -> int:
    a = ctx.args
    path = ctx.config_path
    if path.exists() and not a.force:
        raise UsageError(f"{path} exists; pass --force to overwrite it")

    def ask(value: Any, prompt: str, default: str = "") -> str:
        if value not in (None, ""):
            return str(value)
        if a.no_input:
            if default:
                return default
            raise UsageError(f"--no-input needs {prompt.lower()} (see followup init --help)")
        shown = f" [{default}]" if default else ""
        answer = input(f"{prompt}{shown}: ").strip()
        return answer or default

    email = ask(a.email, "Email address")
    name = ask(a.name, "Your name (signs the drafts)")
    if a.maildir:
        maildir = Path(a.maildir).expanduser().resolve()
        if not maildir.is_dir():
            raise UsageError(f"--maildir: no such directory: {maildir}")
        store: dict[str, Any] = {"kind": "maildir", "path": str(maildir), "layout": a.layout}
    else:
        store = _init_imap(a, email, ask)
    tzname = ask(a.timezone, "Time zone (Area/City)", _system_timezone())
    answers = AccountAnswers(
        email=email,
        name=name,
        **store,
        username=a.username or "",
        ca_file=str(Path(a.ca_file).resolve()) if a.ca_file else "",
        timezone=tzname,
        country=a.country or "",
        subdivision=a.subdivision or "",
        database=str(Path(a.database).expanduser().resolve()) if a.database else "",
    )
    text = render_config(answers)
    # Validate before writing: a config we cannot load is worse than none.
    cfg = config.parse(tomllib.loads(text), path)
    oauth2 = cfg.account.auth is config.AuthMethod.OAUTH2
    if not (oauth2 or cfg.account.is_maildir or a.no_input or os.environ.get(credentials.ENV_VAR)):
        password = getpass.getpass(
            f"IMAP password for {cfg.account.login} (stored in the keyring): "
        )
        if password:
            credentials.store_password(cfg.account, password)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    print(f"wrote {path}")
    if oauth2 and not a.no_input and input("Sign in now? [Y/n] ").strip().lower() in ("", "y"):
        return run_login(ctx)
    print("next: followup login, then followup check" if oauth2 else "next: followup check")
    return 0


def _init_imap(a: argparse.Namespace, email: str, ask: Callable[..., str]) -> dict[str, Any]:
    domain = email.rpartition("@")[2] if "@" in email else ""
    oauth = _init_oauth2(a, email, ask)
    preset_host = providers.IMAP_HOSTS.get(oauth.oauth2_provider, "")
    host = ask(a.host, "IMAP server", preset_host or ("imap." + domain if domain else ""))
    security = ask(a.security, "Security (tls, starttls, insecure)", "tls")
    if security not in config.SECURITY_CHOICES:
        raise UsageError(f"--security must be one of {', '.join(config.SECURITY_CHOICES)}")
    port = ask(a.port, "Port", "993" if security == "tls" else "143")
    return {"host": host, "port": int(port), "security": security, **oauth.fields()}


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
