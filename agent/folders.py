"""Which folder is Drafts, Sent, Trash, Archive: config, SPECIAL-USE flag, then name.

Pure; shared by the IMAP and Maildir backends (a Maildir has no flags, only names).
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.errors import FolderError
from agent.mailbox import Folders

ROLES = ("inbox", "drafts", "sent", "trash", "archive")

SPECIAL_USE = {
    "drafts": "\\drafts",
    "sent": "\\sent",
    "trash": "\\trash",
    "archive": "\\archive",
}

# Tried in order, case-insensitively, only when no folder carries the flag.
WELL_KNOWN_NAMES: dict[str, tuple[str, ...]] = {
    "drafts": (
        "Drafts",
        "Draft",
        "INBOX.Drafts",
        "INBOX/Drafts",
        "[Gmail]/Drafts",
        "[Gmail].Drafts",
    ),
    "sent": (
        "Sent",
        "Sent Items",
        "Sent Messages",
        "Sent Mail",
        "INBOX.Sent",
        "INBOX/Sent",
        "INBOX.Sent Items",
        "INBOX.Sent Messages",
        "[Gmail]/Sent Mail",
        "[Gmail].Sent Mail",
    ),
    "trash": (
        "Trash",
        "Deleted Items",
        "Deleted Messages",
        "Deleted",
        "INBOX.Trash",
        "INBOX/Trash",
        "[Gmail]/Trash",
        "[Gmail]/Bin",
        "[Gmail].Trash",
        "[Gmail].Bin",
    ),
    "archive": ("Archive", "Archives", "INBOX.Archive", "INBOX/Archive"),
}

ListEntry = tuple[Sequence[bytes | str], bytes | str | None, str]


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def resolve_folders(listing: Sequence[ListEntry], overrides: dict[str, str] | None) -> Folders:
    """Pick INBOX/Drafts/Sent/Trash/Archive: config, then special-use flag, then name."""
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(ROLES)
    if unknown:
        raise FolderError(
            f"unknown folder role(s) in config: {', '.join(sorted(unknown))} "
            f"(known: {', '.join(ROLES)})"
        )

    entries: list[tuple[frozenset[str], str]] = []
    delimiter: str | None = None
    for flags, delim, name in listing:
        lowered = frozenset(_text(f).lower() for f in flags)
        if delimiter is None and delim:
            delimiter = _text(delim)
        if "\\noselect" in lowered or "\\nonexistent" in lowered:
            continue
        entries.append((lowered, name))
    by_lower_name = {name.lower(): name for _, name in entries}

    chosen: dict[str, str] = {}
    found_by: dict[str, str] = {}
    for role, wanted in overrides.items():
        actual = wanted if role == "inbox" and wanted.upper() == "INBOX" else None
        actual = actual or by_lower_name.get(wanted.lower())
        if actual is None:
            raise FolderError(
                f"folder {wanted!r} set for {role} in the config does not exist in the mailbox"
            )
        chosen[role], found_by[role] = actual, "config"

    if "inbox" not in chosen:
        chosen["inbox"], found_by["inbox"] = by_lower_name.get("inbox", "INBOX"), "name"

    for role, flag in SPECIAL_USE.items():
        if role in chosen:
            continue
        flagged = [name for flags, name in entries if flag in flags]
        if flagged:
            # Several folders with one flag happen after client migrations; a
            # well-known name among them is the likelier one in use.
            known = {n.lower() for n in WELL_KNOWN_NAMES[role]}
            preferred = [n for n in flagged if n.lower() in known]
            chosen[role], found_by[role] = (preferred or flagged)[0], "special-use"
            continue
        for candidate in WELL_KNOWN_NAMES[role]:
            actual = by_lower_name.get(candidate.lower())
            if actual is not None:
                chosen[role], found_by[role] = actual, "name"
                break

    for role in ("drafts", "sent"):
        if role not in chosen:
            raise FolderError(
                f"no {role.capitalize()} folder: none is flagged {SPECIAL_USE[role]} "
                f"(RFC 6154) and none is named {', '.join(WELL_KNOWN_NAMES[role])}; "
                f'set it in the config, e.g. [folders] {role} = "..."'
            )

    return Folders(
        inbox=chosen["inbox"],
        drafts=chosen["drafts"],
        sent=chosen["sent"],
        trash=chosen.get("trash"),
        archive=chosen.get("archive"),
        found_by=found_by,
        delimiter=delimiter or "/",
    )
