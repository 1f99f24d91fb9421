"""Our Message-IDs: ordinary to a reader, verifiable by us alone (agent/draftid.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.draftid import META_KEY, DraftIds, is_legacy, new_key
from agent.drafts import draft_ids
from agent.store import Store

KEY = DraftIds.from_hex(new_key())


def test_our_ids_verify_under_our_key_only() -> None:
    mid = KEY.new("example.org")
    assert KEY.verifies(mid) and KEY.verifies(mid.strip("<>")) and KEY.verifies(mid.upper())
    assert not DraftIds.from_hex(new_key()).verifies(mid)
    assert len({KEY.new("example.org") for _ in range(200)}) == 200


@given(st.uuids(version=4), st.sampled_from(["example.org", "mail.gmail.com"]))
def test_a_clients_uuid_message_id_is_not_ours(u: uuid.UUID, domain: str) -> None:
    # Thunderbird's ids have our form; only 2^-48 of them could pass the tag.
    assert not KEY.verifies(f"<{u}@{domain}>")


@given(st.text(max_size=80))
def test_any_text_is_checked_without_raising(text: str) -> None:
    KEY.verifies(text)
    is_legacy(text)


@pytest.mark.parametrize(
    ("mid", "legacy"),
    [
        ("<followup.9b7d85e13618.e47cd9e87e45@example.test>", True),
        ("followup.9b7d85e13618.e47cd9e87e45@example.test", True),
        ("<followup.9b7d85e13618@example.test>", False),
        ("<CAH+abc@mail.gmail.com>", False),
        (None, False),
    ],
)
def test_old_scheme_ids(mid: str | None, legacy: bool) -> None:
    assert is_legacy(mid) is legacy


def test_an_old_scheme_draft_is_ours_only_with_its_header() -> None:
    old = "<followup.9b7d85e13618.e47cd9e87e45@example.test>"
    assert KEY.is_ours(old, "a1.i1.thank_you.c4") and not KEY.is_ours(old, None)
    assert KEY.is_ours(KEY.new("example.test"))


def test_the_key_is_made_once_and_kept_in_the_database(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    first, second = Store.open(db), Store.open(db)
    try:
        ids = draft_ids(first)
        mid = ids.new("example.org")
        # Another process on the same database, and a later start, verify it.
        assert draft_ids(second).verifies(mid)
        first.close()
        again = Store.open(db)
        assert draft_ids(again).verifies(mid) and again.get_meta(META_KEY) == ids.key.hex()
        again.close()
    finally:
        second.close()
