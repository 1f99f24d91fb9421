"""Which directories of a Maildir tree are its folders, in either layout.

Maildir++ (Dovecot, Courier, mbsync's default): INBOX is the root, folders are
``.Name`` beside it, a dot nests. "fs" (mbsync's ``SubFolders Verbatim``,
offlineimap): folders are plain directories, INBOX among them or the root.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from agent.errors import FolderError
from agent.maildir_files import SUBDIRS, is_maildir

LAYOUTS = ("auto", "maildir++", "fs")
MAX_FS_DEPTH = 6


def detect_layout(root: Path) -> str:
    """ "maildir++" (INBOX is the root, folders are .Name) or "fs" (folders are dirs)."""
    try:
        children = [c for c in root.iterdir() if c.is_dir()]
    except OSError as exc:
        raise FolderError(f"cannot read the Maildir at {root}: {exc.strerror}") from exc
    if any(c.name.startswith(".") and is_maildir(c) for c in children):
        return "maildir++"
    plain = [c for c in children if not c.name.startswith(".") and c.name not in SUBDIRS]
    if any(is_maildir(c) for c in plain):
        return "fs"
    if is_maildir(root):
        return "maildir++"
    raise FolderError(
        f"no Maildir at {root}: expected cur/ and new/ there (Maildir++) "
        "or in folders below it (e.g. INBOX/cur, Drafts/cur)"
    )


def list_folders(root: Path, layout: str) -> dict[str, Path]:
    """Folder name -> directory, for `layout` ("maildir++" or "fs"); OSError passes."""
    found: dict[str, Path] = {}
    if layout == "maildir++":
        if is_maildir(root):
            found["INBOX"] = root
        for child in sorted(root.iterdir()):
            if child.name.startswith(".") and child.name not in (".", "..") and is_maildir(child):
                found[child.name[1:]] = child
        return found
    if is_maildir(root / "INBOX"):
        found["INBOX"] = root / "INBOX"
    elif is_maildir(root):
        found["INBOX"] = root
    for path in _walk(root, 0):
        found.setdefault(path.relative_to(root).as_posix(), path)
    return found


def _walk(path: Path, depth: int) -> Iterator[Path]:
    if depth >= MAX_FS_DEPTH:
        return
    for child in sorted(path.iterdir()):
        if child.name.startswith(".") or child.name in SUBDIRS or not child.is_dir():
            continue
        if is_maildir(child):
            yield child
        yield from _walk(child, depth + 1)
