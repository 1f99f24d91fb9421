"""The application index: which application (and contact) an address or a thread belongs to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ..maildomains import is_public_provider
from ..models import Application, AppState, normalise_address
from .headers import Header, domain_of


class MatchedBy(StrEnum):
    """What tied a message to an application, strongest first."""

    THREAD = "thread"  # it answers or references one of the application's messages
    CONTACT = "contact"  # an address of one of its contacts
    DOMAIN = "domain"  # an address at the company's own domain


@dataclass(frozen=True)
class Match:
    application_id: int
    contact_id: int | None
    how: MatchedBy


@dataclass
class _Owned:
    """What one application put into the index, so an update can take it out again."""

    addresses: list[str] = field(default_factory=list)
    domains: set[str] = field(default_factory=set)
    step_ids: set[str] = field(default_factory=set)
    mail_ids: set[str] = field(default_factory=set)


@dataclass
class AppIndex:
    """What ties a message to an application; built from the store, updated per application.

    A Message-ID claimed by two applications (rare: one mail matched to both)
    goes to the latest one that used it in a draft, else to the oldest one
    that received it: a rule of its own, so an index updated application by
    application equals one built at once.
    """

    me: frozenset[str] = frozenset()
    contacts: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    domains: dict[str, set[int]] = field(default_factory=dict)
    threads: dict[str, int] = field(default_factory=dict)
    states: dict[int, AppState] = field(default_factory=dict)
    since: dict[int, datetime] = field(default_factory=dict)  # latest interview start
    _owned: dict[int, _Owned] = field(default_factory=dict, repr=False)
    _step_claims: dict[str, set[int]] = field(default_factory=dict, repr=False)
    _mail_claims: dict[str, set[int]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        apps: Sequence[Application],
        thread_ids: Iterable[tuple[str, int]],
        me: Iterable[str],
    ) -> AppIndex:
        idx = cls(me=frozenset(normalise_address(a) for a in me))
        idx.update(apps, thread_ids)
        return idx

    def update(
        self,
        apps: Sequence[Application],
        thread_ids: Iterable[tuple[str, int]],
        removed: Iterable[int] = (),
    ) -> None:
        """Replace what `apps` (and the received Message-IDs of exactly these) contribute.

        `thread_ids` must hold every (Message-ID, application) recorded for
        the applications in `apps`, and nothing else.
        """
        mail: dict[int, set[str]] = {app.id: set() for app in apps}
        for mid, app_id in thread_ids:
            mail.setdefault(app_id, set()).add(mid)
        for app_id in {*removed, *(app.id for app in apps)}:
            self._remove(app_id)
        for app in apps:
            self._add(app, mail.pop(app.id))
        for app_id, mids in mail.items():  # received mail of an application not given
            self._drop_mail(app_id)
            self._claim_mail(app_id, mids)

    def _remove(self, app_id: int) -> None:
        owned = self._owned.pop(app_id, None)
        self.states.pop(app_id, None)
        self.since.pop(app_id, None)
        if owned is None:
            return
        for addr in owned.addresses:
            left = [e for e in self.contacts.get(addr, []) if e[0] != app_id]
            if left:
                self.contacts[addr] = left
            else:
                self.contacts.pop(addr, None)
        for dom in owned.domains:
            apps = self.domains.get(dom)
            if apps is not None:
                apps.discard(app_id)
                if not apps:
                    del self.domains[dom]
        self._unclaim(self._step_claims, owned.step_ids, app_id)
        self._unclaim(self._mail_claims, owned.mail_ids, app_id)

    def _drop_mail(self, app_id: int) -> None:
        owned = self._owned.get(app_id)
        if owned is not None:
            self._unclaim(self._mail_claims, owned.mail_ids, app_id)
            owned.mail_ids = set()

    def _unclaim(self, claims: dict[str, set[int]], mids: set[str], app_id: int) -> None:
        for mid in mids:
            holders = claims.get(mid, set())
            holders.discard(app_id)
            if not holders:
                claims.pop(mid, None)
            self._resolve(mid)

    def _add(self, app: Application, mail_ids: set[str]) -> None:
        owned = self._owned[app.id] = _Owned()
        self.states[app.id] = app.state
        iv = app.latest_interview
        if iv is not None:
            self.since[app.id] = iv.starts_at
        for c in app.contacts:
            addr = c.address
            entries = self.contacts.setdefault(addr, [])
            entries.append((app.id, c.id))
            entries.sort()
            owned.addresses.append(addr)
            dom = domain_of(addr)
            # An agency recruiter's domain speaks for many companies, not this one.
            if not c.is_agency_recruiter and not is_public_provider(dom) and addr not in self.me:
                owned.domains.add(dom)
        owned.domains.update(d.lower().lstrip("@.") for d in app.domains)
        for dom in owned.domains:
            self.domains.setdefault(dom, set()).add(app.id)
        for s in app.steps:
            if s.message_id:
                owned.step_ids.add(s.message_id)
                self._step_claims.setdefault(s.message_id, set()).add(app.id)
                self._resolve(s.message_id)
        self._claim_mail(app.id, mail_ids)

    def _claim_mail(self, app_id: int, mids: set[str]) -> None:
        owned = self._owned.setdefault(app_id, _Owned())
        for mid in mids:
            owned.mail_ids.add(mid)
            self._mail_claims.setdefault(mid, set()).add(app_id)
            self._resolve(mid)

    def _resolve(self, mid: str) -> None:
        drafts, received = self._step_claims.get(mid), self._mail_claims.get(mid)
        if drafts:
            self.threads[mid] = max(drafts)
        elif received:
            self.threads[mid] = min(received)
        else:
            self.threads.pop(mid, None)

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
        found = [
            Match(a, c, MatchedBy.CONTACT) for addr in addrs for a, c in self.contacts.get(addr, [])
        ]
        if not found and domains:
            found = [
                Match(a, None, MatchedBy.DOMAIN)
                for addr in addrs
                for a in sorted(self._domain_apps(addr))
            ]
        return self._dedupe(found)

    def match_thread(self, h: Header) -> list[Match]:
        apps = [self.threads[i] for i in h.thread_ids if i in self.threads]
        return self._dedupe([Match(a, None, MatchedBy.THREAD) for a in apps])

    def _dedupe(self, matches: list[Match]) -> list[Match]:
        seen: dict[int, Match] = {}
        for m in matches:
            seen.setdefault(m.application_id, m)
        return self._prefer_active(list(seen.values()))

    def contact_ids(self, addr: str) -> list[tuple[int, int]]:
        return self.contacts.get(normalise_address(addr), [])
