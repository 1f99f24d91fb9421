"""agent/drafts.py through whole cycles on a local Maildir: no server needed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent import cli, config, effects
from agent.connect import open_mailbox
from agent.engine import Engine
from agent.errors import MailboxFatalError
from agent.gone import GONE_GRACE
from agent.mailbox import Mailbox
from agent.maildir import create_maildir, deliver
from agent.models import AppState, StepKind, StepState
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


def _open_box(tmp_path: Path, *extra: str, lint: str = "warn") -> Box:
    root = tmp_path / "Mail"
    create_maildir(root, "maildir++")
    cfg_path = tmp_path / "config.toml"
    db = tmp_path / "state.sqlite3"
    base = ["--config", str(cfg_path)]
    init = ["init", "--maildir", str(root), "--email", "alex@example.org"]
    init += ["--name", "Alex Candidate", "--timezone", "Europe/Berlin", "--database", str(db)]
    assert cli.main([*base, *init]) == 0
    cfg_path.write_text(cfg_path.read_text().replace('lint = "warn"', f'lint = "{lint}"'))
    add = ["--now", "2026-11-16 15:10", "add", "--company", "Acme", "--role", "Engineer"]
    add += ["--at", "2026-11-16 14:00", "--kind", "video"]
    add += ["--interviewer", "Jane Doe <jane@acme.example>", *extra]
    assert cli.main([*base, *add]) == 0
    cfg = config.load(cfg_path)
    store = Store.open(db)
    mailbox = open_mailbox(cfg.account, cfg.folders, None, state_dir=tmp_path / "state")
    mailbox.connect()
    return Box(root, store, mailbox, Engine(cfg, store, mailbox))


@pytest.fixture
def box(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Box]:
    monkeypatch.delenv("FOLLOWUP_PASSWORD", raising=False)
    b = _open_box(tmp_path)
    capsys.readouterr()
    try:
        yield b
    finally:
        b.mailbox.close()
        b.store.close()


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


def _stop(box: Box) -> None:
    with box.store.transaction():
        effects.end_sequence(
            box.store, 1, AppState.STOPPED, "stopped by you", "you stopped it", NOW
        )


def _events(box: Box, kind: str) -> int:
    return sum(e.kind == kind for e in box.store.load(1).events)


def test_a_stopped_sequence_withdraws_its_unedited_draft(box: Box) -> None:
    box.engine.run_cycle(NOW)
    box.engine.run_cycle(NOW)  # our draft seen in Drafts: the watch follows it
    _stop(box)
    report = box.engine.run_cycle(NOW)
    (step,) = report.withdrawn
    assert box.files("Drafts") == [] and len(box.files("Trash")) == 1
    after = box.store.step(step.id)
    assert after.state is StepState.WITHDRAWN
    assert after.end_reason == "you stopped it; draft moved to Trash" == after.note


def test_an_edited_draft_stays_and_is_the_users(box: Box) -> None:
    box.engine.run_cycle(NOW)
    (ours,) = box.files("Drafts")
    # The user's client saves the edit as a new message and deletes the old one.
    edited = ours.read_bytes().replace(b"Message-ID: <", b"Message-ID: <edited.")
    deliver(box.folder("Drafts"), edited, flags="DS")
    ours.unlink()
    box.engine.run_cycle(NOW)
    _stop(box)
    report = box.engine.run_cycle(NOW)
    assert report.withdrawn == [] and len(box.files("Drafts")) == 1
    (step,) = box.store.steps_in_state(StepState.DRAFTED)
    watch = box.store.draft_watch(step.id)
    assert watch is not None and watch.edited and watch.left_for_user == ""
    assert step.draft_edited and step.note == "edited by you in Drafts"


def test_a_refused_withdrawal_leaves_the_draft_once_without_calling_it_edited(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    box.engine.run_cycle(NOW)
    box.engine.run_cycle(NOW)
    calls: list[int] = []

    def refuse(folder: str, uid: int, trash: str | None, **kw: object) -> None:
        calls.append(uid)
        raise MailboxFatalError("not our draft")

    monkeypatch.setattr(box.mailbox, "withdraw", refuse)
    _stop(box)
    box.engine.run_cycle(NOW)
    box.engine.run_cycle(NOW)
    assert len(calls) == 1  # left for the user: not retried every cycle
    (step,) = box.store.steps_in_state(StepState.DRAFTED)
    watch = box.store.draft_watch(step.id)
    assert watch is not None and not watch.edited
    assert watch.left_for_user == "you stopped it; draft left in Drafts (not our draft)"
    assert step.note == watch.left_for_user and not step.draft_edited


def test_a_deleted_draft_is_skipped_after_the_grace_and_never_drafted_again(box: Box) -> None:
    box.engine.run_cycle(NOW)
    box.engine.run_cycle(NOW)
    (ours,) = box.files("Drafts")
    ours.unlink()
    assert box.engine.run_cycle(NOW).rejected == []
    (step,) = box.store.steps_in_state(StepState.DRAFTED)
    watch = box.store.draft_watch(step.id)
    assert watch is not None and watch.gone_at == NOW
    later = NOW + GONE_GRACE
    report = box.engine.run_cycle(later)
    assert [s.id for s in report.rejected] == [step.id]
    assert box.store.step(step.id).state is StepState.SKIPPED
    assert box.engine.run_cycle(later).drafted == [] and box.files("Drafts") == []


def test_a_draft_held_back_by_lint_is_recorded_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = _open_box(tmp_path, "--learned", "how the team recieves its data", lint="block")
    try:
        for _ in range(3):
            report = b.engine.run_cycle(NOW)
            assert report.drafted == [] and len(report.problems) == 1
        (step,) = [
            s for s in b.store.steps_in_state(StepState.PLANNED) if s.kind is StepKind.THANK_YOU
        ]
        assert step.held_back and "recieves" in step.lint_findings
        assert step.note.startswith("held back by lint: spelling")
        assert _events(b, "lint") == 1
        assert b.files("Drafts") == []
    finally:
        b.mailbox.close()
        b.store.close()


def test_a_settled_cycle_writes_nothing(box: Box) -> None:
    deliver(box.folder("INBOX"), b"From: news@shop.example\nSubject: Sale\n\nBuy.\n")
    for _ in range(3):  # draft, see it in Drafts, settle
        box.engine.run_cycle(NOW)
    before = list(box.store.conn.iterdump())
    report = box.engine.run_cycle(NOW)
    assert list(box.store.conn.iterdump()) == before
    assert not (report.drafted or report.sent or report.withdrawn or report.rejected)
