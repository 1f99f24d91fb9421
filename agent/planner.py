"""Planning: brings each application's steps and state in line with policy.

Needs only the store and the config, never a mailbox, so the CLI's use cases
(add, edit, done, preview) plan with it directly.
"""

from __future__ import annotations

import logging
from datetime import datetime

from . import policy
from .config import Config
from .models import Application, AppState
from .store import Store

log = logging.getLogger(__name__)

StateChange = tuple[int, AppState, str]


class Planner:
    """Plans applications again only when their data or the clock says so."""

    def __init__(self, cfg: Config, store: Store, cal: policy.Calendar | None = None) -> None:
        self.cfg = cfg
        self.store = store
        self.cal = cal or policy.make_calendar(cfg.schedule)
        # Derived, safe to lose: per application, the data version it was last
        # planned at and when its plan can next change on its own (see plan_all).
        self._planned: dict[int, tuple[int, datetime | None]] = {}
        self._planned_now: datetime | None = None

    def plan_all(self, now: datetime) -> list[StateChange]:
        """Bring every active application's steps and state up to date with the store.

        An application is planned again only if its data changed since this
        planner last planned it (the store bumps its data version on any write
        to it, from any process) or `now` reached the time its plan said it
        could change. Everything else would plan to exactly what is stored.
        A new planner, or a clock that went back, plans everything.
        """
        if self._planned_now is not None and now < self._planned_now:
            self._planned.clear()
        self._planned_now = now
        # Versions are read before the data: a write in between only makes
        # the recorded version older, so that application is planned again.
        versions = self.store.plan_versions()
        memo = self._planned
        for gone in memo.keys() - versions.keys():
            del memo[gone]
        ids = []
        for app_id, version in versions.items():
            seen = memo.get(app_id)
            if seen is None or seen[0] != version or (seen[1] is not None and seen[1] <= now):
                ids.append(app_id)
        changes: list[StateChange] = []
        if not ids:
            return changes
        manual = self.store.user_sent_times(ids)
        for app in self.store.load_many(ids, events=False):
            p = self.plan_one(app, now, manual[app.id], changes)
            memo[app.id] = (versions[app.id], p.recheck_at)
        return changes

    def plan_one(
        self,
        app: Application,
        now: datetime,
        manual: list[datetime] | None = None,
        changes: list[StateChange] | None = None,
    ) -> policy.Plan:
        """Plan one application; its state change, if any, is appended to `changes`."""
        if manual is None:
            manual = self.store.user_sent_times([app.id])[app.id]
        p = policy.plan(app, self.cfg.policy, self.cal, now, manual, self.cfg.reminders)
        if p.state is app.state and self.store.plan_unchanged(app.steps, p.desired):
            return p  # the common case: no write transaction, no fsync
        with self.store.transaction():
            self.store.reconcile_steps(app.id, p.desired, now)
            if p.state is not app.state:
                self.store.set_app_state(app.id, p.state, p.reason, now)
                self.store.add_event(app.id, p.state.value, p.reason, now)
                log.info(
                    "application %s (%s) is now %s: %s",
                    app.id,
                    app.company,
                    p.state.value,
                    p.reason,
                )
                if changes is not None:
                    changes.append((app.id, p.state, p.reason))
        return p
