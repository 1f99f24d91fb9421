"""The first hour at the command line (issue 17): help, suggestions, what `add` says, logs.

Each test is one measured item: `followup` alone, `help add`, `statu`, options
without help, `add --discussed`, completion, the bare id after `add`, UTC log times.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent import agenda, cli, cli_output, logzone
from agent.cli_parser import build_parser
from agent.models import StepKind
from tests.test_cli_local import init_noninteractive, run

ROOT = Path(__file__).resolve().parent.parent


def test_followup_alone_lists_every_command_with_a_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys)
    assert code == 0
    for name in build_parser().commands:
        assert re.search(rf"^\s+{re.escape(name)}\s+\S", out, re.MULTILINE), name


def test_help_command_describes_one_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "help", "add")
    assert code == 0 and "--discussed" in out and "default: video" in out
    code, _, err = run(capsys, "help", "statu")
    assert code == 2 and "did you mean 'status'?" in err


@pytest.mark.parametrize(
    ("argv", "suggested"),
    [
        (["statu"], "'status'"),
        (["agend"], "'agenda'"),
        (["add", "--compny", "Acme"], "'--company'"),
        (["status", "--jsn"], "'--json'"),
    ],
)
def test_did_you_mean(capsys: pytest.CaptureFixture[str], argv: list[str], suggested: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and f"did you mean {suggested}?" in err


def _options_without_help() -> list[str]:
    parser = build_parser()
    subs = [*parser.commands.values(), parser]
    subs += [s for p in parser.commands.values() for s in getattr(p, "commands", {}).values()]
    return [
        f"{sub.prog}: {action.dest}"
        for sub in subs
        for action in getattr(sub, "arguments", [])
        if not action.help
    ]


def test_every_option_has_help_and_defaults_and_repeats_are_stated() -> None:
    assert _options_without_help() == []
    add = build_parser().commands["add"].format_help()
    assert "(default: 60)" in add and "(default: video)" in add
    assert add.count("repeatable") >= 3  # --interviewer, --domain, --discussed


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(capsys: pytest.CaptureFixture[str], shell: str) -> None:
    code, out, _ = run(capsys, "completion", shell)
    assert code == 0 and "followup" in out and len(out) > 200


@pytest.mark.parametrize(
    ("line", "expected"),
    [("followup sta", {"status"}), ("followup add --int", {"--interviewer"})],
)
def test_completion_completes_commands_and_options(
    tmp_path: Path, line: str, expected: set[str]
) -> None:
    answer = tmp_path / "candidates"
    env = {
        "PATH": "/usr/bin:/bin",
        "_ARGCOMPLETE": "1",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
    }
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli"], cwd=ROOT, env=env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert set(answer.read_text().split()) == expected


def test_add_says_what_it_planned_with_discussed_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    argv = [
        "--config", str(cfg), "--now", "2026-11-20 09:00", "add",
        "--company", "Acme", "--role", "Data Engineer", "--at", "2026-11-20 10:00",
        "--interviewer", "Jane Doe <jane@example.com>",
        "--interviewer", "Raj Patel <raj@example.com>",
        "--discussed", "jane@example.com=how the team tests its data contracts",
    ]  # fmt: skip
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    added = json.loads(out)
    assert added["id"] == 1 and [p["kind"] for p in added["planned"]].count("thank_you") == 2
    assert all(p["due"].endswith("+01:00") for p in added["planned"])
    code, out, _ = run(capsys, "--config", str(cfg), "show", "1", "--json")
    assert code == 0
    code, out, _ = run(capsys, "--config", str(cfg), "--now", "2026-11-20 12:00", "preview", "1")
    assert "data contracts" in out
    code, _, err = run(capsys, *argv[:-2], "--discussed", "bob@example.com=x")
    assert code == 2 and "not one of the people met" in err


def test_log_times_are_in_the_configured_zone_with_offset() -> None:
    record = logging.LogRecord("followup", logging.INFO, __file__, 1, "hello", None, None)
    record.created = datetime(2026, 12, 1, 15, 5, 9, tzinfo=UTC).timestamp()
    logzone.use_zone(ZoneInfo("Europe/Berlin"))
    try:
        line = logzone.ZoneFormatter().format(record)
    finally:
        logzone.use_zone(None)
    assert line.startswith("2026-12-01T16:05:09+01:00 INFO followup: hello")


def test_a_closed_pipe_is_no_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    done = subprocess.run(
        f"{sys.executable} -m agent.cli help add | head -1",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in done.stderr


def test_main_entry_accepts_no_args(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["followup"])
    assert cli.main([]) == 0


@pytest.mark.parametrize("kind", list(StepKind))
def test_every_step_kind_reads_in_a_sentence(kind: StepKind) -> None:
    # A kind added to the models without words here broke `show` with a KeyError.
    assert cli_output.KIND_LABELS[kind]
    assert kind.is_email or kind in agenda.ACTIONS
