"""Courier-IMAP 5.0 from Debian's .debs, unpacked by tests/servers/install.sh.

Courier has /etc/courier and /run/courier compiled in (its authdaemon's
config, userdb and socket). It runs in a private mount and PID namespace
(`unshare`) where the server's own directories are bind-mounted on those
paths: the machine's are never touched, and when the namespace's first
process ends, the kernel ends every process in it. Folders live under the
`INBOX.` namespace; no SPECIAL-USE, no MOVE.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from tests.dovecot import MailUser
from tests.servers.base import (
    ImapServer,
    Layout,
    ServerError,
    free_port,
    make_cert,
    make_traversable,
    run,
    stop_process,
    wait_listening,
)

SERVERS = Path(os.environ.get("FOLLOWUP_SERVERS", "/var/cache/followup-servers"))
MAIL_UID = MAIL_GID = 8  # Debian's `mail`: authlib will not run a mailbox as root


def courier_available() -> bool:
    tools = ("unshare", "authdaemond", "makeuserdb")
    found = all(shutil.which(t, path="/usr/sbin:/usr/bin:/sbin:/bin") for t in tools)
    return (SERVERS / "courier" / ".done").exists() and found and os.geteuid() == 0


class Courier(ImapServer):
    name = "courier"
    version = "5.0"
    # Implicit TLS as Debian's imapd-ssl runs it (couriertls in front of imaplogin).
    security = "tls"
    layout = Layout(
        drafts="INBOX.Drafts", sent="INBOX.Sent", trash="INBOX.Trash", archive="INBOX.Archive"
    )

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._proc: subprocess.Popen[bytes] | None = None
        self.home = SERVERS / "courier"

    @property
    def ca_file(self) -> Path:
        return self.root / "tls" / "cert.pem"

    @property
    def log(self) -> Path:
        return self.root / "courier.log"

    @property
    def etc(self) -> Path:
        return self.root / "etc-courier"

    def _script(self) -> str:
        h, r = self.home, self.root
        env = {
            "IMAP_CAPABILITY": "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT "
            "THREAD=REFERENCES SORT QUOTA IDLE",
            "IMAP_CAPABILITY_TLS": "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT "
            "THREAD=REFERENCES SORT QUOTA IDLE AUTH=PLAIN",
            "IMAP_KEYWORDS": "1",
            "IMAP_IDLE_TIMEOUT": "60",
            "IMAP_ENHANCEDIDLE": "1",
            "IMAP_TRASHFOLDERNAME": "Trash",
            "IMAP_EMPTYTRASH": "",
            "IMAP_MOVE_EXPUNGE_TO_TRASH": "0",
            "IMAP_USELOCKS": "1",
            "IMAP_UMASK": "022",
            "IMAP_ULIMITD": "131072",
            "IMAP_STARTTLS": "NO",
            "IMAP_TLS": "1",
            "IMAP_TLS_REQUIRED": "0",
            "COURIERTLS": f"{h}/usr/bin/couriertls",
            "TLS_CERTFILE": f"{r}/tls/combined.pem",
            "TLS_VERIFYPEER": "NONE",
            "TLS_TRUSTCERTS": "/etc/ssl/certs/ca-certificates.crt",
            "MAILDIRPATH": "Maildir",
        }
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
        tcpd = [
            f"{h}/usr/sbin/couriertcpd", "-address=127.0.0.1", "-nodnslookup",
            "-noidentlookup", "-maxprocs=40", "-maxperip=40", str(self.port),
            f"{h}/usr/bin/couriertls", "-server", "-tcpd",
            f"{h}/usr/lib/courier/courier/imaplogin", f"{h}/usr/bin/imapd", "Maildir",
        ]  # fmt: skip
        return f"""set -e
mount --bind {r}/etc-courier /etc/courier
mount --bind {r}/run-courier /run/courier
{exports}
/usr/sbin/authdaemond start
exec {shlex.join(tcpd)}
"""

    def start(self) -> None:
        if not courier_available():
            raise ServerError(
                "Courier not unpacked (run tests/servers/install.sh as root) or not root"
            )
        for sub in ("etc-courier", "run-courier/authdaemon", "mail", "tls"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        make_traversable(self.root)
        cert, key = make_cert(self.root / "tls")
        (self.root / "tls" / "combined.pem").write_bytes(key.read_bytes() + cert.read_bytes())
        (self.etc / "authdaemonrc").write_text(
            'authmodulelist="authuserdb"\ndaemons=2\nauthdaemonvar=/run/courier/authdaemon\n'
            'DEBUG_LOGIN=0\nDEFAULTOPTIONS=""\nLOGGEROPTS=""\n'
        )
        (self.etc / "userdb").touch(mode=0o600)
        run(["makeuserdb", "-f", str(self.etc / "userdb")])
        os.chown(self.root / "mail", MAIL_UID, MAIL_GID)
        self.port = free_port()
        (self.root / "start.sh").write_text(self._script())
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "--pid", "--fork",
                 "--kill-child", "sh", str(self.root / "start.sh")],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_listening(self.port, self._proc, self.log)

    def cleanup(self) -> None:
        # The namespace's first process ignores SIGTERM; SIGKILL soon ends it all
        # (maildirs are crash-safe).
        stop_process(self._proc, timeout=0.5)
        self._proc = None

    def drop(self, user: MailUser, raw: bytes) -> None:
        """Deliver as an MTA does: a file in Maildir/new, no IMAP session involved."""
        new = self.root / "mail" / user.name / "Maildir" / "new"
        path = new / f"{time.time_ns()}.M{secrets.token_hex(4)}.followup-test"
        path.write_bytes(raw)
        os.chown(path, MAIL_UID, MAIL_GID)

    def add_user(self, name: str, password: str) -> MailUser:
        home = self.root / "mail" / name
        for sub in ("cur", "new", "tmp"):
            (home / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
        for p in [home, *home.rglob("*")]:
            os.chown(p, MAIL_UID, MAIL_GID)
        crypted = run(["openssl", "passwd", "-6", "-stdin"], input=password.encode())
        line = (
            f"{name}\tuid={MAIL_UID}|gid={MAIL_GID}|home={home}|mail={home}/Maildir"
            f"|systempw={crypted.decode().strip()}\n"
        )
        with (self.etc / "userdb").open("a") as f:
            f.write(line)
        run(["makeuserdb", "-f", str(self.etc / "userdb")])
        user = MailUser(name, password)
        self.create_folders(user, [f for f in self.layout.roles[1:] if f])
        return user
