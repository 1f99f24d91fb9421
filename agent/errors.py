"""The exception tree. The CLI maps each branch to an exit code.

FollowupError
├── ConfigError            bad or missing config (exit 2)
├── UsageError             bad command-line input (exit 2)
│   ├── NotFoundError           no such application or step
│   ├── IntakeError             a bad interview file (`add --from`), naming it
│   └── AddressError            an address typed at the door that cannot be used
├── CredentialError        no password could be found (exit 3)
├── MailboxError           anything from the mail store
│   ├── MailboxTransientError   worth retrying: network, timeouts, server restarts
│   │   └── ConnectError        cannot reach the server or TLS failed (exit 4)
│   └── MailboxFatalError       retrying will not help
│       ├── AuthError           login refused (exit 3)
│       │   └── OAuthGrantError     the authorization server refused (exit 3)
│       └── FolderError         a needed folder is missing
│           └── FolderSetupError    ...and the config or the account must change (exit 2)
├── TemplateError          a draft could not be rendered
├── LintBlockedError            a draft failed lint with lint = "block"
├── StateError             the database is unusable or inconsistent
│   └── DatabaseError           damaged, disk full, cannot be written (exit 6)
└── AlreadyRunningError         another daemon holds the lock (exit 5)
"""

from __future__ import annotations

from pathlib import Path


class FollowupError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code = 1


class ConfigError(FollowupError):
    """A config value is missing or wrong; `key` is its dotted path."""

    exit_code = 2

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}" if key else problem)


class UsageError(FollowupError):
    exit_code = 2


class NotFoundError(UsageError):
    pass


class IntakeError(UsageError):
    """A value in an interview file is missing or wrong; names the file and the key."""

    def __init__(self, file: Path, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")


class AddressError(UsageError):
    """One address could not be read; the message says why and what to do."""


class CredentialError(FollowupError):
    exit_code = 3


class MailboxError(FollowupError):
    pass


class MailboxTransientError(MailboxError):
    pass


class ConnectError(MailboxTransientError):
    exit_code = 4


class MailboxFatalError(MailboxError):
    pass


class AuthError(MailboxFatalError):
    exit_code = 3


class OAuthGrantError(AuthError):
    """The OAuth server refused a grant or a sign-in; the message says what to do next."""


class FolderError(MailboxFatalError):
    pass


class NotifyRefusedError(MailboxFatalError):
    """The server has no NOTIFY, or refused ours: watch the way servers without it are."""


class FolderSetupError(FolderError):
    """A role's folder is missing or a configured name matches none: the user must act."""

    exit_code = 2


class TemplateError(FollowupError):
    pass


class LintBlockedError(FollowupError):
    pass


class StateError(FollowupError):
    pass


class DatabaseError(StateError):
    """The database file cannot be used; the message says how to recover."""

    exit_code = 6


class AlreadyRunningError(FollowupError):
    exit_code = 5
