"""OAuth 2.0 provider presets and what their refusals mean to the user. Pure data and rules.

No client id of any application is shipped: every user registers their own
(see the README), so nothing here breaks when someone else's app is blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Flow(Enum):
    DEVICE = "device"  # RFC 8628 device authorization grant
    PKCE = "pkce"  # authorization code + PKCE, redirect to a loopback port


@dataclass(frozen=True)
class Preset:
    name: str
    label: str  # how the user knows the provider, in messages
    authorize_url: str
    token_url: str
    device_authorization_url: str
    scopes: tuple[str, ...]
    flow: Flow
    # The loopback redirect as registered; the port is chosen at login time.
    redirect_uri: str
    # Extra authorization parameters the provider needs to return a refresh token.
    extra_params: tuple[tuple[str, str], ...] = ()


GOOGLE = Preset(
    name="google",
    label="Google",
    authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
    token_url="https://oauth2.googleapis.com/token",
    device_authorization_url="",
    scopes=("https://mail.google.com/",),
    # Google's device flow refuses the Gmail scope (invalid_scope).
    flow=Flow.PKCE,
    redirect_uri="http://127.0.0.1/",
    # Without these Google issues no refresh token (or only on first consent).
    extra_params=(("access_type", "offline"), ("prompt", "consent")),
)

MICROSOFT = Preset(
    name="microsoft",
    label="Microsoft",
    authorize_url="https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    token_url="https://login.microsoftonline.com/common/oauth2/v2.0/token",
    device_authorization_url="https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
    # offline_access: Microsoft returns no refresh token without it.
    scopes=("https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"),
    flow=Flow.DEVICE,
    redirect_uri="http://localhost",
)

PRESETS: dict[str, Preset] = {p.name: p for p in (GOOGLE, MICROSOFT)}
PROVIDERS = ("google", "microsoft", "custom")
# Addresses whose provider `init` can tell from the domain alone.
PROVIDER_DOMAINS: dict[str, str] = {
    "gmail.com": "google",
    "googlemail.com": "google",
    "outlook.com": "microsoft",
    "hotmail.com": "microsoft",
    "live.com": "microsoft",
    "msn.com": "microsoft",
}
IMAP_HOSTS = {"google": "imap.gmail.com", "microsoft": "outlook.office365.com"}


def provider_for_address(email: str) -> str | None:
    """The preset an address obviously belongs to, or None (Workspace domains are not obvious)."""
    return PROVIDER_DOMAINS.get(email.rpartition("@")[2].lower())


def _login_again(label: str) -> str:
    return f"{label} refused the sign-in"


def explain(provider: str, error: str, description: str = "", *, refreshing: bool = True) -> str:
    """One line for an OAuth error code: what happened and the next step.

    `refreshing`: the refused grant was the stored refresh token, not a sign-in code.
    """
    label = PRESETS[provider].label if provider in PRESETS else "the authorization server"
    text = f"{error} {description}".lower()
    if "aadsts65001" in text or error == "consent_required":
        return (
            f"{label} needs consent for this app (an administrator may have to grant it "
            "for your organisation): ask your admin, then run followup login"
        )
    if "aadsts50011" in text or error == "redirect_uri_mismatch":
        return (
            f"{label} says the redirect address does not match the app registration: add "
            "http://localhost (Microsoft) or use a Desktop app client (Google), then run "
            "followup login"
        )
    if "aadsts7000112" in text or error in ("invalid_client", "unauthorized_client"):
        return (
            f"{label} does not accept this client ({error}): check account.oauth2.client_id, "
            "the client secret and that the app is enabled, then run followup login"
        )
    if error == "admin_policy_enforced" or "aadsts53003" in text:
        return (
            f"{label}: your organisation's administrator blocks this app "
            f"({error}): ask them to allow it, then run followup login"
        )
    if error == "invalid_scope":
        flow_hint = " (Google refuses Gmail scopes in the device flow)" if label == "Google" else ""
        return f"{label} refused the requested scopes{flow_hint}: check account.oauth2.scopes"
    if error == "access_denied":
        return f"{_login_again(label)} (access denied): run followup login and approve it"
    if error == "expired_token":
        return "the sign-in code expired before it was approved: run followup login again"
    if error == "invalid_grant" and not refreshing:
        return (
            f"{label} refused the sign-in code (expired or already used): run followup login again"
        )
    if error == "invalid_grant":
        if provider == "google":
            return (
                "Google refused the refresh token (it expires after 7 days while your OAuth "
                "app is in Testing, and when you revoke access): publish the app, then run "
                "followup login"
            )
        return (
            f"{label} refused the refresh token (revoked, expired or replaced): run followup login"
        )
    return f"{label} refused the request ({error}): run followup login"
