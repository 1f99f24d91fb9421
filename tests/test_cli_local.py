"""CLI behaviour that needs no mail server: init, add, templates, usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from agent import cli, config, credentials
from agent.trylogin import LoginTry
from tests.test_credentials import MemoryKeyring


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv(credentials.ENV_VAR, raising=False)
    before = keyring.get_keyring()
    mem = MemoryKeyring()
    keyring.set_keyring(mem)
    yield mem
    keyring.set_keyring(before)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def init_noninteractive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    cfg = tmp_path / "config.toml"
    code, _, err = run(
        capsys,
        "--config",
        str(cfg),
        "init",
        "--no-input",
        "--email",
        "me@example.com",
        "--name",
        "Me Myself",
        "--host",
        "imap.example.com",
        "--timezone",
        "Europe/Berlin",
        "--database",
        str(tmp_path / "db.sqlite3"),
    )
    assert code == 0, err
    return cfg


def test_interactive_init_asks_and_stores_the_password_in_the_keyring(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    ring: MemoryKeyring,
) -> None:
    answers = iter(["me@example.com", "Me Myself", "", "starttls", "", "America/Chicago", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)  # a person at a terminal
    # The login try is tested on Dovecot (test_init_wizard); here no name may be looked up.
    tried: list[str] = []
    monkeypatch.setattr(
        "agent.cli_setup.trylogin.try_login",
        lambda account, password: tried.append(account.host) or LoginTry("", False),
    )
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "pa55word")
    cfg_path = tmp_path / "sub" / "config.toml"
    code, _, err = run(capsys, "--config", str(cfg_path), "init")
    assert code == 0, err
    cfg = config.load(cfg_path)
    assert cfg.account.host == "imap.example.com"  # the suggested default
    assert tried == ["imap.example.com"]  # tried before the config was written
    assert (cfg.account.security, cfg.account.port) == ("starttls", 143)
    assert cfg.schedule.timezone == "America/Chicago"
    assert credentials.get_password(cfg.account) == "pa55word"
    assert "pa55word" not in cfg_path.read_text()
    assert cfg_path.stat().st_mode & 0o777 == 0o600


def test_init_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    code, _, err = run(capsys, "--config", str(cfg), "init", "--no-input", "--email", "x@y.z")
    assert code == 2 and "--force" in err


def test_no_input_names_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--config", str(tmp_path / "c.toml"), "init", "--no-input")
    assert code == 2 and "email address" in err.lower()


def test_add_says_what_it_planned_and_from_the_example_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    code, out, err = run(
        capsys,
        "--config",
        str(cfg),
        "--now",
        "2026-11-20 09:00",
        "add",
        "--company",
        "Acme",
        "--role",
        "Engineer",
        "--at",
        "2026-11-20 10:00",
        "--interviewer",
        "Jane <jane@acme.com>",
    )
    assert code == 0, err
    first = out.splitlines()[0]
    # The interviewer is the only person met, so the check-in goes to her too.
    expected = (
        "added #1 Acme — Engineer: 1 thank-you draft Fri 20 Nov 12:00, first check-in Fri 27 Nov"
    )
    assert first == expected, out
    assert out.strip().splitlines()[-1] != "1"  # no bare id: scripts use --json
    example = tmp_path / "interview.toml"
    code, out, err = run(capsys, "--config", str(cfg), "add", "--example", str(example))
    assert code == 0 and f"followup add --from {example}" in out, err
    code, out, err = run(capsys, "--config", str(cfg), "add", "--from", str(example), "--json")
    assert code == 0, err
    assert json.loads(out)["id"] == 2
    assert not any(p["due"] < "2026" for p in json.loads(out)["planned"])
    code, out, _ = run(capsys, "--config", str(cfg), "show", "2", "--json")
    data = json.loads(out)
    assert data["company"] == "Acme Analytics"
    roles = sorted(c["role"] for c in data["contacts"])
    assert roles == ["hiring_manager", "interviewer", "interviewer", "interviewer", "recruiter"]
    assert all(c["email"].split("@")[1].startswith("example.") for c in data["contacts"])
    assert [c["agency"] for c in data["contacts"] if c["role"] == "recruiter"] == [True]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["add", "--company", "A", "--role", "R"], "--at"),
        (
            ["add", "--company", "A", "--role", "R", "--at", "tomorrow", "--interviewer", "a@b.co"],
            "not a date",
        ),
        (["add", "--company", "A", "--role", "R", "--at", "2026-11-20 10:00"], "at least one"),
        (
            [
                "add",
                "--company",
                "A",
                "--role",
                "R",
                "--at",
                "2026-11-20 10:00",
                "--interviewer",
                "not an address",
            ],
            "Name <address>",
        ),
        (["--now", "yesterday", "status"], "--now"),
        (["show", "99"], "no application with id 99"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    code, _, err = run(capsys, "--config", str(cfg), *argv)
    assert code == 2, err
    assert words in err


def preview_with_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> tuple[int, str, str]:
    """Preview a thank-you rendered from `text` as the user's own thank_you.txt.j2."""
    cfg = init_noninteractive(tmp_path, capsys)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thank_you.txt.j2").write_text(text)
    cfg.write_text(
        cfg.read_text().replace('# dir = "~/.config/followup/templates"', f'dir = "{mine}"')
    )
    code, _, err = run(
        capsys,
        "--config",
        str(cfg),
        "add",
        "--company",
        "Acme",
        "--role",
        "Engineer",
        "--at",
        "2026-11-20 10:00",
        "--interviewer",
        "Jane Doe <jane@acme.com>",
    )
    assert code == 0, err
    return run(capsys, "--config", str(cfg), "--now", "2026-11-20 12:00", "preview", "1")


def test_templates_dir_overrides_a_builtin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = preview_with_template(
        tmp_path,
        capsys,
        "Subject: Thanks from {{ me.name }}\n\nHi {{ person.first_name }}, cheers.\n",
    )
    assert code == 0, err
    assert "Subject: Thanks from Me Myself" in out and "Hi Jane, cheers." in out


def test_a_template_with_an_unknown_variable_is_an_error_not_a_blank(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = preview_with_template(
        tmp_path, capsys, "Subject: Hi\n\nDear {{ person.nickname }},\n"
    )
    assert code == 1
    assert "nickname" in err


@pytest.mark.parametrize("argv", [["preview", "1"], ["status"], ["show", "1", "--json"]])
def test_a_closed_pipe_ends_quietly_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """`followup preview 1 | head`: the reader leaves first; no BrokenPipeError shown."""
    cfg = init_noninteractive(tmp_path, capsys)
    code, _, err = run(
        capsys,
        "--config",
        str(cfg),
        "add",
        "--company",
        "Acme",
        "--role",
        "Engineer",
        "--at",
        "2026-11-20 10:00",
        "--interviewer",
        "Jane Doe <jane@acme.com>",
    )
    assert code == 0, err
    cmd = [sys.executable, "-m", "agent.cli", "--config", str(cfg), "--now", "2026-11-20 12:00"]
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([*cmd, *argv], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `head` that has read enough, before anything is written
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, stderr  # what a shell shows for SIGPIPE
    assert stderr == ""
