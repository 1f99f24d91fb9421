"""Pure classification of fetched mail: what a message is, and which application it concerns.

Nothing here reads the clock, the database or the network. Every input may be
broken (bad encodings, missing headers, truncated MIME): the functions return
a best-effort answer and never raise for malformed mail.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import email.utils
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import Message

from .models import Application, AppState, FolderRole, MessageKind, Role

log = logging.getLogger(__name__)


# Mail providers whose domain says nothing about the sender's employer.
PUBLIC_PROVIDERS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "gmx.at",
        "gmx.ch",
        "web.de",
        "t-online.de",
        "freenet.de",
        "posteo.de",
        "mailbox.org",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "tutanota.com",
        "fastmail.com",
        "hey.com",
        "zoho.com",
        "mail.com",
        "yandex.ru",
        "yandex.com",
        "mail.ru",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "sfr.fr",
        "libero.it",
        "qq.com",
        "163.com",
        "126.com",
        "naver.com",
        "comcast.net",
        "verizon.net",
        "att.net",
    }
)
# Country variants: yahoo.co.uk, hotmail.fr, outlook.de, live.co.uk ...
_PUBLIC_PREFIXES = ("yahoo.", "hotmail.", "outlook.", "live.", "gmx.", "aol.")

# --- headers -------------------------------------------------------------------

_MSGID = re.compile(r"<[^<>\s]+>")
_PLUS = re.compile(r"\+[^@]*@")


def normalise_address(addr: str) -> str:
    """Lower-case, without angle brackets or a +tag: 'Jane+jobs@Acme.com' → 'jane@acme.com'."""
    addr = addr.strip().strip("<>").strip().lower()
    return _PLUS.sub("@", addr, count=1)


def domain_of(addr: str) -> str:
    return addr.rpartition("@")[2].lower()


def is_public_provider(domain: str) -> bool:
    domain = domain.lower()
    return domain in PUBLIC_PROVIDERS or domain.startswith(_PUBLIC_PREFIXES)


def _to_text(value: object) -> str:
    """A header value as clean text: RFC 2047 decoded, odd charsets tolerated."""
    if isinstance(value, email.header.Header):
        # compat32 hands raw 8-bit headers over as unknown-8bit chunks.
        try:
            chunks = email.header.decode_header(value)
        except (email.errors.HeaderParseError, ValueError):
            chunks = [(str(value), None)]
        return _squash(_join_decoded(chunks))
    raw = str(value) if value is not None else ""
    # compat32 keeps raw 8-bit bytes as surrogates: recover them, then guess.
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        data = raw.encode("utf-8", "surrogateescape")
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError:
            raw = data.decode("cp1252", "replace")
    parts: list[tuple[bytes | str, str | None]] = []
    try:
        parts = email.header.decode_header(raw)
        text = str(email.header.make_header(parts))
    except (email.errors.HeaderParseError, LookupError, UnicodeError, ValueError):
        # Unknown charset or bytes that are not what they claim: decode piecewise.
        text = _join_decoded(parts) if parts else raw
    return _squash(text)


def _join_decoded(parts: Sequence[tuple[bytes | str, str | None]]) -> str:
    out = []
    for i, (chunk, charset) in enumerate(parts):
        piece = chunk if isinstance(chunk, str) else _decode_bytes(chunk, charset)
        if i and charset is None and not piece.startswith(" "):
            piece = " " + piece
        if i and charset is not None and parts[i - 1][1] is None:
            piece = " " + piece
        out.append(piece)
    return "".join(out)


def _decode_bytes(chunk: bytes, charset: str | None) -> str:
    for cs in (charset, "utf-8", "cp1252"):
        if not cs or cs == "unknown-8bit":
            continue
        try:
            return chunk.decode(cs)
        except (LookupError, UnicodeDecodeError):
            continue
    return chunk.decode("latin-1")


def _squash(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Header:
    """The fields of one message's header that classification uses."""

    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    from_addr: str = ""  # normalised
    from_text: str = ""  # 'Name <addr>' for display
    reply_to: tuple[str, ...] = ()  # normalised Reply-To and Sender
    recipients: tuple[str, ...] = ()  # normalised To + Cc
    subject: str = ""
    date: datetime | None = None
    followup_id: str | None = None
    auto_submitted: str = ""
    auto_flag: bool = False  # X-Autoreply / X-Autorespond present
    precedence: str = ""
    is_list: bool = False  # List-Id or List-Unsubscribe present
    content_type: str = ""
    return_path: str | None = None  # None when absent; "" for the null sender <>

    @property
    def thread_ids(self) -> tuple[str, ...]:
        return self.in_reply_to + self.references


def _addresses(values: Iterable[object]) -> list[tuple[str, str]]:
    texts = [_to_text(v) for v in values]
    try:
        pairs = email.utils.getaddresses(texts)
    except (ValueError, IndexError, TypeError):
        pairs = []
    out = [(name, normalise_address(addr)) for name, addr in pairs if "@" in addr]
    if not out:
        # Mangled lists ("jane@acme.com; bob@x.com" or unbalanced quotes).
        for text in texts:
            out += [("", normalise_address(a)) for a in re.findall(r"[\w.+'-]+@[\w.-]+\w", text)]
    return out


def parse_header(raw: bytes) -> Header:
    """Parse a header block (or a whole message); never raises on malformed input."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)

    def one(name: str) -> str:
        values = msg.get_all(name) or []
        return _to_text(values[0]) if values else ""

    def ids(name: str) -> tuple[str, ...]:
        return tuple(_MSGID.findall(" ".join(_to_text(v) for v in msg.get_all(name) or [])))

    mid = ids("Message-ID")
    frm = _addresses(msg.get_all("From") or [])
    from_addr = frm[0][1] if frm else ""
    from_text = one("From")
    when: datetime | None = None
    raw_date = one("Date")
    if raw_date:
        try:
            when = email.utils.parsedate_to_datetime(raw_date)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    rp = msg.get_all("Return-Path")
    fid = one("X-Followup-Id").strip()
    return Header(
        message_id=mid[0] if mid else None,
        in_reply_to=ids("In-Reply-To"),
        references=ids("References"),
        from_addr=from_addr,
        from_text=from_text,
        reply_to=tuple(a for _, a in _addresses([*(msg.get_all("Reply-To") or [])])),
        recipients=tuple(dict.fromkeys(a for _, a in _addresses([*(msg.get_all("To") or [])])))
        + tuple(a for _, a in _addresses([*(msg.get_all("Cc") or [])])),
        subject=one("Subject"),
        date=when,
        followup_id=fid or None,
        auto_submitted=one("Auto-Submitted").lower(),
        auto_flag=bool(msg.get_all("X-Autoreply") or msg.get_all("X-Autorespond")),
        precedence=one("Precedence").lower(),
        is_list=bool(msg.get_all("List-Id") or msg.get_all("List-Unsubscribe")),
        content_type=one("Content-Type").lower(),
        return_path=None if not rp else _to_text(rp[0]).strip(),
    )


_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|tr|rv|r|antw|odp|ynt|ref)\s*(\[\d+\])?\s*:|\[ext(ernal)?\])\s*",
    re.IGNORECASE,
)


def normalise_subject(subject: str) -> str:
    """'RE: Fwd: [EXT] Thank you!' → 'thank you!' (for matching sent drafts)."""
    s = subject
    while True:
        stripped = _SUBJECT_PREFIX.sub("", s, count=1)
        if stripped == s:
            break
        s = stripped
    return " ".join(s.split()).casefold()


# --- automatic mail ------------------------------------------------------------

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
_DAEMON_LOCALPARTS = frozenset(
    {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mail-delivery-subsystem"}
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered mail|delivery status notification \((?:failure|fehler)|"
    r"delivery (?:has )?failed|mail delivery failed|delivery failure|returned mail|"
    r"failure notice|could not be delivered|unzustellbar|nicht zustellbar|non remis|"
    r"non distribuable|no se puede entregar|non recapitabile|onbestelbaar",
    re.IGNORECASE,
)


def is_out_of_office_subject(subject: str) -> bool:
    return bool(_OOO_SUBJECT.search(subject))


def looks_like_bounce(h: Header) -> bool:
    ct = h.content_type
    if ct.startswith("multipart/report") and "delivery-status" in ct:
        return True
    local = h.from_addr.partition("@")[0]
    daemon = local in _DAEMON_LOCALPARTS or "mailer-daemon" in h.from_text.lower()
    if daemon:
        return True
    # Null sender (<>) plus a failure subject: the non-standard forms.
    return (
        h.return_path is not None
        and h.return_path.strip("<> ") == ""
        and bool(_BOUNCE_SUBJECT.search(h.subject))
    )


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


# --- bodies ---------------------------------------------------------------------

_FINAL_RECIPIENT = re.compile(
    r"^(?:final|original)-recipient:\s*rfc822\s*;\s*<?([^\s<>;]+@[^\s<>;]+)>?",
    re.IGNORECASE | re.MULTILINE,
)
_ACTION = re.compile(r"^action:\s*(\w+)", re.IGNORECASE | re.MULTILINE)
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# Where a non-standard bounce starts quoting the original message.
_QUOTE_START = re.compile(
    r"^(?:-+ ?(?:this is a copy|below this line|original message|the original message)"
    r"|\s*original message follows|return-path:|received:|message-id:|from:)",
    re.IGNORECASE | re.MULTILINE,
)


def _message(body: bytes) -> Message | None:
    try:
        return email.message_from_bytes(body, policy=email.policy.compat32)
    except (ValueError, TypeError, IndexError, LookupError) as exc:
        log.warning("cannot parse a message body: %s", exc)
        return None


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, AssertionError):
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    try:
        charset = part.get_content_charset() or "utf-8"
    except (ValueError, LookupError):
        charset = "utf-8"
    return _decode_bytes(payload, charset)


def _own_parts(msg: Message) -> Iterable[Message]:
    """Leaf parts of this message, not descending into an attached original message."""
    ct = msg.get_content_type()
    if ct == "message/delivery-status" or not msg.is_multipart():
        yield msg
        return
    payload = msg.get_payload()
    for sub in payload if isinstance(payload, list) else []:
        if isinstance(sub, Message) and sub.get_content_type() not in (
            "message/rfc822",
            "text/rfc822-headers",
        ):
            yield from _own_parts(sub)


_TAG = re.compile(r"<[^>]+>")


def body_text(body: bytes, *, with_status: bool = False) -> str:
    """Readable text of a (possibly truncated) message: text parts, HTML tags stripped."""
    msg = _message(body)
    if msg is None:
        return body.decode("utf-8", "replace")
    texts: list[str] = []
    for part in _own_parts(msg):
        ct = part.get_content_type()
        if ct == "message/delivery-status":
            if with_status:
                # The email package parses each status block as a header-only message.
                payload = part.get_payload()
                blocks = payload if isinstance(payload, list) else [payload]
                texts += [str(b) for b in blocks]
        elif ct == "text/html":
            texts.append(_TAG.sub(" ", _part_text(part)))
        elif ct.startswith("text/"):
            texts.append(_part_text(part))
    return "\n".join(texts)


def failed_addresses(body: bytes, known: Iterable[str] = ()) -> list[str]:
    """Which addresses a bounce reports as failed (normalised).

    The standard report's Final-Recipient fields with Action: failed come
    first; otherwise known addresses named in the bounce's own text (not in
    the quoted original, whose headers also name copied recipients).
    """
    text = body_text(body, with_status=True)
    found: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        rcpt = _FINAL_RECIPIENT.search(block)
        if rcpt is None:
            continue
        action = _ACTION.search(block)
        if action is not None and action.group(1).lower() != "failed":
            continue
        found.append(normalise_address(rcpt.group(1)))
    if found:
        return list(dict.fromkeys(found))
    if not text.strip():
        text = body.decode("utf-8", "replace")
    # Skip the notice's own header block, then stop where the original is quoted.
    _, sep, rest = text.partition("\n\n")
    own = rest if sep and _message_has_header(text) else text
    cut = _QUOTE_START.search(own)
    own = own[: cut.start()] if cut else own
    wanted = {normalise_address(k) for k in known}
    named = [normalise_address(a) for a in _ADDRESS.findall(own)]
    return list(dict.fromkeys(a for a in named if a in wanted))


def _message_has_header(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    return bool(re.match(r"^[\w-]+:\s", first)) and not first.lower().startswith("final-recip")


def delay_only(body: bytes) -> bool:
    """A delivery-status report that only says 'delayed', not 'failed'."""
    actions = {a.lower() for a in _ACTION.findall(body_text(body, with_status=True))}
    return bool(actions) and "failed" not in actions


# --- return dates ----------------------------------------------------------------

_MONTHS: dict[str, int] = {}
for _num, _names in enumerate(
    (
        "january jan januar janvier enero gennaio janeiro januari janv ene gen jän",
        "february feb februar février fevrier febrero febbraio fevereiro februari févr fevr",
        "march mar märz maerz mars marzo março maart mär mrt",
        "april apr avril abril aprile abr",
        "may mai mayo maggio maio mei",
        "june jun juni juin junio giugno junho",
        "july jul juli juillet julio luglio julho juil",
        "august aug août aout agosto augustus ago",
        "september sep sept septembre septiembre settembre setembro set",
        "october oct oktober octobre octubre ottobre outubro okt ott out",
        "november nov novembre noviembre novembro",
        "december dec dezember décembre decembre diciembre dicembre dezembro dez déc dic",
    ),
    start=1,
):
    for _n in _names.split():
        _MONTHS.setdefault(_n, _num)
_WEEKDAYS: dict[str, int] = {}
for _num, _names in enumerate(
    (
        "monday mon montag lundi lunes lunedì maandag",
        "tuesday tue tues dienstag mardi martes martedì dinsdag",
        "wednesday wed mittwoch mercredi miércoles miercoles mercoledì woensdag",
        "thursday thu thur thurs donnerstag jeudi jueves giovedì donderdag",
        "friday fri freitag vendredi viernes venerdì vrijdag",
        "saturday sat samstag samedi sábado sabado sabato zaterdag",
        "sunday sun sonntag dimanche domingo domenica zondag",
    )
):
    for _n in _names.split():
        _WEEKDAYS.setdefault(_n, _num)

# Words after which an out-of-office names the day the person is back; the
# explicit ones win over "until ..." (often the last day away).
_RETURN_CUES = (
    re.compile(
        r"\b(?:back|return(?:ing|s)?|returned|reachable again"
        r"|in the office (?:on|from)|available (?:on|from|again)"
        r"|zurück|wieder (?:im büro|erreichbar|da)|ab dem|ab"
        r"|de retour|retour|à partir du|de vuelta|regreso|regresaré"
        r"|terug|rientro)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:until|till|til|through|thru|bis(?: zum| einschließlich)?"
        r"|jusqu'au|jusqu’au|hasta el|hasta|tot en met|tot|fino al)\b",
        re.IGNORECASE,
    ),
)
_MONTH_WORD = r"([a-zäéèûôçñìíóúå]{3,10})\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th|er|e|º|\.)?"
_YEAR = r"(?:,?\s*(\d{4}))?"
_DATE_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "ymd"),
    (re.compile(rf"\b{_MONTH_WORD}\s+{_DAY}{_YEAR}", re.IGNORECASE), "md_word"),
    (re.compile(rf"\b{_DAY}\s*(?:of\s+|de\s+)?{_MONTH_WORD}{_YEAR}", re.IGNORECASE), "dm_word"),
    (re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(?:(\d{2,4})\b)?"), "dmy_dots"),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b"), "mdy_slash"),
)
_WEEKDAY_ONLY = re.compile(
    r"^\W*(?:on\s+|am\s+|le\s+|el\s+|op\s+)?([a-zäéèûôçñìíóú]{3,10})\b", re.IGNORECASE
)
_WINDOW = 60  # characters after a cue in which the date must appear


def _resolve(month: int, day: int, year: int | None, ref: date) -> date | None:
    try:
        if year is not None:
            year = year + 2000 if year < 100 else year
            return date(year, month, day)
        candidate = date(ref.year, month, day)
    except ValueError:
        return None
    # No year: the next such date, allowing for a message read a little late.
    if candidate < ref - timedelta(days=14):
        try:
            candidate = date(ref.year + 1, month, day)
        except ValueError:
            return None
    return candidate


def _date_in(window: str, ref: date) -> date | None:
    best: tuple[int, date] | None = None
    for pattern, form in _DATE_FORMS:
        for m in pattern.finditer(window):
            found: date | None = None
            if form == "ymd":
                try:
                    found = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                except ValueError:
                    found = None
            elif form in ("md_word", "dm_word"):
                word, day = (
                    (m.group(1), m.group(2)) if form == "md_word" else (m.group(2), m.group(1))
                )
                month = _MONTHS.get(word.lower().rstrip("."))
                if month is not None:
                    year = int(m.group(3)) if m.group(3) else None
                    found = _resolve(month, int(day), year, ref)
            elif form == "dmy_dots":
                year = int(m.group(3)) if m.group(3) else None
                found = _resolve(int(m.group(2)), int(m.group(1)), year, ref)
            else:  # US month/day
                year = int(m.group(3)) if m.group(3) else None
                found = _resolve(int(m.group(1)), int(m.group(2)), year, ref)
            if found is not None and (best is None or m.start() < best[0]):
                best = (m.start(), found)
            if found is not None:
                break
    return best[1] if best else None


def parse_return_date(text: str, ref: date) -> date | None:
    """The day an out-of-office says the person is back, if it names one.

    `ref` is the day the auto-reply was written; dates without a year are
    taken as the next such day, a bare weekday as the next such weekday.
    """
    text = " ".join(text.split())
    for cues in _RETURN_CUES:
        found = _after_cue(cues, text, ref)
        if found is not None:
            return found
    return None


def _after_cue(cues: re.Pattern[str], text: str, ref: date) -> date | None:
    for cue in cues.finditer(text):
        window = text[cue.end() : cue.end() + _WINDOW]
        found = _date_in(window, ref)
        if found is not None and found >= ref - timedelta(days=1):
            return found
        wd = _WEEKDAY_ONLY.match(window)
        if wd is not None and wd.group(1).lower() in _WEEKDAYS:
            ahead = (_WEEKDAYS[wd.group(1).lower()] - ref.weekday()) % 7 or 7
            return ref + timedelta(days=ahead)
    return None


# --- applications --------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    application_id: int
    contact_id: int | None
    how: str  # "thread" | "contact" | "domain"


@dataclass
class AppIndex:
    """What ties a message to an application; built from the store, then read-only."""

    me: frozenset[str] = frozenset()
    contacts: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    domains: dict[str, set[int]] = field(default_factory=dict)
    threads: dict[str, int] = field(default_factory=dict)
    states: dict[int, AppState] = field(default_factory=dict)
    since: dict[int, datetime] = field(default_factory=dict)  # latest interview start

    @classmethod
    def build(
        cls,
        apps: Sequence[Application],
        thread_ids: Iterable[tuple[str, int]],
        me: Iterable[str],
    ) -> AppIndex:
        mine = frozenset(normalise_address(a) for a in me)
        idx = cls(me=mine)
        for app in apps:
            idx.states[app.id] = app.state
            iv = app.latest_interview
            if iv is not None:
                idx.since[app.id] = iv.starts_at
            for c in app.contacts:
                addr = normalise_address(c.email)
                idx.contacts.setdefault(addr, []).append((app.id, c.id))
                dom = domain_of(addr)
                # An agency recruiter's domain speaks for many companies, not this one.
                agency = c.agency and c.role is Role.RECRUITER
                if not agency and not is_public_provider(dom) and addr not in mine:
                    idx.domains.setdefault(dom, set()).add(app.id)
            for d in app.domains:
                idx.domains.setdefault(d.lower().lstrip("@."), set()).add(app.id)
            for s in app.steps:
                if s.message_id:
                    idx.threads[s.message_id] = app.id
        for mid, app_id in thread_ids:
            idx.threads.setdefault(mid, app_id)
        return idx

    def _domain_apps(self, addr: str) -> set[int]:
        dom = domain_of(addr)
        if not dom or is_public_provider(dom):
            return set()
        out: set[int] = set()
        for d, apps in self.domains.items():
            if dom == d or dom.endswith("." + d):
                out |= apps
        return out

    def _prefer_active(self, matches: list[Match]) -> list[Match]:
        active = [m for m in matches if self.states.get(m.application_id) is AppState.ACTIVE]
        return active or matches

    def match_people(self, addrs: Iterable[str], *, domains: bool = True) -> list[Match]:
        """Applications these addresses belong to: contacts first, then company domains."""
        addrs = [a for a in dict.fromkeys(addrs) if a and a not in self.me]
        found = [Match(a, c, "contact") for addr in addrs for a, c in self.contacts.get(addr, [])]
        if not found and domains:
            found = [
                Match(a, None, "domain") for addr in addrs for a in sorted(self._domain_apps(addr))
            ]
        return self._dedupe(found)

    def match_thread(self, h: Header) -> list[Match]:
        apps = [self.threads[i] for i in h.thread_ids if i in self.threads]
        return self._dedupe([Match(a, None, "thread") for a in apps])

    def _dedupe(self, matches: list[Match]) -> list[Match]:
        seen: dict[int, Match] = {}
        for m in matches:
            seen.setdefault(m.application_id, m)
        return self._prefer_active(list(seen.values()))

    def contact_ids(self, addr: str) -> list[tuple[int, int]]:
        return self.contacts.get(normalise_address(addr), [])


# --- verdicts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    kind: MessageKind
    matches: tuple[Match, ...] = ()
    reason: str = ""
    needs_body: bool = False  # classify again with the body to finish
    return_date: date | None = None
    failed: tuple[str, ...] = ()  # bounced addresses (normalised)
    followup_id: str | None = None

    @property
    def application_id(self) -> int | None:
        return self.matches[0].application_id if self.matches else None

    @property
    def contact_id(self) -> int | None:
        return self.matches[0].contact_id if self.matches else None


def _ref_day(h: Header, received: datetime | None) -> date:
    when = h.date or received
    return when.date() if when is not None else date(1970, 1, 1)


def classify(
    h: Header,
    role: FolderRole,
    idx: AppIndex,
    *,
    received: datetime | None = None,
    body: bytes | None = None,
) -> Verdict:
    """What `h` is and which application(s) it concerns.

    Returns needs_body=True when the answer depends on the body (a bounce's
    failed address, an out-of-office's return date) and `body` was not given.
    """
    if role is FolderRole.DRAFTS:
        return _classify_draft(h, idx)
    if role is FolderRole.SENT:
        return _classify_sent(h, idx)

    if h.from_addr in idx.me and not looks_like_bounce(h):
        return Verdict(MessageKind.UNRELATED, reason="from the user")
    if looks_like_bounce(h):
        return _classify_bounce(h, idx, body)

    by_thread = idx.match_thread(h)
    people = idx.match_people([h.from_addr, *h.reply_to])
    matches = tuple(by_thread or people)
    if not matches:
        return Verdict(MessageKind.UNRELATED)
    how = matches[0].how
    if h.is_list or h.precedence in ("bulk", "list", "junk"):
        return Verdict(MessageKind.LIST, matches, "mailing list or newsletter")
    if is_auto_reply(h):
        if body is None:
            return Verdict(MessageKind.AUTO_REPLY, matches, "auto-reply", needs_body=True)
        text = h.subject + "\n" + body_text(body)
        back = parse_return_date(text, _ref_day(h, received))
        why = f"auto-reply, back on {back.isoformat()}" if back else "auto-reply"
        return Verdict(MessageKind.AUTO_REPLY, matches, why, return_date=back)
    if is_automated(h):
        return Verdict(
            MessageKind.AUTOMATED, matches, f"automated ({h.auto_submitted or h.precedence})"
        )
    when = h.date or received
    if when is not None:
        recent = [m for m in matches if when >= idx.since.get(m.application_id, when)]
        if not recent:
            return Verdict(MessageKind.PRIOR, matches, "dated before the latest interview")
        matches = tuple(recent)
    return Verdict(MessageKind.REPLY, matches, f"human reply ({how})")


def _classify_bounce(h: Header, idx: AppIndex, body: bytes | None) -> Verdict:
    if body is None:
        return Verdict(MessageKind.BOUNCE, reason="delivery failure", needs_body=True)
    if delay_only(body):
        return Verdict(MessageKind.AUTOMATED, reason="delivery delayed, not failed")
    failed = tuple(failed_addresses(body, idx.contacts))
    matches: list[Match] = []
    for addr in failed:
        matches += [Match(a, c, "contact") for a, c in idx.contact_ids(addr)]
    if not matches:
        thread = idx.match_thread(h)
        if not thread:
            return Verdict(
                MessageKind.UNRELATED, reason="bounce for no known contact", failed=failed
            )
        matches = list(thread)
    return Verdict(
        MessageKind.BOUNCE,
        tuple(matches),
        "undeliverable: " + (", ".join(failed) or "unknown address"),
        failed=failed,
    )


def _classify_sent(h: Header, idx: AppIndex) -> Verdict:
    if h.followup_id:
        return Verdict(MessageKind.OUR_SENT, reason="X-Followup-Id", followup_id=h.followup_id)
    matches = idx.match_thread(h) or idx.match_people(h.recipients)
    if h.message_id and h.message_id in idx.threads and not matches:
        matches = [Match(idx.threads[h.message_id], None, "thread")]
    if not matches:
        return Verdict(MessageKind.UNRELATED)
    # Whether it is one of our drafts (matched by Message-ID or recipient and
    # subject) is decided against the steps by the caller.
    return Verdict(MessageKind.USER_SENT, tuple(matches), "sent by the user")


def _classify_draft(h: Header, idx: AppIndex) -> Verdict:
    if h.followup_id:
        return Verdict(MessageKind.OUR_DRAFT, reason="X-Followup-Id", followup_id=h.followup_id)
    matches = idx.match_people(h.recipients, domains=False)
    if not matches:
        return Verdict(MessageKind.UNRELATED)
    # Possibly the user's edit of one of our drafts, with our header dropped.
    return Verdict(MessageKind.OUR_DRAFT, tuple(matches), "draft to a contact")


# --- our drafts after the user sent or edited them ------------------------------------


@dataclass(frozen=True)
class DraftRef:
    """What we know of one of our drafts, to recognise it in Sent or Drafts."""

    step_key: str
    message_id: str | None
    to: str  # normalised recipient
    subject: str | None
    in_reply_to: str | None = None  # None: not known


def match_draft(h: Header, drafts: Sequence[DraftRef]) -> DraftRef | None:
    """The draft `h` is (a sent or edited copy of), if any.

    By X-Followup-Id, then Message-ID, and failing those (Outlook/Exchange
    rewrite Message-ID on send, some clients drop unknown headers) by
    recipient + normalised subject + In-Reply-To.
    """
    if h.followup_id:
        hit = next((d for d in drafts if d.step_key == h.followup_id), None)
        if hit is not None:
            return hit
    if h.message_id:
        hit = next((d for d in drafts if d.message_id == h.message_id), None)
        if hit is not None:
            return hit
    reply_to = h.in_reply_to[0] if h.in_reply_to else None
    # A message answering one of our drafts is not that draft (a check-in
    # threaded on a thank-you has the same subject after "Re:").
    candidates = [
        d
        for d in drafts
        if d.to in h.recipients
        and d.subject is not None
        and d.message_id not in h.thread_ids
        # Unknown when the draft left Drafts before a sync saw it.
        and (d.in_reply_to is None or d.in_reply_to == reply_to)
    ]
    exact = " ".join(h.subject.split()).casefold()
    hit = next(
        (d for d in candidates if " ".join((d.subject or "").split()).casefold() == exact), None
    )
    if hit is not None:
        return hit
    loose = normalise_subject(h.subject)
    return next((d for d in candidates if normalise_subject(d.subject or "") == loose), None)
