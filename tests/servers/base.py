"""What every test IMAP server offers the suite, whichever software runs it.

A server is started once per session on 127.0.0.1 with its whole state in a
temp dir. Mail is put in and looked at over IMAP as the user (APPEND, EXAMINE
with BODY.PEEK), so one harness fits Cyrus, Courier, pymap and Dovecot alike.
No pytest imports: a benchmark could start these too.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import imapclient

from tests.dovecot import MailUser, StoredMessage


class ServerError(RuntimeError):
    """A test server could not be started or driven."""


@dataclass(frozen=True)
class Layout:
    """The folders a fresh user has on this server, as the agent should find them."""

    drafts: str
    sent: str
    trash: str | None
    archive: str | None = None
    inbox: str = "INBOX"
    # Folders created for every user besides these (Gmail's All Mail, Junk...).
    others: tuple[str, ...] = ()
    # [folders] lines a user of this server needs ({} when discovery finds all).
    config: dict[str, str] = field(default_factory=dict)

    @property
    def roles(self) -> tuple[str, str, str, str | None, str | None]:
        return (self.inbox, self.drafts, self.sent, self.trash, self.archive)


class CompatServer(Protocol):
    """What the suite needs from any of the servers (Dovecot-based or not)."""

    name: str
    version: str
    host: str
    security: str
    idle: bool
    layout: Layout

    @property
    def port(self) -> int: ...

    @property
    def ca_file(self) -> Path | None: ...

    def start(self) -> None: ...

    def cleanup(self) -> None: ...

    def add_user(self, name: str, password: str) -> MailUser: ...

    def client(self, user: MailUser) -> imapclient.IMAPClient: ...

    def deliver(self, user: MailUser, mailbox: str, raw: bytes, *flags: str) -> None: ...

    def add_flags(self, user: MailUser, mailbox: str, uid: int, *flags: str) -> None: ...

    def expunge(self, user: MailUser, mailbox: str, uid: int) -> None: ...

    def messages(self, user: MailUser, mailbox: str) -> list[StoredMessage]: ...


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_listening(
    port: int, proc: subprocess.Popen[bytes] | None, log: Path, timeout: float = 15
) -> None:
    """Until `port` accepts connections; ServerError with the log if the process died."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            pass
        if proc is not None and proc.poll() is not None:
            raise ServerError(f"server exited {proc.returncode}: {tail(log)}")
        if time.monotonic() > deadline:
            raise ServerError(f"server not listening on {port}: {tail(log)}")
        time.sleep(0.05)


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run(cmd: Sequence[str], input: bytes | None = None) -> bytes:
    """Run a setup command; ServerError with its stderr if it fails."""
    proc = subprocess.run(list(cmd), input=input, capture_output=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise ServerError(
            f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}"
        )
    out: bytes = proc.stdout
    return out


class ImapServer(ABC):
    """Base of the test servers: connection details, and mail in and out over IMAP."""

    name = "imap"
    version = ""
    host = "127.0.0.1"
    security = "tls"
    layout = Layout(drafts="Drafts", sent="Sent", trash="Trash", archive="Archive")
    # Whether the server advertises IDLE (the agent must then poll).
    idle = True

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.port = 0

    @property
    def ca_file(self) -> Path | None:
        return None

    @abstractmethod
    def start(self) -> None:
        """Start on free ports of 127.0.0.1; ServerError with the log if it fails."""

    @abstractmethod
    def cleanup(self) -> None:
        """Stop every process the server started."""

    @abstractmethod
    def add_user(self, name: str, password: str) -> MailUser:
        """A new account with the folders of `layout`."""

    # -- over IMAP, as the user ---------------------------------------------

    def client(self, user: MailUser) -> imapclient.IMAPClient:
        ctx: ssl.SSLContext | None = None
        if self.security != "insecure":
            ctx = ssl.create_default_context(cafile=str(self.ca_file))
        client = imapclient.IMAPClient(
            self.host, port=self.port, ssl=self.security == "tls", ssl_context=ctx, timeout=10
        )
        if self.security == "starttls":
            client.starttls(ctx)
        client.login(user.name, user.password)
        return client

    def create_folders(self, user: MailUser, names: Sequence[str]) -> None:
        client = self.client(user)
        try:
            for name in names:
                client.create_folder(name)
                client.subscribe_folder(name)
        finally:
            client.logout()

    def deliver(self, user: MailUser, mailbox: str, raw: bytes, *flags: str) -> None:
        client = self.client(user)
        try:
            client.append(mailbox, raw, flags=flags, msg_time=datetime.now(UTC))
        finally:
            client.logout()

    def add_flags(self, user: MailUser, mailbox: str, uid: int, *flags: str) -> None:
        client = self.client(user)
        try:
            client.select_folder(mailbox)
            client.add_flags([uid], flags, silent=True)
        finally:
            client.logout()

    def expunge(self, user: MailUser, mailbox: str, uid: int) -> None:
        """Remove one message, as a mail client deleting or sending a draft would."""
        client = self.client(user)
        try:
            client.select_folder(mailbox)
            client.add_flags([uid], ["\\Deleted"], silent=True)
            client.uid_expunge([uid])
        finally:
            client.logout()

    def folder_names(self, user: MailUser) -> list[str]:
        client = self.client(user)
        try:
            return [name for _, _, name in client.list_folders()]
        finally:
            client.logout()

    def messages(self, user: MailUser, mailbox: str) -> list[StoredMessage]:
        """Every message in `mailbox`, read with EXAMINE + BODY.PEEK[] (no flag changes)."""
        client = self.client(user)
        try:
            client.select_folder(mailbox, readonly=True)
            uids = client.search(["ALL"])
            data = client.fetch(uids, ["UID", "FLAGS", "BODY.PEEK[]"]) if uids else {}
        finally:
            client.logout()
        result = []
        for uid in sorted(data):
            item = data[uid]
            flags = frozenset(
                f.decode() if isinstance(f, bytes) else str(f) for f in item[b"FLAGS"]
            ) - {"\\Recent"}
            result.append(StoredMessage(uid=uid, flags=flags, raw=bytes(item[b"BODY[]"])))
        return result


def make_cert(tls_dir: Path) -> tuple[Path, Path]:
    """A self-signed EC certificate for 127.0.0.1 (cert, key); kept if already there."""
    tls_dir.mkdir(parents=True, exist_ok=True)
    cert, key = tls_dir / "cert.pem", tls_dir / "key.pem"
    if not cert.exists():
        # EC keys generate in milliseconds; RSA would dominate start-up time.
        run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "7", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
             "-keyout", str(key), "-out", str(cert)]
        )  # fmt: skip
        key.chmod(0o644)  # read by servers that drop privileges (Cyrus, Courier)
    return cert, key


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 5) -> None:
    """SIGTERM the process group started with start_new_session; SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def make_traversable(root: Path) -> None:
    """Let a server's unprivileged processes reach `root` (mkdtemp dirs are 0700)."""
    root.chmod(root.stat().st_mode | 0o011)
    for parent in root.parents:
        st = parent.stat()
        if st.st_uid == os.geteuid() and not st.st_mode & 0o001:
            parent.chmod(st.st_mode | 0o011)
