"""Pure rules: is an invitation a job interview, and what would it become.

Words are matched on whole words, case-folded, in the summary first and then
the description, in several languages. A look-alike word (a dentist, a
webinar, a party) in the summary wins over everything else.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..maildomains import is_public_provider
from ..models import InterviewKind, Role
from .records import CuType, Invitation, Method, Party, Proposal, ProposedPerson, Verdict

# Scheduling tools and applicant-tracking systems that send interviews for companies.
ATS_DOMAINS = (
    "greenhouse.io",
    "goodtime.io",
    "calendly.com",
    "lever.co",
    "ashbyhq.com",
    "smartrecruiters.com",
    "myworkday.com",
    "workday.com",
    "icims.com",
    "jobvite.com",
    "gem.com",
    "modernloop.io",
    "paradox.ai",
    "recruitee.com",
    "personio.de",
    "teamtailor.com",
    "workable.com",
    "bamboohr.com",
)
# Calendars that are not people: Google group and resource calendars.
NON_PERSON_DOMAINS = ("group.calendar.google.com", "resource.calendar.google.com")

INTERVIEW_WORDS = (
    # en
    "interview",
    "interviews",
    "interviewing",
    "phone screen",
    "screening",
    "screen",
    "onsite",
    "on-site",
    "hiring",
    "hiring manager",
    "meet with",
    "recruiter call",
    "technical assessment",
    "final round",
    # de
    "vorstellungsgespräch",
    "bewerbungsgespräch",
    "kennenlerngespräch",
    # fr
    "entretien",
    "entrevue",
    # es, pt
    "entrevista",
    # it
    "colloquio",
    # nl
    "sollicitatiegesprek",
    "kennismakingsgesprek",
    # sv, da, no
    "intervju",
    "anställningsintervju",
    "jobsamtale",
    # pl
    "rozmowa kwalifikacyjna",
)
LOOKALIKE_WORDS = (
    # en
    "dentist",
    "dental",
    "doctor",
    "appointment with dr",
    "webinar",
    "party",
    "birthday",
    "wedding",
    "happy hour",
    "haircut",
    "vet",
    "podcast",
    "livestream",
    "conference talk",
    "meetup",
    "dinner",
    # de
    "zahnarzt",
    "arzttermin",
    "geburtstag",
    "feier",
    "party",
    # fr
    "dentiste",
    "médecin",
    "anniversaire",
    "fête",
    "soirée",
    # es
    "dentista",
    "médico",
    "cumpleaños",
    "fiesta",
    "seminario web",
    # it
    "compleanno",
    "festa",
    # nl
    "tandarts",
    "verjaardag",
    "feest",
)
PHONE_WORDS = (
    "phone",
    "phone call",
    "phone screen",
    "telefon",
    "telefoninterview",
    "telefonisch",
    "téléphonique",
    "téléphone",
    "telefónica",
    "llamada",
    "telefonico",
    "telefonisch gesprek",
)
ONSITE_WORDS = (
    "onsite",
    "on-site",
    "in person",
    "in-person",
    "office visit",
    "vor ort",
    "sur place",
    "en persona",
    "presencial",
    "di persona",
    "op locatie",
)
# "A call" is a phone call unless a meeting link says otherwise.
CALL_WORDS = ("call", "anruf", "appel", "llamada", "chiamata")
# What mail clients put before the summary of an update or a cancellation.
SUMMARY_PREFIXES = re.compile(
    r"^\s*(?:(?:updated invitation|invitation|updated|canceled event|cancelled|canceled|"
    r"abgesagt|aktualisiert|einladung|annulé|mis à jour|cancelado|cancelada|actualizado|"
    r"annullato|geannuleerd)\s*:\s*)+",
    re.IGNORECASE,
)
VIDEO_WORDS = ("video", "zoom", "teams", "google meet", "webex", "videocall", "visio")
# "Tom Reyes (Hiring Manager)", "Tom Reyes, hiring manager" in a description.
HIRING_MANAGER_WORDS = (
    "hiring manager",
    "hiring-manager",
    "einstellende führungskraft",
    "responsable du recrutement",
    "manager de recrutement",
    "gerente de contratación",
)
MAX_DESCRIPTION = 5000
# Longer titles or locations are not read by the patterns below (they backtrack).
MAX_TITLE = 300
# Where the location is a phone number, the call is the interview.
_PHONE_NUMBER = re.compile(r"^\s*(tel:)?\+?[\d\s().\-/]{7,}\s*$", re.IGNORECASE)
_ROLE_PATTERNS = (
    re.compile(
        r"\bfor (?:the |a |an )?(?P<role>[^,()\-–—|:@]+?)(?: position| role| opening)?"
        r"(?:\s+(?:at|with|@)\b|\s*[-–—|(]|$)",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?:interview|screen|entretien|entrevista|gespräch)\s*[:\-–—|]\s*"
        r"(?P<role>[^,()\-–—|:@]+?)\s*(?:[-–—|(@]|\bat\b|$)",
        re.IGNORECASE,
    ),
    re.compile(r"^(?P<role>[^,()\-–—|:@]+?)\s+(?:interview|phone screen|onsite)\b", re.IGNORECASE),
)
_COMPANY_PATTERNS = (
    re.compile(r"\b(?:at|@|bei|chez)\s+(?P<company>[A-Z0-9][\w&.' ]{0,40}?)\s*(?:[-–—|:(,]|$)"),
    re.compile(r"^(?P<company>[A-Z0-9][\w&.' ]{0,40}?)\s*[:\-–—|]\s*"),
)
_MACHINE_LOCAL = re.compile(
    r"^(no-?reply|do-?not-?reply|notifications?|calendar|scheduling|candidates?)([+._-]|$)",
    re.IGNORECASE,
)
_GENERIC_ROLE = frozenset({"interview", "phone screen", "screen", "onsite", "call", "chat"})


@dataclass(frozen=True)
class User:
    """Who the user is: their addresses decide what is their own."""

    addresses: frozenset[str]
    name: str = ""

    @classmethod
    def of(cls, addresses: Iterable[str], name: str = "") -> User:
        return cls(frozenset(a.strip().lower() for a in addresses if a.strip()), name.strip())

    def owns(self, email: str) -> bool:
        return email.lower() in self.addresses

    @property
    def work_domains(self) -> frozenset[str]:
        """The user's employer's domains: their colleagues' events are not interviews."""
        return frozenset(
            d for a in self.addresses if (d := domain_of(a)) and not is_public_provider(d)
        )


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


def _under(domain: str, parents: Iterable[str]) -> bool:
    return any(domain == p or domain.endswith("." + p) for p in parents)


def is_ats(email: str) -> bool:
    return _under(domain_of(email), ATS_DOMAINS)


def is_person(p: Party) -> bool:
    """An individual (not a room, resource, group, shared or group calendar)."""
    if p.cutype not in (CuType.INDIVIDUAL, CuType.UNKNOWN):
        return False
    if p.role == "NON-PARTICIPANT":
        return False  # Exchange lists rooms this way when CUTYPE is missing
    if _MACHINE_LOCAL.match(p.email.partition("@")[0]) or _words(p.name, ("calendar",)):
        return False  # GoodTime's shared "Candidate Calendar", no-reply senders
    return not _under(domain_of(p.email), NON_PERSON_DOMAINS)


def people(inv: Invitation, user: User) -> tuple[Party, ...]:
    """The attendees met: no user, rooms, resources or group calendars."""
    return tuple(a for a in inv.attendees if is_person(a) and not user.owns(a.email))


def company_domains(inv: Invitation, user: User) -> tuple[str, ...]:
    """Domains of the people involved that can name a company (no freemail, ATS, user)."""
    parties = [inv.organizer, *inv.attendees]
    out: list[str] = []
    for p in parties:
        if p is None or user.owns(p.email) or not is_person(p):
            continue
        d = domain_of(p.email)
        if is_public_provider(d) or _under(d, ATS_DOMAINS) or d in user.work_domains:
            continue
        if d not in out:
            out.append(d)
    return tuple(out)


@functools.cache
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so "phone screen" is reported rather than "phone".
    alternatives = sorted({w.casefold() for w in words}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, alternatives)) + r")(?!\w)")


def _words(text: str, words: tuple[str, ...]) -> str:
    """The first of `words` found as a whole word in `text` (case-folded), or ""."""
    m = _word_pattern(words).search(text.casefold())
    return m.group(0) if m else ""


def judge(inv: Invitation, user: User) -> Verdict:
    """Whether this invitation looks like a job interview (the reason says why)."""
    if inv.method is Method.REPLY:
        return Verdict(False, "a reply to an invitation")
    if inv.organizer is not None and user.owns(inv.organizer.email):
        return Verdict(False, "the user's own event")
    org_domain = domain_of(inv.organizer.email) if inv.organizer else ""
    if org_domain and org_domain in user.work_domains:
        return Verdict(False, "an event at the user's own workplace")
    lookalike = _words(inv.summary, LOOKALIKE_WORDS)
    if lookalike:
        return Verdict(False, f"the summary says {lookalike!r}")
    word = _words(inv.summary, INTERVIEW_WORDS) or _words(inv.description, INTERVIEW_WORDS)
    if not word:
        return Verdict(False, "no interview wording")
    others = [
        p for p in (inv.organizer, *inv.attendees) if p is not None and not user.owns(p.email)
    ]
    via_ats = any(is_ats(p.email) for p in others)
    if not (company_domains(inv, user) or via_ats):
        return Verdict(False, "nobody from a company or a scheduling service")
    return Verdict(True, f"says {word!r}" + (" via a scheduling service" if via_ats else ""))


def propose(inv: Invitation, user: User) -> Proposal:
    """Company, role, kind and people that `invites add` would start from."""
    domains = company_domains(inv, user)
    summary = clean_summary(inv.summary)
    role = _role(summary)
    if user.name and role.casefold() == user.name.casefold():
        role = ""  # schedulers put the candidate's name where a role could be
    return Proposal(
        company=_company(summary, domains),
        role=role,
        kind=kind_of(inv).value,
        people=_people_with_roles(inv, user),
        domains=domains,
    )


def clean_summary(summary: str) -> str:
    """The summary without "Updated invitation:", "Abgesagt:" and the like.

    Cut to a title's length: the patterns that read it must stay linear.
    """
    return SUMMARY_PREFIXES.sub("", summary[:MAX_TITLE]).strip()


def kind_of(inv: Invitation) -> InterviewKind:
    """Phone, video or onsite: explicit wording, then the link, then the location."""
    text = f"{inv.summary}\n{inv.location}"
    if _words(inv.summary, PHONE_WORDS) or _PHONE_NUMBER.match(inv.location[:MAX_TITLE] or "x"):
        return InterviewKind.PHONE
    if inv.conference_url or _words(text, VIDEO_WORDS):
        return InterviewKind.VIDEO
    if _words(inv.summary, CALL_WORDS):
        return InterviewKind.PHONE
    if _words(text, ONSITE_WORDS) or (inv.location and not inv.location.startswith("http")):
        return InterviewKind.ONSITE
    if _words(inv.description, PHONE_WORDS):
        return InterviewKind.PHONE
    return InterviewKind.VIDEO


def _company(summary: str, domains: tuple[str, ...]) -> str:
    for pattern in _COMPANY_PATTERNS:
        m = pattern.search(summary)
        if m:
            name = m.group("company").strip(" .'")
            if name and name.casefold() not in _GENERIC_ROLE and not _words(name, INTERVIEW_WORDS):
                return name
    if domains:
        label = domains[0].split(".")
        core = label[-2] if len(label) >= 2 else label[0]
        return core.replace("-", " ").title()
    return ""


def _role(summary: str) -> str:
    for pattern in _ROLE_PATTERNS:
        m = pattern.search(summary)
        if m:
            role = m.group("role").strip(" .")
            if role and role.casefold() not in _GENERIC_ROLE and len(role) <= 80:
                return role
    return ""


def _people_with_roles(inv: Invitation, user: User) -> tuple[ProposedPerson, ...]:
    met = people(inv, user)
    text = f"{inv.summary}\n{inv.description[:MAX_DESCRIPTION]}"
    out = [
        ProposedPerson(p.name or _name_from(p.email), p.email, _role_of(p, text))
        for p in met
        if not is_ats(p.email)
    ]
    org = inv.organizer
    attending = org is not None and any(p.email.lower() == org.email.lower() for p in met)
    if (
        org is not None
        and not attending
        and is_person(org)
        and not user.owns(org.email)
        and not is_ats(org.email)
    ):
        # Whoever sends an interview without sitting in it is the recruiter or coordinator.
        out.append(
            ProposedPerson(org.name or _name_from(org.email), org.email, Role.RECRUITER.value)
        )
    return tuple(out)


def _role_of(p: Party, text: str) -> str:
    """Hiring manager where the invitation says so next to their name; else interviewer."""
    if _words(p.name, HIRING_MANAGER_WORDS):
        return Role.HIRING_MANAGER.value
    if p.name and len(p.name) >= 3:
        near = re.compile(re.escape(p.name.casefold()) + r"\W{1,4}(?:\w+\W{1,3})?$")
        for m in _word_pattern(HIRING_MANAGER_WORDS).finditer(text.casefold()):
            if near.search(text.casefold()[max(0, m.start() - len(p.name) - 12) : m.start()]):
                return Role.HIRING_MANAGER.value
    return Role.INTERVIEWER.value


def _name_from(email: str) -> str:
    return email.partition("@")[0].replace(".", " ").replace("_", " ").title()
