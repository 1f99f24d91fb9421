"""Dovecot configured like real providers: Gmail, and an old ISP / Exchange layout.

Same Dovecot harness as tests/dovecot.py; only the namespace, the folders a
new user gets and the advertised capabilities differ.
"""

from __future__ import annotations

from pathlib import Path

from tests.dovecot import Dovecot, MailUser
from tests.servers.base import Layout


class DovecotLayout(Dovecot):
    """A Dovecot with another folder layout; the suite talks to it over implicit TLS."""

    name = "dovecot"
    security = "tls"
    idle = True
    layout = Layout(drafts="Drafts", sent="Sent", trash="Trash", archive="Archive")
    # (name, special-use flag or ""): created with `auto = subscribe`.
    folders: tuple[tuple[str, str], ...] = ()
    separator = "/"
    prefix = ""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.version = "2.3"

    @property
    def port(self) -> int:
        return self.port_tls

    def _namespace(self) -> str:
        boxes = "".join(
            f'  mailbox "{name}" {{\n    auto = subscribe\n'
            + (f"    special_use = {flag}\n" if flag else "")
            + "  }\n"
            for name, flag in self.folders
        )
        prefix = f"  prefix = {self.prefix}\n" if self.prefix else ""
        return (
            f"namespace inbox {{\n  inbox = yes\n  separator = {self.separator}\n"
            f"{prefix}{boxes}}}\n"
        )

    def connections(self, user: MailUser) -> int:
        """How many IMAP connections `user` has open now (doveadm who)."""
        out = self._doveadm("who", "-1", user.name).decode()
        return sum(1 for line in out.splitlines() if line.split()[:1] == [user.name])

    def deliver(self, user: MailUser | str, mailbox: str, raw: bytes, *flags: str) -> None:
        super().deliver(user, mailbox, raw)
        if flags and isinstance(user, MailUser):
            self.add_flags(user, mailbox, self.messages(user, mailbox)[-1].uid, *flags)


class GmailDovecot(DovecotLayout):
    """Gmail's IMAP layout: system folders under `[Gmail]/`, All Mail flagged \\All."""

    name = "dovecot-gmail"
    folders = (
        ("[Gmail]/Drafts", "\\Drafts"),
        ("[Gmail]/Sent Mail", "\\Sent"),
        ("[Gmail]/All Mail", "\\All"),
        ("[Gmail]/Important", "\\Important"),
        ("[Gmail]/Starred", "\\Flagged"),
        ("[Gmail]/Spam", "\\Junk"),
        ("[Gmail]/Trash", "\\Trash"),
    )
    layout = Layout(
        drafts="[Gmail]/Drafts",
        sent="[Gmail]/Sent Mail",
        trash="[Gmail]/Trash",
        archive=None,
        others=("[Gmail]/All Mail", "[Gmail]/Important", "[Gmail]/Starred", "[Gmail]/Spam"),
    )


class IspDovecot(DovecotLayout):
    """An old ISP / Exchange-style account: `INBOX.` prefix, German names, no flags, no IDLE."""

    name = "dovecot-isp"
    idle = False
    separator = "."
    prefix = "INBOX."
    folders = (
        ("Entwürfe", ""),  # Dovecot names these below the prefix
        ("Gesendete Elemente", ""),
        ("Gelöschte Elemente", ""),
        ("Junk-E-Mail", ""),
    )
    layout = Layout(
        drafts="INBOX.Entwürfe",
        sent="INBOX.Gesendete Elemente",
        trash="INBOX.Gelöschte Elemente",
        archive=None,
        others=("INBOX.Junk-E-Mail",),
    )

    def _extra_config(self) -> str:
        # No SPECIAL-USE, no IDLE, no MOVE: what such servers advertise.
        return (
            "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ "
            "NAMESPACE UIDPLUS CHILDREN UNSELECT\n"
        )
