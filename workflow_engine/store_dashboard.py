"""Dashboard queries: SQL aggregates over case and task rows, never a workflow.

Every query takes a `Scope` (SOP key, version id, practice cases always left out) and returns plain
rows. The week of a moment is computed in SQL with one expression per dialect (SQLite, PostgreSQL),
so a week's compliance is one GROUP BY over a covering index; step medians read the seconds written
on each task row at completion (see `step_medians`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Integer, and_, case, cast, func, literal, literal_column, or_, select, union_all
from sqlalchemy.orm import Session

from .models import Case, ProcessVersion, TaskRecord
from .performance import percentile

# 1970-01-05 was a Monday: weeks are counted from it, so a week index divides evenly.
MONDAY_EPOCH = 4 * 86400
WEEK = 7 * 86400


@dataclass(frozen=True)
class Scope:
    """Which cases a figure counts: one SOP (key), one version (id) or all; never practice cases."""

    key: str | None = None
    version_id: int | None = None

    def where(self, query):
        query = query.where(Case.practice.is_(False))
        if self.key is not None:
            query = query.where(Case.process_key == self.key)
        if self.version_id is not None:
            query = query.where(Case.process_version_id == self.version_id)
        return query


def _dialect(s: Session) -> str:
    return s.get_bind().dialect.name


def epoch(s: Session, column):
    """Whole seconds since 1970 (UTC) of a stored moment."""
    if _dialect(s) == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.floor(func.extract("epoch", column)), BigInteger)


def week_index(s: Session, column, offset_seconds: int):
    """The number of the office-zone week (Monday to Sunday) a moment falls in, counted from 1970-01-05."""
    return (epoch(s, column) + literal(offset_seconds - MONDAY_EPOCH)) // WEEK


# --- open cases ---------------------------------------------------------------------------------
def paused_now():
    """True for a case with an open applicant-side step: its clock stands still and its stored deadline lags."""
    return select(TaskRecord.id).where(TaskRecord.case_id == Case.id, TaskRecord.state == "ready",
                                       TaskRecord.pauses_clock.is_(True)).exists()


def sla_state(now: datetime, cutoffs: dict[int, datetime]):
    """The SLA state of an open, unpaused case from its stored deadline, as the case page computes it.

    `cutoffs` maps a version id to the moment before which a deadline means the at-risk share of the
    limit is used (now plus the unused share, counted on the version's calendar).
    """
    at_risk = or_(*[and_(Case.process_version_id == vid, Case.deadline_at <= cutoff)
                    for vid, cutoff in cutoffs.items()]) if cutoffs else literal(False)
    return case((Case.deadline_at.is_(None), "on_track"), (Case.deadline_at < now, "breached"),
                (at_risk, "at_risk"), else_="on_track")


def open_version_ids(s: Session, scope: Scope) -> list[int]:
    query = scope.where(select(Case.process_version_id).where(Case.status == "running")).distinct()
    return list(s.scalars(query))


def open_by_state(s: Session, scope: Scope, now: datetime, cutoffs: dict[int, datetime]) -> list:
    """(process_key, state, count) of open cases whose clock runs; paused ones are counted apart."""
    state = sla_state(now, cutoffs).label("state")
    query = scope.where(select(Case.process_key, state, func.count()).where(
        Case.status == "running", ~paused_now()))
    return list(s.execute(query.group_by(Case.process_key, state)))


def paused_cases(s: Session, scope: Scope) -> list:
    """Open cases waiting on the applicant: the few columns their exact clock needs."""
    query = scope.where(select(Case.id, Case.process_key, Case.process_version_id, Case.status,
                               Case.clock_started_at, Case.closed_at, Case.deadline_at,
                               Case.registration_number)
                        .where(Case.status == "running", paused_now()))
    return list(s.execute(query.order_by(Case.id)))


def urgent_cases(s: Session, scope: Scope, now: datetime, cutoffs: dict[int, datetime], limit: int) -> list:
    """Open, unpaused cases breached or at risk now, the most overdue first."""
    state = sla_state(now, cutoffs).label("state")
    query = scope.where(select(Case.id, Case.registration_number, Case.process_key,
                               Case.process_version_id, Case.deadline_at, Case.started_at, state)
                        .where(Case.status == "running", Case.deadline_at.is_not(None), ~paused_now(),
                               state.in_(("breached", "at_risk"))))
    return list(s.execute(query.order_by(Case.deadline_at, Case.id).limit(limit)))


def open_tasks_of(s: Session, case_ids: list[int]) -> list:
    """(case_id, name, lane, claimed_by, ready_at) of the open tasks of some cases."""
    if not case_ids:
        return []
    return list(s.execute(select(TaskRecord.case_id, TaskRecord.name, TaskRecord.lane,
                                 TaskRecord.claimed_by, TaskRecord.ready_at)
                          .where(TaskRecord.case_id.in_(case_ids), TaskRecord.state == "ready")
                          .order_by(TaskRecord.case_id, TaskRecord.ready_at, TaskRecord.id)))


def lane_workload(s: Session, scope: Scope) -> list:
    """(lane, open, claimed, oldest ready_at) of the open tasks of open cases, per lane."""
    claimed = func.sum(case((TaskRecord.claimed_by.is_not(None), 1), else_=0))
    query = scope.where(select(TaskRecord.lane, func.count(), claimed, func.min(TaskRecord.ready_at))
                        .join(Case, Case.id == TaskRecord.case_id)
                        .where(TaskRecord.state == "ready", Case.status == "running"))
    return list(s.execute(query.group_by(TaskRecord.lane).order_by(TaskRecord.lane)))


# --- closed cases -------------------------------------------------------------------------------
def _between(column, since: datetime | None, until: datetime | None) -> list:
    """Conditions keeping `column` in [since, until); an open end adds none."""
    return ([column >= since] if since is not None else []) + ([column < until] if until is not None else [])


def _period(query, column, since: datetime | None, until: datetime | None):
    return query.where(*_between(column, since, until))


def met_condition():
    """A completed case met its limit: closed by its deadline, or closed before its clock started."""
    return or_(Case.deadline_at.is_(None), Case.closed_at <= Case.deadline_at)


def weekly_compliance(s: Session, scope: Scope, offset_seconds: int, since: datetime | None,
                      until: datetime | None) -> list:
    """(process_key, week index, met, completed) of completed cases by the office-zone week they closed."""
    week = week_index(s, Case.closed_at, offset_seconds).label("week")
    met = func.sum(case((met_condition(), 1), else_=0))
    query = scope.where(select(Case.process_key, week, met, func.count())
                        .where(Case.status == "completed"))
    query = _period(query, Case.closed_at, since, until)
    return list(s.execute(query.group_by(Case.process_key, week)))


def late_closings(s: Session, scope: Scope, version_ids: list[int], offset_seconds: int,
                  since: datetime | None, until: datetime | None) -> list:
    """(process_key, week, process_version_id, deadline_at, closed_at) of cases closed after their deadline.

    Only asked for versions on a working-hours calendar, where a case closed after hours just after
    the deadline used no more counted time than its limit.
    """
    if not version_ids:
        return []
    week = week_index(s, Case.closed_at, offset_seconds).label("week")
    query = scope.where(select(Case.process_key, week, Case.process_version_id, Case.deadline_at,
                               Case.closed_at)
                        .where(Case.status == "completed", Case.process_version_id.in_(version_ids),
                               Case.closed_at > Case.deadline_at))
    return list(s.execute(_period(query, Case.closed_at, since, until)))


# --- step times ---------------------------------------------------------------------------------
SECONDS = (TaskRecord.wait_seconds, TaskRecord.work_seconds, TaskRecord.duration_seconds)
# Up to this many rows (a dashboard's weeks) are read and sorted here; beyond, each median walks an index.
READ_AT_MOST = 150_000


def step_medians(s: Session, scope: Scope, since: datetime | None, until: datetime | None, *,
                 by_version: bool = False) -> list:
    """Per (process_key[, version id], step_id): name, lane, budget, pauses, runs, median wait, work, duration.

    Completed steps of real cases completed in [since, until); seconds on the wall clock as written at
    completion (TaskRecord.wait_seconds ...). The median of an even count is the mean of the two
    middle values. Up to READ_AT_MOST rows (a dashboard's weeks) take one query: PostgreSQL's
    percentile_cont in a GROUP BY, or (SQLite has no median) the rows read once and the medians taken
    here. Beyond that, sorting every row costs more than a second, so each median is read by walking
    one index (state, version, step, seconds) to the middle of the step's entries, inside the
    database: years of history cost a few hundred small queries and no sort.
    """
    versions = _versions_in(s, scope)
    if not versions:
        return []
    done = [TaskRecord.state == "completed", TaskRecord.practice.is_(False), TaskRecord.completed_at.is_not(None)]
    done += _between(TaskRecord.completed_at, since, until)
    # Counting reads only the index; the few descriptive columns come from one row per step and version.
    counted = s.execute(select(TaskRecord.process_version_id, TaskRecord.step_id, func.count())
                        .where(*done, TaskRecord.process_version_id.in_(list(versions)))
                        .group_by(TaskRecord.process_version_id, TaskRecord.step_id)).all()
    groups: dict[tuple, list] = {}
    for vid, step_id, runs in counted:
        details = _step_details(s, vid, step_id)
        key = (versions[vid], vid, step_id) if by_version else (versions[vid], step_id)
        found = groups.get(key)
        if found is None:
            groups[key] = [[vid], *details, runs]
        else:  # the same step in several versions of one SOP: the largest of each, as max() would give
            found[0].append(vid)
            found[1:5] = [b if a is None else a if b is None else max(a, b) for a, b in zip(found[1:5], details)]
            found[5] += runs
    few = sum(g[-1] for g in groups.values()) <= READ_AT_MOST
    if few and _dialect(s) == "postgresql":
        found = _percentiles(s, done, versions, by_version)
        return [(*key, *details, *found.get(key, (None, None, None))) for key, (vids, *details) in groups.items()]
    if few:
        found = _read_seconds(s, done, versions, by_version)
        return [(*key, *details, *(percentile(v, 0.5) for v in found.get(key, ([], [], []))))
                for key, (vids, *details) in groups.items()]
    return [(*key, *details, *(_median_of(s, column, done, vids, key[-1], details[-1]) for column in SECONDS))
            for key, (vids, *details) in groups.items()]


def _percentiles(s: Session, done: list, versions: dict[int, str], by_version: bool) -> dict:
    """PostgreSQL: the three medians per step key in one GROUP BY (versions merged through their key)."""
    medians = [func.percentile_cont(0.5).within_group(column) for column in SECONDS]
    if by_version:
        group = [ProcessVersion.key, TaskRecord.process_version_id, TaskRecord.step_id]
    else:
        group = [ProcessVersion.key, TaskRecord.step_id]
    query = (select(*group, *medians).join(ProcessVersion, ProcessVersion.id == TaskRecord.process_version_id)
             .where(*done, TaskRecord.process_version_id.in_(list(versions))).group_by(*group))
    return {tuple(row[:len(group)]): tuple(row[len(group):]) for row in s.execute(query)}


def _read_seconds(s: Session, done: list, versions: dict[int, str], by_version: bool) -> dict:
    """(wait, work, duration) lists per step key of the completed rows `done` selects."""
    found: dict[tuple, tuple[list, list, list]] = {}
    for vid, step_id, *seconds in s.execute(select(TaskRecord.process_version_id, TaskRecord.step_id, *SECONDS)
                                            .where(*done, TaskRecord.process_version_id.in_(list(versions)))):
        key = (versions[vid], vid, step_id) if by_version else (versions[vid], step_id)
        lists = found.get(key)
        if lists is None:
            lists = found[key] = ([], [], [])
        for values, value in zip(lists, seconds):
            if value is not None:
                values.append(value)
    return found


def _step_details(s: Session, vid: int, step_id: str) -> tuple:
    """Name, lane, budget and pauses (0/1) of a step as its rows recorded them; one version's rows agree.

    Any completed row will do, so no period is asked: the index finds the first at once.
    """
    row = s.execute(select(TaskRecord.name, TaskRecord.lane, TaskRecord.budget_seconds,
                           cast(TaskRecord.pauses_clock, Integer))
                    .where(TaskRecord.state == "completed", TaskRecord.process_version_id == vid,
                           TaskRecord.step_id == step_id)
                    .limit(1)).one()
    return tuple(row)


def _versions_in(s: Session, scope: Scope) -> dict[int, str]:
    """Version id -> SOP key of the versions a scope covers."""
    query = select(ProcessVersion.id, ProcessVersion.key)
    if scope.key is not None:
        query = query.where(ProcessVersion.key == scope.key)
    if scope.version_id is not None:
        query = query.where(ProcessVersion.id == scope.version_id)
    return dict(s.execute(query).all())


def _median_of(s: Session, column, done: list, vids: list[int], step_id: str, runs: int) -> float | None:
    """The median of one seconds column over a step's `runs` completed rows: the middle one or two by the index."""
    if not runs:
        return None
    # One ordered arm per version: the database merges the arms' index orders instead of sorting rows.
    arms = [select(column.label("seconds")).where(*done, TaskRecord.process_version_id == vid,
                                                  TaskRecord.step_id == step_id) for vid in vids]
    ordered = arms[0].order_by(column) if len(arms) == 1 else union_all(*arms).order_by(literal_column("seconds"))
    middle = s.scalars(ordered.limit(2 - runs % 2).offset((runs - 1) // 2)).all()
    # The median of the middle one or two is the median of them all, by the same arithmetic.
    return percentile(middle, 0.5) if middle and None not in middle else None


# --- the monthly report -------------------------------------------------------------------------
def received_per_sop(s: Session, scope: Scope, since: datetime, until: datetime) -> list:
    """(process_key, registered, still running) of the real cases registered in [since, until)."""
    running = func.sum(case((Case.status == "running", 1), else_=0))
    query = scope.where(select(Case.process_key, func.count(), running))
    return list(s.execute(_period(query, Case.started_at, since, until).group_by(Case.process_key)))


def completed_in(s: Session, scope: Scope, since: datetime, until: datetime) -> list:
    """(id, process_key, process_version_id, status, clock_started_at, closed_at) of cases completed then."""
    query = scope.where(select(Case.id, Case.process_key, Case.process_version_id, Case.status,
                               Case.clock_started_at, Case.closed_at).where(Case.status == "completed"))
    return list(s.execute(_period(query, Case.closed_at, since, until).order_by(Case.id)))


def open_received_in(s: Session, scope: Scope, since: datetime, until: datetime) -> list:
    """Open cases registered in [since, until), with the columns their clock needs."""
    query = scope.where(select(Case.id, Case.process_key, Case.process_version_id, Case.status,
                               Case.clock_started_at, Case.closed_at, Case.deadline_at)
                        .where(Case.status == "running"))
    return list(s.execute(_period(query, Case.started_at, since, until).order_by(Case.id)))


def pause_tasks(s: Session, case_ids: list[int]) -> list:
    """Applicant-side task rows of some cases, with what the case clock needs from them."""
    found = []
    for start in range(0, len(case_ids), 500):  # keep the IN list within every database's limits
        found += s.execute(select(TaskRecord.case_id, TaskRecord.ready_at, TaskRecord.completed_at,
                                  TaskRecord.cancelled_at, TaskRecord.pauses_clock)
                           .where(TaskRecord.case_id.in_(case_ids[start:start + 500]),
                                  TaskRecord.pauses_clock.is_(True))).all()
    return found
