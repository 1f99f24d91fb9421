"""`followup demo` tells the whole story offline, with the real commands."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import tempfile
from pathlib import Path

import pytest

from agent import cli, credentials
from tests.ours import step_key


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo must need no network and no password."""

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the demo opened a network connection")

    def no_password(*args: object, **kwargs: object) -> str:
        raise AssertionError("the demo looked for a password")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(credentials, "get_password", no_password)
    monkeypatch.delenv("FOLLOWUP_CONFIG", raising=False)


def files(folder: Path) -> list[Path]:
    return sorted(p for sub in ("new", "cur") for p in (folder / sub).iterdir())


@pytest.mark.usefixtures("offline")
def test_demo_story(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "demo"
    assert cli.main(["demo", "--dir", str(root)]) == 0
    out = capsys.readouterr().out

    # Thank-you notes: one per person met, none sharing an opening line.
    drafted = re.findall(r"^drafted thank_you to (\S+):", out, re.MULTILINE)
    assert sorted(drafted) == sorted(
        [
            "jane.doe@acme-analytics.example",
            "raj.patel@acme-analytics.example",
            "maria.garcia@acme-analytics.example",
            "bob@talentco.example",
        ]
    )
    openings = re.findall(r"│ Dear \w+,\n  │\n  │ ([^.]+\.)", out)
    assert len(openings) >= 4 and len(set(openings)) == len(openings)

    # The first check-in skips Thanksgiving and appears Monday 08:00.
    assert "drafted checkin to maria.garcia@acme-analytics.example" in out
    # The out-of-office holds the second check-in until after her return.
    assert "back Fri 11 Dec" in out
    # The reply stops everything and withdraws the unsent check-in.
    assert "application 1 is now responded" in out
    assert out.count("was sent by you") == 5  # four notes, then the first check-in
    assert "checkin to maria.garcia@acme-analytics.example was withdrawn to Trash" in out
    mail = root / "Mail"
    assert files(mail / ".Drafts") == []
    (trashed,) = files(mail / ".Trash")
    msg = email.message_from_bytes(trashed.read_bytes(), policy=email.policy.default)
    assert step_key(root / "state.sqlite3", msg) == "a1.i1.checkin2"
    # Sent holds what "you" sent: four notes and the first check-in, nothing more.
    assert len(files(mail / ".Sent")) == 5
    assert out.rstrip().endswith("followup init --maildir ~/Mail")
    assert "followup init" in out and str(mail) in out


def test_demo_refuses_a_used_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "something").write_text("keep me")
    assert cli.main(["demo", "--dir", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "something").read_text() == "keep me"


@pytest.mark.usefixtures("offline")
def test_demo_in_a_temp_dir_says_where_it_left_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert cli.main(["demo"]) == 0
    (root,) = tmp_path.glob("followup-demo-*")
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert last == f"The demo's files stay in {root}; remove them with: rm -r {root}"
    assert files(root / "Mail" / ".Sent")  # still there to look at
