"""Which folder is Drafts, Sent, Trash, Archive: config, SPECIAL-USE flag, then name.

Pure; shared by the IMAP and Maildir backends (a Maildir has no flags, only names).
Names are matched after taking off the personal namespace prefix (`INBOX.` on
Courier, Cyrus and many ISPs) and a provider container (`[Gmail]/`), in the
languages of agent.foldernames. Folder names are Unicode here; imapclient
turns them into modified UTF-7 on the wire.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from agent.errors import FolderSetupError
from agent.foldernames import IGNORED_FLAGS, IGNORED_NAMES, PROVIDER_CONTAINERS, ROLE_NAMES
from agent.mailbox import FolderInfo, Folders

ROLES = ("inbox", "drafts", "sent", "trash", "archive")

SPECIAL_USE = {
    "drafts": "\\drafts",
    "sent": "\\sent",
    "trash": "\\trash",
    "archive": "\\archive",
}

# Kept for callers that show what is tried: every role's names, most common first.
WELL_KNOWN_NAMES: dict[str, tuple[str, ...]] = ROLE_NAMES

ListEntry = tuple[Sequence[bytes | str], bytes | str | None, str]


@dataclass(frozen=True)
class _Entry:
    name: str
    flags: frozenset[str]  # lower-cased
    shown_flags: tuple[str, ...]
    selectable: bool


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def fold(name: str) -> str:
    """The form two folder names are compared in (NFC, case-folded)."""
    return unicodedata.normalize("NFC", name).casefold()


def decode_mutf7(name: str) -> str:
    """A modified UTF-7 name (RFC 3501 5.1.3) as Unicode; other text unchanged.

    A user may copy a name like `Entw&APw-rfe` from a log or another tool.
    """
    if "&" not in name or not name.isascii():
        return name
    out, i = [], 0
    while i < len(name):
        start = name.find("&", i)
        end = name.find("-", start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            out.append(name[i:])
            break
        out.append(name[i:start])
        chunk = name[start + 1 : end]
        if not chunk:
            out.append("&")
        else:
            padded = chunk.replace(",", "/") + "=" * (-len(chunk) % 4)
            try:
                out.append(base64.b64decode(padded, validate=True).decode("utf-16-be"))
            except (binascii.Error, ValueError):
                return name
        i = end + 1
    return "".join(out)


def _entries(listing: Sequence[ListEntry]) -> tuple[list[_Entry], str | None]:
    entries: list[_Entry] = []
    delimiter: str | None = None
    for flags, delim, name in listing:
        shown = tuple(_text(f) for f in flags)
        lowered = frozenset(f.lower() for f in shown)
        if delimiter is None and delim:
            delimiter = _text(delim)
        selectable = not ({"\\noselect", "\\nonexistent"} & lowered)
        entries.append(_Entry(name, lowered, shown, selectable))
    return entries, delimiter


def infer_prefix(names: Sequence[str], delimiter: str | None) -> str:
    """`INBOX<delim>` when the account keeps its folders under INBOX, else ""."""
    if not delimiter:
        return ""
    inner = f"inbox{delimiter}".casefold()
    others = [n for n in names if n.casefold() != "inbox"]
    under = [n for n in others if n.casefold().startswith(inner)]
    # Most folders below INBOX (Courier, Cyrus without altnamespace): that is the namespace.
    return f"INBOX{delimiter}" if others and len(under) * 2 > len(others) else ""


def _leaf(name: str, prefix: str, delimiter: str | None) -> str | None:
    """The name a role is known by: without prefix or container; None if nested deeper."""
    rest = name[len(prefix) :] if prefix and fold(name).startswith(fold(prefix)) else name
    if not delimiter:
        return rest
    parts = rest.split(delimiter)
    if len(parts) == 2 and fold(parts[0]) in {fold(c) for c in PROVIDER_CONTAINERS}:
        return parts[1]
    return rest if len(parts) == 1 else None


def _by_name(
    entries: Sequence[_Entry], names: Sequence[str], prefix: str, delimiter: str | None
) -> str | None:
    rank = {fold(n): i for i, n in enumerate(names)}
    best: tuple[int, int, str] | None = None
    for e in entries:
        leaf = _leaf(e.name, prefix, delimiter)
        if not e.selectable or leaf is None or fold(leaf) not in rank:
            continue
        key = (rank[fold(leaf)], len(e.name), e.name)
        best = key if best is None or key < best else best
    return best[2] if best else None


def _lookup(wanted: str, entries: Sequence[_Entry], prefix: str, delim: str | None) -> str | None:
    """A configured name as the server has it: as given, with or without the prefix."""
    variants = []
    for given in dict.fromkeys((wanted, decode_mutf7(wanted))):
        variants += [given, prefix + given]
        if prefix and fold(given).startswith(fold(prefix)):
            variants.append(given[len(prefix) :])
    if delim:
        # Written with the other common delimiter (`INBOX/Entwürfe` on a `.` server).
        variants += [v.replace("/" if delim == "." else ".", delim) for v in list(variants)]
    by_fold = {fold(e.name): e.name for e in entries if e.selectable}
    for v in variants:
        if fold(v) in by_fold:
            return by_fold[fold(v)]
    return None


# Accounts with thousands of folders exist: show the first ones only.
MAX_LISTED = 40


def describe(existing: Sequence[FolderInfo]) -> str:
    """The folders that exist, with their attributes, one per line (the first MAX_LISTED)."""
    lines = [f"  {f.name}  {' '.join(f.flags)}".rstrip() for f in existing[:MAX_LISTED]]
    if len(existing) > MAX_LISTED:
        lines.append(f"  ... and {len(existing) - MAX_LISTED} more")
    return "\n".join(lines) or "  (none)"


def _missing(role: str, prefix: str, existing: Sequence[FolderInfo]) -> FolderSetupError:
    name = ROLE_NAMES[role][0]
    return FolderSetupError(
        f"no {role.capitalize()} folder: none is flagged {SPECIAL_USE[role]} (RFC 6154) and "
        f"none has a usual name ({', '.join(ROLE_NAMES[role][:4])}, ...). "
        f'Create one named "{prefix}{name}" in your mail client, or name yours in the '
        f'config:\n  [folders]\n  {role} = "..."\n'
        f"Folders on this account:\n{describe(existing)}"
    )


def _ignored(entries: Sequence[_Entry], prefix: str, delimiter: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in entries:
        why = next((IGNORED_FLAGS[f] for f in sorted(e.flags) if f in IGNORED_FLAGS), None)
        if why is None:
            leaf = _leaf(e.name, prefix, delimiter)
            folded = fold(leaf) if leaf is not None else ""
            why = next((k for k, ns in IGNORED_NAMES.items() if folded in map(fold, ns)), None)
        if why is not None and e.selectable:
            out[e.name] = why
    return out


def _configured(
    overrides: dict[str, str],
    entries: Sequence[_Entry],
    prefix: str,
    delimiter: str | None,
    existing: Sequence[FolderInfo],
) -> dict[str, str]:
    unknown = set(overrides) - set(ROLES)
    if unknown:
        raise FolderSetupError(
            f"unknown folder role(s) in config: {', '.join(sorted(unknown))} "
            f"(known: {', '.join(ROLES)})"
        )
    chosen: dict[str, str] = {}
    for role, wanted in overrides.items():
        actual = wanted if role == "inbox" and wanted.upper() == "INBOX" else None
        actual = actual or _lookup(wanted, entries, prefix, delimiter)
        if actual is None:
            raise FolderSetupError(
                f"folder {wanted!r} set for {role} in the config does not exist in the "
                f"mailbox. Folders on this account:\n{describe(existing)}"
            )
        chosen[role] = actual
    return chosen


def _discovered(
    role: str, candidates: Sequence[_Entry], prefix: str, delimiter: str | None
) -> tuple[str, str] | None:
    """(name, how) for a role from its SPECIAL-USE flag, else from its usual names."""
    flagged = [e for e in candidates if SPECIAL_USE[role] in e.flags]
    if flagged:
        # Several folders with one flag happen after client migrations; a
        # well-known name among them is the likelier one in use.
        by_name = _by_name(flagged, ROLE_NAMES[role], prefix, delimiter)
        return by_name or flagged[0].name, "special-use"
    named = _by_name(candidates, ROLE_NAMES[role], prefix, delimiter)
    return (named, "name") if named is not None else None


def resolve_folders(
    listing: Sequence[ListEntry],
    overrides: dict[str, str] | None,
    *,
    prefix: str | None = None,
) -> Folders:
    """Pick INBOX/Drafts/Sent/Trash/Archive: config, then special-use flag, then name.

    `prefix` is the personal namespace (NAMESPACE); inferred from the names when None.
    """
    entries, delimiter = _entries(listing)
    if prefix is None:
        prefix = infer_prefix([e.name for e in entries if e.selectable], delimiter)
    existing = tuple(FolderInfo(e.name, e.shown_flags) for e in entries)

    chosen = _configured(dict(overrides or {}), entries, prefix, delimiter, existing)
    found_by = dict.fromkeys(chosen, "config")
    if "inbox" not in chosen:
        chosen["inbox"] = next((e.name for e in entries if e.name.upper() == "INBOX"), "INBOX")
        found_by["inbox"] = "name"

    ignored = _ignored(entries, prefix, delimiter)
    candidates = [e for e in entries if e.name not in ignored and e.selectable]
    for role in SPECIAL_USE:
        found = None if role in chosen else _discovered(role, candidates, prefix, delimiter)
        if found is not None:
            chosen[role], found_by[role] = found

    for role in ("drafts", "sent"):
        if role not in chosen:
            raise _missing(role, prefix, existing)

    return Folders(
        inbox=chosen["inbox"],
        drafts=chosen["drafts"],
        sent=chosen["sent"],
        trash=chosen.get("trash"),
        archive=chosen.get("archive"),
        found_by=found_by,
        delimiter=delimiter or "/",
        prefix=prefix,
        existing=existing,
        ignored=ignored,
    )


def folder_notes(folders: Folders) -> list[str]:
    """What `check` adds under the roles: folders skipped, a missing Trash, what exists."""
    lines: list[str] = []
    if folders.ignored:
        skipped = ", ".join(f"{name} ({why})" for name, why in sorted(folders.ignored.items()))
        lines.append(f"  not read {skipped}")
        if "all mail" in folders.ignored.values():
            lines.append("  (All Mail repeats every message: never read, even if listed in watch)")
    if folders.trash is None:
        lines += [
            "  no Trash folder: a draft to withdraw (they replied, or you stopped it) is left",
            "  in Drafts for you to delete, never deleted for good. To name your Trash:",
            "    [folders]",
            f'    trash = "{folders.prefix}Trash"',
        ]
    if folders.existing:
        lines.append(f"  folders on the server (prefix {folders.prefix or 'none'}):")
        lines += ["  " + line for line in describe(folders.existing).splitlines()]
    return lines
