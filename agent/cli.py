"""The `followup` command: the only place that prints, prompts or exits.

Each command turns its arguments into a use case's typed input, calls that one
use case (`services`) and prints its result (`cli_output`). The parser is in
`cli_parser`, setup commands (init, set-password, check) in `cli_setup`.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import argcomplete

from . import cli_output as out
from . import demo, examplefile, health, intake, invitecli, logzone, waiting, wakeup
from .cli_context import Context
from .cli_parser import build_parser, suggestion
from .cli_setup import cmd_check, cmd_init, cmd_login, cmd_set_password
from .errors import AlreadyRunningError, ConfigError, FollowupError, UsageError
from .jsonview import to_json
from .lock import InstanceLock
from .services import EditRequest
from .services import mailbox_for as _mailbox_for
from .store import database_error

log = logging.getLogger("followup")

# What a shell reports for a program killed by SIGPIPE (`followup status | head`).
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
EXIT_USAGE = UsageError.exit_code

# What to do instead when a command that asks questions finds its input closed.
_WITHOUT_TERMINAL = {
    "init": "run it at a terminal, or answer with options: followup init --no-input "
    "--email ADDRESS --name NAME --host HOST",
    "set-password": "run it at a terminal, or set FOLLOWUP_PASSWORD or "
    "account.password_command instead",
}


# -- changing the plan -------------------------------------------------------


def _add_data(ctx: Context) -> intake.InterviewIn:
    a = ctx.args
    if a.from_file:
        intake.refuse_flags_with_file(a.from_file, vars(a))
        data, _ = intake.load_file(Path(a.from_file), ctx.tz)
        return data
    return _with_discussed(_flags_data(ctx), a.discussed or [])


def _discussed_pairs(items: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        addr, sep, text = item.partition("=")
        if not sep:
            raise UsageError(f"--discussed {item!r}: expected ADDRESS=TEXT")
        pairs.append((addr, text))
    return pairs


def _with_discussed(data: intake.InterviewIn, items: Sequence[str]) -> intake.InterviewIn:
    """`add --discussed ADDRESS=TEXT`: the text goes to the person with that address."""
    pairs = _discussed_pairs(items)
    if not pairs:
        return data
    texts = {addr.strip().lower(): text for addr, text in pairs}

    def with_text(p: intake.PersonIn | None) -> intake.PersonIn | None:
        if p is None:
            return None
        return replace(p, discussed=texts.pop(p.email.lower(), p.discussed))

    people = tuple(p for p in map(with_text, data.interviewers) if p is not None)
    result = replace(
        data,
        interviewers=people,
        hiring_manager=with_text(data.hiring_manager),
        recruiter=with_text(data.recruiter),
    )
    if texts:
        known = ", ".join(p.email for p in (*people, result.hiring_manager, result.recruiter) if p)
        raise UsageError(f"--discussed {next(iter(texts))}: not one of the people met ({known})")
    return result


def _flags_data(ctx: Context) -> intake.InterviewIn:
    a = ctx.args
    missing = [
        f for f, v in (("--company", a.company), ("--role", a.role), ("--at", a.at)) if not v
    ]
    if missing and a.application is None:
        raise UsageError(f"followup add needs {', '.join(missing)} (or --from FILE.toml)")
    if not a.at:
        raise UsageError("followup add needs --at")

    def person(text: str | None, flag: str) -> intake.PersonIn | None:
        return intake.parse_person(text, flag) if text else None

    return intake.InterviewIn(
        company=a.company or "",
        role=a.role or "",
        at=intake.parse_when(a.at, ctx.tz),
        duration_minutes=a.duration,
        kind=a.kind_,
        round=a.round,
        interviewers=tuple(intake.parse_person(p, "--interviewer") for p in a.interviewer or []),
        hiring_manager=person(a.hiring_manager, "--hiring-manager"),
        recruiter=person(a.recruiter, "--recruiter"),
        agency=a.agency,
        decision_by=intake.parse_day(a.decision_by, "--decision-by") if a.decision_by else None,
        learned=a.learned or "",
        highlight=a.highlight or "",
        note=a.note or "",
        domains=tuple(a.domain or ()),
        final=a.final,
    )


def cmd_add(ctx: Context) -> int:
    if ctx.args.example:
        return _write_example(ctx, Path(ctx.args.example))
    data = _add_data(ctx)
    added = ctx.services.add(data, ctx.now(), ctx.args.application, force=ctx.args.force)
    if ctx.args.json:
        out.print_json(out.added_json(added, ctx.tz))
    else:
        out.print_added(added, ctx.tz, id_line=False)
    return 0


def _write_example(ctx: Context, path: Path) -> int:
    if path.exists():
        raise UsageError(f"{path} exists; choose another name for the example")
    path.write_text(examplefile.example_interview(ctx.now(), ctx.tz, str(path)), encoding="utf-8")
    print(f"wrote {path}: edit it, then: followup add --from {shlex.quote(str(path))}")
    return 0


def _edit_request(ctx: Context) -> EditRequest:
    a = ctx.args
    pairs = [(addr, text) for addr, text in _discussed_pairs(a.discussed or [])]
    clear = a.decision_by == "none"
    decision = None
    if a.decision_by is not None and not clear:
        decision = intake.parse_day(a.decision_by, "--decision-by")
    return EditRequest(
        application_id=a.id,
        round=a.round,
        learned=a.learned,
        highlight=a.highlight,
        note=a.note,
        decision_by=decision,
        clear_decision_by=clear,
        discussed=tuple(pairs),
    )


def cmd_edit(ctx: Context) -> int:
    out.print_edited(ctx.services.edit(_edit_request(ctx), ctx.now()))
    return 0


def cmd_stop(ctx: Context) -> int:
    reason = ctx.args.reason or "stopped by you"
    out.print_stopped(ctx.services.stop(ctx.args.id, reason, ctx.now()))
    return 0


def cmd_remove(ctx: Context) -> int:
    view = ctx.services.show(ctx.args.id)
    if not ctx.args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"followup remove {view.id}: add --yes to confirm without a terminal")
        answer = input(f"{out.remove_question(view)} [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing removed")
            return 1
    out.print_removed(ctx.services.remove(ctx.args.id, ctx.now()))
    return 0


def cmd_done(ctx: Context) -> int:
    out.print_done(ctx.services.done(ctx.args.step, ctx.now()))
    return 0


# -- the mailbox -------------------------------------------------------------


def cmd_run(ctx: Context) -> int:
    cfg = ctx.cfg
    lock = InstanceLock(cfg.storage.database)
    try:
        lock.acquire()
    except AlreadyRunningError as exc:
        if ctx.args.once and (pid := wakeup.wake_daemon(ctx.store)):
            raise AlreadyRunningError(
                f"the daemon (pid {pid}) is running and owns the mailbox; it was asked to run "
                "a cycle now: see followup status in a few seconds (to run --once yourself, "
                "stop it first: systemctl --user stop followup)"
            ) from exc
        raise
    try:
        if ctx.args.once:
            now = ctx.now()
            cycle = ctx.services.run_once(now)
            # The health line is about the mailbox, not only the daemon: a good cycle is one.
            health.cycle_ok(ctx.store, now, idle=False)
            out.print_cycle(cycle, invitecli.outcome_lines(cycle.report.invitations))
            return 1 if cycle.report.problems else 0
        from .daemon import run_daemon
        from .timers import clock_from, system_clock

        # --now: the daemon's clock starts there and runs at real speed.
        clock = clock_from(ctx.now()) if ctx.args.now else system_clock
        logzone.use_zone(cfg.schedule.tz)
        return run_daemon(cfg, ctx.store, _mailbox_for, clock)
    finally:
        lock.release()


# -- looking -----------------------------------------------------------------


def cmd_health(ctx: Context) -> int:
    h = ctx.services.health()
    if ctx.args.json:
        out.print_json(to_json(h, ctx.tz))
    else:
        print(out.health_line(h, ctx.tz))
    return 0 if h.running else 1


def _waiting(ctx: Context) -> tuple[waiting.WaitingDraft, ...]:
    apps = ctx.store.load_many(events=False)
    return waiting.waiting_drafts(apps, ctx.cfg.policy.thank_you_deadline_hours)


def cmd_status(ctx: Context) -> int:
    status = ctx.services.status()
    if ctx.args.json:
        # Stays a list of applications; daemon health is `followup health --json`.
        out.print_json([a.to_json(ctx.tz) for a in status.applications])
        return 0
    now = ctx.now()
    out.print_status(status, ctx.tz, now, _waiting(ctx))
    if review := invitecli.review_line(ctx):
        print(review)
    return 0


def cmd_show(ctx: Context) -> int:
    view = ctx.services.show(ctx.args.id)
    if ctx.args.json:
        out.print_json(view.to_json(ctx.tz))
    else:
        out.print_show(view, ctx.tz)
    return 0


def cmd_agenda(ctx: Context) -> int:
    ag = ctx.services.agenda(ctx.now(), ctx.args.days)
    if ctx.args.json:
        out.print_json(ag.to_json(ctx.tz))
    else:
        out.print_waiting(_waiting(ctx), ctx.tz, ctx.now())
        out.print_agenda(ag, ctx.tz)
        if review := invitecli.review_line(ctx):
            print(review)
    return 0


def cmd_preview(ctx: Context) -> int:
    now = ctx.now()
    out.print_preview(ctx.services.preview(ctx.args.id, now), ctx.tz, now)
    return 0


def cmd_demo(ctx: Context) -> int:
    if ctx.args.dir:
        root = Path(ctx.args.dir).expanduser().resolve()
        if root.exists() and any(root.iterdir()):
            raise UsageError(f"--dir {root} is not empty; the demo needs a fresh directory")
        demo.run(root, print, ctx.run_cli)
        return 0
    root = Path(tempfile.mkdtemp(prefix="followup-demo-"))
    demo.run(root, print, ctx.run_cli)
    # Kept, so the drafts can be opened in a mail client; said, so it is not forgotten.
    print(f"The demo's files stay in {root}; remove them with: rm -r {shlex.quote(str(root))}")
    return 0


def cmd_help(ctx: Context) -> int:
    parser = build_parser()
    topic = ctx.args.topic
    if topic is None:
        parser.print_help()
        return 0
    if topic not in parser.commands:
        raise UsageError(f"no command {topic!r}{suggestion(parser, f'invalid choice: {topic!r}')}")
    parser.commands[topic].print_help()
    return 0


def cmd_completion(ctx: Context) -> int:
    from argcomplete.shell_integration import shellcode

    print(shellcode(["followup"], shell=ctx.args.shell))
    return 0


# Commands that change what is planned: a running daemon is woken to act on it now.
CHANGES_PLAN = frozenset({"add", "edit", "stop", "done", "invites"})

COMMANDS: dict[str, Callable[[Context], int]] = {
    "init": cmd_init,
    "demo": cmd_demo,
    "set-password": cmd_set_password,
    "check": cmd_check,
    "login": cmd_login,
    "add": cmd_add,
    "run": cmd_run,
    "status": cmd_status,
    "health": cmd_health,
    "show": cmd_show,
    "preview": cmd_preview,
    "agenda": cmd_agenda,
    "edit": cmd_edit,
    "done": cmd_done,
    "stop": cmd_stop,
    "remove": cmd_remove,
    "invites": invitecli.cmd_invites,
    "help": cmd_help,
    "completion": cmd_completion,
}


# -- the entry point ---------------------------------------------------------


def _private_log_file(path: str) -> logging.Handler:
    """A log file only its owner can read: with -v -v it holds header traces of the INBOX."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # tighten one the user created before, too
    except OSError as exc:
        where = Path(path).expanduser().parent
        raise UsageError(
            f"--log-file {path}: cannot write it ({exc.strerror}); "
            f"check that {where} exists and is writable"
        ) from None
    os.close(fd)
    return logging.FileHandler(path, encoding="utf-8")


def setup_logging(verbosity: int, log_file: str | None) -> None:
    level = logging.DEBUG if verbosity > 1 else logging.INFO if verbosity == 1 else logging.WARNING
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(_private_log_file(log_file))
    for handler in handlers:
        handler.setFormatter(logzone.ZoneFormatter())
    logging.basicConfig(level=level, handlers=handlers, force=True)


def _reader_left() -> int:
    """stdout's reader (head, less) closed the pipe: stop quietly, as SIGPIPE would."""
    # Point stdout at /dev/null so the interpreter's final flush has nowhere to fail.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is no file (embedded, captured): nothing will flush it at exit
    finally:
        os.close(devnull)
    return EXIT_BROKEN_PIPE


def _explain(exc: Exception, ctx: Context) -> tuple[str, int]:
    """Any error a user can meet as one line and its documented exit code."""
    if isinstance(exc, ConfigError):
        where = f" in {ctx.config_path}" if exc.key else ""
        return f"config error{where}: {exc}", exc.exit_code
    if isinstance(exc, FollowupError):
        return str(exc), exc.exit_code
    if isinstance(exc, sqlite3.Error):
        # A read outside a transaction met a damaged page or a failing disk.
        error = database_error(ctx.cfg.storage.database, exc)
        return str(error), error.exit_code
    if isinstance(exc, EOFError):
        # A prompt met a closed stdin (`followup init </dev/null`, cron, a pipe).
        command = ctx.args.command
        hint = _WITHOUT_TERMINAL.get(command, "run it at a terminal")
        return f"{command}: no answer: standard input is closed; {hint}", EXIT_USAGE
    assert isinstance(exc, OSError)
    # The disk filled or a file vanished under a command: say which, not how.
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}", 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argcomplete.autocomplete(parser)  # returns at once unless the shell asks to complete
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 0
    verbosity = args.verbose + (1 if args.command == "run" and not args.once else 0)
    try:
        setup_logging(verbosity, args.log_file)
    except UsageError as exc:
        print(f"followup: {exc}", file=sys.stderr)
        return exc.exit_code
    ctx = Context(args, main)
    try:
        if args.now:
            ctx.check_now()
        code = COMMANDS[args.command](ctx)
        if args.command in CHANGES_PLAN and code == 0:
            wakeup.wake_daemon(ctx.store)
        sys.stdout.flush()  # here, where a closed pipe can still be answered
        return code
    except BrokenPipeError:
        return _reader_left()
    except KeyboardInterrupt:
        return 130
    except (FollowupError, sqlite3.Error, OSError, EOFError) as exc:
        message, code = _explain(exc, ctx)
        print(f"followup: {message}", file=sys.stderr)
        return code
    finally:
        ctx.close()


if __name__ == "__main__":
    raise SystemExit(main())
