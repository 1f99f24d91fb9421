"""`followup init` driven like a person at a terminal (pexpect), wrong answers included.

Issue 17 measured: a port `nine` gave a traceback, `ssl` a flag never typed,
`Berlin` was refused only after the password, `me at example` was accepted,
no country was asked, no keyring lost every answer, `--force` forgot them.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from pathlib import Path

import pexpect
import pytest

from agent import config, presets, wizard
from tests.dovecot import Dovecot, MailUser

ROOT = Path(__file__).resolve().parent.parent
Dialogue = list[tuple[str, str]]


def _spawn(cfg: Path, *args: str, keyring_backend: str) -> pexpect.spawn:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND=keyring_backend, COLUMNS="80")
    env.pop("FOLLOWUP_PASSWORD", None)
    return pexpect.spawn(
        sys.executable,
        ["-m", "agent.cli", "--config", str(cfg), "init", *args],
        cwd=str(ROOT),
        env=env,
        encoding="utf-8",
        timeout=20,
    )


def _converse(child: pexpect.spawn, dialogue: Dialogue) -> str:
    """Answer each prompt in turn; everything the terminal showed."""
    seen = []
    for prompt, answer in dialogue:
        child.expect_exact(prompt)
        seen.append(child.before + child.after)
        child.sendline(answer)
    child.expect(pexpect.EOF)
    seen.append(child.before)
    child.close()
    return "".join(seen)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fastmail_with_mistakes(port: int) -> Dialogue:
    """The preset's host is offered; the test answers 127.0.0.1 (the suite stays on loopback)."""
    return [
        ("Email address: ", "me at example"),
        ("Email address: ", "jane@fastmail.com"),
        ("Your name (signs the drafts): ", "Jane Doe"),
        ("IMAP server [imap.fastmail.com]: ", "127.0.0.1"),
        ("Security (tls, starttls, insecure) [tls]: ", "ssl"),
        ("Security (tls, starttls, insecure) [tls]: ", "tls"),
        ("Port [993]: ", "nine"),
        ("Port [993]: ", str(port)),
        ("Time zone (Area/City)", "Berlin"),
        ("Time zone (Area/City)", "Europe/Berlin"),
        ("Country for public holidays (ISO code; none: no holidays) [DE]: ", ""),
        ("IMAP password for jane@fastmail.com: ", "app-pa55word"),
        ("Keep these answers anyway", ""),
    ]


def test_wrong_answers_are_asked_again_and_no_keyring_keeps_the_answers(tmp_path: Path) -> None:
    cfg_path = tmp_path / "config.toml"
    port = closed_port()
    child = _spawn(cfg_path, keyring_backend="keyring.backends.fail.Keyring")
    screen = _converse(child, fastmail_with_mistakes(port))
    assert child.exitstatus == 0, screen
    assert "Traceback" not in screen
    assert "'me at example' is not an email address" in screen
    assert "'ssl' is called 'tls' here" in screen
    assert "'nine' is not a port" in screen
    assert "did you mean Europe/Berlin?" in screen
    assert "Fastmail needs an app password" in screen  # the preset's advice
    assert "FOLLOWUP_PASSWORD" in screen and "password_command" in screen
    cfg = config.load(cfg_path)
    acct = cfg.account
    assert f"127.0.0.1:{port} refused the connection" in screen  # tried before writing
    assert (acct.host, acct.port, str(acct.security)) == ("127.0.0.1", port, "tls")
    assert (cfg.schedule.timezone, cfg.schedule.country) == ("Europe/Berlin", "DE")
    assert "app-pa55word" not in cfg_path.read_text()


def test_a_keyring_stores_the_password_and_force_starts_from_the_current_values(
    tmp_path: Path,
) -> None:
    cfg_path = tmp_path / "config.toml"
    backend = "tests.test_credentials.MemoryKeyring"
    port = closed_port()
    first = _converse(
        _spawn(cfg_path, keyring_backend=backend),
        [
            ("Email address: ", "me@example.org"),
            ("Your name (signs the drafts): ", "Me Myself"),
            ("IMAP server [imap.example.org]: ", "127.0.0.1"),
            ("Security (tls, starttls, insecure) [tls]: ", "starttls"),
            ("Port [143]: ", str(port)),
            ("Time zone (Area/City)", "America/Chicago"),
            ("[US]: ", ""),
            ("IMAP password for me@example.org: ", "pa55word"),
            ("Keep these answers anyway", "y"),
        ],
    )
    assert "password stored in the system keyring" in first
    again = _spawn(cfg_path, "--force", keyring_backend=backend)
    screen = _converse(
        again,
        [
            ("Email address [me@example.org]: ", ""),
            ("Your name (signs the drafts) [Me Myself]: ", "Me Again"),
            ("IMAP server [127.0.0.1]: ", ""),
            ("Security (tls, starttls, insecure) [starttls]: ", ""),
            (f"Port [{port}]: ", ""),
            ("Time zone (Area/City) [America/Chicago]: ", ""),
            ("[US]: ", ""),
            ("IMAP password for me@example.org: ", "pa55word"),
            ("Keep these answers anyway", "n"),
        ],
    )
    assert again.exitstatus == 2 and "nothing written" in screen, screen
    cfg = config.load(cfg_path)
    assert cfg.account.name == "Me Myself"  # "n": the old file stays as it was
    again = _spawn(cfg_path, "--force", keyring_backend=backend)
    screen = _converse(
        again,
        [
            ("Email address [me@example.org]: ", ""),
            ("Your name (signs the drafts) [Me Myself]: ", "Me Again"),
            ("IMAP server [127.0.0.1]: ", ""),
            ("Security (tls, starttls, insecure) [starttls]: ", ""),
            (f"Port [{port}]: ", ""),
            ("Time zone (Area/City) [America/Chicago]: ", ""),
            ("[US]: ", ""),
            ("IMAP password for me@example.org: ", "pa55word"),
            ("Keep these answers anyway", "y"),
        ],
    )
    assert again.exitstatus == 0, screen
    cfg = config.load(cfg_path)
    assert (cfg.account.name, cfg.account.host, cfg.account.port) == ("Me Again", "127.0.0.1", port)


@pytest.mark.dovecot
def test_the_login_is_tried_first_and_an_untrusted_certificate_offers_a_ca_file(
    tmp_path: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    cfg_path = tmp_path / "config.toml"
    child = _spawn(
        cfg_path,
        "--username",
        mail_user.name,
        keyring_backend="tests.test_credentials.MemoryKeyring",
    )
    screen = _converse(
        child,
        [
            ("Email address: ", "jane@example.org"),
            ("Your name (signs the drafts): ", "Jane Doe"),
            ("IMAP server [imap.example.org]: ", dovecot.host),
            ("Security (tls, starttls, insecure) [tls]: ", ""),
            ("Port [993]: ", str(dovecot.port_tls)),
            ("Time zone (Area/City)", "Europe/Berlin"),
            ("[DE]: ", ""),
            ("IMAP password for ", mail_user.password),
            ("CA file (PEM) to trust for it (empty: none): ", "/no/such.pem"),
            ("CA file (PEM) to trust for it (empty: none): ", str(dovecot.ca_file)),
        ],
    )
    assert child.exitstatus == 0, screen
    assert "not trusted" in screen and re.search(r"SHA-256 fingerprint: ([0-9A-F]{2}:){31}", screen)
    assert "not a readable PEM" in screen
    assert "logged in" in screen and "password stored in the system keyring" in screen
    assert config.load(cfg_path).account.ca_file == str(dovecot.ca_file.resolve())


def test_input_that_is_not_a_terminal_is_refused_clearly(tmp_path: Path) -> None:
    import subprocess

    run = subprocess.run(
        [sys.executable, "-m", "agent.cli", "--config", str(tmp_path / "c.toml"), "init"],
        cwd=ROOT,
        input="me@example.org\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "needs a terminal" in run.stderr and "--no-input" in run.stderr, run.stderr
    assert not (tmp_path / "c.toml").exists()


@pytest.mark.parametrize(
    ("check", "answer", "value"),
    [
        (wizard.check_email, "jane@example.com", "jane@example.com"),
        (wizard.check_port, "993", "993"),
        (wizard.check_timezone, "Europe/Berlin", "Europe/Berlin"),
        (wizard.check_country, "de", "DE"),
        (wizard.check_country, "none", ""),
        (wizard.check_choice(config.SECURITY_CHOICES), "STARTTLS", "starttls"),
    ],
)
def test_answers_taken(check: wizard.Check, answer: str, value: str) -> None:
    assert check(answer) == value


@pytest.mark.parametrize(
    ("check", "answer", "says"),
    [
        (wizard.check_email, "me at example", "not an email address"),
        (wizard.check_email, "me@example", "not an email address"),
        (wizard.check_port, "nine", "not a port"),
        (wizard.check_port, "70000", "not a port"),
        (wizard.check_timezone, "Berlin", "did you mean Europe/Berlin?"),
        (wizard.check_timezone, "Europe/Berln", "did you mean Europe/Berlin"),
        (wizard.check_country, "XX", "no country code"),
        (wizard.check_choice(config.SECURITY_CHOICES, wizard.SECURITY_ALIASES), "ssl", "'tls'"),
        (wizard.check_choice(config.SECURITY_CHOICES), "starttsl", "did you mean 'starttls'"),
        (wizard.check_ca_file, "/no/such/ca.pem", "not a readable PEM"),
    ],
)
def test_answers_refused_with_what_would_do(check: wizard.Check, answer: str, says: str) -> None:
    with pytest.raises(wizard.AnswerError) as err:
        check(answer)
    assert says in str(err.value)


@pytest.mark.parametrize(
    ("email", "host", "port", "security"),
    [
        ("a@gmail.com", "imap.gmail.com", 993, "tls"),
        ("a@outlook.com", "outlook.office365.com", 993, "tls"),
        ("a@icloud.com", "imap.mail.me.com", 993, "tls"),
        ("a@yahoo.com", "imap.mail.yahoo.com", 993, "tls"),
        ("a@aol.com", "imap.aol.com", 993, "tls"),
        ("a@fastmail.com", "imap.fastmail.com", 993, "tls"),
        ("a@gmx.de", "imap.gmx.net", 993, "tls"),
        ("a@web.de", "imap.web.de", 993, "tls"),
        ("a@mailbox.org", "imap.mailbox.org", 993, "tls"),
        ("a@zoho.com", "imap.zoho.com", 993, "tls"),
        ("a@proton.me", "127.0.0.1", 1143, "starttls"),
        ("A@GMAIL.COM", "imap.gmail.com", 993, "tls"),
    ],
)
def test_presets_by_domain(email: str, host: str, port: int, security: str) -> None:
    preset = presets.preset_for(email)
    assert preset is not None
    assert (preset.host, preset.port, preset.security) == (host, port, security)
    assert preset.advice


def test_no_preset_for_a_custom_domain_and_oauth_ones_reuse_providers() -> None:
    assert presets.preset_for("me@example.org") is None
    gmail = presets.preset_for("a@gmail.com")
    assert gmail is not None and gmail.oauth2_provider == "google"
    assert presets.username_for(presets.preset_for("jane@icloud.com"), "jane@icloud.com") == "jane"
    assert wizard.country_of_zone("Europe/Berlin") == "DE"
    assert wizard.country_of_zone("UTC") == ""
