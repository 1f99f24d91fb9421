"""IMAP presets by the address's domain, for `followup init`. Pure data.

What a new user cannot be expected to know: host, port, security, how the
provider wants to be signed in to and where its app passwords are made. The
OAuth2 endpoints of Google and Microsoft stay in `providers` (named here by key).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from . import providers


class SignIn(Enum):
    PASSWORD = "password"  # the account's own password
    APP_PASSWORD = "app-password"  # a password made for one app in the provider's settings
    OAUTH2 = "oauth2"  # OAuth2 with an app of your own, or an app password


@dataclass(frozen=True)
class MailPreset:
    label: str
    domains: tuple[str, ...]
    host: str
    port: int
    security: str
    sign_in: SignIn
    advice: str  # one or two sentences: what to do before the password prompt
    oauth2_provider: str = ""  # a key of providers.PRESETS
    username_is_local_part: bool = False  # log in as "jane", not "jane@…"
    needs_ca_file: bool = False  # a local bridge with its own certificate


PRESETS: tuple[MailPreset, ...] = (
    MailPreset(
        "Gmail",
        ("gmail.com", "googlemail.com"),
        providers.IMAP_HOSTS["google"],
        993,
        "tls",
        SignIn.OAUTH2,
        "Gmail wants OAuth2 (an OAuth app of your own, see the README) or an app password: "
        "turn on 2-Step Verification, then make one at myaccount.google.com/apppasswords.",
        oauth2_provider="google",
    ),
    MailPreset(
        "Outlook / Microsoft 365",
        ("outlook.com", "hotmail.com", "live.com", "msn.com"),
        providers.IMAP_HOSTS["microsoft"],
        993,
        "tls",
        SignIn.OAUTH2,
        "Outlook.com no longer takes passwords over IMAP: sign in with OAuth2 "
        "(an app registration of your own, see the README).",
        oauth2_provider="microsoft",
    ),
    MailPreset(
        "iCloud Mail",
        ("icloud.com", "me.com", "mac.com"),
        "imap.mail.me.com",
        993,
        "tls",
        SignIn.APP_PASSWORD,
        "iCloud needs an app-specific password: make one at account.apple.com "
        "(Sign-In and Security, App-Specific Passwords).",
        username_is_local_part=True,
    ),
    MailPreset(
        "Yahoo Mail",
        ("yahoo.com", "ymail.com", "rocketmail.com"),
        "imap.mail.yahoo.com",
        993,
        "tls",
        SignIn.APP_PASSWORD,
        "Yahoo needs an app password: Account Info, Account Security, Generate app password.",
    ),
    MailPreset(
        "AOL Mail",
        ("aol.com",),
        "imap.aol.com",
        993,
        "tls",
        SignIn.APP_PASSWORD,
        "AOL needs an app password: Account Info, Account Security, Generate app password.",
    ),
    MailPreset(
        "Fastmail",
        ("fastmail.com", "fastmail.fm"),
        "imap.fastmail.com",
        993,
        "tls",
        SignIn.APP_PASSWORD,
        "Fastmail needs an app password: Settings, Privacy & Security, Integrations, "
        "App passwords (access: IMAP).",
    ),
    MailPreset(
        "GMX",
        ("gmx.net", "gmx.de", "gmx.at", "gmx.ch"),
        "imap.gmx.net",
        993,
        "tls",
        SignIn.PASSWORD,
        "GMX: first allow IMAP in the web mail (Settings, POP3 & IMAP).",
    ),
    MailPreset(
        "GMX (international)",
        ("gmx.com", "gmx.us", "gmx.co.uk"),
        "imap.gmx.com",
        993,
        "tls",
        SignIn.PASSWORD,
        "GMX: first allow IMAP in the web mail (Settings, POP3 & IMAP).",
    ),
    MailPreset(
        "WEB.DE",
        ("web.de",),
        "imap.web.de",
        993,
        "tls",
        SignIn.PASSWORD,
        "WEB.DE: first allow IMAP in the web mail (Settings, POP3/IMAP).",
    ),
    MailPreset(
        "mailbox.org",
        ("mailbox.org",),
        "imap.mailbox.org",
        993,
        "tls",
        SignIn.PASSWORD,
        "mailbox.org takes your password, or an app password if you use two-factor sign-in.",
    ),
    MailPreset(
        "Zoho Mail",
        ("zoho.com", "zohomail.com"),
        "imap.zoho.com",
        993,
        "tls",
        SignIn.APP_PASSWORD,
        "Zoho: allow IMAP access in Settings, Mail Accounts; with two-factor sign-in make an "
        "app-specific password (accounts.zoho.com, Security). EU accounts: imap.zoho.eu.",
    ),
    MailPreset(
        "Proton Mail (Bridge)",
        ("proton.me", "protonmail.com", "protonmail.ch", "pm.me"),
        "127.0.0.1",
        1143,
        "starttls",
        SignIn.PASSWORD,
        "Proton Mail works through Proton Mail Bridge running on this machine: use the "
        "password Bridge shows for the account (not your Proton password), and export "
        "Bridge's TLS certificate (Settings, Export TLS certificates) for the CA file.",
        needs_ca_file=True,
    ),
)

_BY_DOMAIN = {d: p for p in PRESETS for d in p.domains}


def preset_for(email: str) -> MailPreset | None:
    """The preset of an address's domain, or None (a custom or Workspace domain)."""
    return _BY_DOMAIN.get(email.rpartition("@")[2].strip().lower())


def username_for(preset: MailPreset | None, email: str) -> str:
    """The login name the provider expects for `email` ("" means the address itself)."""
    if preset is not None and preset.username_is_local_part:
        return email.partition("@")[0]
    return ""
