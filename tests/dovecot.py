"""A throwaway Dovecot IMAP server for tests and benchmarks.

Everything lives under one directory: config, TLS certificate, passwd-files,
maildirs, logs. No pytest imports here: the benchmark script uses it too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import imapclient

log = logging.getLogger(__name__)

DOMAIN = "example.test"

# (name, special-use flag): created with `auto = subscribe` so every new user has them.
SPECIAL_FOLDERS: tuple[tuple[str, str], ...] = (
    ("Drafts", "\\Drafts"),
    ("Sent", "\\Sent"),
    ("Trash", "\\Trash"),
    ("Archive", "\\Archive"),
    ("Junk", "\\Junk"),
)


class DovecotError(RuntimeError):
    """The test server could not be started or driven."""


@dataclass(frozen=True)
class MailUser:
    name: str
    password: str

    @property
    def address(self) -> str:
        return f"{self.name}@{DOMAIN}"


@dataclass(frozen=True)
class StoredMessage:
    uid: int
    flags: frozenset[str]
    raw: bytes


def dovecot_available() -> bool:
    """True when the binaries this harness needs are installed."""
    return all(_find(b) for b in ("dovecot", "doveadm", "openssl"))


def _free_port() -> int:
    # Racy by nature, but on loopback in a test run the window is negligible.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _find(name: str) -> str | None:
    # A non-root PATH often lacks /usr/sbin, where Debian puts dovecot.
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


def _which(name: str) -> str:
    path = _find(name)
    if not path:
        raise DovecotError(f"{name} not found; install dovecot-imapd and openssl")
    return path


class Dovecot:
    """One Dovecot instance on 127.0.0.1 with its whole state under `root`."""

    host = "127.0.0.1"

    def __init__(self, root: Path, *, oauth2_introspection_url: str | None = None) -> None:
        self.root = Path(root).resolve()
        # With an introspection URL (credentials in it, RFC 3986 userinfo), the
        # server also accepts SASL XOAUTH2 / OAUTHBEARER bearer tokens.
        self.oauth2_introspection_url = oauth2_introspection_url
        self._port_tls = 0
        self._port_starttls = 0
        self._base_dir: Path | None = None
        self._running = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._as_root = os.geteuid() == 0

    # -- properties ---------------------------------------------------------

    @property
    def port_tls(self) -> int:
        return self._port_tls

    @property
    def port_starttls(self) -> int:
        return self._port_starttls

    @property
    def ca_file(self) -> Path:
        return self.root / "tls" / "cert.pem"

    @property
    def conf(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_file(self) -> Path:
        return self.root / "dovecot.log"

    @property
    def passwd_dir(self) -> Path:
        # One passwd-file per user: Dovecot checks a shared file's mtime at most
        # once a second, so a user added right after another stayed unknown.
        return self.root / "passwd.d"

    @property
    def mail_dir(self) -> Path:
        return self.root / "mail"

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        if self._running:
            return
        t0 = time.monotonic()
        self.root.mkdir(parents=True, exist_ok=True)
        self._make_traversable()
        for sub in ("state", "tls"):
            (self.root / sub).mkdir(exist_ok=True)
        self.mail_dir.mkdir(exist_ok=True)
        if self._base_dir is None:
            # Unix socket paths are limited to ~108 bytes: keep base_dir short.
            self._base_dir = Path(tempfile.mkdtemp(prefix="fd", dir="/tmp"))
        self._base_dir.chmod(0o755)
        if not self.ca_file.exists():
            self._make_cert()
        self.passwd_dir.mkdir(exist_ok=True)
        self._chown_mail(self.mail_dir)
        if not self._port_tls:
            self._port_tls = _free_port()
            self._port_starttls = _free_port()
        self.conf.write_text(self._config())
        self._start_master()
        self._wait_listening()
        self._running = True
        log.info(
            "dovecot up in %.2fs: imaps %s, imap %s, root %s",
            time.monotonic() - t0,
            self._port_tls,
            self._port_starttls,
            self.root,
        )

    def stop(self) -> None:
        if not self._running:
            return
        t0 = time.monotonic()
        proc, self._proc = self._proc, None
        if proc is not None:
            # SIGTERM to the whole group (our session): the master alone leaves
            # imap processes serving clients alive, and a restart must drop
            # clients like a real one does.
            self._signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                # Seen when stopped right after start: a child waits 5 s for a
                # stats handshake. Maildirs are crash-safe, so don't wait.
                log.info("dovecot master %s slow to stop; killing its group", proc.pid)
                self._signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            self._end_group(proc.pid)
        self._running = False
        log.info("dovecot stopped in %.2fs", time.monotonic() - t0)

    def restart(self) -> None:
        # Same ports, so clients can reconnect to the addresses they know.
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop and remove the short base_dir (the caller owns `root`)."""
        self.stop()
        if self._base_dir is not None:
            shutil.rmtree(self._base_dir, ignore_errors=True)
            self._base_dir = None

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # -- users and mail -----------------------------------------------------

    def add_user(self, name: str, password: str) -> MailUser:
        if ":" in name or ":" in password or "\n" in name + password:
            raise ValueError("user name and password must not contain ':' or newlines")
        (self.passwd_dir / name).write_text(f"{name}:{{PLAIN}}{password}::::::\n")
        return MailUser(name=name, password=password)

    def deliver(self, user: MailUser | str, mailbox: str, raw: bytes) -> None:
        self._doveadm("save", "-u", _name(user), "-m", mailbox, input=raw)

    def add_flags(self, user: MailUser | str, mailbox: str, uid: int, *flags: str) -> None:
        self._doveadm(
            "flags", "add", "-u", _name(user), " ".join(flags), "mailbox", mailbox, "uid", str(uid)
        )

    def expunge(self, user: MailUser | str, mailbox: str, uid: int) -> None:
        """Remove one message, as a mail client deleting or sending a draft would."""
        self._doveadm("expunge", "-u", _name(user), "mailbox", mailbox, "uid", str(uid))

    def create_mailbox(self, user: MailUser | str, name: str) -> None:
        self._doveadm("mailbox", "create", "-u", _name(user), name)

    def delete_mailbox(self, user: MailUser | str, name: str) -> None:
        # -s: also unsubscribe, so a re-created folder starts clean.
        self._doveadm("mailbox", "delete", "-u", _name(user), "-s", name)

    def folder_names(self, user: MailUser | str) -> list[str]:
        out = self._doveadm("mailbox", "list", "-u", _name(user))
        return [line for line in out.decode().splitlines() if line]

    def messages(self, user: MailUser, mailbox: str) -> list[StoredMessage]:
        """Every message in `mailbox`, read with EXAMINE + BODY.PEEK[] (no flag changes)."""
        client = self.client(user)
        try:
            client.select_folder(mailbox, readonly=True)
            uids = client.search(["ALL"])
            if not uids:
                return []
            data = client.fetch(uids, ["UID", "FLAGS", "BODY.PEEK[]"])
        finally:
            client.logout()
        result = []
        for uid in sorted(data):
            item = data[uid]
            # \\Recent depends on which session saw the message first: leave it out.
            flags = frozenset(
                f.decode() if isinstance(f, bytes) else str(f) for f in item[b"FLAGS"]
            ) - {"\\Recent"}
            result.append(StoredMessage(uid=uid, flags=flags, raw=bytes(item[b"BODY[]"])))
        return result

    def client(self, user: MailUser) -> imapclient.IMAPClient:
        """A logged-in imapclient over implicit TLS (the caller logs out)."""
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        client = imapclient.IMAPClient(
            self.host, port=self._port_tls, ssl=True, ssl_context=ctx, timeout=10
        )
        client.login(user.name, user.password)
        return client

    # -- internals ----------------------------------------------------------

    def _config(self) -> str:
        root = self.root
        if self._as_root:
            users = (
                "default_login_user = dovenull\n"
                "default_internal_user = dovecot\n"
                "mail_uid = dovecot\n"
                "mail_gid = dovecot\n"
                "first_valid_uid = 0\n"
            )
        else:
            # Unprivileged: every process runs as the invoking user.
            me = _current_user()
            users = (
                f"default_login_user = {me}\n"
                f"default_internal_user = {me}\n"
                f"first_valid_uid = {os.getuid()}\n"
            )
        mailboxes = "".join(
            f"  mailbox {name} {{\n    auto = subscribe\n    special_use = {flag}\n  }}\n"
            for name, flag in SPECIAL_FOLDERS
        )
        return f"""# generated by tests/dovecot.py
base_dir = {self._base_dir}
state_dir = {root}/state
instance_name = followup-test-{os.getpid()}
log_path = {self.log_file}
info_log_path = {self.log_file}
protocols = imap
listen = 127.0.0.1
{users}
ssl = yes
ssl_cert = <{root}/tls/cert.pem
ssl_key = <{root}/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login{self._oauth2_mechanisms()}
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
mail_privileged_group =
imap_idle_notify_interval = 1 mins
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd_dir}/%u
}}
{self._oauth2_passdb()}userdb {{
  driver = static
  args = home={root}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}}}
protocol imap {{
  mail_max_userip_connections = 100
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self._port_starttls}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self._port_tls}
    ssl = yes
  }}
}}
# No per-IP auth penalty: after a wrong-password test every login from
# 127.0.0.1 would wait seconds (the documented way to turn it off).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""

    def _oauth2_mechanisms(self) -> str:
        return " xoauth2 oauthbearer" if self.oauth2_introspection_url else ""

    def _oauth2_passdb(self) -> str:
        if not self.oauth2_introspection_url:
            return ""
        ext = self.root / "oauth2.conf.ext"
        ext.write_text(
            "introspection_mode = post\n"
            f"introspection_url = {self.oauth2_introspection_url}\n"
            "force_introspection = yes\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
        )
        ext.chmod(0o644)
        return (
            "passdb {\n"
            "  driver = oauth2\n"
            "  mechanisms = xoauth2 oauthbearer\n"
            f"  args = {ext}\n"
            "}\n"
        )

    def _start_master(self) -> None:
        # Foreground (-F) as our child, so stop() can reap it: a daemonized
        # master lingers as a zombie until init gets round to it.
        out = (self.root / "master.out").open("ab")
        try:
            self._proc = subprocess.Popen(
                [_which("dovecot"), "-F", "-c", str(self.conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            out.close()

    @staticmethod
    def _signal_group(pgid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)

    def _end_group(self, pgid: int, timeout: float = 2.0) -> None:
        """Wait for the rest of the master's process group; SIGKILL stragglers."""
        deadline = time.monotonic() + timeout
        while _live_group_members(pgid):
            if time.monotonic() > deadline:
                self._signal_group(pgid, signal.SIGKILL)
            time.sleep(0.02)

    def _make_cert(self) -> None:
        tls = self.root / "tls"
        # EC keys generate in milliseconds; RSA would dominate start-up time.
        self._run(
            [
                _which("openssl"),
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "7",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,digitalSignature,keyCertSign",
                "-keyout",
                str(tls / "key.pem"),
                "-out",
                str(tls / "cert.pem"),
            ]
        )
        (tls / "key.pem").chmod(0o600)
        (tls / "cert.pem").chmod(0o644)

    def _make_traversable(self) -> None:
        # Dovecot's unprivileged processes (auth, imap) must reach the passwd
        # file and maildirs; mkdtemp and pytest's tmp dirs are 0700.
        self.root.chmod(0o755)
        uid = os.geteuid()
        for parent in self.root.parents:
            st = parent.stat()
            if st.st_uid == uid and not st.st_mode & 0o001:
                parent.chmod(st.st_mode | 0o011)

    def _chown_mail(self, path: Path) -> None:
        if self._as_root:
            # Dovecot refuses to access mail as uid 0.
            shutil.chown(path, user="dovecot", group="dovecot")

    def _doveadm(self, *args: str, input: bytes | None = None) -> bytes:
        return self._run([_which("doveadm"), "-c", str(self.conf), *args], input=input)

    def _run(self, cmd: list[str], input: bytes | None = None) -> bytes:
        proc = subprocess.run(cmd, input=input, capture_output=True, timeout=30, check=False)
        if proc.returncode != 0:
            raise DovecotError(
                f"{' '.join(cmd)} exited {proc.returncode}: "
                f"{proc.stderr.decode(errors='replace').strip()}{self._log_tail()}"
            )
        return proc.stdout

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()[-15:]
        except OSError:
            return ""
        return "\n--- dovecot.log ---\n" + "\n".join(lines) if lines else ""

    def _wait_listening(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        pending = {self._port_tls, self._port_starttls}
        while pending:
            for port in list(pending):
                try:
                    socket.create_connection((self.host, port), timeout=0.5).close()
                    pending.discard(port)
                except OSError:
                    pass
            if self._proc is not None and self._proc.poll() is not None:
                out = (self.root / "master.out").read_text(errors="replace").strip()
                raise DovecotError(
                    f"dovecot exited {self._proc.returncode}: {out}{self._log_tail()}"
                )
            if pending and time.monotonic() > deadline:
                raise DovecotError(f"dovecot not listening on {pending}{self._log_tail()}")
            if pending:
                time.sleep(0.02)


def _live_group_members(pgid: int) -> list[int]:
    # Orphans are reaped by init whenever it gets to it: ignore zombies.
    live = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state ppid pgrp ...
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(int(entry.name))
    return live


def _name(user: MailUser | str) -> str:
    return user.name if isinstance(user, MailUser) else user


def _current_user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name
