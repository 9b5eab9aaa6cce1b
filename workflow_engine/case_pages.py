"""Cases page by page for the REST API: keyset pagination that new cases cannot shift."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from . import store
from .errors import InvalidState
from .models import Case
from .sla import STATES

CASE_STATUSES = ("running", "completed", "cancelled")
PAGE_MAX = 200
# With an SLA-state filter most rows may be skipped; one request reads at most this many, then
# hands back a cursor so the caller goes on where it stopped.
SCAN_MAX = 2000


def _page_query(*, process, status, since, until, after):
    query = select(Case).where(Case.practice.is_(False))
    if process is not None:
        query = query.where(Case.process_key == process)
    if status is not None:
        query = query.where(Case.status == status)
    if since is not None:
        query = query.where(Case.started_at >= since)
    if until is not None:
        query = query.where(Case.started_at < until)
    if after is not None:
        moment, case_id = after
        query = query.where((Case.started_at < moment) | ((Case.started_at == moment) & (Case.id < case_id)))
    return query.order_by(Case.started_at.desc(), Case.id.desc())


class CasePages:
    """The Engine's paged case list: newest first, each page continuing after the last case seen."""

    def case_page(self, *, process: str | None = None, status: str | None = None,
                  sla_state: str | None = None, since: datetime | None = None,
                  until: datetime | None = None, limit: int = 50,
                  after: tuple[datetime, int] | None = None) -> dict:
        """{"items": case dicts without tasks, "next": (started_at, id) to pass as `after`, or None}.

        Practice cases are left out. The order (registration time, then id, newest first) is total,
        so a case registered while a caller pages through never shifts or repeats a page.
        """
        if status is not None and status not in CASE_STATUSES:
            raise InvalidState(f"unknown status '{status}'; choose from {', '.join(CASE_STATUSES)}")
        if sla_state is not None and sla_state not in STATES:
            raise InvalidState(f"unknown SLA state '{sla_state}'; choose from {', '.join(STATES)}")
        if not 1 <= limit <= PAGE_MAX:
            raise InvalidState(f"limit must be between 1 and {PAGE_MAX}")
        as_of = self.now()
        items: list[dict] = []
        scanned = 0
        with self.db.read() as s:
            while True:
                want = limit - len(items) if sla_state is None else max(limit, 100)
                want = max(1, min(want, SCAN_MAX - scanned))
                rows = list(s.scalars(_page_query(process=process, status=status, since=since, until=until,
                                                  after=after).limit(want + 1)))
                more, rows = len(rows) > want, rows[:want]
                pauses = store.tasks_for_cases(s, [c.id for c in rows], pauses_only=True)
                for index, case in enumerate(rows):
                    scanned += 1
                    after = (case.started_at, case.id)
                    if case.started_at > as_of:  # registered after "now" on an injected clock
                        continue
                    view = self.viewer._case_dict(s, case, pauses[case.id], as_of, False)
                    if sla_state is None or view["sla_state"] == sla_state:
                        items.append(view)
                        if len(items) == limit:
                            return {"items": items,
                                    "next": after if more or index < len(rows) - 1 else None}
                if not more:
                    return {"items": items, "next": None}
                if scanned >= SCAN_MAX:
                    return {"items": items, "next": after}
