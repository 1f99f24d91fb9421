"""The Maildir on-disk format: file names, flag letters, and writes that never clobber.

Shared by `agent.maildir` (the backend) and by the helpers that play a
delivery agent for the demo and tests. Pure file-system code: no index, no
policy.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

# Maildir flag letters (the ":2," info suffix) and their IMAP names.
FLAG_LETTERS = {
    "D": "\\Draft",
    "F": "\\Flagged",
    "P": "$Forwarded",
    "R": "\\Answered",
    "S": "\\Seen",
    "T": "\\Deleted",
}
LETTER_OF = {name: letter for letter, name in FLAG_LETTERS.items()}
SUBDIRS = ("cur", "new", "tmp")
HEADER_LIMIT = 256 * 1024

_MBSYNC_UID = re.compile(r",U=\d+")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_counter = iter(range(1, 1 << 62))


def file_key(name: str) -> str:
    """The part of a Maildir file name that stays when its flags change."""
    return _MBSYNC_UID.sub("", name.partition(":")[0])


def file_flags(name: str) -> frozenset[str]:
    _, sep, info = name.partition(":2,")
    if not sep:
        return frozenset()
    return frozenset(FLAG_LETTERS[c] for c in info if c in FLAG_LETTERS)


def is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def from_ns(ns: int) -> datetime:
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=rest // 1000)


def to_ns(when: datetime) -> int:
    aware = when if when.tzinfo else when.astimezone()
    delta = aware - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def read_header(handle: BinaryIO) -> bytes:
    buf = b""
    while len(buf) < HEADER_LIMIT:
        chunk = handle.read(8192)
        if not chunk:
            break
        buf += chunk
        end = _HEADER_END.search(buf)
        if end is not None:
            return buf[: end.end()]
    return buf[:HEADER_LIMIT]


def unique_name() -> str:
    """A Maildir file name no other writer will pick (time, pid, counter, host)."""
    now = time.time()
    host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
    return (
        f"{int(now)}.M{int(now % 1 * 1e6)}P{os.getpid()}Q{next(_counter)}"
        f"R{secrets.token_hex(4)}.{host}"
    )


def write_new(path: Path, raw: bytes, when: datetime) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    ns = to_ns(when)
    os.utime(path, ns=(ns, ns))


def place(src: Path, dest: Path) -> None:
    """Give `src`'s file the name `dest` too, never replacing an existing file.

    The caller unlinks `src` afterwards (it may already be gone after the fallback).
    """
    try:
        os.link(src, dest)
    except FileExistsError:
        raise
    except OSError as exc:
        # Some file systems (FUSE, vfat) have no hard links; a rename is atomic too.
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if dest.exists():
            raise FileExistsError(errno.EEXIST, "file exists", str(dest)) from exc
        os.rename(src, dest)
    fsync_dir(dest.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
