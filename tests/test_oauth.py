"""OAuth2 rules and parts: presets, config, error lines, token storage, loopback, SASL login."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import keyring
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from keyring.backends import fail

from agent import cli, config
from agent.errors import AuthError, ConfigError, OAuthGrantError
from agent.imap import ImapMailbox
from agent.loopback import LoopbackReceiver
from agent.oauth import Grant, OAuthClient
from agent.oauthconfig import OAuth2Config
from agent.providers import Flow, explain, provider_for_address
from agent.tokens import OAuthTokens, TokenStore
from tests.dovecot import Dovecot, MailUser
from tests.oauthsrv import CLIENT_ID, Stack, need_oauth_stack
from tests.test_credentials import MemoryKeyring

BASE = {"email": "alex@example.com", "name": "Alex", "host": "imap.example.com"}


def parse_account(**account: Any) -> config.AccountConfig:
    return config.parse({"account": {**BASE, **account}}).account


# -- config --------------------------------------------------------------------


def test_google_preset_fills_endpoints_scopes_and_flow() -> None:
    acct = parse_account(auth="oauth2", oauth2={"provider": "google", "client_id": "mine"})
    o = acct.oauth2
    assert o is not None
    assert o.scopes == ("https://mail.google.com/",)
    assert o.flow is Flow.PKCE  # Google refuses Gmail scopes in the device flow
    assert o.token_url == "https://oauth2.googleapis.com/token"
    assert ("access_type", "offline") in o.extra_params and ("prompt", "consent") in o.extra_params


def test_microsoft_preset_with_a_tenant() -> None:
    acct = parse_account(
        auth="oauth2",
        oauth2={"provider": "microsoft", "client_id": "mine", "tenant": "contoso.example"},
    )
    o = acct.oauth2
    assert o is not None
    assert o.flow is Flow.DEVICE
    assert "offline_access" in o.scopes
    assert "https://outlook.office.com/IMAP.AccessAsUser.All" in o.scopes
    assert o.device_authorization_url.startswith(
        "https://login.microsoftonline.com/contoso.example/"
    )


@pytest.mark.parametrize(
    ("account", "key", "problem"),
    [
        ({"auth": "oauth2"}, "account.oauth2", "is required"),
        ({"auth": "token"}, "account.auth", "must be one of password, oauth2"),
        ({"oauth2": {"provider": "google"}}, "account.oauth2", "only used with account.auth"),
        ({"token_command": "oama access x"}, "account.token_command", "only used with"),
        (
            {"auth": "oauth2", "token_command": "x", "oauth2": {"provider": "google"}},
            "account.token_command",
            "not both",
        ),
        (
            {
                "auth": "oauth2",
                "oauth2": {"provider": "google", "client_id": "a", "client_secret": "s"},
            },
            "account.oauth2.client_secret",
            "do not belong in the config",
        ),
        (
            {"auth": "oauth2", "oauth2": {"provider": "custom", "client_id": "a"}},
            "account.oauth2.token_url",
            "is required",
        ),
        (
            {
                "auth": "oauth2",
                "oauth2": {
                    "provider": "custom",
                    "client_id": "a",
                    "token_url": "http://idp.example.com/token",
                },
            },
            "account.oauth2.token_url",
            "must be https://",
        ),
        (
            {
                "auth": "oauth2",
                "oauth2": {
                    "provider": "custom",
                    "client_id": "a",
                    "token_url": "https://idp.example.com/token",
                    "flow": "device",
                },
            },
            "account.oauth2.device_authorization_url",
            "is required",
        ),
        (
            {"auth": "oauth2", "oauth2": {"provider": "google", "client_id": " "}},
            "account.oauth2.client_id",
            "register your own app",
        ),
        (
            {"auth": "oauth2", "oauth2": {"provider": "yahoo", "client_id": "a"}},
            "account.oauth2.provider",
            "must be one of",
        ),
        (
            {"auth": "oauth2", "oauth2": {"provider": "google", "client_id": "a", "scope": "x"}},
            "account.oauth2.scope",
            "unknown key",
        ),
    ],
)
def test_oauth2_config_errors_name_the_key(account: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_account(**account)
    assert info.value.key == key
    assert problem in info.value.problem


@pytest.mark.parametrize(
    ("address", "provider"),
    [
        ("a@gmail.com", "google"),
        ("a@GoogleMail.com", "google"),
        ("a@outlook.com", "microsoft"),
        ("a@hotmail.com", "microsoft"),
        ("a@university.edu", None),
    ],
)
def test_provider_for_address(address: str, provider: str | None) -> None:
    assert provider_for_address(address) == provider


# -- error lines ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "error", "description", "expected"),
    [
        ("google", "invalid_grant", "Token has been expired or revoked.", "publish the app"),
        ("microsoft", "invalid_grant", "AADSTS70008: expired", "run followup login"),
        ("microsoft", "invalid_request", "AADSTS65001: consent", "administrator"),
        ("microsoft", "invalid_request", "AADSTS50011: redirect", "http://localhost"),
        ("microsoft", "invalid_client", "AADSTS7000112: disabled", "client_id"),
        ("google", "admin_policy_enforced", "", "administrator blocks this app"),
        ("google", "invalid_scope", "", "device flow"),
        ("custom", "access_denied", "", "approve it"),
        ("custom", "expired_token", "", "expired before it was approved"),
        ("custom", "temporarily_unavailable", "", "(temporarily_unavailable): run followup login"),
    ],
)
def test_explain_gives_one_line_with_a_next_step(
    provider: str, error: str, description: str, expected: str
) -> None:
    line = explain(provider, error, description)
    assert expected in line
    assert "\n" not in line
    assert "followup login" in line or "account.oauth2.scopes" in line


def test_a_refused_sign_in_code_is_not_called_a_refresh_token() -> None:
    line = explain("google", "invalid_grant", "Bad Request", refreshing=False)
    assert line == (
        "Google refused the sign-in code (expired or already used): run followup login again"
    )


@given(st.text(max_size=40), st.text(max_size=200))
def test_explain_never_fails_and_stays_one_line(error: str, description: str) -> None:
    line = explain("custom", error.replace("\n", " "), description)
    assert line and "\n" not in line


# -- token storage ----------------------------------------------------------------


@pytest.fixture
def memory_ring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(before)


@pytest.fixture
def no_ring() -> Iterator[None]:
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


def test_refresh_token_goes_to_the_keyring_when_there_is_one(
    memory_ring: MemoryKeyring, tmp_path: Path
) -> None:
    store = TokenStore(parse_account(), tmp_path)
    assert store.load() is None
    assert store.save("rt-1") == "the system keyring"
    assert store.load() == "rt-1"
    assert not store.file.exists()


def test_refresh_token_file_is_0600_without_a_keyring(no_ring: None, tmp_path: Path) -> None:
    store = TokenStore(parse_account(), tmp_path / "state")
    where = store.save("rt-1")
    assert str(store.file) in where and "no keyring" in where
    assert store.file.stat().st_mode & 0o777 == 0o600
    assert store.load() == "rt-1"
    store.save("rt-2")  # rotation replaces it atomically
    assert store.load() == "rt-2"
    assert store.file.stat().st_mode & 0o777 == 0o600


# -- loopback receiver --------------------------------------------------------------


def test_loopback_takes_the_redirect_and_ignores_other_requests() -> None:
    with LoopbackReceiver("http://127.0.0.1/callback") as rx:
        assert rx.redirect_uri.startswith("http://127.0.0.1:")
        assert rx.redirect_uri.endswith("/callback")
        assert (
            requests.get(
                rx.redirect_uri.replace("/callback", "/favicon.ico"), timeout=5
            ).status_code
            == 404
        )
        page = requests.get(rx.redirect_uri + "?code=abc&state=xyz", timeout=5)
        assert page.status_code == 200
        answer = rx.wait(5)
    assert answer is not None and answer.params == {"code": "abc", "state": "xyz"}


def test_loopback_times_out_without_an_answer() -> None:
    with LoopbackReceiver("http://localhost") as rx:
        assert rx.redirect_uri.startswith("http://localhost:")
        assert rx.wait(0.05) is None


# -- against the real authorization server and Dovecot ------------------------------------


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    need_oauth_stack()
    s = Stack(access_ttl=3600)
    try:
        yield s
    finally:
        s.close()


def custom_cfg(stack: Stack) -> OAuth2Config:
    issuer = stack.oauth.issuer
    acct = parse_account(
        auth="oauth2",
        oauth2={
            "provider": "custom",
            "client_id": CLIENT_ID,
            "token_url": f"{issuer}/token",
            "device_authorization_url": f"{issuer}/device/auth",
            "scopes": ["openid", "offline_access", "mail"],
        },
    )
    assert acct.oauth2 is not None
    return acct.oauth2


def signed_in(stack: Stack, account: str, tmp_path: Path) -> OAuthTokens:
    client = OAuthClient(custom_cfg(stack), None)
    code = client.start_device()
    stack.oauth.approve_device(code.user_code, account)
    grant = client.poll_device(code, sleep=lambda s: None)
    tokens = OAuthTokens(client, TokenStore(parse_account(), tmp_path), tmp_path / "lock")
    tokens.adopt(grant)
    return tokens


def test_rotated_refresh_token_is_saved_and_the_old_one_dies(
    stack: Stack, no_ring: None, tmp_path: Path
) -> None:
    tokens = signed_in(stack, "rotator", tmp_path)
    first = tokens.store.load()
    tokens.refresh()
    second = tokens.store.load()
    assert first and second and first != second
    with pytest.raises(OAuthGrantError, match="refused the refresh token"):
        tokens.client.refresh(first)


def test_two_sources_sharing_a_store_survive_each_others_rotation(
    stack: Stack, no_ring: None, tmp_path: Path
) -> None:
    a = signed_in(stack, "sharer", tmp_path)
    b = OAuthTokens(a.client, TokenStore(parse_account(), tmp_path), tmp_path / "lock")
    a.refresh()
    b.refresh()  # reads the token a rotated, not a stale copy
    a.refresh()
    assert a.grant is not None and b.grant is not None


def test_access_token_is_reused_until_near_expiry(
    stack: Stack, no_ring: None, tmp_path: Path
) -> None:
    now = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    signed = signed_in(stack, "clocked", tmp_path)
    client = OAuthClient(custom_cfg(stack), None, clock=lambda: now[0])
    tokens = OAuthTokens(client, signed.store, tmp_path / "lock", clock=lambda: now[0])
    first = tokens.access_token()
    assert tokens.access_token() == first
    now[0] += timedelta(minutes=58)
    assert tokens.access_token() == first  # two minutes left: still good
    now[0] += timedelta(seconds=90)  # inside the last minute
    assert tokens.access_token() != first


class TokenSequence:
    """Hands out the given tokens in turn, remembering which calls forced a refresh."""

    def __init__(self, *values: str) -> None:
        self.values = list(values)
        self.forced: list[bool] = []

    def access_token(self, *, force_refresh: bool = False) -> str:
        self.forced.append(force_refresh)
        return self.values.pop(0)


def oauth_mailbox(dovecot: Dovecot, user: str, bearer: TokenSequence) -> ImapMailbox:
    return ImapMailbox(
        dovecot.host,
        dovecot.port_tls,
        "tls",
        user,
        "",
        bearer=bearer,
        ca_file=str(dovecot.ca_file),
    )


def test_a_refused_token_is_refreshed_once_then_login_works(stack: Stack) -> None:
    user = f"o{secrets.token_hex(3)}"
    good = stack.oauth.device_token(user)
    bearer = TokenSequence("revoked-or-expired", good)
    with oauth_mailbox(stack.dovecot, user, bearer) as box:
        assert box.folders().drafts == "Drafts"
    assert bearer.forced == [False, True]


def test_a_token_refused_twice_is_an_auth_error(stack: Stack) -> None:
    bearer = TokenSequence("bad-1", "bad-2")
    box = oauth_mailbox(stack.dovecot, "nobody", bearer)
    with pytest.raises(AuthError, match="even after a refresh") as info:
        box.connect()
    assert "bad-1" not in str(info.value) and "bad-2" not in str(info.value)


def test_a_server_without_oauth_mechanisms_says_so(dovecot: Dovecot, mail_user: MailUser) -> None:
    bearer = TokenSequence("unused")
    with pytest.raises(AuthError, match="neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2"):
        oauth_mailbox(dovecot, mail_user.name, bearer).connect()
    assert bearer.forced == []


def test_grant_repr_hides_tokens() -> None:
    g = Grant("access-secret", datetime.now(UTC), "refresh-secret", ("mail",))
    # repr is what a careless log line with %r would print.
    assert "secret" not in repr(g)


# -- init and login for Google and Microsoft addresses (no network needed) -------------


def init_for(tmp_path: Path, email: str, *extra: str) -> Path:
    cfg = tmp_path / "config.toml"
    code = cli.main(
        [
            "--config",
            str(cfg),
            "init",
            "--no-input",
            "--email",
            email,
            "--name",
            "Alex",
            "--timezone",
            "UTC",
            "--database",
            str(tmp_path / "state.sqlite3"),
            *extra,
        ]
    )
    assert code == 0
    return cfg


@pytest.mark.parametrize(
    ("email", "provider", "host"),
    [
        ("alex@gmail.com", "google", "imap.gmail.com"),
        ("alex@outlook.com", "microsoft", "outlook.office365.com"),
    ],
)
def test_init_for_a_provider_address_writes_an_oauth2_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], email: str, provider: str, host: str
) -> None:
    cfg_path = init_for(tmp_path, email, "--oauth2-client-id", "my-own-app")
    assert "next: followup login" in capsys.readouterr().out
    acct = config.load(cfg_path).account
    assert (acct.auth, acct.host) == ("oauth2", host)
    assert acct.oauth2 is not None
    assert (acct.oauth2.provider, acct.oauth2.client_id) == (provider, "my-own-app")


def test_init_without_a_client_id_keeps_password_sign_in(tmp_path: Path) -> None:
    acct = config.load(init_for(tmp_path, "alex@gmail.com")).account
    assert acct.auth == "password" and acct.oauth2 is None


@pytest.mark.parametrize(
    ("email", "authorize", "must_have"),
    [
        (
            "alex@gmail.com",
            "https://accounts.google.com/o/oauth2/v2/auth?",
            ("access_type=offline", "prompt=consent", "scope=https%3A%2F%2Fmail.google.com%2F"),
        ),
        (
            "alex@outlook.com",
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?",
            ("offline_access", "redirect_uri=http%3A%2F%2Flocalhost%3A"),
        ),
    ],
)
def test_login_after_init_starts_the_providers_pkce_flow(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_ring: None,
    email: str,
    authorize: str,
    must_have: tuple[str, ...],
) -> None:
    cfg_path = init_for(tmp_path, email, "--oauth2-client-id", "my-own-app")
    capsys.readouterr()
    # Nobody answers in the browser: login gives up after its wait, with exit 3.
    argv = ["--config", str(cfg_path), "login", "--no-browser", "--flow", "pkce", "--wait", "0.005"]
    code = cli.main(argv)
    out, err = capsys.readouterr()
    url = next(line for line in out.splitlines() if line.startswith("https://"))
    assert url.startswith(authorize)
    assert "code_challenge_method=S256" in url and "client_id=my-own-app" in url
    for part in must_have:
        assert part in url
    assert code == 3
    assert re.fullmatch(
        r"followup: no sign-in arrived within \d+ s: run followup login again\n", err
    ), err


def test_interactive_init_for_gmail_asks_for_the_client_id_and_offers_login(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []
    answers = iter(["my-own-app", "", "", "", "", "n"])  # ..., port, country, sign in

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("builtins.input", answer)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)  # a person at a terminal
    cfg = tmp_path / "config.toml"
    argv = ["--config", str(cfg), "init", "--email", "alex@gmail.com", "--name", "Alex"]
    assert cli.main([*argv, "--timezone", "UTC"]) == 0
    assert "Client id of your own Google OAuth app" in prompts[0]
    assert prompts[1] == "IMAP server [imap.gmail.com]: "
    assert prompts[-1] == "Sign in now? [Y/n] "
    assert "next: followup login" in capsys.readouterr().out
    assert config.load(cfg).account.auth == "oauth2"
