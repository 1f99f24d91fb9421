"""Setting up: `followup init`, `set-password` and `check` (prompts and their answers)."""

from __future__ import annotations

import getpass
import os
import tomllib
from pathlib import Path
from typing import Any

from . import config, credentials
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
        domain = email.rpartition("@")[2] if "@" in email else ""
        host = ask(a.host, "IMAP server", "imap." + domain if domain else "")
        security = ask(a.security, "Security (tls, starttls, insecure)", "tls")
        if security not in config.SECURITY_CHOICES:
            raise UsageError(f"--security must be one of {', '.join(config.SECURITY_CHOICES)}")
        port = ask(a.port, "Port", "993" if security == "tls" else "143")
        store = {"host": host, "port": int(port), "security": security}
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
    if not cfg.account.is_maildir and not a.no_input and not os.environ.get(credentials.ENV_VAR):
        password = getpass.getpass(
            f"IMAP password for {cfg.account.login} (stored in the keyring): "
        )
        if password:
            credentials.store_password(cfg.account, password)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    print(f"wrote {path}")
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
