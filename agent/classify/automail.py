"""Automatic mail: auto-replies (RFC 3834, vendor headers, out-of-office subjects),
other machine mail, and mailing lists. None of them is a person's answer.
"""

from __future__ import annotations

import re

from .headers import Header

# Subjects of out-of-office replies; some Exchange servers send them with no header.
_OOO_SUBJECT = re.compile(
    r"(?:^|\W)(?:"
    r"out of (?:the )?office|automatic reply|auto[- ]?reply|autoreply|away from (?:the )?office"
    r"|on vacation|on leave|abwesenheit|automatische antwort|abwesend|nicht im büro"
    r"|r[ée]ponse automatique|absence du bureau|absent(?:e)? du bureau|en cong[ée]s?"
    r"|respuesta autom[áa]tica|fuera de la oficina|ausente"
    r"|risposta automatica|fuori ufficio|resposta autom[áa]tica|fora do escrit[óo]rio"
    r"|automatisch antwoord|afwezig|niet aanwezig|autosvar|fr[åa]nvaro|automaattinen vastaus"
    r"|odpowied[źz] automatyczna|automatick[áa] odpov[ěe][ďd]|otomatik yan[ıi]t"
    r"|自動回覆|自动回复|自動応答|不在"
    r")",
    re.IGNORECASE,
)


def is_out_of_office_subject(subject: str) -> bool:
    return bool(_OOO_SUBJECT.search(subject))


def is_auto_reply(h: Header) -> bool:
    """RFC 3834 and the common vendor headers, or an out-of-office subject."""
    if h.auto_submitted.startswith("auto-replied") or h.auto_flag:
        return True
    if h.precedence == "auto_reply":
        return True
    return is_out_of_office_subject(h.subject)


def is_automated(h: Header) -> bool:
    """Machine mail that is not a personal answer."""
    if h.auto_submitted and not h.auto_submitted.startswith("no"):
        return True
    return h.precedence in ("bulk", "junk", "list")


def is_list(h: Header) -> bool:
    """A mailing list or newsletter: list headers, or bulk precedence."""
    return h.is_list or h.precedence in ("bulk", "list", "junk")
