"""The event-log query: task rows of an SOP's real cases with only the columns an event log needs."""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Case, ProcessVersion, TaskRecord

EVENT_COLUMNS = (Case.id.label("case_pk"), Case.registration_number, Case.status.label("case_status"),
                 ProcessVersion.version, ProcessVersion.name.label("sop_name"),
                 TaskRecord.id, TaskRecord.step_id, TaskRecord.name, TaskRecord.lane, TaskRecord.state,
                 TaskRecord.ready_at, TaskRecord.claimed_at, TaskRecord.claimed_by,
                 TaskRecord.completed_at, TaskRecord.completed_by, TaskRecord.cancelled_at)
CLOSED = ("completed", "cancelled")
BATCH = 2000  # rows fetched at a time, so a province's history never sits in memory at once


def event_task_rows(session: Session, key: str, *, version: int | None = None, since: datetime | None = None,
                    until: datetime | None = None, include_open: bool = False) -> Iterator:
    """Task rows of `key`'s real cases registered in [since, until), by case, then ready time, then id.

    Practice cases never appear; running cases only with `include_open`. Rows are streamed.
    """
    query = (select(*EVENT_COLUMNS)
             .join(Case, Case.id == TaskRecord.case_id)
             .join(ProcessVersion, ProcessVersion.id == Case.process_version_id)
             .where(Case.process_key == key, Case.practice.is_(False)))
    if version is not None:
        query = query.where(ProcessVersion.version == version)
    if not include_open:
        query = query.where(Case.status.in_(CLOSED))
    if since is not None:
        query = query.where(Case.started_at >= since)
    if until is not None:
        query = query.where(Case.started_at < until)
    query = query.order_by(Case.id, TaskRecord.ready_at, TaskRecord.id)
    return session.execute(query.execution_options(yield_per=BATCH))
