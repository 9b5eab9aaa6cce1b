"""Read models: cases, tasks and SOPs as plain dicts, with their 24-hour clock as of any moment."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from . import store
from .errors import InvalidState
from .models import Case, TaskRecord
from .sla import case_clock, step_status
from .sop_info import SopInfo

if TYPE_CHECKING:
    from .engine import Engine


def _at(moment: datetime | None, as_of: datetime) -> datetime | None:
    """A recorded moment, or None if it had not happened yet as of `as_of`."""
    return moment if moment is not None and moment <= as_of else None


class CaseViewer:
    """Builds the JSON-ready views the CLI, the web pages and the API show."""

    def __init__(self, engine: "Engine"):
        self.engine = engine

    def iso(self, moment: datetime | None) -> str | None:
        return moment.astimezone(self.engine.zone).isoformat() if moment else None

    # --- the clock ----------------------------------------------------------------------------
    def clock_of(self, session: Session, case: Case, info: SopInfo, tasks: list[TaskRecord],
                 as_of: datetime):
        pauses = []
        for t in tasks:
            if t.pauses_clock and t.ready_at <= as_of:
                pauses.append((t.ready_at, _at(t.completed_at or t.cancelled_at, as_of)))
        closed = _at(case.closed_at, as_of) if case.status == "completed" else None
        return case_clock(
            clock_start=_at(case.clock_started_at, as_of), limit_seconds=info.limit_seconds,
            calendar=self.engine.calendar(info.calendar, session), pauses=pauses, as_of=as_of,
            closed_at=closed, at_risk_share=self.engine.settings.at_risk_share)

    def deadline_for(self, session: Session, case: Case, info: SopInfo, now: datetime):
        # Only the applicant-side rows move the clock: a long rework history is not read in full.
        pauses = store.tasks_for_cases(session, [case.id], pauses_only=True)[case.id]
        return self.clock_of(session, case, info, pauses, now).deadline

    # --- cases --------------------------------------------------------------------------------
    def case(self, case_ref, *, as_of: datetime | None = None, with_tasks: bool = True) -> dict:
        as_of = as_of or self.engine.now()
        with self.engine.db.read() as s:
            case = store.case_by_reference(s, case_ref)
            return self._case_dict(s, case, store.tasks_of_case(s, case.id), as_of, with_tasks)

    def cases(self, *, sla_state: str | None = None, limit: int = 100, as_of: datetime | None = None,
              **filters) -> list[dict]:
        """Cases as dicts without tasks; filters as store.list_cases, plus the SLA state as of now."""
        as_of = as_of or self.engine.now()
        with self.engine.db.read() as s:
            # The SLA state is computed, not stored: read more rows when filtering on it.
            rows = store.list_cases(s, limit=limit * 5 if sla_state else limit, **filters)
            pauses = store.tasks_for_cases(s, [c.id for c in rows], pauses_only=True)
            views = [self._case_dict(s, c, pauses[c.id], as_of, False) for c in rows
                     if c.started_at <= as_of]
        if sla_state:
            views = [v for v in views if v["sla_state"] == sla_state]
        return views[:limit]

    def _case_dict(self, s: Session, case: Case, tasks: list[TaskRecord], as_of: datetime,
                   with_tasks: bool) -> dict:
        if as_of < case.started_at:
            raise InvalidState(f"case {case.registration_number} was registered at "
                               f"{self.iso(case.started_at)}, after {self.iso(as_of)}")
        parsed = self.engine.version(case.process_version_id, s)
        info = parsed.info
        closed = _at(case.closed_at, as_of)
        status = case.status if closed else "running"
        calendar = self.engine.calendar(info.calendar, s)
        clock = self.clock_of(s, case, info, tasks, as_of)
        view = {
            "id": case.id,
            "registration_number": case.registration_number,
            "status": status,
            "process": case.process_key,
            "process_name": info.name,
            "version": parsed.number,
            "started_at": self.iso(case.started_at),
            "started_by": case.started_by,
            "clock_started_at": self.iso(_at(case.clock_started_at, as_of)),
            "deadline": self.iso(clock.deadline),
            "closed_at": self.iso(closed),
            "closed_by": case.closed_by if closed else None,
            "sla_state": None if status == "cancelled" else clock.state,
            "sla": {
                "limit_seconds": clock.limit_seconds, "used_seconds": round(clock.used_seconds, 3),
                "paused_seconds": round(clock.paused_seconds, 3),
                "remaining_seconds": None if clock.remaining_seconds is None
                else round(clock.remaining_seconds, 3),
                "used_share": round(clock.used_share, 4), "paused": clock.paused,
                "calendar": info.calendar,
            },
            "as_of": self.iso(as_of),
            "revision": case.revision,
            "practice": case.practice,
            "data": case.data,
        }
        if with_tasks:
            view["comments"] = [
                {"at": self.iso(e.at), "by": e.actor, "text": (e.detail or {}).get("text", "")}
                for e in store.audit_of_case(s, case.id, action="case.commented")
                if e.at <= as_of]
            seen: dict[str, int] = {}
            view["tasks"] = []
            for t in tasks:
                if t.ready_at <= as_of:
                    seen[t.step_id] = seen.get(t.step_id, 0) + 1
                    view["tasks"].append({**self._task_dict(t, info, calendar, as_of),
                                          "iteration": seen[t.step_id]})
        return view

    def _task_dict(self, t: TaskRecord, info: SopInfo, calendar, as_of: datetime) -> dict:
        completed = _at(t.completed_at, as_of)
        cancelled = _at(t.cancelled_at, as_of)
        claimed = _at(t.claimed_at, as_of)
        state = "completed" if completed else "cancelled" if cancelled else "ready"
        timing = step_status(ready_at=t.ready_at, completed_at=completed or cancelled,
                             budget_seconds=t.budget_seconds, calendar=calendar, as_of=as_of)
        step = info.steps.get(t.step_id)
        return {
            "id": t.id, "case_id": t.case_id, "step_id": t.step_id, "name": t.name, "lane": t.lane,
            "state": state,
            "ready_at": self.iso(t.ready_at),
            "claimed_at": self.iso(claimed), "claimed_by": t.claimed_by if claimed else None,
            "completed_at": self.iso(completed), "completed_by": t.completed_by if completed else None,
            "cancelled_at": self.iso(cancelled),
            "duration_seconds": round(timing["duration_seconds"], 3),
            "elapsed_seconds": round(timing["wall_seconds"], 3),
            "wait_seconds": round(((claimed or as_of) - t.ready_at).total_seconds(), 3),
            "work_seconds": round(((completed or as_of) - claimed).total_seconds(), 3)
            if claimed else None,
            "budget_seconds": t.budget_seconds,
            "over_budget": timing["over_budget"],
            "pauses_clock": t.pauses_clock,
            "documentation": step.documentation if step else None,
            "data": t.data if completed else None,
        }

    # --- tasks and SOPs -----------------------------------------------------------------------
    def tasks(self, *, limit: int = 200, **filters) -> list[dict]:
        """Tasks as dicts with their case's number and deadline; filters as store.list_tasks."""
        now = self.engine.now()
        with self.engine.db.read() as s:
            rows = store.list_tasks(s, limit=limit, **filters)
            out = []
            for task, case in rows:
                info = self.engine.version(case.process_version_id, s).info
                item = self._task_dict(task, info, self.engine.calendar(info.calendar, s), now)
                item.update(registration_number=case.registration_number, process=case.process_key,
                            case_deadline=self.iso(case.deadline_at), practice=case.practice)
                out.append(item)
            return out

    def processes(self) -> list[dict]:
        with self.engine.db.read() as s:
            counts = store.case_counts_by_version(s)
            grouped: dict[str, dict] = {}
            for row in store.version_summaries(s):
                entry = grouped.setdefault(row.key, {"key": row.key, "name": row.name,
                                                     "latest_version": None, "versions": []})
                entry["versions"].append({
                    "version": row.version, "name": row.name, "status": row.status,
                    "content_hash": row.content_hash, "author": row.author, "note": row.note,
                    "created_at": self.iso(row.created_at), "filename": row.filename,
                    "cases": counts.get(row.id, 0)})
                if row.status == "published":
                    entry["latest_version"] = row.version
                    entry["name"] = row.name
            return list(grouped.values())
