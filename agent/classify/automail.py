"""Automatic mail: auto-replies (RFC 3834, vendor headers, out-of-office subjects),
other machine mail (no-reply senders, applicant tracking systems' notifications),
and mailing lists. None of them is a person's answer.
"""

from __future__ import annotations

import re

from .headers import Header, domain_of

# Subjects of out-of-office replies; some Exchange servers send them with no header.
# Outlook's and Gmail's wordings in the languages they ship, a few of each.
_OOO_SUBJECT = re.compile(
    r"(?:^|\W)(?:"
    # English
    r"out of (?:the )?office|automatic reply|auto[- ]?reply|autoreply|away from (?:the )?office"
    r"|on vacation|on leave"
    # German
    r"|abwesenheit|automatische antwort|abwesend|nicht im büro"
    # French
    r"|r[ée]ponse automatique|absence du bureau|absent(?:e)? du bureau|en cong[ée]s?"
    # Spanish, Italian, Portuguese
    r"|respuesta autom[áa]tica|fuera de la oficina|ausente"
    r"|risposta automatica|fuori ufficio|resposta autom[áa]tica|fora do escrit[óo]rio"
    # Dutch, Scandinavian, Finnish
    r"|automatisch antwoord|afwezig|niet aanwezig|autosvar|fr[åa]nvaro|frav[æa]r(?:ende)?"
    r"|ikke p[åa] kontoret|automaattinen vastaus|poissa toimistolta|lomalla"
    # Polish, Czech, Slovak, Hungarian, Romanian, Croatian/Serbian/Slovenian
    r"|odpowied[źz] automatyczna|automatick[áa] odpov[ěe][ďd]|automatick[áa] odpove[ďd]"
    r"|automatikus v[áa]lasz|h[áa]zon k[íi]v[üu]l|r[ăa]spuns automat|automatski odgovor"
    r"|samodejni odgovor|izvan ureda"
    # Turkish, Greek
    r"|otomatik yan[ıi]t|ofis d[ıi][şs][ıi]nda|αυτόματη απάντηση|εκτός γραφείου"
    # Russian, Ukrainian, Bulgarian
    r"|автоматический ответ|автоответ|вне офиса|нет на месте|в отпуске|отсутств"
    r"|автоматична відповідь|поза офісом|автоматичен отговор"
    # Hebrew, Arabic
    r"|תשובה אוטומטית|מחוץ למשרד|رد تلقائي|خارج المكتب"
    # Chinese, Japanese, Korean
    r"|自動回覆|自动回复|自動応答|自動返信|不在|외출|부재|자동 회신|자동 응답"
    r")",
    re.IGNORECASE,
)

# Local parts that no person answers from.
_NO_REPLY_LOCAL = re.compile(
    r"(?:^|[._+-])(?:no[._-]?reply|do[._-]?not[._-]?reply|dont[._-]?reply|notifications?"
    r"|mailer|automated|auto[._-]?confirm)(?:$|[._+-])",
    re.IGNORECASE,
)
# Applicant tracking systems that send status notifications from their own domains;
# a recruiter writing through them uses their own address.
ATS_NOTIFICATION_DOMAINS = (
    "myworkday.com",
    "myworkdayjobs.com",
    "workday.com",
    "taleo.net",
    "icims.com",
    "successfactors.com",
    "successfactors.eu",
    "greenhouse-mail.io",
    "jobvite.com",
    "smartrecruiters.com",
    "workablemail.com",
    "bamboohr.com",
    "recruitee.com",
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


def is_machine_sender(addr: str) -> bool:
    """A no-reply style address, or an applicant tracking system's notification domain."""
    local = addr.partition("@")[0]
    if _NO_REPLY_LOCAL.search(local):
        return True
    domain = domain_of(addr)
    return any(domain == d or domain.endswith("." + d) for d in ATS_NOTIFICATION_DOMAINS)


def is_automated(h: Header) -> bool:
    """Machine mail that is not a personal answer."""
    if h.auto_submitted and not h.auto_submitted.startswith("no"):
        return True
    if is_machine_sender(h.from_addr):
        return True
    return h.precedence in ("bulk", "junk", "list")


def is_list(h: Header) -> bool:
    """A mailing list or newsletter: list headers, or bulk precedence."""
    return h.is_list or h.precedence in ("bulk", "list", "junk")
