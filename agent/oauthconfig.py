"""`[account.oauth2]`: its settings as declared, and what they resolve to with a preset.

Apart from config.py because it is a world of its own (endpoints, flows,
loopback redirects); config.py reads the table through `oauth2_config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from .configspec import setting
from .providers import PRESETS, PROVIDERS, Flow, Preset
from .tomltable import TableReader


@dataclass(frozen=True)
class OAuth2Config:
    """`[account.oauth2]` with the provider preset filled in; the secret is never here."""

    provider: str
    client_id: str
    authorize_url: str
    token_url: str
    device_authorization_url: str
    scopes: tuple[str, ...]
    flow: Flow
    redirect_uri: str
    extra_params: tuple[tuple[str, str], ...] = ()
    client_secret_command: str | None = None


@dataclass(frozen=True)
class OAuth2Settings:
    """The keys of `[account.oauth2]`, as written; `_rules_oauth2` resolves the preset."""

    provider: str = setting(
        "",
        '"google", "microsoft" or "custom" (then also token_url, and authorize_url\n'
        "or device_authorization_url, and scopes). The client id is your own app's.",
        choices=PROVIDERS,
        required=True,
    )
    client_id: str = setting(
        "",
        "Your registered app's client id.",
        required=True,
        nonempty=True,
        why="register your own app",
    )
    tenant: str | None = setting(
        None, "Microsoft: your organisation's tenant (default: common).", example="contoso.com"
    )
    authorize_url: str | None = setting(None)
    token_url: str | None = setting(None)
    device_authorization_url: str | None = setting(None)
    scopes: tuple[str, ...] = setting(())
    flow: str | None = setting(None, choices=tuple(f.value for f in Flow))
    redirect_uri: str | None = setting(None)
    client_secret_command: str | None = setting(
        None,
        "A client secret (Google desktop apps have one) is never stored here: it is\n"
        "read from FOLLOWUP_OAUTH_CLIENT_SECRET, client_secret_command, or the\n"
        "keyring (`followup login --store-secret`).",
        example="pass show oauth/followup",
    )


def oauth2_config(r: TableReader, s: OAuth2Settings) -> OAuth2Config:
    """The settings as written, resolved against the provider's preset; errors name their key."""
    preset = PRESETS.get(s.provider)
    urls = _oauth2_urls(r, s, preset)
    flow = _oauth2_flow(r, s, preset, urls)
    scopes = s.scopes or (preset.scopes if preset else ())
    if not scopes:
        raise r.fail("scopes", "must list the scopes IMAP access needs")
    redirect = s.redirect_uri or (preset.redirect_uri if preset else "http://127.0.0.1/")
    if not redirect.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise r.fail("redirect_uri", "must be a loopback address like http://127.0.0.1/")
    return OAuth2Config(
        provider=s.provider,
        client_id=s.client_id.strip(),
        scopes=scopes,
        flow=flow,
        redirect_uri=redirect,
        extra_params=preset.extra_params if preset else _custom_params(scopes),
        client_secret_command=s.client_secret_command,
        **urls,
    )


def _oauth2_urls(r: TableReader, s: OAuth2Settings, preset: Preset | None) -> dict[str, str]:
    """The three endpoints: from the preset, unless the config names them (custom must)."""
    urls: dict[str, str] = {}
    for key in ("authorize_url", "token_url", "device_authorization_url"):
        value = getattr(s, key) or ""
        if preset is None and key == "token_url" and not value:
            raise r.fail(key, 'is required with provider = "custom"')
        if value and not _safe_url(value):
            raise r.fail(key, f"must be https:// (or http:// on loopback); got {value!r}")
        if preset is not None:
            value = value or getattr(preset, key)
            # A Microsoft tenant (organisation) in place of the multi-tenant endpoint.
            if s.tenant and s.provider == "microsoft":
                value = value.replace("/common/", f"/{s.tenant}/")
        urls[key] = value
    return urls


def _oauth2_flow(
    r: TableReader, s: OAuth2Settings, preset: Preset | None, urls: dict[str, str]
) -> Flow:
    if s.flow:
        flow = Flow(s.flow)
    elif preset is not None:
        flow = preset.flow
    else:
        flow = Flow.DEVICE if urls["device_authorization_url"] else Flow.PKCE
    if flow is Flow.DEVICE and not urls["device_authorization_url"]:
        raise r.fail("device_authorization_url", 'is required with flow = "device"')
    if flow is Flow.PKCE and not urls["authorize_url"]:
        raise r.fail("authorize_url", 'is required with flow = "pkce"')
    return flow


def _safe_url(url: str) -> bool:
    # Tokens cross this connection: TLS, except to this machine itself.
    if url.startswith("https://"):
        return True
    host = urlsplit(url).hostname or ""
    return url.startswith("http://") and host in ("127.0.0.1", "localhost", "::1")


def _custom_params(scopes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # OpenID Connect servers ignore offline_access (no refresh token) unless
    # the user is asked for consent (OIDC Core 1.0 section 11).
    return (("prompt", "consent"),) if "offline_access" in scopes else ()
