"""Draft lint: length, tone, leftovers and the spelling of what the user typed.

Pure: a rendered body (and the user's own notes) in, findings out. The engine
decides what a finding does (`policy.lint`: "warn" writes the draft and records
them, "block" holds the draft back).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class NoteKind(StrEnum):
    """What a draft is, for its limits; the value is the word findings use."""

    THANK_YOU = "thank_you"
    AGENCY = "agency"  # the note to the agency recruiter
    CHECKIN = "checkin"


class Check(StrEnum):
    """What a finding is about; the value prefixes the finding's text."""

    LENGTH = "length"
    PARAGRAPHS = "paragraphs"
    TONE = "tone"
    PLACEHOLDER = "placeholder"
    SPELLING = "spelling"


# Words in the body proper (greeting and signature excluded), by template kind.
# Career advisers: a thank-you fits on a phone screen, a check-in is shorter.
WORD_LIMITS = {NoteKind.THANK_YOU: 200, NoteKind.AGENCY: 150, NoteKind.CHECKIN: 120}
MAX_PARAGRAPHS = 3
PARAGRAPH_WORDS = 90

# Needy, impatient or negative phrasing (normalised: lower case, straight quotes).
BANNED = (
    "just checking in",
    "just following up",
    "just wanted to",
    "still haven't heard",
    "haven't heard back",
    "have not heard back",
    "still waiting",
    "still no word",
    "disappointed",
    "frustrated",
    "frustrating",
    "as per my last email",
    "per my last email",
    "sorry to bother",
    "sorry to pester",
    "bothering you",
    "desperate",
    "i need this job",
    "please respond",
    "asap",
    "urgent",
    "gentle reminder",
    "friendly reminder",
    "kindly revert",
    "why haven't",
)

# Leftovers of a template or of missing data.
PLACEHOLDERS = (
    (re.compile(r"\{\{|\}\}|\{%|%\}"), "a template tag"),
    (re.compile(r"\[[A-Z][A-Z _]*\]|<[A-Z][A-Z _]*>"), "a [PLACEHOLDER]"),
    (re.compile(r"\b(?:None|undefined|TODO|TBD|XXX)\b"), "a placeholder word"),
    (re.compile(r"\s[,.;:!?]|\(\s*\)|\b(\w+) \1\b", re.IGNORECASE), "an empty slot"),
    (re.compile(r"\S {2,}\S"), "a double space"),
)

WORD = re.compile(r"[A-Za-z][A-Za-z']*")
SIGN_OFF = re.compile(r"^(best|kind|warm)?\s*(regards|wishes|thanks)\b|^sincerely\b", re.I)


@dataclass(frozen=True)
class Finding:
    code: Check
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def paragraphs(body: str) -> list[str]:
    """The body proper: paragraphs without the greeting and the signature."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
    if paras and "\n" not in paras[0] and paras[0].endswith(",") and len(paras[0]) < 60:
        paras = paras[1:]  # "Dear Jane,"
    if paras and SIGN_OFF.match(paras[-1]):
        paras = paras[:-1]  # "Best regards,\nAlex"
    return paras


def sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", paragraph) if s.strip()]


def opening_and_closing(body: str) -> tuple[str, str]:
    """The first and the last sentence of the body proper."""
    paras = paragraphs(body)
    if not paras:
        return "", ""
    return sentences(paras[0])[0], sentences(paras[-1])[-1]


def _normal(text: str) -> str:
    return text.lower().replace("’", "'").replace("‘", "'")


def check_body(body: str, kind: NoteKind) -> list[Finding]:
    """Length, paragraphs, tone and leftovers of a rendered draft."""
    out: list[Finding] = []
    paras = paragraphs(body)
    if not 1 <= len(paras) <= MAX_PARAGRAPHS:
        out.append(Finding(Check.PARAGRAPHS, f"{len(paras)} paragraphs; keep it to 1–3"))
    words = sum(len(p.split()) for p in paras)
    limit = WORD_LIMITS[kind]
    if words > limit:
        out.append(Finding(Check.LENGTH, f"{words} words; a {kind} note stays under {limit}"))
    for n, p in enumerate(paras, 1):
        if len(p.split()) > PARAGRAPH_WORDS:
            out.append(Finding(Check.LENGTH, f"paragraph {n} has {len(p.split())} words"))
    low = _normal(body)
    out += [Finding(Check.TONE, f"avoid {phrase!r}") for phrase in BANNED if phrase in low]
    for pattern, what in PLACEHOLDERS:
        m = pattern.search(body)
        if m:
            out.append(Finding(Check.PLACEHOLDER, f"{what}: {m.group(0).strip()!r}"))
    return out


# Everyday words of job searches and tech work that the general dictionary
# lacks; without them most notes would carry a false finding.
TRADE_WORDS = frozenset(
    [
        "analytics",
        "api",
        "apis",
        "backend",
        "codebase",
        "cybersecurity",
        "dataset",
        "datasets",
        "deliverables",
        "devops",
        "ecommerce",
        "fintech",
        "frontend",
        "fullstack",
        "github",
        "hackathon",
        "metadata",
        "microservice",
        "microservices",
        "offsite",
        "onboarding",
        "onsite",
        "refactor",
        "refactoring",
        "repo",
        "repos",
        "roadmap",
        "roadmaps",
        "runtime",
        "saas",
        "ui",
        "upskilling",
        "ux",
        "workflow",
        "workflows",
    ]
)


class _Speller(Protocol):
    """The part of pyspellchecker's SpellChecker used here (the library ships no types)."""

    def unknown(self, words: Iterable[str]) -> set[str]: ...

    def correction(self, word: str) -> str | None: ...


@functools.lru_cache(maxsize=1)
def _speller() -> _Speller:
    # Built on first use, once: constructing it loads the bundled word lists.
    from spellchecker import SpellChecker

    speller: _Speller = SpellChecker()
    return speller


def check_spelling(texts: Iterable[str], known: Iterable[str] = ()) -> list[Finding]:
    """Misspelled words in the user's own text; names and `known` words pass.

    Capitalised words are taken as names (Flink, Kubernetes) and not checked.
    """
    accepted = {w.lower() for k in known for w in WORD.findall(k)} | TRADE_WORDS
    candidates = _to_check(texts, accepted)
    if not candidates:
        return []
    sp = _speller()
    unknown = sp.unknown(candidates)
    out = []
    for word in dict.fromkeys(w for w in candidates if w in unknown):
        fix = sp.correction(word)
        hint = f" (did you mean {fix!r}?)" if fix and fix != word else ""
        out.append(Finding(Check.SPELLING, f"{word!r}{hint}"))
    return out


def _to_check(texts: Iterable[str], accepted: set[str]) -> list[str]:
    """The words worth a dictionary look-up, lower-cased: no names, short or accepted words."""
    words = (p.strip("'") for text in texts for p in WORD.findall(text.replace("-", " ")))
    return [
        w.lower() for w in words if len(w) >= 3 and not w[0].isupper() and w.lower() not in accepted
    ]


def check_draft(
    body: str, kind: NoteKind, user_texts: Sequence[str], known: Iterable[str]
) -> list[Finding]:
    """Everything: the rendered body and the user's text that went into it."""
    return check_body(body, kind) + check_spelling(user_texts, known)


def summary(findings: Sequence[Finding]) -> str:
    return "; ".join(str(f) for f in findings)
