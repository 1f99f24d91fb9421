"""Writes the commented config file (`followup init`, config.example.toml).

The keys, their order, defaults and comments all come from the declarations in
config.py; this module only lays them out as TOML with the user's answers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import Field, dataclass
from datetime import time
from pathlib import Path

from . import config
from .oauthconfig import OAuth2Settings
from .tomltable import REQUIRED

HEADER = """\
# followup configuration. Every key is optional unless its comment says "required".
# Reload a running daemon after editing: systemctl --user reload followup (SIGHUP).
"""


@dataclass(frozen=True)
class AccountAnswers:
    """What `followup init` asked; empty means "not answered"."""

    email: str
    name: str
    host: str = ""
    port: int = config.PORT_TLS
    security: str = "tls"
    username: str = ""
    ca_file: str = ""
    timezone: str = "UTC"
    country: str = ""
    subdivision: str = ""
    database: str = ""
    # kind = "maildir": the Maildir's root directory and layout
    kind: str = "imap"
    path: str = ""
    layout: str = "auto"
    # auth = "oauth2": the preset ("google", "microsoft") and the user's own app
    oauth2_provider: str = ""
    oauth2_client_id: str = ""

    def by_section(self) -> dict[str, dict[str, object]]:
        account: dict[str, object] = {"email": self.email, "name": self.name, "kind": self.kind}
        if self.kind == "maildir":
            account |= {"path": self.path, "layout": self.layout}
        else:
            account |= {
                "host": self.host,
                "port": self.port,
                "security": self.security,
                "username": self.username,
                "ca_file": self.ca_file,
                "auth": "oauth2" if self.oauth2_provider else "",
            }
        return {
            "account": account,
            "schedule": {
                "timezone": self.timezone,
                "country": self.country,
                "subdivision": self.subdivision,
            },
            "storage": {"database": self.database},
            "account.oauth2": {
                "provider": self.oauth2_provider,
                "client_id": self.oauth2_client_id,
            },
        }


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, time):
        return toml_value(value.strftime("%H:%M"))
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    # JSON string escaping is valid TOML basic-string escaping.
    return json.dumps(str(value) if isinstance(value, Path) else value, ensure_ascii=False)


def _key_line(f: Field[object], spec: config.Spec, answers: Mapping[str, object]) -> str:
    answer = answers.get(f.name)
    if answer not in (None, ""):
        return f"{f.name} = {toml_value(answer)}"
    if spec.example is not None:
        return f"# {f.name} = {toml_value(spec.example)}"
    default = config.default_of(f)
    assert default is not REQUIRED, f"{f.name} needs an answer"
    return f"{f.name} = {toml_value(default)}"


def render_config(a: AccountAnswers) -> str:
    """The whole config file, every key commented."""
    answers = a.by_section()
    lines = [HEADER]
    for section, cls in config.SECTIONS:
        lines.append(f"[{section}]")
        for f, spec, _ in config.settings(cls):
            if spec.table or (spec.only is not None and spec.only != a.kind):
                continue
            lines += [f"# {line}" for line in spec.doc.splitlines()]
            lines.append(_key_line(f, spec, answers.get(section, {})))
        lines.append("")
        if section == "account" and a.oauth2_provider:
            lines += _oauth2_table(answers["account.oauth2"])
    return "\n".join(lines)


def _oauth2_table(answers: Mapping[str, object]) -> list[str]:
    """[account.oauth2] as `init` writes it: the preset's keys stay unwritten."""
    lines = ["[account.oauth2]"]
    for f, spec, _ in config.settings(OAuth2Settings):
        if answers.get(f.name) in (None, "") and spec.example is None:
            continue  # filled in from the provider's preset
        lines += [f"# {line}" for line in spec.doc.splitlines()]
        lines.append(_key_line(f, spec, answers))
    lines.append("")
    return lines


EXAMPLE = AccountAnswers(
    email="ada@example.com",
    name="Ada Lovelace",
    host="imap.example.com",
    port=config.PORT_TLS,
    security="tls",
    timezone="Europe/London",
    country="GB",
)
