"""A local Maildir (mbsync, offlineimap, mutt, notmuch) as an `agent.mailbox.Mailbox`.

The user's files are only ever read: never renamed, moved from new/ to cur/,
re-flagged or touched. The only writes are our own drafts (written in tmp/,
then linked into cur/ with the ``:2,DS`` draft+seen flags) and withdrawing one
of them to Trash; `agent.backend.BaseMailbox` decides when those may happen.

Maildir has no UIDs, so this backend gives each folder's messages stable
integer UIDs, remembered in `agent.maildir_index` (a SQLite file kept outside
the Maildir); file names, flags and safe writes are `agent.maildir_files`. A message is
known by its file key: the name before ``:2,``, without mbsync's ``,U=n``
part; the key survives flag changes (a rename of the same key) and a sync tool
uploading our draft. UIDs are handed out in delivery (mtime) order and never
reused; a folder's UIDVALIDITY is drawn when the index first sees the folder
and so changes only if the index is lost, which makes the next sync start over.

`wait()` is woken by file-system events (`agent.fswatch`) on new/ and cur/ of
every folder the sync reads, within a few milliseconds; where the platform
cannot watch it polls their mtimes (two stat calls a folder) every half
second. Either way it wakes at least as fast as IMAP IDLE; `info()` says IDLE.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import mailbox as stdlib_mailbox
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO

import platformdirs

from agent.backend import BaseMailbox, Peek, header_fields
from agent.config import APP_NAME
from agent.errors import (
    FolderError,
    MailboxError,
    MailboxFatalError,
    MailboxTransientError,
)
from agent.folders import resolve_folders
from agent.fswatch import ChangeWaiter, ObserverFactory, Woke, native_observer
from agent.mailbox import FetchedMessage, Folders, FolderStatus, ServerInfo
from agent.maildir_files import (
    LETTER_OF,
    file_flags,
    file_key,
    from_ns,
    place,
    read_header,
    unique_name,
    write_new,
)
from agent.maildir_index import UidIndex, index_path
from agent.maildir_layout import LAYOUTS, detect_layout, list_folders

log = logging.getLogger(__name__)

# What info() reports: UIDs are stable and returned by append_draft (UIDPLUS),
# withdraw moves atomically (MOVE), wait() wakes within a second (IDLE), and
# status() carries a modification sequence that changes on any change (CONDSTORE).
CAPABILITIES = frozenset({"IDLE", "UIDPLUS", "MOVE", "CONDSTORE", "X-MAILDIR"})
WAIT_POLL_SECONDS = 0.5
# A directory changed this recently may change again within the same mtime
# tick (1 s on some file systems), unseen by a stat: such a scan is not trusted.
RACY_SECONDS = 2.0


@dataclass(frozen=True)
class _File:
    subdir: str  # "new" or "cur"
    name: str

    @property
    def flags(self) -> frozenset[str]:
        return file_flags(self.name)


@dataclass
class _Scan:
    stamp: tuple[int, int]  # st_mtime_ns of new/ and cur/
    files: dict[str, _File]  # key -> file
    digest: str
    modseq: int
    scanned_at: float  # wall clock
    racy_until: float  # a change before this may share the stamp's mtime tick

    @property
    def trusted(self) -> bool:
        """Whether an unchanged stamp proves the directory unchanged since the scan."""
        return self.scanned_at >= self.racy_until

    uids: dict[int, str] = field(default_factory=dict)  # uid -> key, present files only


class MaildirMailbox(BaseMailbox):
    """The `agent.mailbox.Mailbox` protocol over a local Maildir tree."""

    def __init__(
        self,
        root: Path,
        *,
        layout: str = "auto",
        index: Path | None = None,
        folder_overrides: dict[str, str] | None = None,
        also_watch: Sequence[str] = (),
        observer_factory: ObserverFactory = native_observer,
    ) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
        self.root = root.expanduser()
        self.layout_setting = layout
        self.layout = layout
        self.index_file = index or index_path(
            self.root, Path(platformdirs.user_state_dir(APP_NAME))
        )
        self.folder_overrides = {
            role: name.removeprefix(".") for role, name in (folder_overrides or {}).items()
        }
        self._index: UidIndex | None = None
        self._paths: dict[str, Path] = {}
        self._scans: dict[str, _Scan] = {}
        self._known: dict[str, dict[str, int]] = {}
        self.also_watch = tuple(also_watch)
        self._roles: Folders | None = None
        self._waiter = ChangeWaiter(observer_factory)

    def __repr__(self) -> str:
        return f"MaildirMailbox({self.root}, {self.layout})"

    # -- opening ------------------------------------------------------------

    def connect(self) -> None:
        """Find the layout and open the UID index; a no-op when already open."""
        if self._index is not None:
            return
        if not self.root.is_dir():
            raise FolderError(f"no Maildir at {self.root}: not a directory")
        self.layout = (
            detect_layout(self.root) if self.layout_setting == "auto" else self.layout_setting
        )
        with self._guard(f"open the UID index {self.index_file}"):
            self._index = UidIndex(self.index_file)
        self._paths = list_folders(self.root, self.layout)
        log.info(
            "opened Maildir %s (%s layout, %d folders)", self.root, self.layout, len(self._paths)
        )

    def abort(self) -> None:
        """End a `wait()` blocked in another thread at once (it raises a transient error)."""
        self._waiter.abort()

    def close(self) -> None:
        self._waiter.close()
        index, self._index = self._index, None
        self._scans.clear()
        self._known.clear()
        if index is not None:
            index.close()

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Translate OS and SQLite errors raised while doing `what`."""
        try:
            yield
        except MailboxError:
            raise
        except (OSError, sqlite3.Error) as exc:
            raise self._translate(exc, what) from exc

    def _translate(self, exc: OSError | sqlite3.Error, what: str) -> MailboxError:
        if isinstance(exc, PermissionError):
            return MailboxFatalError(f"{what}: permission denied: {exc.filename}")
        if isinstance(exc, OSError):
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                return MailboxFatalError(f"{what}: {exc.strerror}")
            return MailboxTransientError(f"{what}: {exc.strerror or exc}")
        if isinstance(exc, sqlite3.OperationalError):
            return MailboxTransientError(f"{what}: UID index busy: {exc}")
        return MailboxFatalError(
            f"{what}: the UID index {self.index_file} is damaged ({exc}); delete it to "
            "rebuild it (every folder then gets a new UIDVALIDITY and is read again)"
        )

    @property
    def _idx(self) -> UidIndex:
        self.connect()
        assert self._index is not None
        return self._index

    # -- folders ------------------------------------------------------------

    def _list_folders(self) -> Folders:
        self.connect()
        with self._guard(f"list the folders of {self.root}"):
            self._paths = list_folders(self.root, self.layout)
        delimiter = "." if self.layout == "maildir++" else "/"
        listing = [((), delimiter, name) for name in self._paths]
        self._roles = resolve_folders(listing, self.folder_overrides)
        return self._roles

    def folder_path(self, folder: str) -> Path:
        """The directory of `folder` (its cur/, new/ and tmp/ are inside)."""
        self.connect()
        path = self._paths.get(folder)
        if path is None:
            with self._guard(f"list the folders of {self.root}"):
                self._paths = list_folders(self.root, self.layout)
            path = self._paths.get(folder)
        if path is None:
            raise FolderError(f"no folder {folder!r} in the Maildir at {self.root}")
        return path

    # -- scanning -----------------------------------------------------------

    @staticmethod
    def _stamp(path: Path) -> tuple[int, int]:
        return ((path / "new").stat().st_mtime_ns, (path / "cur").stat().st_mtime_ns)

    def _scan(self, folder: str, *, force: bool = False) -> _Scan:
        """The folder's files by key, numbering new ones; cached while new/ and cur/ stand still."""
        path = self.folder_path(folder)
        with self._guard(f"read {folder} in {self.root}"):
            stamp = self._stamp(path)
            cached = self._scans.get(folder)
            scanned_at = time.time()
            if cached is not None and not force and cached.stamp == stamp and cached.trusted:
                return cached
            files: dict[str, _File] = {}
            for subdir in ("new", "cur"):
                with os.scandir(path / subdir) as entries:
                    for entry in entries:
                        if entry.name.startswith("."):
                            continue
                        # The same key in both: another client is moving it; cur/ wins.
                        files[file_key(entry.name)] = _File(subdir, entry.name)
            known = self._known.get(folder)
            if known is None:
                known = self._known[folder] = self._idx.keys(folder)
            new = [k for k in files if k not in known]
            new.sort(key=lambda k: (self._mtime_ns(path, files[k]), files[k].name))
            digest = hashlib.sha256(
                "\n".join(sorted(f"{f.subdir}/{f.name}" for f in files.values())).encode()
            ).hexdigest()
            if new or cached is None or cached.digest != digest:
                assigned, modseq = self._idx.update(folder, new, digest)
                known.update(assigned)
            else:
                modseq = cached.modseq
        newest = max(stamp) / 1e9
        scan = _Scan(
            stamp=stamp,
            files=files,
            digest=digest,
            modseq=modseq,
            scanned_at=scanned_at,
            racy_until=newest + RACY_SECONDS,
            uids={known[k]: k for k in files},
        )
        self._scans[folder] = scan
        if new:
            log.debug("%s: %d new file(s), UIDs assigned", folder, len(new))
        return scan

    @staticmethod
    def _mtime_ns(path: Path, f: _File) -> int:
        try:
            return (path / f.subdir / f.name).stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    @contextmanager
    def _open(self, folder: str, uid: int) -> Iterator[tuple[BinaryIO, _File] | None]:
        """The file of `uid` opened for reading, following renames by other clients."""
        for attempt in range(3):
            scan = self._scan(folder, force=attempt > 0)
            key = scan.uids.get(uid)
            if key is None:
                yield None
                return
            f = scan.files[key]
            try:
                handle = open(self.folder_path(folder) / f.subdir / f.name, "rb")  # noqa: SIM115
            except FileNotFoundError:
                continue  # renamed (flag change) or moved since the scan: look again
            except OSError as exc:
                raise self._translate(exc, f"read {folder} UID {uid}") from exc
            with handle:
                yield handle, f
            return
        yield None

    # -- reading ------------------------------------------------------------

    def info(self) -> ServerInfo:
        self.connect()
        return ServerInfo(
            capabilities=CAPABILITIES, greeting=f"Maildir {self.root} ({self.layout} layout)"
        )

    def status(self, folder: str, *, keep_selected: bool = False) -> FolderStatus:
        # Nothing to keep open: a scan whose directory stamps did not move is cached.
        scan = self._scan(folder)
        validity, uidnext = self._idx.folder(folder)
        return FolderStatus(
            uidvalidity=validity,
            uidnext=uidnext,
            messages=len(scan.files),
            highestmodseq=scan.modseq,
        )

    def fetch_new(
        self, folder: str, *, after_uid: int, since: date | None = None
    ) -> list[FetchedMessage]:
        """Headers of messages with UID > after_uid, oldest first, read-only.

        `since` (by file mtime, the Maildir "internal date", in local time)
        applies only when after_uid is 0, i.e. the first sync of a folder.
        """
        scan = self._scan(folder)
        result: list[FetchedMessage] = []
        for uid in sorted(u for u in scan.uids if u > after_uid):
            with self._open(folder, uid) as opened:
                if opened is None:  # deleted since the scan
                    continue
                handle, f = opened
                with self._guard(f"read {folder} UID {uid}"):
                    st = os.fstat(handle.fileno())
                    when = from_ns(st.st_mtime_ns)
                    if since is not None and after_uid == 0 and when.astimezone().date() < since:
                        continue
                    header = header_fields(read_header(handle))
            result.append(
                FetchedMessage(
                    folder=folder,
                    uid=uid,
                    header=header,
                    flags=f.flags,
                    size=st.st_size,
                    internaldate=when,
                )
            )
        log.debug("fetched %d new header(s) from %s after UID %d", len(result), folder, after_uid)
        return result

    def fetch_body(self, folder: str, uid: int, max_bytes: int) -> bytes | None:
        """The first `max_bytes` of the message file, read-only; None if gone."""
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        with self._open(folder, uid) as opened:
            if opened is None:
                return None
            with self._guard(f"read {folder} UID {uid}"):
                return opened[0].read(max_bytes)

    def fetch_flags(self, folder: str, uids: Sequence[int]) -> dict[int, frozenset[str]]:
        """Current flags of these UIDs (from the file names); gone UIDs are absent."""
        scan = self._scan(folder)
        return {uid: scan.files[scan.uids[uid]].flags for uid in set(uids) if uid in scan.uids}

    # -- write primitives (the rules are in agent.backend) ---------------------

    def _append(
        self, folder: str, message: bytes, when: datetime, flags: tuple[str, ...]
    ) -> int | None:
        """Write a draft into cur/ with `flags` (via tmp/); its new UID."""
        path = self.folder_path(folder)
        # Maildir files use local line endings; sync tools add CR on upload.
        raw = message.replace(b"\r\n", b"\n")
        info = ":2," + "".join(sorted(LETTER_OF[f] for f in flags))
        with self._guard(f"write a draft to {folder} in {self.root}"):
            (path / "tmp").mkdir(exist_ok=True)
            unique = unique_name()
            tmp = path / "tmp" / unique
            write_new(tmp, raw, when)
            try:
                place(tmp, path / "cur" / f"{unique}{info}")
            finally:
                tmp.unlink(missing_ok=True)
        uid = self._known.get(folder, {}).get(file_key(unique))
        if uid is None:
            self._scan(folder, force=True)
            uid = self._known[folder].get(file_key(unique))
        return uid

    def _write_session(self, folder: str) -> AbstractContextManager[int | None]:
        return self._writing(folder)

    @contextmanager
    def _writing(self, folder: str) -> Iterator[int | None]:
        self.folder_path(folder)  # a missing folder is a FolderError before any check
        yield self._idx.folder(folder)[0]
        # What we moved or deleted must not linger in a cached scan.
        self._scans.pop(folder, None)

    def _peek(self, folder: str, uid: int) -> Peek | None:
        with self._open(folder, uid) as opened:
            if opened is None:
                return None
            handle, f = opened
            with self._guard(f"read {folder} UID {uid}"):
                return Peek(flags=f.flags, header=header_fields(read_header(handle)))

    def _file_of(self, folder: str, uid: int) -> Path:
        scan = self._scan(folder, force=True)
        key = scan.uids.get(uid)
        if key is None:
            raise MailboxTransientError(f"{folder} UID {uid} vanished while being withdrawn")
        f = scan.files[key]
        return self.folder_path(folder) / f.subdir / f.name

    def _move(self, folder: str, uid: int, trash: str) -> None:
        dest_dir = self.folder_path(trash)
        src = self._file_of(folder, uid)
        with self._guard(f"move {folder} UID {uid} to {trash}"):
            place(src, dest_dir / "cur" / src.name)
            src.unlink(missing_ok=True)
        self._scans.pop(trash, None)

    def _delete(self, folder: str, uid: int) -> None:
        src = self._file_of(folder, uid)
        with self._guard(f"delete {folder} UID {uid}"):
            src.unlink()

    # -- waiting ------------------------------------------------------------

    def wait(self, folder: str, timeout: float) -> bool:
        """Block until a folder the sync reads changes, or `timeout`; True on a change.

        One watch sees them all, as IMAP NOTIFY would: `folder`, INBOX, Sent,
        Drafts and `also_watch`, so a sent copy of our draft wakes the daemon
        as a reply does. A change is reported once: compared with this
        mailbox's last look at a folder, or the wait that reported the last
        change. With `timeout` 0 it only looks (two stat calls a folder) and
        starts no watch.
        """
        names = self._wait_names(folder)
        if timeout > 0 and (self._waiter.covers(names) or self._start_watch(names)):
            woke = self._waiter.wait(timeout)
            if woke is Woke.ABORT:
                raise MailboxTransientError(f"waiting on {folder} was aborted")
            if woke is Woke.CHANGE:
                self._scans.clear()  # they predate the change: the next look re-reads
            return woke is Woke.CHANGE
        return self._poll(folder, names, timeout)

    def _wait_names(self, folder: str) -> frozenset[str]:
        """The folders a wait looks at: the ones the sync reads (see sync.Syncer.folder_plan)."""
        roles = self._roles or self.folders()
        wanted = {roles.inbox, roles.sent, roles.drafts}
        # Gmail's All Mail repeats every message: the sync never reads it.
        wanted.update(n for n in self.also_watch if roles.ignored.get(n) != "all mail")
        return frozenset({folder} | {n for n in wanted if n in self._paths})

    def _start_watch(self, names: frozenset[str]) -> bool:
        dirs = [self.folder_path(n) / sub for n in sorted(names) for sub in ("new", "cur")]
        if not self._waiter.start(names, dirs):
            return False
        # Looked at once the watch runs: a change since this mailbox's last look counts.
        if any(self._moved_since_look(n) for n in sorted(names)):
            self._waiter.changed()
        return True

    def _moved_since_look(self, folder: str) -> bool:
        scan = self._scans.get(folder)
        if scan is None:
            return False
        with self._guard(f"watch {folder} in {self.root}"):
            if self._stamp(self.folder_path(folder)) != scan.stamp:
                return True
        # Within an mtime tick of a change, the stamp proves nothing: compare the files.
        return not scan.trusted and self._scan(folder, force=True).digest != scan.digest

    def _poll(self, folder: str, names: frozenset[str], timeout: float) -> bool:
        """Stat new/ and cur/ of each folder every half second: the fallback."""
        refs = {n: self._scans.get(n) or self._scan(n) for n in sorted(names)}
        deadline = time.monotonic() + timeout
        while True:
            for name, ref in refs.items():
                with self._guard(f"watch {name} in {self.root}"):
                    if self._stamp(self.folder_path(name)) != ref.stamp:
                        # Look now, so the next wait reports only what comes after this.
                        self._scan(name, force=True)
                        return True
                if not ref.trusted and time.time() >= ref.racy_until:
                    # The last scan came within an mtime tick of a change: look properly.
                    fresh = self._scan(name, force=True)
                    if fresh.digest != ref.digest:
                        return True
                    refs[name] = fresh
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._waiter.sleep(min(remaining, WAIT_POLL_SECONDS)):
                raise MailboxTransientError(f"waiting on {folder} was aborted")


# -- for the demo and tests: what a mail delivery agent or sync tool does --------


def create_maildir(
    root: Path,
    layout: str = "maildir++",
    folders: Iterable[str] = ("Drafts", "Sent", "Trash", "Archive"),
) -> None:
    """Make an empty Maildir tree with INBOX and `folders` ("/" nests).

    For the demo and tests: the agent itself never creates folders.
    """
    if layout == "maildir++":
        root.parent.mkdir(parents=True, exist_ok=True)
        box = stdlib_mailbox.Maildir(root, create=True)
        for name in folders:
            box.add_folder(name.replace("/", "."))
        return
    if layout != "fs":
        raise ValueError(f"layout must be maildir++ or fs, not {layout!r}")
    root.mkdir(parents=True, exist_ok=True)
    for name in ("INBOX", *folders):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        stdlib_mailbox.Maildir(root / name, create=True)


def deliver(folder_dir: Path, raw: bytes, *, flags: str = "", when: datetime | None = None) -> Path:
    """Drop a message into a folder as a delivery agent would: new/, or cur/ with flags."""
    unique = unique_name()
    tmp = folder_dir / "tmp" / unique
    tmp.parent.mkdir(exist_ok=True)
    write_new(tmp, raw, when or datetime.now(UTC))
    dest = folder_dir / "cur" / f"{unique}:2,{flags}" if flags else folder_dir / "new" / unique
    os.rename(tmp, dest)
    return dest
