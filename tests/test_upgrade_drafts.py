"""Drafts written before issue 16 (X-Followup-Id, `<followup.…>` Message-ID) keep working.

The first cycle runs as the old code did (the two places it differed are
patched back: the header and the id form) on a database with no Message-ID
key yet; every later cycle runs the current code on that database.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import secrets
from email.message import EmailMessage

import pytest

from agent import compose
from agent.draftid import META_KEY
from agent.models import Step, StepState
from tests import test_cycle_memory
from tests.test_cycle_memory import World, mail, nothing_happened

world = test_cycle_memory.world  # the same fixture: one user, a store, a mailbox in memory

pytestmark = pytest.mark.legacy_drafts


def _old_message_id(step: Step, ids: object, domain: str) -> str:
    if step.message_id:
        return step.message_id
    digest = hashlib.sha256(step.key.encode()).hexdigest()[:12]
    return f"<followup.{digest}.{secrets.token_hex(6)}@{domain}>"


def _old_draft(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The thank-yous drafted by the code before issue 16."""
    to_message = compose.Draft.to_message

    def with_header(self: compose.Draft, when: object) -> EmailMessage:
        msg = to_message(self, when)  # type: ignore[arg-type]
        msg["X-Followup-Id"] = self.step_key
        return msg

    with monkeypatch.context() as m:
        m.setattr(compose, "message_id_for", _old_message_id)
        m.setattr(compose.Draft, "to_message", with_header)
        w.cycle("2026-11-16 16:05")
    w.store.conn.execute("DELETE FROM meta WHERE key = ?", (META_KEY,))
    assert all(b"X-Followup-Id: a1." in m.raw for m in w.server.messages("Drafts"))


def _raw_to(w: World, who: str) -> bytes:
    return next(m.raw for m in w.server.messages("Drafts") if who.encode() in m.raw)


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_old_drafts_are_withdrawn_when_the_company_replies(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_draft(world, monkeypatch)
    assert nothing_happened(world.cycle("2026-11-16 16:10"))  # still ours, not the user's
    world.server.deliver(
        "INBOX", mail("Jane Doe <jane@acme.example>", "Next steps", "2026-11-17 10:00", "<r@acme>")
    )
    report = world.cycle("2026-11-17 11:00")
    assert len(report.withdrawn) == 2 and world.drafts() == []
    assert all(d["X-Followup-Id"] for d in world.drafts("Trash"))


def test_an_old_draft_sent_by_the_user_is_recognised(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_draft(world, monkeypatch)
    world.cycle("2026-11-16 16:10")
    [jane] = [m for m in world.server.messages("Drafts") if b"jane@" in m.raw]
    sent_uid = world.server.move("Drafts", jane.uid, "Sent")
    assert sent_uid is not None
    report = world.cycle("2026-11-17 09:00")
    assert [s.key for s in report.sent] == [str(_parse(jane.raw)["X-Followup-Id"])]
    assert report.twins == [] and len(world.drafts()) == 1


def test_an_old_draft_resent_under_a_new_id_leaves_no_twin(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_draft(world, monkeypatch)
    world.cycle("2026-11-16 16:10")
    copy = _parse(_raw_to(world, "jane@"))
    key = str(copy["X-Followup-Id"])
    # neomutt keeps the header on "edit as new", and gives a new Message-ID.
    del copy["Message-ID"]
    copy["Message-ID"] = "<20261117.GA1@laptop.example>"
    world.server.deliver("Sent", copy.as_bytes(), ["\\Seen"])
    report = world.cycle("2026-11-17 09:00")
    assert [s.key for s in report.sent] == [key] and [s.key for s in report.twins] == [key]
    assert [str(d["X-Followup-Id"]) for d in world.drafts("Trash")] == [key]
    assert world.steps()[key] == ("thank_you", StepState.SENT)


def test_new_drafts_after_the_upgrade_carry_no_header_of_ours(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_draft(world, monkeypatch)
    # The interrupted APPEND of an old-scheme step is drafted again under a new id.
    [jane] = [m for m in world.server.messages("Drafts") if b"jane@" in m.raw]
    world.server.delete("Drafts", jane.uid)
    key = world.key_of(_parse(jane.raw))
    world.store.conn.execute("UPDATE steps SET state = 'appending' WHERE key = ?", (key,))
    world.cycle("2026-11-16 16:10")
    assert world.store.get_meta(META_KEY) is not None
    fresh = [d for d in world.drafts() if "X-Followup-Id" not in d]
    assert len(fresh) == 1 and "followup" not in str(fresh[0]["Message-ID"])
    assert world.key_of(fresh[0]) == key and world.steps()[key][1] is StepState.DRAFTED
