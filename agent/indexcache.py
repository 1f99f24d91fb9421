"""The application index, kept between cycles and read again only where the store changed.

A wake-up for one new message must not reload every application: the store
moves an application's data version on any write to it (schema v5), so the
cache compares versions and reloads just the applications that moved.
"""

from __future__ import annotations

from collections.abc import Sequence

from .classify import AppIndex
from .store import Store


class IndexCache:
    """One AppIndex per engine; `current()` brings it up to date with the store."""

    def __init__(self, store: Store, me: Sequence[str]) -> None:
        self.store = store
        self.me = tuple(me)
        self._index: AppIndex | None = None
        self._versions: dict[int, int] = {}

    def current(self) -> AppIndex:
        # Versions are read before the data: a write in between only makes a
        # recorded version older, so that application is read again next time.
        versions = self.store.app_versions()
        if self._index is None:
            apps = self.store.load_many(list(versions), events=False)
            self._index = AppIndex.build(apps, self.store.thread_ids(), self.me)
        else:
            changed = [i for i, v in versions.items() if self._versions.get(i) != v]
            removed = self._versions.keys() - versions.keys()
            if changed or removed:
                apps = self.store.load_many(changed, events=False) if changed else []
                threads = self.store.thread_ids(changed) if changed else []
                self._index.update(apps, threads, removed)
        self._versions = versions
        return self._index
