"""Mail domains that name no employer: a sender there is a person, not a company."""

from __future__ import annotations

# Mail providers whose domain says nothing about the sender's employer.
PUBLIC_PROVIDERS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "gmx.at",
        "gmx.ch",
        "web.de",
        "t-online.de",
        "freenet.de",
        "posteo.de",
        "mailbox.org",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "tutanota.com",
        "fastmail.com",
        "hey.com",
        "zoho.com",
        "mail.com",
        "yandex.ru",
        "yandex.com",
        "mail.ru",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "sfr.fr",
        "libero.it",
        "qq.com",
        "163.com",
        "126.com",
        "naver.com",
        "comcast.net",
        "verizon.net",
        "att.net",
    }
)
# Country variants: yahoo.co.uk, hotmail.fr, outlook.de, live.co.uk ...
_PUBLIC_PREFIXES = ("yahoo.", "hotmail.", "outlook.", "live.", "gmx.", "aol.")


def is_public_provider(domain: str) -> bool:
    domain = domain.lower()
    return domain in PUBLIC_PROVIDERS or domain.startswith(_PUBLIC_PREFIXES)
