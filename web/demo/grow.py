"""Grow a generated history to office-years of data: its finished cases copied back in time, week by week.

The demo generator makes cases through the engine, which takes about a minute per thousand cases; a
database of a hundred thousand cases for benchmarks would take hours that way. `grow_history` takes
the finished (completed or cancelled) real cases the generator made, with their task rows and audit
events, and inserts copies of them shifted back by whole weeks, so every copy keeps its weekday, its
office hours, its step times and its SLA outcome. Copies get their own ids and registration numbers
(numbered in time order per prefix and year, after the numbers already given) and the counters are
moved past them. Open and practice cases are never copied, so nothing new waits in anyone's inbox.

The target may be another database (e.g. PostgreSQL, at the current schema revision and empty): the
source's rows are first copied into it as they are, then the shifted copies are added.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, text

from workflow_engine.models import AuditEvent, Base, Case, RegistrationCounter, TaskRecord

WEEK = timedelta(weeks=1)
BATCH = 5000
Echo = Callable[[str], None]


def grow_history(source, target=None, *, cases: int, years: float = 3.0, echo: Echo = print) -> dict:
    """Add shifted copies of `source`'s finished cases to `target` (default: the same database) until it holds `cases` cases.

    `source` and `target` are SQLAlchemy engines. The copies spread over about `years` years before the
    generated history. Returns the counts of cases, task rows and audit events added.
    """
    target = target or source
    if target is not source:
        _copy_as_is(source, target, echo)
    with target.connect() as conn:
        have = conn.scalar(select(func.count()).select_from(Case.__table__))
    seed = _finished_cases(source)
    missing = cases - have
    if missing <= 0 or not seed:
        return {"cases": 0, "tasks": 0, "events": 0, "total_cases": have}
    rounds = math.ceil(missing / len(seed))
    first = min(c["started_at"] for c in seed)
    last = max(c["closed_at"] for c in seed)
    span_weeks = math.ceil((last - first) / WEEK)
    step_weeks = max(1, round((years * 52 - span_weeks) / rounds))
    plan = sorted(((c["started_at"] - k * step_weeks * WEEK, k, c) for k in range(1, rounds + 1) for c in seed),
                  key=lambda p: p[0])[-missing:]  # the latest copies: the history stays contiguous
    echo(f"growing: {len(plan)} copies of {len(seed)} finished cases, {rounds} rounds {step_weeks} week(s) apart")
    added = _insert_copies(source, target, plan, step_weeks, echo)
    with target.connect() as conn:
        added["total_cases"] = conn.scalar(select(func.count()).select_from(Case.__table__))
    return added


def _finished_cases(source) -> list[dict]:
    c = Case.__table__
    with source.connect() as conn:
        rows = conn.execute(select(c).where(c.c.status.in_(("completed", "cancelled")), c.c.practice.is_(False),
                                            c.c.closed_at.is_not(None)).order_by(c.c.id))
        return [dict(r._mapping) for r in rows]


def _children(conn, table, case_ids: list[int]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    for start in range(0, len(case_ids), 500):
        rows = conn.execute(select(table).where(table.c.case_id.in_(case_ids[start:start + 500]))
                            .order_by(table.c.id))
        for r in rows:
            found.setdefault(r.case_id, []).append(dict(r._mapping))
    return found


def _insert_copies(source, target, plan, step_weeks: int, echo: Echo) -> dict:
    c, t, a = Case.__table__, TaskRecord.__table__, AuditEvent.__table__
    seed_ids = sorted({p[2]["id"] for p in plan})
    with source.connect() as conn:
        tasks, events = _children(conn, t, seed_ids), _children(conn, a, seed_ids)
    with target.begin() as conn:
        next_case = (conn.scalar(select(func.max(c.c.id))) or 0) + 1
        next_task = (conn.scalar(select(func.max(t.c.id))) or 0) + 1
        next_event = (conn.scalar(select(func.max(a.c.id))) or 0) + 1
        counters = {(r.prefix, r.year): r.value for r in conn.execute(select(RegistrationCounter.__table__))}
        new_cases, new_tasks, new_events = [], [], []
        counts = {"cases": 0, "tasks": 0, "events": 0}
        for _started, k, seed in plan:
            shift = k * step_weeks * WEEK
            case = _shifted(seed, shift)
            prefix = seed["registration_number"].rsplit("-", 2)[0]
            year = case["started_at"].year
            counters[(prefix, year)] = number = counters.get((prefix, year), 0) + 1
            case.update(id=next_case, registration_number=f"{prefix}-{year}-{number:06d}")
            new_cases.append(case)
            copied = {}  # seed task id -> its copy's id, for the audit events that name a task
            for row in tasks.get(seed["id"], ()):
                copied[row["id"]] = next_task
                new_tasks.append(_shifted(row, shift) | {"id": next_task, "case_id": next_case})
                next_task += 1
            for row in events.get(seed["id"], ()):
                new_events.append(_shifted(row, shift) | {"id": next_event, "case_id": next_case,
                                                          "task_id": copied.get(row["task_id"])})
                next_event += 1
            next_case += 1
            if len(new_tasks) >= BATCH * 4:
                _flush(conn, counts, new_cases, new_tasks, new_events)
                echo(f"growing: {counts['cases']}/{len(plan)} cases")
        _flush(conn, counts, new_cases, new_tasks, new_events)
        _save_counters(conn, counters)
    _reset_sequences(target)
    return counts


def _shifted(row: dict, shift: timedelta) -> dict:
    return {k: (v - shift if isinstance(v, datetime) else v) for k, v in row.items()}


def _flush(conn, counts: dict, cases: list, tasks: list, events: list) -> None:
    for table, rows, name in ((Case.__table__, cases, "cases"), (TaskRecord.__table__, tasks, "tasks"),
                              (AuditEvent.__table__, events, "events")):
        for start in range(0, len(rows), BATCH):
            conn.execute(insert(table), rows[start:start + BATCH])
        counts[name] += len(rows)
        rows.clear()


def _save_counters(conn, counters: dict) -> None:
    table = RegistrationCounter.__table__
    conn.execute(table.delete())
    conn.execute(insert(table), [{"prefix": p, "year": y, "value": v} for (p, y), v in counters.items()])


def _copy_as_is(source, target, echo: Echo) -> None:
    """Every row of every table from source into an empty target at the same schema revision."""
    with target.connect() as conn:
        if conn.scalar(select(func.count()).select_from(Case.__table__)):
            return  # already holds a history: only the copies are added
    with source.connect() as src, target.begin() as dst:
        for table in Base.metadata.sorted_tables:
            dst.execute(table.delete())
        for table in Base.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in src.execute(select(table))]
            for start in range(0, len(rows), BATCH):
                dst.execute(insert(table), rows[start:start + BATCH])
            if rows:
                echo(f"copied {len(rows)} rows of {table.name}")
    _reset_sequences(target)


def _reset_sequences(target) -> None:
    """PostgreSQL: move each id sequence past the ids copied in with explicit values."""
    if target.dialect.name != "postgresql":
        return
    with target.begin() as conn:
        for table in _tables_with_serial_ids():
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"))


def _tables_with_serial_ids() -> Iterable[str]:
    for table in Base.metadata.sorted_tables:
        column = table.c.get("id")
        if column is not None and column.primary_key and column.autoincrement in (True, "auto"):
            yield table.name
