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
        idx = cls(me=frozenset(normalise_address(a) for a in me))
        for app in apps:
            idx._add(app)
        for mid, app_id in thread_ids:
            idx.threads.setdefault(mid, app_id)
        return idx

    def _add(self, app: Application) -> None:
        self.states[app.id] = app.state
        iv = app.latest_interview
        if iv is not None:
            self.since[app.id] = iv.starts_at
        for c in app.contacts:
            addr = c.address
            self.contacts.setdefault(addr, []).append((app.id, c.id))
            dom = domain_of(addr)
            # An agency recruiter's domain speaks for many companies, not this one.
            if not c.is_agency_recruiter and not is_public_provider(dom) and addr not in self.me:
                self.domains.setdefault(dom, set()).add(app.id)
        for d in app.domains:
            self.domains.setdefault(d.lower().lstrip("@."), set()).add(app.id)
        for s in app.steps:
            if s.message_id:
                self.threads[s.message_id] = app.id

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
