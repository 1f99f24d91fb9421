"""The sign-in rules both IMAP connections share, and the NOTIFY watcher signing in with a
bearer token (OAUTHBEARER, a refused token refreshed once) against a scripted server."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from agent.errors import AuthError, ConnectError, MailboxTransientError, NotifyRefusedError
from agent.imap_notify import NotifyWatch
from agent.imap_session import Endpoint, bearer_sign_in, password_sign_in, refuse_plain_login

HERE = Endpoint("imap.example", 993, "tls")


class RefusedError(Exception):
    pass


class Tokens:
    def __init__(self) -> None:
        self.asked: list[bool] = []

    def access_token(self, *, force_refresh: bool = False) -> str:
        self.asked.append(force_refresh)
        return f"token-{len(self.asked)}"


def attempts(*outcomes: Exception | None) -> tuple[Callable[[str, str], None], list[str]]:
    tried: list[str] = []
    script = list(outcomes)

    def attempt(mech: str, token: str) -> None:
        tried.append(f"{mech}:{token}")
        outcome = script.pop(0)
        if outcome is not None:
            raise outcome

    return attempt, tried


def is_refusal(exc: BaseException) -> bool:
    return isinstance(exc, RefusedError)


def test_a_refused_token_is_refreshed_once_and_then_accepted() -> None:
    tokens = Tokens()
    attempt, tried = attempts(RefusedError("NO"), None)
    caps = frozenset({"AUTH=OAUTHBEARER", "AUTH=XOAUTH2"})
    bearer_sign_in(HERE, "u", tokens, caps, attempt=attempt, refused=is_refusal)
    assert tried == ["OAUTHBEARER:token-1", "OAUTHBEARER:token-2"]
    assert tokens.asked == [False, True]


def test_a_token_refused_twice_is_an_auth_error_without_the_token() -> None:
    attempt, _ = attempts(RefusedError("NO token-1"), RefusedError("NO token-2 is bad"))
    with pytest.raises(AuthError, match="even after a refresh") as caught:
        bearer_sign_in(
            HERE, "u", Tokens(), frozenset({"AUTH=XOAUTH2"}), attempt=attempt, refused=is_refusal
        )
    assert "token-2" not in str(caught.value) and "XOAUTH2" in str(caught.value)


@pytest.mark.parametrize(
    ("error", "expected"),
    [(ConnectionResetError("reset"), MailboxTransientError), (ValueError("bug"), ValueError)],
)
def test_a_broken_link_while_signing_in_is_transient_and_a_bug_is_a_bug(
    error: Exception, expected: type[Exception]
) -> None:
    attempt, _ = attempts(error)
    with pytest.raises(expected):
        bearer_sign_in(
            HERE, "u", Tokens(), frozenset({"AUTH=XOAUTH2"}), attempt=attempt, refused=is_refusal
        )


def test_no_bearer_mechanism_says_use_a_password() -> None:
    with pytest.raises(AuthError, match='auth = "password"'):
        bearer_sign_in(
            HERE,
            "u",
            Tokens(),
            frozenset({"AUTH=PLAIN"}),
            attempt=attempts()[0],
            refused=is_refusal,
        )


@pytest.mark.parametrize(
    ("user", "password", "used"),
    [("bob", "secret", "login"), ("jürgen", "secret", "plain"), ("bob", "pässword", "plain")],
)
def test_login_or_sasl_plain(user: str, password: str, used: str) -> None:
    calls: list[str] = []
    password_sign_in(
        HERE,
        user,
        password,
        login=lambda: calls.append("login"),
        plain=lambda: calls.append("plain"),
        refused=is_refusal,
    )
    assert calls == [used]


def test_a_refused_password_is_an_auth_error_without_the_password() -> None:
    def login() -> None:
        raise RefusedError("NO [AUTHENTICATIONFAILED] s3cret-pw not accepted")

    with pytest.raises(AuthError) as caught:
        password_sign_in(HERE, "bob", "s3cret-pw", login=login, plain=login, refused=is_refusal)
    assert "s3cret-pw" not in str(caught.value)


def test_logindisabled_on_a_plain_port_is_refused_before_any_password() -> None:
    plain = Endpoint("imap.example", 143, "insecure")
    with pytest.raises(ConnectError, match="LOGINDISABLED"):
        refuse_plain_login(plain, frozenset({"LOGINDISABLED"}))
    refuse_plain_login(HERE, frozenset({"LOGINDISABLED"}))  # over TLS it is not in force
    refuse_plain_login(plain, frozenset())


# -- the watcher against a scripted server ------------------------------------------


class ScriptedServer:
    """One plaintext IMAP session: OAUTHBEARER (first token refused), NOTIFY, one IDLE."""

    def __init__(self, capabilities: str = "IMAP4rev1 IDLE NOTIFY") -> None:
        self.capabilities = capabilities
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.payloads: list[bytes] = []
        self.commands: list[str] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        self.thread.join(5)

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
            with conn, conn.makefile("rb") as reader:
                self._session(conn, reader)
        except (OSError, AssertionError, ValueError) as exc:  # reported by the test
            self.error = exc

    def _session(self, conn: socket.socket, reader: object) -> None:
        read: Callable[[], bytes] = reader.readline  # type: ignore[attr-defined]

        def say(line: str) -> None:
            conn.sendall(line.encode() + b"\r\n")

        say("* OK [CAPABILITY IMAP4rev1 AUTH=OAUTHBEARER IDLE NOTIFY] ready")
        refused_once = signed_in = False
        while True:
            line = read().decode().rstrip("\r\n")
            if not line:
                return
            tag, verb = line.split(" ", 2)[:2]
            self.commands.append(verb.upper())
            if verb == "AUTHENTICATE":
                say("+ ")
                self.payloads.append(base64.b64decode(read().strip()))
                if not refused_once:
                    refused_once = True
                    say("+ " + base64.b64encode(b'{"status":"invalid_token"}').decode())
                    self.payloads.append(base64.b64decode(read().strip()))
                    say(f"{tag} NO [AUTHENTICATIONFAILED] bad token")
                else:
                    signed_in = True
                    say(f"{tag} OK signed in")
            elif verb == "CAPABILITY":
                say(
                    f"* CAPABILITY {self.capabilities}"
                    if signed_in
                    else "* CAPABILITY IMAP4rev1 AUTH=OAUTHBEARER"
                )
                say(f"{tag} OK done")
            elif verb == "EXAMINE":
                say("* 0 EXISTS")
                say("* OK [UIDVALIDITY 1] ok")
                say(f"{tag} OK [READ-ONLY] examined")
            elif verb == "NOTIFY":
                say(f"{tag} OK notifying")
            elif verb == "IDLE":
                say("+ idling")
                say('* STATUS "Sent" (MESSAGES 1 UIDNEXT 2)')
                assert read().strip() == b"DONE"
                say(f"{tag} OK idle done")
            elif verb == "LOGOUT":
                say("* BYE bye")
                say(f"{tag} OK bye")
                return


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as s:
        yield s


def test_the_watcher_signs_in_with_a_bearer_token_refreshed_once(server: ScriptedServer) -> None:
    tokens = Tokens()
    watch = NotifyWatch(
        Endpoint("127.0.0.1", server.port, "insecure", 5.0), "me@x.example", "", tokens
    )
    watch.open("INBOX", ["Sent"])
    assert watch.wait(5).folders == {"Sent"}
    watch.close()
    server.thread.join(5)
    assert server.error is None
    assert server.payloads == [
        b"n,a=me@x.example,\x01auth=Bearer token-1\x01\x01",
        b"\x01",  # the answer RFC 7628 asks for after the error challenge
        b"n,a=me@x.example,\x01auth=Bearer token-2\x01\x01",
    ]
    assert tokens.asked == [False, True]
    assert server.commands == [
        "CAPABILITY",
        "AUTHENTICATE",
        "AUTHENTICATE",
        "CAPABILITY",
        "EXAMINE",
        "NOTIFY",
        "IDLE",
        "LOGOUT",
    ]


@pytest.mark.parametrize(
    ("capabilities", "why"),
    [("IMAP4rev1 IDLE", "does not offer NOTIFY"), ("IMAP4rev1 NOTIFY", "NOTIFY without IDLE")],
)
def test_a_server_without_notify_or_idle_is_refused_before_notify_set(
    capabilities: str, why: str
) -> None:
    with ScriptedServer(capabilities) as server:
        watch = NotifyWatch(
            Endpoint("127.0.0.1", server.port, "insecure", 5.0), "me@x.example", "", Tokens()
        )
        with pytest.raises(NotifyRefusedError, match=why):
            watch.open("INBOX", ["Sent"])
        assert "NOTIFY" not in server.commands and "EXAMINE" not in server.commands
