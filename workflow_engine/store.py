"""Queries over the Alur tables; every piece of SQL the engine needs lives here."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, union, update
from sqlalchemy.orm import Session

from .errors import NotFound
from .models import AuditEvent, Case, LocalHoliday, ProcessVersion, RegistrationCounter, TaskRecord, User

# Columns of a version that lists need; the BPMN and spec text stay in the database.
VERSION_SUMMARY = (ProcessVersion.id, ProcessVersion.key, ProcessVersion.version, ProcessVersion.name,
                   ProcessVersion.content_hash, ProcessVersion.status, ProcessVersion.author,
                   ProcessVersion.note, ProcessVersion.created_at, ProcessVersion.filename)


def version_by_hash(session: Session, key: str, content_hash: str) -> ProcessVersion | None:
    return session.scalar(select(ProcessVersion).where(
        ProcessVersion.key == key, ProcessVersion.content_hash == content_hash))


def next_version_number(session: Session, key: str) -> int:
    current = session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.key == key))
    return (current or 0) + 1


def version_id(session: Session, key: str, number: int | None = None) -> int:
    """The id of version `number` of `key`, or of its latest published version."""
    query = select(ProcessVersion.id).where(ProcessVersion.key == key)
    if number is None:
        query = query.where(ProcessVersion.status == "published").order_by(ProcessVersion.version.desc())
    else:
        query = query.where(ProcessVersion.version == number)
    found = session.scalar(query.limit(1))
    if found is None:
        if number is None:
            raise NotFound(f"no published version of SOP '{key}'; deploy one first")
        raise NotFound(f"SOP '{key}' has no version {number}")
    return found


def version_summaries(session: Session, key: str | None = None) -> list:
    query = select(*VERSION_SUMMARY).order_by(ProcessVersion.key, ProcessVersion.version)
    if key is not None:
        query = query.where(ProcessVersion.key == key)
    return list(session.execute(query))


def case_counts_by_version(session: Session) -> dict[int, int]:
    rows = session.execute(select(Case.process_version_id, func.count()).group_by(Case.process_version_id))
    return dict(rows.all())


def take_registration_number(session: Session, prefix: str, year: int) -> int:
    """Reserve the next number for prefix and year inside the caller's transaction."""
    bumped = session.execute(
        update(RegistrationCounter)
        .where(RegistrationCounter.prefix == prefix, RegistrationCounter.year == year)
        .values(value=RegistrationCounter.value + 1)
        .returning(RegistrationCounter.value)).scalar()
    if bumped is not None:
        return bumped
    session.add(RegistrationCounter(prefix=prefix, year=year, value=1))
    session.flush()
    return 1


def case_by_id(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return case


def case_by_reference(session: Session, reference) -> Case:
    """A case by its numeric id or its registration number."""
    text = str(reference).strip()
    if text.isdigit():
        return case_by_id(session, int(text))
    case = session.scalar(select(Case).where(Case.registration_number == text.upper()))
    if case is None:
        raise NotFound(f"no case with registration number {text}")
    return case


def task_by_id(session: Session, task_id: int) -> TaskRecord:
    task = session.get(TaskRecord, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    return task


def task_for_user(session: Session, task_id: int,
                  username: str) -> tuple[TaskRecord, User, list[TaskRecord], Case]:
    """A task, the acting user, the case's open tasks and the case, in one round trip.

    Every task operation needs all of them; the user joins on a constant condition (one row). The
    case must be used from here too: read again in a second statement it could be newer than the
    task rows (READ COMMITTED), and a stale open row would then be closed against a fresh workflow.
    """
    case_of_task = select(TaskRecord.case_id).where(TaskRecord.id == task_id).scalar_subquery()
    rows = session.execute(
        select(TaskRecord, Case, User).join(Case, Case.id == TaskRecord.case_id)
        .join(User, User.username == username)
        .where(TaskRecord.case_id == case_of_task)
        .where((TaskRecord.state == "ready") | (TaskRecord.id == task_id))).all()
    task = next((row[0] for row in rows if row[0].id == task_id), None)
    if task is None:
        user_by_name(session, username)  # says which of the two is missing
        raise NotFound(f"task {task_id} does not exist")
    return task, rows[0][2], [row[0] for row in rows if row[0].state == "ready"], rows[0][1]


def tasks_of_case(session: Session, case_id: int) -> list[TaskRecord]:
    return list(session.scalars(select(TaskRecord).where(TaskRecord.case_id == case_id)
                                .order_by(TaskRecord.ready_at, TaskRecord.id)))


def open_tasks_of_case(session: Session, case_id: int) -> list[TaskRecord]:
    return list(session.scalars(select(TaskRecord).where(
        TaskRecord.case_id == case_id, TaskRecord.state == "ready")))


def list_tasks(session: Session, *, case_id: int | None = None, lanes: list[str] | None = None,
               state: str | None = "ready", practice_of: str | None = None, limit: int = 200,
               offset: int = 0) -> list[tuple[TaskRecord, Case]]:
    """Tasks with their cases, most urgent first; `practice_of` adds that user's practice cases."""
    query = select(TaskRecord, Case).join(Case, Case.id == TaskRecord.case_id)
    if case_id is not None:
        query = query.where(TaskRecord.case_id == case_id)
    in_state = [TaskRecord.state == state] if state is not None else []
    if lanes is not None:
        # Two id lists rather than one OR, which would keep SQLite from its (state, lane) index.
        mine = select(TaskRecord.id).where(*in_state, TaskRecord.lane.in_(lanes))
        if practice_of is not None:
            mine = union(mine, select(TaskRecord.id).join(Case, Case.id == TaskRecord.case_id).where(
                *in_state, TaskRecord.practice.is_(True), Case.started_by == practice_of))
        query = query.where(TaskRecord.id.in_(mine))
    query = query.where(*in_state)
    query = query.order_by(Case.deadline_at.is_(None), Case.deadline_at, TaskRecord.ready_at,
                           TaskRecord.id).limit(limit).offset(offset)
    return [tuple(row) for row in session.execute(query)]


def list_cases(session: Session, *, process: str | None = None, status: str | None = None,
               search: str | None = None, since: datetime | None = None, until: datetime | None = None,
               visible_to: tuple[str, list[str]] | None = None, practice: bool | None = None,
               ids: list[int] | None = None, limit: int = 100, offset: int = 0) -> list[Case]:
    """Cases, newest first; `visible_to` (username, lanes) keeps a staff member's own cases."""
    query = select(Case)
    if ids is not None:
        query = query.where(Case.id.in_(ids))
    if process is not None:
        query = query.where(Case.process_key == process)
    if status is not None:
        query = query.where(Case.status == status)
    if search:
        query = query.where(Case.registration_number.contains(search.strip().upper(), autoescape=True))
    if since is not None:
        query = query.where(Case.started_at >= since)
    if until is not None:
        query = query.where(Case.started_at < until)
    if practice is not None:
        query = query.where(Case.practice == practice)
    if visible_to is not None:
        username, lanes = visible_to
        in_lanes = select(TaskRecord.id).where(TaskRecord.case_id == Case.id,
                                               TaskRecord.lane.in_(lanes or [])).exists()
        query = query.where((Case.started_by == username) | in_lanes)
    query = query.order_by(Case.started_at.desc(), Case.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))


def case_touches_lanes(session: Session, case_id: int, lanes: list[str]) -> bool:
    return session.scalar(select(func.count()).select_from(TaskRecord).where(
        TaskRecord.case_id == case_id, TaskRecord.lane.in_(lanes or []))) > 0


def tasks_for_cases(session: Session, case_ids: list[int], *,
                    pauses_only: bool = False) -> dict[int, list[TaskRecord]]:
    """The task rows of several cases; `pauses_only` keeps the applicant-side ones the clock needs.

    With `pauses_only` just the columns the case clock reads are fetched (a long rework history has
    a pause per round), and a row this session holds comes as it holds it, changes not yet flushed.
    """
    grouped: dict[int, list] = {cid: [] for cid in case_ids}
    if not case_ids:
        return grouped
    ordered = (TaskRecord.ready_at, TaskRecord.id)
    if pauses_only:
        held = {obj.id: obj for obj in session.identity_map.values() if isinstance(obj, TaskRecord)}
        for row in session.execute(select(TaskRecord.id, TaskRecord.case_id, TaskRecord.ready_at,
                                          TaskRecord.completed_at, TaskRecord.cancelled_at, TaskRecord.pauses_clock)
                                   .where(TaskRecord.case_id.in_(case_ids), TaskRecord.pauses_clock.is_(True))
                                   .order_by(*ordered)):
            grouped[row.case_id].append(held.get(row.id, row))
        return grouped
    for task in session.scalars(select(TaskRecord).where(TaskRecord.case_id.in_(case_ids)).order_by(*ordered)):
        grouped[task.case_id].append(task)
    return grouped


def lock_next_due_timer_case(session: Session, now: datetime, *, skip_locked: bool,
                             exclude=()) -> Case | None:
    """The running case whose timer is most overdue, locked for this transaction; None if none is due.

    Due means strictly before `now`, as SpiffWorkflow fires a timer only once its moment has passed.
    With `skip_locked` (PostgreSQL) a case another transaction holds is passed over, not waited for.
    """
    query = select(Case).where(Case.status == "running", Case.next_timer_at < now)
    if exclude:
        query = query.where(Case.id.not_in(list(exclude)))
    query = query.order_by(Case.next_timer_at, Case.id).limit(1)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query)


def next_timer_due(session: Session, *, exclude=()) -> datetime | None:
    """The earliest next_timer_at of the running cases outside `exclude`."""
    query = select(func.min(Case.next_timer_at)).where(Case.status == "running")
    if exclude:
        query = query.where(Case.id.not_in(list(exclude)))
    return session.scalar(query)


def user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named '{username}'")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def local_holidays(session: Session) -> list[LocalHoliday]:
    return list(session.scalars(select(LocalHoliday).order_by(LocalHoliday.day)))


def audit(session: Session, at: datetime, action: str, *, actor: str | None = None,
          case_id: int | None = None, task_id: int | None = None, **detail) -> None:
    session.add(AuditEvent(at=at, action=action, actor=actor, case_id=case_id, task_id=task_id,
                           detail=detail or None))


def audit_of_case(session: Session, case_id: int, *, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.case_id == case_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query.order_by(AuditEvent.at, AuditEvent.id)))
