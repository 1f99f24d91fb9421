"""Folder discovery on the layouts real servers have: flags, prefixes, languages, Gmail."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from imapclient import imap_utf7

from agent.errors import FolderSetupError
from agent.folders import decode_mutf7, folder_notes, infer_prefix, resolve_folders

HAS = (b"\\HasNoChildren",)
Listing = list[tuple[tuple[bytes, ...], bytes, str]]


def flat(delim: str, *names: str) -> Listing:
    return [(HAS, delim.encode(), n) for n in names]


ISP_DE = flat(
    ".",
    "INBOX",
    "INBOX.Entwürfe",
    "INBOX.Gesendete Elemente",
    "INBOX.Gelöschte Elemente",
    "INBOX.Junk-E-Mail",
)
GMAIL = [
    (HAS, b"/", "INBOX"),
    ((b"\\HasChildren", b"\\Noselect"), b"/", "[Gmail]"),
    ((*HAS, b"\\All"), b"/", "[Gmail]/All Mail"),
    ((*HAS, b"\\Drafts"), b"/", "[Gmail]/Drafts"),
    ((*HAS, b"\\Important"), b"/", "[Gmail]/Important"),
    ((*HAS, b"\\Sent"), b"/", "[Gmail]/Sent Mail"),
    ((*HAS, b"\\Junk"), b"/", "[Gmail]/Spam"),
    ((*HAS, b"\\Flagged"), b"/", "[Gmail]/Starred"),
    ((*HAS, b"\\Trash"), b"/", "[Gmail]/Trash"),
]
GOOGLE_MAIL_DE_NO_FLAGS = flat(
    "/", "INBOX", "[Google Mail]/Entwürfe", "[Google Mail]/Gesendet", "[Google Mail]/Papierkorb"
)


@pytest.mark.parametrize(
    ("listing", "expected"),
    [
        (ISP_DE, ("INBOX.Entwürfe", "INBOX.Gesendete Elemente", "INBOX.Gelöschte Elemente")),
        (flat("/", "INBOX", "Brouillons", "Éléments envoyés", "Éléments supprimés"), None),
        (flat("/", "INBOX", "Borradores", "Elementos enviados", "Elementos eliminados"), None),
        (flat("/", "INBOX", "Bozze", "Posta inviata", "Cestino"), None),
        (flat("/", "INBOX", "Concepten", "Verzonden items", "Prullenbak"), None),
        (flat("/", "INBOX", "Rascunhos", "Itens enviados", "Lixeira"), None),
        (flat("/", "INBOX", "Wersje robocze", "Elementy wysłane", "Kosz"), None),
        (flat("/", "INBOX", "Utkast", "Skickat", "Papperskorgen"), None),
        (flat("/", "INBOX", "Черновики", "Отправленные", "Корзина"), None),
        (flat("/", "INBOX", "Drafts", "Sent Messages", "Deleted Messages"), None),  # Apple
        (flat(".", "INBOX", "INBOX.Drafts", "INBOX.Sent Items", "INBOX.Deleted Items"), None),
        (GOOGLE_MAIL_DE_NO_FLAGS, None),
        # Case and Unicode form do not matter (NFD "ü" from a macOS client).
        (flat("/", "INBOX", "ENTWU\u0308RFE", "gesendet", "PAPIERKORB"), None),
    ],
    ids=["isp-de", "fr", "es", "it", "nl", "pt", "pl", "sv", "ru", "apple", "inbox-dot-en",
         "google-mail-de", "case-nfd"],
)  # fmt: skip
def test_localized_names_without_special_use(
    listing: Listing, expected: tuple[str, str, str] | None
) -> None:
    f = resolve_folders(listing, None)
    want = expected or tuple(name for _, _, name in listing[1:4])
    assert (f.drafts, f.sent, f.trash) == want
    assert {f.found_by[r] for r in ("drafts", "sent", "trash")} == {"name"}


def test_isp_prefix_is_inferred_and_junk_ignored() -> None:
    f = resolve_folders(ISP_DE, None)
    assert (f.prefix, f.delimiter, f.inbox) == ("INBOX.", ".", "INBOX")
    assert f.ignored == {"INBOX.Junk-E-Mail": "junk"}
    assert [e.name for e in f.existing] == [n for _, _, n in ISP_DE]


def test_gmail_all_mail_important_starred_are_recognised_and_ignored() -> None:
    f = resolve_folders(GMAIL, None)
    assert (f.drafts, f.sent, f.trash, f.archive) == (
        "[Gmail]/Drafts",
        "[Gmail]/Sent Mail",
        "[Gmail]/Trash",
        None,
    )
    assert f.ignored == {
        "[Gmail]/All Mail": "all mail",
        "[Gmail]/Important": "important",
        "[Gmail]/Spam": "junk",
        "[Gmail]/Starred": "starred",
    }


def test_all_mail_is_never_taken_for_an_archive_even_by_name() -> None:
    listing = flat("/", "INBOX", "Drafts", "Sent", "All Mail")
    f = resolve_folders(listing, None)
    assert f.archive is None and f.ignored == {"All Mail": "all mail"}


def test_a_name_nested_deeper_is_not_a_role() -> None:
    listing = flat("/", "INBOX", "Drafts", "Sent", "Projects/Trash", "Clients/Sent")
    f = resolve_folders(listing, None)
    assert (f.sent, f.trash) == ("Sent", None)


@pytest.mark.parametrize(
    ("wanted", "actual"),
    [
        ("Entwürfe", "INBOX.Entwürfe"),  # as the mail client shows it
        ("INBOX.Entwürfe", "INBOX.Entwürfe"),
        ("inbox.entwürfe", "INBOX.Entwürfe"),
        ("INBOX/Entwürfe", "INBOX.Entwürfe"),  # the other delimiter
        ("Entw&APw-rfe", "INBOX.Entwürfe"),  # modified UTF-7, as in a server log
        ("Entwu\u0308rfe", "INBOX.Entwürfe"),  # NFD
    ],
)
def test_config_names_with_or_without_the_prefix(wanted: str, actual: str) -> None:
    f = resolve_folders(ISP_DE, {"drafts": wanted})
    assert f.drafts == actual and f.found_by["drafts"] == "config"


def test_config_name_not_found_is_a_setup_error_listing_the_folders() -> None:
    with pytest.raises(FolderSetupError) as err:
        resolve_folders(ISP_DE, {"sent": "Gesendet"})
    assert err.value.exit_code == 2
    assert "INBOX.Gesendete Elemente" in str(err.value)


@pytest.mark.parametrize(
    ("listing", "role", "create"),
    [
        (flat("/", "INBOX"), "drafts", 'named "Drafts"'),
        (flat(".", "INBOX", "INBOX.Drafts", "INBOX.Archiv"), "sent", 'named "INBOX.Sent"'),
        (flat("/", "INBOX", "Drafts", "Projekte"), "sent", 'named "Sent"'),
    ],
    ids=["brand-new", "isp-no-sent", "no-sent"],
)
def test_missing_role_says_what_to_create_and_what_to_set(
    listing: Listing, role: str, create: str
) -> None:
    with pytest.raises(FolderSetupError, match=f"no {role.capitalize()} folder") as err:
        resolve_folders(listing, None)
    text = str(err.value)
    assert create in text and f'{role} = "..."' in text and "[folders]" in text
    assert all(name in text for _, _, name in listing)  # lists what exists
    assert err.value.exit_code == 2


@pytest.mark.parametrize(
    ("names", "delim", "prefix"),
    [
        (["INBOX", "INBOX.Drafts", "INBOX.Sent"], ".", "INBOX."),
        (["INBOX", "Drafts", "Sent", "INBOX.Sub"], ".", ""),
        (["INBOX", "Drafts", "Sent"], "/", ""),
        (["INBOX"], ".", ""),
        (["Drafts"], None, ""),
    ],
)
def test_infer_prefix(names: list[str], delim: str | None, prefix: str) -> None:
    assert infer_prefix(names, delim) == prefix


def test_an_explicit_prefix_wins_over_inference() -> None:
    listing = flat("/", "INBOX", "Mail/Drafts", "Mail/Sent")
    f = resolve_folders(listing, None, prefix="Mail/")
    assert (f.drafts, f.sent, f.prefix) == ("Mail/Drafts", "Mail/Sent", "Mail/")


@given(st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s))
def test_decode_mutf7_inverts_the_wire_encoding(name: str) -> None:
    wire = imap_utf7.encode(name).decode("ascii")
    assert decode_mutf7(wire) == name


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="./\x00"), min_size=1))
def test_any_configured_unicode_name_is_found(name: str) -> None:
    listing = [*flat(".", "INBOX", "INBOX.Sent"), (HAS, b".", f"INBOX.{name}")]
    f = resolve_folders(listing, {"drafts": name})
    assert f.drafts == f"INBOX.{name}"


@pytest.mark.parametrize(
    ("listing", "present", "absent"),
    [
        (GMAIL, ["not read [Gmail]/All Mail (all mail)", "[Gmail]/Drafts  \\HasNoChildren"],
         ["no Trash folder"]),
        (flat(".", "INBOX", "INBOX.Entwürfe", "INBOX.Gesendet"),
         ["no Trash folder", 'trash = "INBOX.Trash"', "prefix INBOX."], ["not read"]),
    ],
    ids=["gmail", "isp-without-trash"],
)  # fmt: skip
def test_folder_notes_for_check(listing: Listing, present: list[str], absent: list[str]) -> None:
    text = "\n".join(folder_notes(resolve_folders(listing, None)))
    assert all(p in text for p in present), text
    assert not any(a in text for a in absent), text


def test_a_long_folder_list_is_cut_short() -> None:
    listing = flat("/", "INBOX", "Drafts", "Sent", *(f"Project {i}" for i in range(100)))
    text = "\n".join(folder_notes(resolve_folders(listing, None)))
    assert "Project 36" in text and "Project 37" not in text and "... and 63 more" in text
