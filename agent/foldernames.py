"""What mail clients and providers call Drafts, Sent, Trash and Archive, per language.

Data only, used by agent.folders when a server flags no folder with SPECIAL-USE
(RFC 6154). Names are the last level of a folder's path, compared after
Unicode NFC normalisation and case folding; the namespace prefix (`INBOX.`)
and a provider's container (`[Gmail]/`) are taken off first. Earlier names
win, so each tuple starts with the most common one.
"""

from __future__ import annotations

# English first (every client's default), then the Exchange/Outlook, Apple and
# Gmail variants, then de, fr, es, it, nl, pt, pl, sv, ru as Outlook,
# Thunderbird, Apple Mail and the big webmailers name them.
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "drafts": (
        "Drafts",
        "Draft",
        "Entwürfe",
        "Entwurf",
        "Brouillons",
        "Borradores",
        "Bozze",
        "Concepten",
        "Concepts",
        "Rascunhos",
        "Wersje robocze",
        "Kopie robocze",
        "Utkast",
        "Черновики",
    ),
    "sent": (
        "Sent",
        "Sent Items",
        "Sent Messages",
        "Sent Mail",
        "Gesendet",
        "Gesendete Elemente",
        "Gesendete Objekte",
        "Gesendete Nachrichten",
        "Envoyés",
        "Éléments envoyés",
        "Messages envoyés",
        "Enviados",
        "Elementos enviados",
        "Mensajes enviados",
        "Posta inviata",
        "Inviata",
        "Elementi inviati",
        "Verzonden",
        "Verzonden items",
        "Verzonden berichten",
        "Itens enviados",
        "Mensagens enviadas",
        "Enviadas",
        "Wysłane",
        "Elementy wysłane",
        "Skickat",
        "Skickade",
        "Skickade objekt",
        "Skickade meddelanden",
        "Отправленные",
        "Отправленные элементы",
    ),
    "trash": (
        "Trash",
        "Deleted Items",
        "Deleted Messages",
        "Deleted",
        "Bin",
        "Papierkorb",
        "Gelöschte Elemente",
        "Gelöschte Objekte",
        "Gelöschte Nachrichten",
        "Corbeille",
        "Éléments supprimés",
        "Messages supprimés",
        "Papelera",
        "Elementos eliminados",
        "Cestino",
        "Posta eliminata",
        "Elementi eliminati",
        "Prullenbak",
        "Verwijderde items",
        "Lixeira",
        "Lixo",
        "Itens excluídos",
        "Kosz",
        "Elementy usunięte",
        "Papperskorgen",
        "Borttagna objekt",
        "Borttaget",
        "Корзина",
        "Удаленные",
        "Удалённые",
        "Удаленные элементы",
    ),
    "archive": (
        "Archive",
        "Archives",
        "Archiv",
        "Archivo",
        "Archivio",
        "Archief",
        "Arquivo",
        "Archiwum",
        "Arkiv",
        "Архив",
    ),
}

# Folders that exist only as views of other mail (Gmail's labels) or hold
# what the user does not want read: recognised, so that nothing mistakes them
# for a role; read only when listed in `watch`, and \All (which repeats every
# message of the account) not even then.
IGNORED_FLAGS: dict[str, str] = {
    "\\all": "all mail",
    "\\important": "important",
    "\\flagged": "starred",
    "\\junk": "junk",
}

IGNORED_NAMES: dict[str, tuple[str, ...]] = {
    "all mail": ("All Mail", "Alle Nachrichten", "Tous les messages", "Todos", "Tutti i messaggi"),
    "important": ("Important", "Wichtig", "Importants", "Importante", "Belangrijk"),
    "starred": ("Starred", "Flagged", "Markiert", "Suivis", "Destacados", "Speciali"),
    "junk": ("Junk", "Spam", "Junk E-mail", "Junk Email", "Bulk Mail", "Junk-E-Mail"),
}

# Top levels under which a provider keeps its system folders (Gmail's English
# and German brandings); the role name is the level below.
PROVIDER_CONTAINERS: tuple[str, ...] = ("[Gmail]", "[Google Mail]")
