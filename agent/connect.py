"""The factory: which `Mailbox` backend an account config asks for.

Apart from the protocol module so that `agent.mailbox` imports no backend
(no import circle); backends are imported lazily, so only code that talks to
a server loads imapclient.
"""

from __future__ import annotations

from pathlib import Path

from .config import AccountConfig, FoldersConfig
from .mailbox import Mailbox, TokenSource


def open_mailbox(
    account: AccountConfig,
    folders: FoldersConfig,
    password: str | None,
    *,
    state_dir: Path | None = None,
    bearer: TokenSource | None = None,
) -> Mailbox:
    """The mailbox for an account config (not yet connected).

    `password` (or, for auth = "oauth2", `bearer`) is needed for IMAP only;
    `state_dir` is where a Maildir account keeps its UID index (default: the
    platform state directory).
    """
    if account.is_maildir:
        from .maildir import MaildirMailbox
        from .maildir_index import index_path

        assert account.path is not None  # config.parse requires it
        return MaildirMailbox(
            account.path,
            layout=account.layout,
            index=index_path(account.path, state_dir) if state_dir is not None else None,
            folder_overrides=folders.overrides(),
            also_watch=folders.watch,
        )
    if password is None and bearer is None:
        raise ValueError("an IMAP account needs a password or a token source")
    # Imported here so that only code that talks to a server loads imapclient.
    from .imap import ImapMailbox

    return ImapMailbox(
        account.host,
        account.port,
        account.security,
        account.login,
        password or "",
        bearer=bearer,
        ca_file=account.ca_file,
        timeout=account.timeout_seconds,
        folder_overrides=folders.overrides(),
    )
