"""Every error a user can meet on their own machine is one line with its exit code (issue 11).

Config values that reach a header, secrets from password_command, a damaged or
full or unwritable database, log files, and commands that need a terminal.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent import config, credentials, intake
from agent.config import AccountConfig
from agent.engine import Engine
from agent.errors import CredentialError, DatabaseError
from agent.memory import MemoryMailbox, MemoryServer
from agent.store import Store
from tests.test_cli_local import init_noninteractive, run

ROOT = Path(__file__).resolve().parent.parent
SECRET = "hunter2-SECRET"
EXIT_DATABASE = 6


def _cli(*argv: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FOLLOWUP_PASSWORD"}
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *argv],
        cwd=ROOT,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def _one_line(err: str) -> None:
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def _account(command: str) -> AccountConfig:
    return AccountConfig(
        email="me@example.com", name="Me", host="imap.example.com", password_command=command
    )


# -- config and init -----------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("name", "Me\\r\\nBcc: evil@evil.test"),
        ("name", "Me\\u2028Myself"),
        ("email", "me@example.com\\r\\nBcc: evil@evil.test"),
    ],
)
def test_a_config_value_with_a_control_character_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: str
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    text = cfg.read_text()
    lines = [
        f'{key} = "{value}"' if line.startswith(f"{key} = ") else line for line in text.split("\n")
    ]
    cfg.write_text("\n".join(lines))
    code, _, err = run(capsys, "--config", str(cfg), "status")
    assert code == 2 and f"account.{key}" in err, err
    _one_line(err)


def test_init_refuses_a_name_with_cr_lf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.toml"
    code, _, err = run(
        capsys, "--config", str(cfg), "init", "--no-input", "--email", "me@example.com",
        "--name", "Me\r\nBcc: evil@evil.test", "--host", "imap.example.com",
        "--timezone", "UTC", "--database", str(tmp_path / "db.sqlite3"),
    )  # fmt: skip
    assert code == 2 and "name" in err and "carriage return" in err, err


def test_init_without_a_terminal_says_so(tmp_path: Path) -> None:
    done = _cli("--config", str(tmp_path / "config.toml"), "init")
    assert done.returncode == 2, done.stderr
    _one_line(done.stderr)
    assert "--no-input" in done.stderr


def test_set_password_without_a_terminal_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    done = _cli("--config", str(cfg), "set-password")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "FOLLOWUP_PASSWORD" in done.stderr


# -- password_command -------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        f"sh -c 'echo {SECRET}; echo {SECRET} >&2; exit 1'",
        f"sh -c 'echo {SECRET} >&2'",
        f"sh -c 'echo {SECRET} >&2; sleep 5'",
    ],
)
def test_password_command_output_never_appears(
    command: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FOLLOWUP_PASSWORD", raising=False)
    monkeypatch.setattr(credentials, "COMMAND_TIMEOUT", 1.0)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CredentialError) as err:
        credentials.get_password(_account(command))
    assert SECRET not in str(err.value) and SECRET not in caplog.text
    assert err.value.__cause__ is None or SECRET not in str(err.value.__cause__)
    assert "account.password_command" in str(err.value)


def test_an_unbalanced_quote_in_password_command_is_one_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FOLLOWUP_PASSWORD", raising=False)
    with pytest.raises(CredentialError, match=r"account\.password_command.*quot"):
        credentials.get_password(_account("pass show 'mail"))


# -- the database -------------------------------------------------------------------


def _filled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    cfg = init_noninteractive(tmp_path, capsys)
    for n in range(30):
        code, _, err = run(
            capsys, "--config", str(cfg), "add", "--company", f"Acme {n}", "--role", "R" * 300,
            "--at", "2026-11-20 10:00", "--interviewer", f"Jane <jane{n}@acme{n}.test>",
        )  # fmt: skip
        assert code == 0, err
    return cfg, tmp_path / "db.sqlite3"


@pytest.mark.parametrize("page", [2, 3, 5])
def test_a_damaged_database_says_so_and_how_to_recover(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], page: int
) -> None:
    cfg, db = _filled(tmp_path, capsys)
    size = sqlite3.connect(db).execute("PRAGMA page_size").fetchone()[0]
    with db.open("r+b") as f:
        f.seek((page - 1) * size)  # the b-tree page header: no reader can skip it
        f.write(b"\xa5" * 16)
    for argv in (("status",), ("run", "--once")):
        code, _, err = run(capsys, "--config", str(cfg), *argv)
        assert code == EXIT_DATABASE, (argv, err)
        assert "damaged" in err and str(db) in err and "backup" in err
        _one_line(err)


def test_a_full_disk_is_one_error_and_nothing_half_written(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite3")
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    now = datetime(2026, 11, 20, tzinfo=UTC)
    with pytest.raises(DatabaseError, match="full"), store.transaction():
        store.add_application("Acme", "R" * 100_000, now)
    assert store.conn.execute("SELECT count(*) FROM applications").fetchone()[0] == 0


@pytest.mark.parametrize("argv", [("status",), ("run", "--once")])
def test_a_database_where_none_can_be_written_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    text = cfg.read_text().replace(str(tmp_path / "db.sqlite3"), str(blocker / "db.sqlite3"))
    cfg.write_text(text)
    code, _, err = run(capsys, "--config", str(cfg), *argv)
    assert code == EXIT_DATABASE and str(blocker) in err, err
    _one_line(err)


# -- logging ------------------------------------------------------------------------------


def test_a_log_file_in_a_missing_directory_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    missing = tmp_path / "nope" / "followup.log"
    code, _, err = run(capsys, "--config", str(cfg), "--log-file", str(missing), "status")
    assert code == 2 and "--log-file" in err and str(missing.parent) in err, err
    _one_line(err)


def test_a_log_file_is_private(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    log_file = tmp_path / "followup.log"
    code, _, err = run(capsys, "--config", str(cfg), "--log-file", str(log_file), "-v", "status")
    logging.shutdown()
    assert code == 0, err
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


# -- templates -----------------------------------------------------------------------------


def test_a_template_that_is_not_utf8_fails_its_own_drafts_only(tmp_path: Path) -> None:
    from tests.test_cycle_memory import ME, at

    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / "thank_you.txt.j2").write_bytes(
        "Subject: Merci\n\nCh\xe8re {{ person.name }}\n".encode("latin-1")
    )
    cfg = config.parse(
        {
            "account": {"kind": "maildir", "path": "unused", "email": ME, "name": "Alex"},
            "schedule": {"timezone": "Europe/Berlin"},
            "storage": {"database": str(tmp_path / "state.sqlite3")},
            "templates": {"dir": str(mine)},
        },
        tmp_path / "config.toml",
    )
    store = Store.open(tmp_path / "state.sqlite3")
    data = intake.InterviewIn(
        company="Acme",
        role="Data Engineer",
        at=at("2026-11-16 14:00"),
        interviewers=(intake.PersonIn("Jane Doe", "jane@acme.example"),),
        recruiter=intake.PersonIn("Rita Agent", "rita@agency.example"),
        agency=True,
    )
    intake.record(store, data, at("2026-11-16 15:10"))
    server = MemoryServer()
    report = Engine(cfg, store, MemoryMailbox(server)).run_cycle(at("2026-11-16 16:05"))
    assert [s.contact_id for s in report.drafted] and len(report.drafted) == 1
    assert len(report.problems) == 1
    assert "thank_you.txt.j2" in report.problems[0] and "UTF-8" in report.problems[0]
    assert len(server.messages("Drafts")) == 1
    store.close()


@pytest.mark.parametrize("argv", [("check",), ("run", "--once")])
def test_password_command_output_reaches_no_screen_or_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    command = f"sh -c 'echo {SECRET}; echo {SECRET} >&2; exit 1'"
    text = cfg.read_text().replace("[account]\n", f'[account]\npassword_command = "{command}"\n', 1)
    cfg.write_text(text)
    done = _cli("--config", str(cfg), "-v", "-v", *argv)
    assert done.returncode == 3, done.stderr
    assert SECRET not in done.stdout + done.stderr
    for path in tmp_path.glob("db.sqlite3*"):
        assert SECRET.encode() not in path.read_bytes()


def test_a_full_disk_while_taking_the_lock_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)

    def full(fd: int, data: bytes, offset: int) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("agent.lock.os.pwrite", full)
    code, _, err = run(capsys, "--config", str(cfg), "run", "--once")
    assert code == EXIT_DATABASE and "No space left" in err and "lock" in err, err
    _one_line(err)
