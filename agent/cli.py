"""The `followup` command: the only place that prints, prompts or exits."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import __version__, agenda, config, credentials, effects, health, intake, lint, report
from .configfile import AccountAnswers, render_config
from .engine import Engine
from .errors import ConfigError, FollowupError, UsageError
from .folders import folder_notes
from .lock import InstanceLock
from .mailbox import Mailbox, open_mailbox
from .models import Application, AppState, Step, StepState
from .planner import Planner
from .store import Store

log = logging.getLogger("followup")


# -- plumbing ----------------------------------------------------------------


class Context:
    """What every command needs; loaded on first use, never at import time."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._cfg: config.Config | None = None
        self._store: Store | None = None

    @property
    def config_path(self) -> Path:
        return (
            Path(self.args.config).expanduser()
            if self.args.config
            else config.default_config_path()
        )

    @property
    def cfg(self) -> config.Config:
        if self._cfg is None:
            self._cfg = config.load(self.config_path)
        return self._cfg

    @property
    def tz(self) -> ZoneInfo:
        return self.cfg.schedule.tz

    def check_now(self) -> datetime:
        try:
            return datetime.fromisoformat(self.args.now)
        except ValueError:
            raise UsageError(f"--now: {self.args.now!r} is not an ISO-8601 date and time") from None

    def now(self) -> datetime:
        """The simulated clock (--now) or the real one."""
        if not self.args.now:
            return datetime.now(UTC)
        value = self.check_now()
        return value if value.tzinfo else value.replace(tzinfo=self.tz)

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.cfg.storage.database)
        return self._store

    def mailbox(self) -> Mailbox:
        return _mailbox_for(self.cfg)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def _local(ctx: Context, value: str | None) -> str:
    if not value:
        return "—"
    return datetime.fromisoformat(value).astimezone(ctx.tz).strftime("%a %d %b %H:%M")


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


# -- commands ----------------------------------------------------------------


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
    import tomllib

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
    mb = ctx.mailbox()
    acct = ctx.cfg.account
    mb.connect()
    try:
        info = mb.info()
        folders = mb.folders()
    finally:
        mb.close()
    if acct.is_maildir:
        print(f"opened {info.greeting}: no server, no password")
    else:
        print(f"logged in to {acct.host}:{acct.port} ({acct.security}) as {acct.login}")
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


def _add_data(ctx: Context) -> intake.InterviewIn:
    a = ctx.args
    if a.from_file:
        data, _ = intake.load_file(Path(a.from_file), ctx.tz)
        return data
    missing = [
        f for f, v in (("--company", a.company), ("--role", a.role), ("--at", a.at)) if not v
    ]
    if missing and a.application is None:
        raise UsageError(f"followup add needs {', '.join(missing)} (or --from FILE.toml)")
    if not a.at:
        raise UsageError("followup add needs --at")
    people = tuple(intake.parse_person(p, "--interviewer") for p in a.interviewer or [])
    return intake.InterviewIn(
        company=a.company or "",
        role=a.role or "",
        at=intake.parse_when(a.at, ctx.tz),
        duration_minutes=a.duration,
        kind=a.kind_,
        round=a.round,
        interviewers=people,
        hiring_manager=intake.parse_person(a.hiring_manager, "--hiring-manager")
        if a.hiring_manager
        else None,
        recruiter=intake.parse_person(a.recruiter, "--recruiter") if a.recruiter else None,
        agency=a.agency,
        decision_by=intake.parse_day(a.decision_by, "--decision-by") if a.decision_by else None,
        learned=a.learned or "",
        highlight=a.highlight or "",
        note=a.note or "",
        domains=tuple(a.domain or ()),
        final=a.final,
    )


def _lint_notes(ctx: Context, app: Application, texts: Sequence[str]) -> None:
    """The user's own notes go into drafts: catch typos while they are fresh."""
    known = [app.company, app.role, *app.domains, *(c.name for c in app.contacts)]
    known += ctx.cfg.policy.known_words
    for finding in lint.check_spelling(texts, known):
        print(f"  lint: {finding}")


def cmd_add(ctx: Context) -> int:
    data = _add_data(ctx)
    if ctx.args.application is not None:
        app = ctx.store.load(ctx.args.application)
        # A later round inherits what the first one named.
        from dataclasses import replace

        data = replace(data, company=data.company or app.company, role=data.role or app.role)
    now = ctx.now()
    app_id, _ = intake.record(ctx.store, data, now, ctx.args.application)
    Planner(ctx.cfg, ctx.store).plan_one(ctx.store.load(app_id), now)
    app = ctx.store.load(app_id)
    print(f"added {app.company} — {app.role} (round {app.interviews[-1].round})")
    texts = [data.learned, data.highlight] + [
        p.discussed for p in (*data.interviewers, data.hiring_manager, data.recruiter) if p
    ]
    _lint_notes(ctx, app, texts)
    for s in app.steps:
        if s.state is StepState.PLANNED:
            c = app.contact(s.contact_id)
            who = c.email if c else ""
            print(f"  planned {s.kind.value:9} {who:32} {_local(ctx, s.due_at.isoformat())}")
    print(app_id)
    return 0


def cmd_run(ctx: Context) -> int:
    cfg = ctx.cfg
    with InstanceLock(cfg.storage.database):
        if ctx.args.once:
            return _run_once(ctx)
        from .daemon import run_daemon

        # --now: the daemon's clock starts there and runs at real speed.
        offset = ctx.now() - datetime.now(UTC) if ctx.args.now else timedelta(0)
        return run_daemon(cfg, ctx.store, _mailbox_for, offset)


def _mailbox_for(cfg: config.Config) -> Mailbox:
    acct = cfg.account
    # Asked again at each connection: a changed password_command output is picked
    # up. A local Maildir needs no credentials: never ask for them.
    password = None if acct.is_maildir else credentials.get_password(acct)
    # A Maildir's UID index lives beside the database it serves.
    state_dir = cfg.storage.database.parent
    return open_mailbox(acct, cfg.folders, password, state_dir=state_dir)


def _run_once(ctx: Context) -> int:
    mb = ctx.mailbox()
    mb.connect()
    try:
        rep = Engine(ctx.cfg, ctx.store, mb).run_cycle(ctx.now())
    finally:
        mb.close()
    for step in rep.recovered:
        print(f"recovered draft for step {step.id} after an interruption")
    for app_id, state, why in rep.state_changes:
        print(f"application {app_id} is now {state.value}: {why}")
    for what, steps in (
        ("sent by you", rep.sent),
        ("deleted from Drafts by you, not written again", rep.rejected),
        ("withdrawn to Trash", rep.withdrawn),
    ):
        for step in steps:
            print(f"{_step_text(ctx, step)} was {what}")
    for step in rep.drafted:
        late = " (late)" if step.late else ""
        print(f"drafted {_step_text(ctx, step)}{late}: {step.subject}")
    for p in rep.problems:
        print(f"problem: {p}", file=sys.stderr)
    if not (rep.drafted or rep.state_changes or rep.sent or rep.rejected or rep.withdrawn):
        print("nothing due")
    return 1 if rep.problems else 0


def _step_text(ctx: Context, step: Step) -> str:
    c = ctx.store.load(step.application_id).contact(step.contact_id)
    return f"{step.kind.value} to {c.email if c else '?'}"


def _health_line(ctx: Context, h: dict[str, Any]) -> str:
    if h["running"]:
        link = "connected" + (", IDLE" if h["idle"] else "") if h["connected"] else "not connected"
        text = f"daemon: running (pid {h['pid']}), {link}"
    elif h["crashed"]:
        text = "daemon: not running (it did not stop cleanly)"
    elif h["stopped_at"]:
        text = f"daemon: not running (stopped {_local(ctx, h['stopped_at'])})"
    else:
        text = "daemon: not running (start it with: followup run)"
    text += f"; last good cycle {_local(ctx, h['last_ok_at'])}"
    if h["last_error"] and (h["last_error_at"] or "") >= (h["last_ok_at"] or ""):
        text += f"; last error {_local(ctx, h['last_error_at'])}: {h['last_error']}"
    return text


def cmd_health(ctx: Context) -> int:
    h = health.read(ctx.store)
    if ctx.args.json:
        _print_json(h)
    else:
        print(_health_line(ctx, h))
    return 0 if h["running"] else 1


def cmd_status(ctx: Context) -> int:
    data = report.status(ctx.store, ctx.cfg.policy)
    if ctx.args.json:
        # Stays a list of applications; daemon health is `followup health --json`.
        _print_json(data)
        return 0
    print(_health_line(ctx, health.read(ctx.store)))
    if not data:
        print("no applications yet: followup add --help")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("id", "company", "role", "state", "contacts", "next step", "when"):
        table.add_column(col)
    for a in data:
        nxt = a["next_step"]
        step = "—" if not nxt else f"{nxt['kind']} → {nxt['to']}" if nxt["to"] else nxt["kind"]
        when = _local(ctx, nxt["due"]) + (" (late)" if nxt and nxt["late"] else "") if nxt else ""
        table.add_row(
            str(a["id"]),
            a["company"],
            a["role"],
            a["state"],
            f"{a['contacts_made']}/{a['max_contacts']}",
            step,
            when,
        )
    Console(soft_wrap=True).print(table)
    for a in data:
        for w in a["warnings"]:
            print(f"warning: #{a['id']} {a['company']}: {w}")
    return 0


def cmd_show(ctx: Context) -> int:
    app = ctx.store.load(ctx.args.id)
    data = report.application_dict(app, ctx.cfg.policy, ctx.store.messages_for(app.id))
    if ctx.args.json:
        _print_json(data)
        return 0
    print(
        f"#{data['id']} {data['company']} — {data['role']}: {data['state']}"
        + (f" ({data['stop_reason']})" if data["stop_reason"] else "")
    )
    print(f"check-ins {data['contacts_made']} of {data['max_contacts']}")
    for iv in data["interviews"]:
        print(
            f"  interview round {iv['round']} ({iv['kind']}) {_local(ctx, iv['starts_at'])}"
            + (f", decision by {iv['decision_by']}" if iv["decision_by"] else "")
        )
    for c in data["contacts"]:
        flag = " [bounced]" if c["bounced"] else ""
        agency = " (agency)" if c["agency"] else ""
        print(f"  {c['role']:14} {c['name']} <{c['email']}>{agency}{flag}")
    print("timeline:")
    for t in data["timeline"]:
        if t["type"] == "event":
            print(f"  {_local(ctx, t['at'])}  {t['kind']}: {t['detail']}")
            continue
        late = " late" if t["late"] else ""
        print(f"  {_local(ctx, t['at'])}  [{t['state']}{late}] #{t['id']} {t['what']}")
        print(f"  {'':16}  why: {t['rule']}" + (f" — {t['note']}" if t["note"] else ""))
    for r in data["responses"]:
        print(f"  reply from {r['from']} on {_local(ctx, r['date'])}: {r['subject']}")
    for w in data["warnings"]:
        print(f"warning: {w}")
    return 0


def cmd_agenda(ctx: Context) -> int:
    now = ctx.now()
    apps = ctx.store.load_many(ctx.store.application_ids([AppState.ACTIVE]))
    data = agenda.agenda(apps, now, ctx.tz, ctx.args.days)
    if ctx.args.json:
        _print_json(data)
        return 0
    for title, items in (("today", data["today"]), (f"next {ctx.args.days} days", data["soon"])):
        print(f"{title}:")
        if not items:
            print("  nothing")
        for i in items:
            flag = " (overdue)" if i["overdue"] and i["state"] == "planned" else ""
            print(f"  #{i['step']:<4} {_local(ctx, i['due'])}  {i['company']}: {i['what']}{flag}")
    reminders = [i for i in data["today"] if i["kind"] not in ("thank_you", "checkin")]
    if reminders:
        print("mark a reminder done with: followup done STEP")
    return 0


def cmd_done(ctx: Context) -> int:
    now = ctx.now()
    step = ctx.store.step(ctx.args.step)
    if step.kind.is_email:
        raise UsageError(
            f"step {step.id} is a {step.kind.value} draft: send it from your mail client; "
            "followup notices it in Sent"
        )
    if step.state is StepState.DONE:
        print(f"step {step.id} was already done")
        return 0
    if step.state is not StepState.PLANNED:
        raise UsageError(f"step {step.id} is {step.state.value}, not a pending reminder")
    app = ctx.store.load(step.application_id)
    with ctx.store.transaction():
        # sent_at records when it was done: a call done counts as a check-in then.
        ctx.store.set_step_state(step.id, StepState.DONE, now, note="done", sent_at=now)
        ctx.store.add_event(app.id, "done", agenda.describe(app, step), now)
    if app.state is AppState.ACTIVE:
        Planner(ctx.cfg, ctx.store).plan_one(ctx.store.load(app.id), now)
    print(f"done: #{step.id} {agenda.describe(app, step)}")
    return 0


def cmd_edit(ctx: Context) -> int:
    """Correct what `add` recorded; drafts not yet written use the new text."""
    a = ctx.args
    now = ctx.now()
    app = ctx.store.load(a.id)
    rounds = {iv.round: iv for iv in app.interviews}
    iv = rounds.get(a.round) if a.round is not None else app.latest_interview
    if iv is None:
        raise UsageError(f"#{app.id} has no round {a.round}")
    discussed: dict[int, str] = {}
    for item in a.discussed or []:
        addr, sep, text = item.partition("=")
        match = [c for c in app.contacts if sep and c.email.lower() == addr.strip().lower()]
        if not match:
            addresses = ", ".join(sorted({c.email for c in app.contacts}))
            raise UsageError(f"--discussed {item!r}: expected ADDRESS=TEXT with one of {addresses}")
        for c in match:
            discussed[c.id] = text.strip()
    decision = iv.decision_by
    if a.decision_by is not None:
        decision = (
            None if a.decision_by == "none" else intake.parse_day(a.decision_by, "--decision-by")
        )
    learned = iv.learned if a.learned is None else a.learned
    highlight = iv.highlight if a.highlight is None else a.highlight
    with ctx.store.transaction():
        ctx.store.update_interview(
            iv,
            learned=learned,
            highlight=highlight,
            note=iv.note if a.note is None else a.note,
            decision_by=decision,
        )
        for contact_id, text in discussed.items():
            ctx.store.set_discussed(contact_id, text)
        ctx.store.add_event(app.id, "edited", f"round {iv.round} notes edited", now)
    if app.state is AppState.ACTIVE:
        Planner(ctx.cfg, ctx.store).plan_one(ctx.store.load(app.id), now)
    app = ctx.store.load(app.id)
    print(f"updated #{app.id} {app.company}, round {iv.round}")
    _lint_notes(ctx, app, [learned, highlight, *discussed.values()])
    written = [s for s in app.steps if s.state in (StepState.DRAFTED, StepState.SENT)]
    if written:
        print(f"  {len(written)} draft(s) already written keep their text; later ones use the new")
    return 0


def cmd_preview(ctx: Context) -> int:
    now = ctx.now()
    engine = Engine(ctx.cfg, ctx.store, None)
    app = ctx.store.load(ctx.args.id)
    if app.state is AppState.ACTIVE:
        engine.planner.plan_one(app, now)
        app = ctx.store.load(app.id)
    steps = [s for s in app.steps if s.kind.is_email and s.state is StepState.PLANNED]
    if not steps:
        print(f"nothing planned for #{app.id} ({app.state.value})")
        return 0
    due = [s for s in steps if s.due_at <= now]
    shown = due or [min(steps, key=lambda s: s.due_at)]
    for step in shown:
        draft = engine.compose_step(app, step, now)
        when = "due now" if step.due_at <= now else f"due {_local(ctx, step.due_at.isoformat())}"
        print(f"--- step {step.id}: {step.kind.value}, {when}")
        msg = draft.to_message(now)
        for h in ("From", "To", "Cc", "Subject", "In-Reply-To"):
            if msg[h]:
                print(f"{h}: {msg[h]}")
        print()
        print(draft.body)
        for f in draft.findings:
            print(f"lint: {f}")
    return 0


def cmd_stop(ctx: Context) -> int:
    now = ctx.now()
    app = ctx.store.load(ctx.args.id)
    reason = ctx.args.reason or "stopped by you"
    if app.state is not AppState.ACTIVE:
        print(f"#{app.id} is already {app.state.value}")
        return 0
    with ctx.store.transaction():
        effects.end_sequence(ctx.store, app.id, AppState.STOPPED, reason, "you stopped it", now)
    print(f"stopped #{app.id} {app.company}: {reason}")
    drafted = [s for s in app.steps if s.state is StepState.DRAFTED]
    if drafted:
        print(
            f"  its {len(drafted)} unsent draft(s) go to Trash at the next cycle (edited ones "
            "stay; with no Trash folder they stay in Drafts, and `show` says so)"
        )
    return 0


def cmd_demo(ctx: Context) -> int:
    import tempfile

    from . import demo

    if ctx.args.dir:
        root = Path(ctx.args.dir).expanduser().resolve()
        if root.exists() and any(root.iterdir()):
            raise UsageError(f"--dir {root} is not empty; the demo needs a fresh directory")
    else:
        root = Path(tempfile.mkdtemp(prefix="followup-demo-"))
    demo.run(root, print, main)
    return 0


# -- argument parsing --------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="followup",
        description="Drafts interview thank-you notes and check-ins into your mailbox.",
    )
    p.add_argument("--version", action="version", version=f"followup {__version__}")
    p.add_argument("--config", metavar="PATH", help="config file (also FOLLOWUP_CONFIG)")
    p.add_argument(
        "--now",
        metavar="ISO-8601",
        help="simulate the clock (without a zone: the config's time zone)",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    p.add_argument("--log-file", metavar="PATH", help="also write the log to this file")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def cmd(name: str, fn: Callable[[Context], int], help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(fn=fn)
        return sp

    i = cmd("init", cmd_init, "write a config file and store the password")
    i.add_argument("--no-input", action="store_true", help="never prompt (for scripts)")
    i.add_argument(
        "--maildir",
        metavar="PATH",
        help="use this local Maildir instead of an IMAP server (no password needed)",
    )
    i.add_argument(
        "--layout",
        choices=config.MAILDIR_LAYOUTS,
        default="auto",
        help="Maildir folder layout: maildir++ (.Drafts) or fs (Drafts/); default: detect",
    )
    i.add_argument("--email")
    i.add_argument("--name")
    i.add_argument("--host")
    i.add_argument("--port", type=int)
    i.add_argument("--security", choices=config.SECURITY_CHOICES)
    i.add_argument("--username")
    i.add_argument("--ca-file", metavar="PATH")
    i.add_argument("--timezone", metavar="Area/City")
    i.add_argument("--country", help="ISO code for public holidays, e.g. US")
    i.add_argument("--subdivision", help="state or province for public holidays, e.g. CA")
    i.add_argument("--database", metavar="PATH", help="where to keep the state (SQLite)")
    i.add_argument("--force", action="store_true", help="overwrite an existing config")

    dm = cmd("demo", cmd_demo, "see the whole job on a throwaway local mailbox (no account needed)")
    dm.add_argument("--dir", metavar="PATH", help="where to put it (default: a new temp dir)")

    cmd("set-password", cmd_set_password, "store the IMAP password in the system keyring")
    cmd("check", cmd_check, "log in, find Drafts and Sent, show what the server supports")

    a = cmd("add", cmd_add, "register an interview")
    a.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE.toml",
        help="read everything from a file (see examples/interview.toml)",
    )
    a.add_argument(
        "--application", type=int, metavar="ID", help="a later round of an existing application"
    )
    a.add_argument("--company")
    a.add_argument("--role")
    a.add_argument("--at", metavar="'YYYY-MM-DD HH:MM'", help="when the interview started")
    a.add_argument("--duration", type=int, default=60, metavar="MIN")
    a.add_argument(
        "--kind",
        dest="kind_",
        default="video",
        type=lambda v: _choice(v, ("phone", "video", "onsite"), "--kind"),
        metavar="phone|video|onsite",
    )
    a.add_argument("--round", type=int)
    a.add_argument("--interviewer", action="append", metavar="'Name <addr>'")
    a.add_argument("--hiring-manager", metavar="'Name <addr>'")
    a.add_argument("--recruiter", metavar="'Name <addr>'")
    a.add_argument("--agency", action="store_true", help="the recruiter is from an agency")
    a.add_argument("--decision-by", metavar="YYYY-MM-DD", help="when they said they'd decide")
    a.add_argument(
        "--final", action="store_true", help="the final round (reminds you to alert references)"
    )
    a.add_argument("--note", help="anything to remember about this interview")
    a.add_argument("--learned", help="something you learned about the team or product")
    a.add_argument("--highlight", help="a skill or achievement the interview did not cover")
    a.add_argument(
        "--domain",
        action="append",
        metavar="DOMAIN",
        help="another domain the company writes from (careers site, ATS)",
    )

    r = cmd("run", cmd_run, "the daemon: watch the mailbox and write drafts when due")
    r.add_argument("--once", action="store_true", help="one cycle, then exit")

    s = cmd("status", cmd_status, "one line per application")
    s.add_argument("--json", action="store_true")
    hl = cmd("health", cmd_health, "is the daemon running, connected, and when did it last work")
    hl.add_argument("--json", action="store_true")
    sh = cmd("show", cmd_show, "the whole timeline of one application")
    sh.add_argument("id", type=int)
    sh.add_argument("--json", action="store_true")
    pv = cmd("preview", cmd_preview, "render the drafts due or next, without the mailbox")
    pv.add_argument("id", type=int)
    ag = cmd("agenda", cmd_agenda, "what is due today and soon: drafts to send, reminders")
    ag.add_argument("--days", type=int, default=7, metavar="N", help="how far ahead (7)")
    ag.add_argument("--json", action="store_true")
    ed = cmd("edit", cmd_edit, "correct the notes or decision date of an interview")
    ed.add_argument("id", type=int)
    ed.add_argument("--round", type=int, help="which round (default: the latest)")
    ed.add_argument("--learned", help="something you learned about the team or product")
    ed.add_argument("--highlight", help="a skill or achievement the interview did not cover")
    ed.add_argument("--note", help="anything to remember (never put in a draft)")
    ed.add_argument("--decision-by", metavar="YYYY-MM-DD|none")
    ed.add_argument(
        "--discussed",
        action="append",
        metavar="ADDRESS=TEXT",
        help="what you talked about with that person (repeatable)",
    )
    dn = cmd("done", cmd_done, "mark a reminder (LinkedIn, card, references, call) done")
    dn.add_argument("step", type=int)
    st = cmd("stop", cmd_stop, "stop an application's sequence for good")
    st.add_argument("id", type=int)
    st.add_argument("--reason")
    return p


def _choice(value: str, choices: Sequence[str], flag: str) -> Any:
    from .models import InterviewKind

    if value not in choices:
        raise argparse.ArgumentTypeError(f"{flag} must be one of {', '.join(choices)}")
    return InterviewKind(value)


def setup_logging(verbosity: int, log_file: str | None) -> None:
    level = logging.DEBUG if verbosity > 1 else logging.INFO if verbosity == 1 else logging.WARNING
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(level=level, format=fmt, handlers=handlers, force=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    verbosity = args.verbose + (1 if args.command == "run" and not args.once else 0)
    setup_logging(verbosity, args.log_file)
    ctx = Context(args)
    try:
        if args.now:
            ctx.check_now()
        code: int = args.fn(ctx)
        return code
    except ConfigError as exc:
        where = f" in {ctx.config_path}" if exc.key else ""
        print(f"followup: config error{where}: {exc}", file=sys.stderr)
        return exc.exit_code
    except FollowupError as exc:
        print(f"followup: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()


if __name__ == "__main__":
    raise SystemExit(main())
