"""Cyrus IMAP 3.6 from Debian's .debs, unpacked by tests/servers/install.sh.

Users live in a sasldb; Drafts, Sent, Trash and Archive are created with
their SPECIAL-USE flags at a user's first login (autocreate). Top-level
folders with `/` (altnamespace, unixhierarchysep: Cyrus 3's defaults).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from imapclient.imapclient import Quota

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
REALM = "followup-test"
ADMIN = MailUser("cyrusadmin", "admin-secret")


def cyrus_available() -> bool:
    return (SERVERS / "cyrus" / ".done").exists() and shutil.which("saslpasswd2") is not None


class Cyrus(ImapServer):
    name = "cyrus"
    version = "3.6"
    security = "tls"
    layout = Layout(drafts="Drafts", sent="Sent", trash="Trash", archive="Archive")

    separator = "/"
    # Extra imapd.conf lines (the INBOX. variant turns Cyrus 3's defaults off).
    namespace_conf = ""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.port_plain = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self.home = SERVERS / "cyrus"

    @property
    def ca_file(self) -> Path:
        return self.root / "tls" / "cert.pem"

    @property
    def log(self) -> Path:
        return self.root / "master.log"

    @property
    def sasldb(self) -> Path:
        return self.root / "sasldb2"

    def _env(self) -> dict[str, str]:
        lib = self.home / "usr" / "lib" / "x86_64-linux-gnu"
        return {**os.environ, "LD_LIBRARY_PATH": str(lib)}

    def _imapd_conf(self) -> str:
        r = self.root
        return f"""configdirectory: {r}/lib
defaultpartition: default
partition-default: {r}/spool
servername: {REALM}
admins: cyrusadmin
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {self.sasldb}
sasl_mech_list: PLAIN LOGIN
tls_server_cert: {r}/tls/cert.pem
tls_server_key: {r}/tls/key.pem
autocreate_quota: 0
autocreate_inbox_folders: Drafts | Sent | Trash | Archive
autocreate_subscribe_folders: Drafts | Sent | Trash | Archive
xlist-drafts: Drafts
xlist-sent: Sent
xlist-trash: Trash
xlist-archive: Archive
specialusealways: 1
idlesocket: {r}/lib/socket/idle
lmtpsocket: {r}/lib/socket/lmtp
notifysocket: {r}/lib/socket/notify
syslog_prefix: cyrus-followup-test
{self.namespace_conf}"""

    def _cyrus_conf(self) -> str:
        bin_dir = self.home / "usr" / "lib" / "cyrus" / "bin"
        conf = self.root / "imapd.conf"
        return f"""START {{
  recover cmd="{bin_dir}/ctl_cyrusdb -C {conf} -r"
}}
SERVICES {{
  imap cmd="{bin_dir}/imapd -C {conf}" listen="127.0.0.1:{self.port_plain}" prefork=0
  imaps cmd="{bin_dir}/imapd -s -C {conf}" listen="127.0.0.1:{self.port}" prefork=0
}}
DAEMON {{
  idled cmd="{bin_dir}/idled -C {conf}"
}}
"""

    def start(self) -> None:
        if not cyrus_available():
            raise ServerError("Cyrus not unpacked: run tests/servers/install.sh as root")
        for sub in ("lib/socket", "lib/proc", "spool", "tls"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        make_cert(self.root / "tls")
        self.port, self.port_plain = free_port(), free_port()
        (self.root / "imapd.conf").write_text(self._imapd_conf())
        (self.root / "cyrus.conf").write_text(self._cyrus_conf())
        self.sasldb.touch()
        self._own(self.root)
        master = self.home / "usr" / "lib" / "cyrus" / "bin" / "master"
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                [str(master), "-C", str(self.root / "imapd.conf"), "-M",
                 str(self.root / "cyrus.conf"), "-p", str(self.root / "master.pid"), "-D"],
                env=self._env(), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_listening(self.port, self._proc, self.log)
        wait_listening(self.port_plain, self._proc, self.log)
        self._sasl(ADMIN)

    def _own(self, path: Path) -> None:
        cyrus = pwd.getpwnam("cyrus")
        for p in [path, *path.rglob("*")]:
            os.chown(p, cyrus.pw_uid, cyrus.pw_gid)
        make_traversable(path)

    def cleanup(self) -> None:
        stop_process(self._proc)
        self._proc = None

    def _sasl(self, user: MailUser) -> None:
        run(
            ["saslpasswd2", "-p", "-c", "-f", str(self.sasldb), "-u", REALM, user.name],
            input=user.password.encode(),
        )

    def set_quota(self, user: MailUser, kib: int | None) -> None:
        """Limit the user's storage (None: no limit), as the admin does with SETQUOTA."""
        admin = self.client(ADMIN)
        try:
            admin.set_quota(
                [Quota(f"user/{user.name}", "STORAGE", 0, kib if kib is not None else -1)]
            )
        finally:
            admin.logout()

    def add_user(self, name: str, password: str) -> MailUser:
        user = MailUser(name, password)
        self._sasl(user)
        # The first login creates INBOX and the flagged folders.
        self.client(user).logout()
        return user


class CyrusInbox(Cyrus):
    """Cyrus with the traditional namespace: folders below `INBOX.` (Fastmail's older layout)."""

    name = "cyrus-inbox"
    separator = "."
    namespace_conf = "altnamespace: 0\nunixhierarchysep: 0\n"
    layout = Layout(
        drafts="INBOX.Drafts", sent="INBOX.Sent", trash="INBOX.Trash", archive="INBOX.Archive"
    )
