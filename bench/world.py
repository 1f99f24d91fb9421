"""One benchmark account: a big mailbox, a config and a database of applications.

The applications are recorded through `agent.intake.record` and planned by
`Planner.plan_all`, the same code `followup add` and `followup run` use.
"""

from __future__ import annotations

import heapq
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from agent import config, intake
from agent.models import AppState, InterviewKind, StepKind, StepState
from agent.planner import Planner
from agent.store import Store
from bench.mailgen import fill_folder, filler, message, when_of
from tests.dovecot import Dovecot, MailUser


@dataclass(frozen=True)
class Company:
    index: int
    app_id: int
    interview_at: datetime

    @property
    def domain(self) -> str:
        return f"company{self.index}.example.com"

    @property
    def recruiter(self) -> str:
        return f"rita.recruiter{self.index}@{self.domain}"

    @property
    def interviewer(self) -> str:
        return f"ivan.interviewer{self.index}@{self.domain}"


@dataclass
class Account:
    """A user on the bench Dovecot, with its config file and database."""

    server: Dovecot
    user: MailUser
    config_path: Path  # driven in process, one cycle at a time: no IDLE watcher
    daemon_config_path: Path  # for `followup run` in its own process
    database: Path
    companies: list[Company]
    inbox_size: int
    watch: tuple[str, ...] = ()  # extra folders the config watches

    def load_config(self) -> config.Config:
        return config.load(self.config_path)


def write_config(
    path: Path,
    user: MailUser,
    server: Dovecot,
    port: int,
    database: Path,
    poll_minutes: float,
    idle: bool = True,
    watch: tuple[str, ...] = (),
) -> None:
    pw = path.with_suffix(".pw")
    pw.write_text(user.password)
    pw.chmod(0o600)
    path.write_text(
        f"""[account]
email = "{user.address}"
name = "Alex Candidate"
host = "{server.host}"
port = {port}
security = "tls"
username = "{user.name}"
password_command = "cat {path.with_suffix(".pw")}"
ca_file = "{server.ca_file}"
timeout_seconds = 30

[schedule]
timezone = "UTC"

[storage]
database = "{database}"

[daemon]
poll_minutes = {poll_minutes}
idle = {"true" if idle else "false"}
"""
        + (f"\n[folders]\nwatch = {json.dumps(list(watch))}\n" if watch else "")
    )


def fast_store(path: Path) -> Store:
    """A store for bulk set-up: no fsync per transaction (the measured runs reopen it)."""
    store = Store.open(path)
    store.conn.execute("PRAGMA synchronous=OFF")
    return store


def record_applications(cfg: config.Config, store: Store, n: int, now: datetime) -> list[Company]:
    """`n` active applications, interviewed in the last weeks, thank-yous already sent.

    Check-ins are due weeks after `now`, so steady-state cycles draft nothing.
    """
    companies = []
    for i in range(n):
        at = (now - timedelta(days=2 + i % 20, hours=i % 7)).replace(
            minute=0, second=0, microsecond=0
        )
        c = Company(i, 0, at)
        app_id, _ = intake.record(
            store,
            intake.InterviewIn(
                company=f"Company {i}",
                role="Engineer",
                at=at,
                kind=InterviewKind.VIDEO,
                interviewers=(intake.PersonIn(f"Ivan Interviewer{i}", c.interviewer),),
                recruiter=intake.PersonIn(f"Rita Recruiter{i}", c.recruiter),
                decision_by=(now + timedelta(days=21)).date(),
            ),
            now=at,
        )
        companies.append(Company(i, app_id, at))
    Planner(cfg, store).plan_all(now)
    with store.transaction():
        for step in store.steps_in_state(StepState.PLANNED):
            if step.kind is StepKind.THANK_YOU:
                store.set_step_state(
                    step.id, StepState.SENT, now, sent_at=step.due_at + timedelta(minutes=30)
                )
    return companies


def matching_inbox(user: MailUser, companies: list[Company]) -> Iterator[bytes]:
    """Per application: the recruiter's scheduling mail, days before the interview."""
    for c in companies:
        when = c.interview_at - timedelta(days=3)
        yield message(
            c.recruiter,
            user.address,
            f"Interview at Company {c.index}",
            when,
            f"<sched.{c.index}.{secrets.token_hex(4)}@{c.domain}>",
            "Hi Alex,\r\n\r\nConfirming your interview. Best,\r\nRita\r\n",
        )


def matching_sent(user: MailUser, companies: list[Company]) -> Iterator[bytes]:
    for c in companies:
        when = c.interview_at - timedelta(days=2)
        yield message(
            user.address,
            c.recruiter,
            f"Re: Interview at Company {c.index}",
            when,
            f"<conf.{c.index}.{secrets.token_hex(4)}@example.test>",
            "Hi Rita,\r\n\r\nThanks, see you then.\r\nAlex\r\n",
        )


def _by_date(ordered: Iterator[bytes], extra: Iterator[bytes]) -> Iterator[bytes]:
    """Merge an already date-ordered stream with a few more messages, by Date."""

    def key(raw: bytes) -> float:
        return when_of(raw)

    return heapq.merge(ordered, sorted(extra, key=key), key=key)


def build_account(
    server: Dovecot,
    workdir: Path,
    name: str,
    inbox_size: int,
    n_apps: int,
    now: datetime,
    port: int,
    poll_minutes: float = 5.0,
    sent_size: int | None = None,
    archive_size: int = 0,
) -> Account:
    """A user whose INBOX holds `inbox_size` messages (plus Sent), and a database.

    Sent holds a tenth of INBOX unless `sent_size` says otherwise; with
    `archive_size` an Archive folder of that many messages is filled and
    watched (`[folders] watch`), like a folder a mail filter files into.
    """
    watch = ("Archive",) if archive_size else ()
    user = server.add_user(name, secrets.token_urlsafe(12))
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / f"{name}.sqlite3"
    cfg_path = workdir / f"{name}.toml"
    write_config(cfg_path, user, server, port, database, poll_minutes, idle=False, watch=watch)
    daemon_cfg_path = workdir / f"{name}-daemon.toml"
    write_config(
        daemon_cfg_path, user, server, port, database, poll_minutes, idle=True, watch=watch
    )
    cfg = config.load(cfg_path)
    store = fast_store(database)
    try:
        companies = record_applications(cfg, store, n_apps, now)
    finally:
        store.close()
    start = now - timedelta(days=3 * 365)
    end = now - timedelta(hours=1)
    n_fill = max(inbox_size - n_apps, 0)
    fill_folder(
        server,
        user,
        "INBOX",
        _by_date(filler(user, n_fill, start, end, seed=1), matching_inbox(user, companies)),
    )
    fill_folder(
        server,
        user,
        "Sent",
        _by_date(
            filler(
                user,
                max(inbox_size // 10, 1) if sent_size is None else sent_size,
                start,
                end,
                seed=2,
            ),
            matching_sent(user, companies),
        ),
    )
    if archive_size:
        fill_folder(server, user, "Archive", filler(user, archive_size, start, end, seed=3))
    return Account(server, user, cfg_path, daemon_cfg_path, database, companies, inbox_size, watch)


def fresh_database(account: Account, dest: Path) -> Path:
    """A copy of the account's database as it was before any sync (a new account)."""
    src = sqlite3.connect(account.database)
    dst = sqlite3.connect(dest)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    os.chmod(dest, 0o600)
    return dest


def app_state(database: Path, app_id: int) -> AppState:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        row = conn.execute("SELECT state FROM applications WHERE id = ?", (app_id,)).fetchone()
    finally:
        conn.close()
    return AppState(row[0])
