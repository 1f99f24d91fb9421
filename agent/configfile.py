"""Writes the commented config file (`followup init`, config.example.toml)."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class AccountAnswers:
    email: str
    name: str
    host: str = ""
    port: int = 993
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


def _q(value: str) -> str:
    # JSON string escaping is valid TOML basic-string escaping.
    return json.dumps(value, ensure_ascii=False)


def _opt(key: str, value: str, example: str) -> str:
    return f"{key} = {_q(value)}" if value else f"# {key} = {_q(example)}"


def render_config(a: AccountAnswers) -> str:
    """The whole config file, every key commented."""
    return f"""\
# followup configuration. Every key is optional unless marked "required".
# Reload a running daemon after editing: systemctl --user reload followup (SIGHUP).

[account]
# The address the drafts come from (required) and the name that signs them (required).
email = {_q(a.email)}
name = {_q(a.name)}
{_mail_store(a)}
[schedule]
# Your time zone (Area/City): business days, working hours and --now use it.
timezone = {_q(a.timezone)}
# Public holidays are not business days: ISO country code and optional
# subdivision (state, province), as the `holidays` package names them.
{_opt("country", a.country, "US")}
{_opt("subdivision", a.subdivision, "CA")}
# Check-in drafts appear at the start of a working day so you can send them
# in business hours.
workday_start = "08:00"
workday_end = "18:00"

[policy]
# Thank-you notes are drafted this long after the interview ends, and always
# within the deadline.
thank_you_delay_minutes = 60
thank_you_deadline_hours = 24
# First check-in: business days after the decision date they gave you
# (at least 1), or after the interview when they gave none.
decision_buffer_business_days = 2
no_decision_business_days = 5
# Days between check-ins; less than 7 is refused (it reads as pressure).
min_gap_days = 8
# Who receives check-ins: "recruiter", "hiring_manager" or both.
checkin_to = ["recruiter", "hiring_manager"]
# How many check-ins an interview earns, by kind, and the extra ones for a
# panel (several interviewers) or a later round, capped by max_extra.
max_checkins_phone = 1
max_checkins_video = 2
max_checkins_onsite = 2
extra_for_panel = 1
extra_for_later_round = 1
max_extra = 3
# What happens when a draft fails the tone/length/spelling lint:
# "warn" writes it and reports the finding; "block" holds it back.
lint = "warn"
# Words of your trade the spelling check should accept (names of people,
# the company and the role are accepted already).
known_words = []

[reminders]
# Steps that are not emails: `followup agenda` lists them, `followup done ID`
# ticks them off. A LinkedIn invitation to the people you met, this many days
# after the thank-you notes.
linkedin = true
linkedin_after_days = 3
# A handwritten card as well as the thank-you email.
handwritten_note = false
# After a final round (`followup add --final`), tell your references to
# expect a call.
alert_references = true
# Check in by phone instead of by email: check-ins become call reminders
# (same timing and limits); marking one done counts as a contact.
calls = false

[storage]
# SQLite database (default: the platform data directory).
{_opt("database", a.database, "~/.local/share/followup/followup.sqlite3")}

[templates]
# A directory whose templates override the built-in ones of the same name.
# dir = "~/.config/followup/templates"

[daemon]
# Minutes between mailbox checks; IDLE wakes the daemon sooner when the
# server supports it.
poll_minutes = 5
idle = true
"""


def _mail_store(a: AccountAnswers) -> str:
    """The rest of [account] and [folders], which depend on the kind of account."""
    if a.kind == "maildir":
        return f"""\
# Where your mail is: "imap" (a server) or "maildir" (a local Maildir, kept
# in sync by mbsync or offlineimap, read with mutt, aerc or notmuch).
kind = "maildir"
# The Maildir's root directory (required).
path = {_q(a.path)}
# Folder layout: "maildir++" (INBOX is the root, folders are .Drafts, .Sent),
# "fs" (folders are directories: INBOX/, Drafts/, Sent/) or "auto" (detect).
layout = {_q(a.layout)}
# No password: followup reads and writes the files directly. Drafts land in
# Drafts/cur flagged D (draft); your sync tool uploads them.

[folders]
# Drafts, Sent, Trash and Archive are found by name (Drafts, Sent, Sent Items,
# Entwürfe, Corbeille, [Gmail].Drafts, ...). Name them here if yours differ,
# without the leading dot of Maildir++.
# drafts = "Drafts"
# sent = "Sent"
# trash = "Trash"
# archive = "Archive"
# More folders to watch for replies, besides INBOX and Sent
# (e.g. where a filter files mail from recruiters).
watch = []
"""
    return f"""\
# Where your mail is: "imap" (a server) or "maildir" (a local Maildir; see
# `followup init --maildir PATH`).
kind = "imap"
# IMAP server (required), port, and transport security:
#   "tls" = implicit TLS (port 993), "starttls" = upgrade on port 143,
#   "insecure" = plaintext; only for a server on this machine, logged loudly.
host = {_q(a.host)}
port = {a.port}
security = {_q(a.security)}
# Login name when it is not the email address.
{_opt("username", a.username, "me")}
# The password is never stored here. followup reads, in order: the
# FOLLOWUP_PASSWORD environment variable, the output of password_command,
# then the system keyring (`followup set-password`).
# password_command = "pass show mail/imap"
# CA certificate (PEM) to trust, for a server with a self-signed certificate.
{_opt("ca_file", a.ca_file, "/path/to/ca.pem")}
# Seconds before a silent server counts as gone.
timeout_seconds = 30

[folders]
# Drafts, Sent, Trash and Archive are found by their SPECIAL-USE flags
# (RFC 6154), else by their usual names in ten languages (Entwürfe, Sent Items,
# Corbeille, ...; `followup check` shows what it found and every folder there
# is). Name them here only if it guessed wrong: as your mail client shows them,
# with or without an "INBOX." prefix. Without a Trash, drafts to withdraw stay
# in Drafts for you to delete.
# drafts = "Drafts"
# sent = "Sent"
# trash = "Trash"
# archive = "Archive"
# More folders to watch for replies, besides INBOX and Sent
# (e.g. where a filter files mail from recruiters).
watch = []
"""


EXAMPLE = AccountAnswers(
    email="ada@example.com",
    name="Ada Lovelace",
    host="imap.example.com",
    port=993,
    security="tls",
    timezone="Europe/London",
    country="GB",
)
