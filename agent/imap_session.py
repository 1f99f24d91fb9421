"""What every IMAP connection of the agent decides the same way, whatever library carries it.

The main connection (`agent.imap`, imapclient) and the NOTIFY watcher
(`agent.imap_notify`, stdlib imaplib) share these: the TLS context, the
one-line connection problems with their likely fix, and how to sign in
(LOGINDISABLED refused before a password crosses a plain port, LOGIN or SASL
PLAIN, OAUTHBEARER or XOAUTH2 and the one refresh after a refused token).
"""

from __future__ import annotations

import imaplib
import logging
import os
import socket
import ssl
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

from agent.errors import AuthError, ConnectError, MailboxTransientError
from agent.imap_wire import bearer_mechanism, login_needs_sasl
from agent.mailbox import TokenSource

log = logging.getLogger(__name__)

SECURITY_MODES = ("tls", "starttls", "insecure")
# RFC 2177 allows 29 minutes, but NAT boxes and providers drop quiet
# connections much sooner: re-issue IDLE within 10 minutes whatever the caller asks.
IDLE_MAX_SECONDS = 9 * 60

# OpenSSL's words for a plain-text reply where a TLS handshake was expected.
_PLAINTEXT_REASONS = (
    "WRONG_VERSION_NUMBER",
    "HTTP_REQUEST",
    "UNKNOWN_PROTOCOL",
    "RECORD_LAYER_FAILURE",
)


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect: the account's server settings."""

    host: str
    port: int
    security: str
    timeout: float = 30.0
    ca_file: str | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def no_delay(sock: socket.socket) -> None:
    """Send each command at once (TCP_NODELAY).

    With Nagle's algorithm a command written in two pieces waits for the
    server's delayed ACK: measured through a proxy on loopback, a one-reply
    cycle took 53 ms instead of 7. Best effort: a socket that refuses keeps Nagle.
    """
    with suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def ssl_context(endpoint: Endpoint) -> ssl.SSLContext | None:
    """Verified TLS (None only for security = insecure, said loudly)."""
    if endpoint.security == "insecure":
        log.warning(
            "connecting to %s WITHOUT TLS (security = insecure): "
            "the password and mail cross the network in clear text",
            endpoint.where,
        )
        return None
    try:
        ctx = ssl.create_default_context(cafile=endpoint.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConnectError(f"cannot load ca_file {endpoint.ca_file!r}: {exc}") from exc
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def no_starttls(endpoint: Endpoint) -> ConnectError:
    return ConnectError(
        f"{endpoint.where} does not offer STARTTLS; "
        "use security = tls on the implicit-TLS port (usually 993)"
    )


def untrusted(endpoint: Endpoint, exc: ssl.SSLCertVerificationError) -> ConnectError:
    return ConnectError(
        f"TLS certificate of {endpoint.where} is not trusted "
        f"({exc.verify_message or exc.reason}); if the server uses a private CA "
        "or a self-signed certificate, set ca_file = PATH-TO.pem in [account] "
        "(or run followup init --force --ca-file PATH-TO.pem)"
    )


def connect_problem(endpoint: Endpoint, exc: BaseException) -> str:
    """One line for a failed connection: what happened and the likely fix."""
    where, port, security = endpoint.where, endpoint.port, endpoint.security
    other, other_port = ("starttls", 143) if security == "tls" else ("tls", 993)
    if isinstance(exc, socket.gaierror):
        return f"unknown host {endpoint.host!r} (it does not resolve): check host in [account]"
    if isinstance(exc, ConnectionRefusedError):
        return (
            f"{where} refused the connection (nothing listens on port {port}): "
            "check host and port in [account] (993 for tls, 143 for starttls)"
        )
    if isinstance(exc, ssl.SSLError) and exc.reason in _PLAINTEXT_REASONS:
        return (
            f"{where} answered without TLS: it looks like a STARTTLS or plain port; "
            f"use security = {other} (port {other_port}), or the implicit-TLS port 993"
        )
    if isinstance(exc, TimeoutError):
        hint = (
            f"; port {port} may expect TLS at once: try security = tls (port 993)"
            if security != "tls"
            else f"; if port {port} is a STARTTLS port, use security = starttls"
        )
        return (
            f"{where} did not answer within {endpoint.timeout:g} s (timeout): check host, "
            f"port and firewall, or raise timeout_seconds in [account]{hint}"
        )
    if security == "starttls" and port == 993:
        return (
            f"cannot connect to {where}: {describe(exc)}; port 993 is implicit TLS: "
            "use security = tls there (starttls is for port 143)"
        )
    return f"cannot connect to {where}: {describe(exc)}"


def refuse_plain_login(endpoint: Endpoint, capabilities: frozenset[str]) -> None:
    """Cyrus's and pymap's plain ports: a login would be refused whatever the password."""
    if endpoint.security == "insecure" and "LOGINDISABLED" in capabilities:
        raise ConnectError(
            f"{endpoint.where} advertises LOGINDISABLED: this server only accepts a login "
            'over TLS: use security = "starttls" on this port, or security = "tls" '
            "with port 993"
        )


# Whether an exception raised by a sign-in is the server's "no" to the credentials.
Refused = Callable[[BaseException], bool]
# imapclient's errors derive from imaplib's.
_CONNECTION_ERRORS = (OSError, imaplib.IMAP4.error)


def password_sign_in(
    endpoint: Endpoint,
    username: str,
    password: str,
    *,
    login: Callable[[], None],
    plain: Callable[[], None],
    refused: Refused,
) -> None:
    """LOGIN, or SASL PLAIN when the name or password is not ASCII; errors translated."""
    try:
        (plain if login_needs_sasl(username, password) else login)()
    except Exception as exc:
        text = describe(exc).replace(password, "***") if password else describe(exc)
        if refused(exc):
            raise AuthError(f"{endpoint.where} refused the login for {username}: {text}") from exc
        if isinstance(exc, _CONNECTION_ERRORS):
            raise MailboxTransientError(
                f"connection to {endpoint.where} failed during login: {text}"
            ) from exc
        raise


def bearer_sign_in(
    endpoint: Endpoint,
    username: str,
    bearer: TokenSource,
    capabilities: frozenset[str],
    *,
    attempt: Callable[[str, str], None],
    refused: Refused,
) -> None:
    """SASL OAUTHBEARER (RFC 7628) or XOAUTH2, whichever the server announces.

    `attempt(mechanism, token)` signs in once. A refused token is refreshed and
    tried once more: it may have been revoked or expired early, and only the
    server can tell.
    """
    mech = bearer_mechanism(capabilities)
    if mech is None:
        raise AuthError(
            f"{endpoint.where} offers neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2: "
            'use account.auth = "password" for this server'
        )
    for round_ in (1, 2):
        token = bearer.access_token(force_refresh=round_ == 2)
        try:
            attempt(mech, token)
            return
        except Exception as exc:
            if not refused(exc):
                if isinstance(exc, _CONNECTION_ERRORS):
                    raise MailboxTransientError(
                        f"connection to {endpoint.where} failed during login: {describe(exc)}"
                    ) from exc
                raise
            if round_ == 2:
                raise AuthError(
                    f"{endpoint.where} refused the OAuth token for {username} ({mech}) "
                    f"even after a refresh: {describe(exc).replace(token, '***')}; "
                    "run followup login"
                ) from exc
            log.info("%s refused the access token (%s); refreshing once", endpoint.where, mech)


def cut(sock: socket.socket) -> None:
    """Shut a connection down from another thread; a read blocked on it then sees EOF.

    Works on a duplicate of the file descriptor, leaving the TLS object to
    the thread that owns it; that thread sees EOF and drops the connection.
    """
    with suppress(OSError, ValueError):
        dup = socket.socket(fileno=os.dup(sock.fileno()))
        try:
            dup.shutdown(socket.SHUT_RDWR)
        finally:
            dup.close()
