"""pymap (PyPI), a pure-Python IMAP server, with its maildir backend."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from pysasl.hashing import BuiltinHash

from tests.dovecot import MailUser
from tests.servers.base import (
    ImapServer,
    Layout,
    ServerError,
    free_port,
    make_cert,
    stop_process,
    wait_listening,
)


def pymap_binary() -> str | None:
    # Installed into the running venv by the `test` extra.
    return shutil.which("pymap", path=str(Path(sys.executable).parent))


class Pymap(ImapServer):
    """pymap on STARTTLS; a new user has no folders until the suite creates them."""

    name = "pymap"
    security = "starttls"
    layout = Layout(drafts="Drafts", sent="Sent", trash="Trash", archive=None)

    def __init__(self, root: Path, *, tls: bool = True) -> None:
        super().__init__(root)
        # Without TLS: a plain server offering no STARTTLS, for the agent to refuse.
        self.tls = tls
        if not tls:
            self.security = "insecure"
        self._proc: subprocess.Popen[bytes] | None = None
        from importlib.metadata import version

        self.version = version("pymap")

    @property
    def ca_file(self) -> Path:
        return self.root / "tls" / "cert.pem"

    @property
    def base(self) -> Path:
        return self.root / "mail"

    @property
    def log(self) -> Path:
        return self.root / "pymap.log"

    def start(self) -> None:
        binary = pymap_binary()
        if binary is None:
            raise ServerError("pymap not installed (pip install pymap)")
        self.base.mkdir(parents=True, exist_ok=True)
        cert, key = make_cert(self.root / "tls")
        self.port = free_port()
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                [binary, "--host", "127.0.0.1", "--port", str(self.port),
                 *(["--cert", str(cert), "--key", str(key)] if self.tls else ["--no-tls"]),
                 "--no-service", "admin", "maildir", str(self.base)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_listening(self.port, self._proc, self.log)

    def cleanup(self) -> None:
        stop_process(self._proc)
        self._proc = None

    def add_user(self, name: str, password: str, *, folders: bool = True) -> MailUser:
        """A user in pymap's passwd/shadow files; with `folders`, Drafts, Sent and Trash."""
        # Few rounds: the hash is checked at every login, and the suite logs in often.
        digest = BuiltinHash(rounds=1000).hash(password)
        with (self.base / "pymap-etc-passwd").open("a") as f:
            f.write(f"{name}:::::{name}:\n")
        with (self.base / "pymap-etc-shadow").open("a") as f:
            f.write(f"{name}:{digest}:::::::\n")
        user = MailUser(name, password)
        if folders:
            self.create_folders(user, [f for f in self.layout.roles[1:] if f])
        return user
