"""agent/drafts.py through whole cycles on a local Maildir: no server needed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent import cli, config
from agent.engine import Engine
from agent.mailbox import Mailbox, open_mailbox
from agent.maildir import create_maildir, deliver
from agent.models import StepState
from agent.store import Store

NOW = datetime(2026, 11, 16, 15, 5, tzinfo=UTC)


@dataclass
class Box:
    root: Path
    store: Store
    mailbox: Mailbox
    engine: Engine

    def folder(self, name: str) -> Path:
        return self.root if name == "INBOX" else self.root / f".{name}"

    def files(self, name: str) -> list[Path]:
        d = self.folder(name)
        return sorted(p for sub in ("new", "cur") for p in (d / sub).iterdir())


@pytest.fixture
def box(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Box]:
    monkeypatch.delenv("FOLLOWUP_PASSWORD", raising=False)
    root = tmp_path / "Mail"
    create_maildir(root, "maildir++")
    cfg_path = tmp_path / "config.toml"
    db = tmp_path / "state.sqlite3"
    base = ["--config", str(cfg_path)]
    init = ["init", "--maildir", str(root), "--email", "alex@example.org"]
    init += ["--name", "Alex Candidate", "--timezone", "Europe/Berlin", "--database", str(db)]
    assert cli.main([*base, *init]) == 0
    add = ["--now", "2026-11-16 15:10", "add", "--company", "Acme", "--role", "Engineer"]
    add += ["--at", "2026-11-16 14:00", "--kind", "video"]
    add += ["--interviewer", "Jane Doe <jane@acme.example>"]
    assert cli.main([*base, *add]) == 0
    capsys.readouterr()
    cfg = config.load(cfg_path)
    store = Store.open(db)
    mailbox = open_mailbox(cfg.account, cfg.folders, None, state_dir=tmp_path / "state")
    mailbox.connect()
    try:
        yield Box(root, store, mailbox, Engine(cfg, store, mailbox))
    finally:
        mailbox.close()
        store.close()


def _crash_before_recording(store: Store) -> int:
    """The step back in `appending`, as a kill -9 between APPEND and record leaves it."""
    (step,) = store.steps_in_state(StepState.DRAFTED)
    with store.transaction():
        store.conn.execute(
            "UPDATE steps SET state = 'appending', draft_uid = NULL, drafted_at = NULL"
            " WHERE id = ?",
            (step.id,),
        )
    return step.id


def test_recovery_never_takes_a_uid_from_sent_for_the_draft(box: Box) -> None:
    # Two mails of the user's own in Sent, so the sent copy of our draft gets
    # a UID (3) that is not the one it had in Drafts (1).
    for n in (1, 2):
        deliver(box.folder("Sent"), f"From: alex@example.org\nSubject: n{n}\n\nx\n".encode())
    box.engine.run_cycle(NOW)
    (draft,) = box.files("Drafts")
    step_id = _crash_before_recording(box.store)
    # Meanwhile the user sent the draft: their client moved it to Sent.
    os.rename(draft, box.folder("Sent") / "cur" / draft.name)

    report = box.engine.run_cycle(NOW)

    assert [s.id for s in report.recovered] == [step_id]
    step = box.store.step(step_id)
    assert step.state is StepState.SENT
    # The draft is not in Drafts under any UID: a Sent UID there would point
    # the Drafts watch (and a withdrawal) at whatever Drafts holds under it.
    assert step.draft_uid is None
