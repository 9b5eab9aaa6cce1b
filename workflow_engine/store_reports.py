"""Report queries over case and task rows: only the columns a report needs, one query per table."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Case, TaskRecord

CASE_COLUMNS = (Case.id, Case.status, Case.started_at, Case.clock_started_at, Case.closed_at)
TASK_COLUMNS = (TaskRecord.case_id, TaskRecord.step_id, TaskRecord.lane, TaskRecord.state,
                TaskRecord.ready_at, TaskRecord.claimed_at, TaskRecord.completed_at,
                TaskRecord.cancelled_at, TaskRecord.budget_seconds, TaskRecord.pauses_clock)


def _counted(query, version_id: int, since: datetime | None, until: datetime | None):
    """Real cases of one version registered in [since, until): practice cases never count."""
    query = query.where(Case.process_version_id == version_id, Case.practice.is_(False))
    if since is not None:
        query = query.where(Case.started_at >= since)
    if until is not None:
        query = query.where(Case.started_at < until)
    return query


def version_cases(session: Session, version_id: int, *, since: datetime | None = None,
                  until: datetime | None = None) -> list:
    """Rows (id, status, started_at, clock_started_at, closed_at) of a version's counted cases."""
    return list(session.execute(_counted(select(*CASE_COLUMNS), version_id, since, until)
                                .order_by(Case.id)))


def version_tasks(session: Session, version_id: int, *, since: datetime | None = None,
                  until: datetime | None = None) -> list:
    """Task rows of the same cases, with the columns the timings need, by case and time."""
    query = select(*TASK_COLUMNS).join(Case, Case.id == TaskRecord.case_id)
    return list(session.execute(_counted(query, version_id, since, until)
                                .order_by(TaskRecord.case_id, TaskRecord.ready_at, TaskRecord.id)))
