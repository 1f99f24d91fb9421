"""`init` logs in with the answers before it writes anything, and shows an untrusted certificate.

The answers are tried on the real server with the password just typed; a
certificate the system does not trust is shown by its SHA-256 fingerprint so
the user can compare it with what the server's owner publishes before naming
a CA file.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass

from .config import AccountConfig
from .errors import MailboxError
from .imap import ImapMailbox

# A wizard waits for a person: a dead server should not hold them for the full timeout.
TRY_TIMEOUT = 15.0


@dataclass(frozen=True)
class LoginTry:
    problem: str  # "" when the login worked
    untrusted: bool  # the certificate could not be verified


def try_login(account: AccountConfig, password: str) -> LoginTry:
    box = ImapMailbox(
        account.host,
        account.port,
        str(account.security),
        account.login,
        password,
        ca_file=account.ca_file,
        timeout=min(account.timeout_seconds, TRY_TIMEOUT),
    )
    try:
        box.connect()
    except MailboxError as exc:
        return LoginTry(str(exc), isinstance(exc.__cause__, ssl.SSLCertVerificationError))
    finally:
        box.close()
    return LoginTry("", False)


def fingerprint(account: AccountConfig) -> str:
    """The SHA-256 fingerprint of the server's certificate (implicit TLS), or ""."""
    if str(account.security) != "tls":
        return ""  # behind STARTTLS only an IMAP client sees it; `check` names it then
    try:
        pem = ssl.get_server_certificate((account.host, account.port), timeout=TRY_TIMEOUT)
    except (OSError, ValueError):
        return ""
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
