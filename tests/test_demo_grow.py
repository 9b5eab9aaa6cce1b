"""Growing a generated history: finished cases copied back by whole weeks, the same outcomes and step times."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from test_demo_history import run_history
from web.demo.grow import grow_history
from workflow_engine.models import AuditEvent, Case, RegistrationCounter, TaskRecord


def _cases(engine):
    with engine.db.read() as s:
        return s.execute(select(Case.id, Case.registration_number, Case.status, Case.started_at, Case.closed_at,
                                Case.deadline_at, Case.practice)).all()


@pytest.fixture(scope="module")
def grown(tmp_path_factory, sqlite_template):
    engine, summary, _ = run_history(tmp_path_factory, sqlite_template, days=14, cases=40)
    before = _cases(engine)
    added = grow_history(engine.db.engine, cases=300, years=1, echo=lambda line: None)
    yield engine, before, added
    engine.db.dispose()


def test_the_database_holds_the_cases_asked_for(grown):
    engine, before, added = grown
    assert added["total_cases"] == 300 and added["cases"] == 300 - len(before)
    assert added["tasks"] > added["cases"] * 3 and added["events"] > added["tasks"]


def test_copies_are_finished_real_cases_before_the_generated_history(grown):
    engine, before, _ = grown
    seed_ids = {c.id for c in before}
    first = min(c.started_at for c in before)
    copies = [c for c in _cases(engine) if c.id not in seed_ids]
    assert all(c.status in ("completed", "cancelled") and not c.practice for c in copies)
    assert max(c.started_at for c in copies) < max(c.started_at for c in before)
    assert min(c.started_at for c in copies) < first - timedelta(weeks=4)
    # Nothing new waits in an inbox.
    with engine.db.read() as s:
        open_rows = s.scalar(select(func.count()).select_from(TaskRecord).where(
            TaskRecord.state == "ready", TaskRecord.case_id.not_in(seed_ids)))
    assert open_rows == 0


def test_copies_keep_weekday_hour_outcome_and_step_times(grown):
    engine, before, _ = grown
    by_number = {c.id: c for c in before}
    with engine.db.read() as s:
        steps = s.execute(select(TaskRecord.case_id, TaskRecord.step_id, TaskRecord.duration_seconds,
                                 TaskRecord.ready_at).order_by(TaskRecord.id)).all()
    seed_steps = Counter((r.step_id, r.duration_seconds) for r in steps if r.case_id in by_number)
    copy_steps = Counter((r.step_id, r.duration_seconds) for r in steps if r.case_id not in by_number)
    # Every copied step has exactly the duration of a generated one.
    assert set(copy_steps) <= set(seed_steps)
    seed_moments = {(c.started_at.weekday(), c.started_at.time()) for c in before}
    copies = [c for c in _cases(engine) if c.id not in by_number]
    assert all((c.started_at.weekday(), c.started_at.time()) in seed_moments for c in copies)
    met = [c.closed_at <= c.deadline_at for c in copies if c.status == "completed" and c.deadline_at]
    assert met, "the copies include completed cases with an outcome"


def test_registration_numbers_are_unique_and_counters_move_past_them(grown):
    engine, _, _ = grown
    numbers = [c.registration_number for c in _cases(engine)]
    assert len(numbers) == len(set(numbers))
    with engine.db.read() as s:
        counters = {(r.prefix, r.year): r.value for r in s.scalars(select(RegistrationCounter))}
    used = Counter()
    for number in numbers:
        prefix, year, serial = number.rsplit("-", 2)
        used[(prefix, int(year))] = max(used[(prefix, int(year))], int(serial))
    assert all(counters[k] >= v for k, v in used.items())


def test_audit_events_follow_their_case_and_task(grown):
    engine, before, _ = grown
    seed_ids = {c.id for c in before}
    with engine.db.read() as s:
        pairs = s.execute(select(AuditEvent.case_id, AuditEvent.task_id, TaskRecord.case_id)
                          .join(TaskRecord, TaskRecord.id == AuditEvent.task_id)
                          .where(AuditEvent.case_id.not_in(seed_ids))).all()
    assert pairs and all(event_case == task_case for event_case, _, task_case in pairs)


def test_the_grown_office_still_works(grown):
    engine, before, _ = grown
    seed_ids = {c.id for c in before}
    copy = next(c for c in _cases(engine) if c.id not in seed_ids and c.status == "completed")
    view = engine.case(copy.registration_number, as_of=copy.closed_at + timedelta(days=1))
    assert view["status"] == "completed" and view["tasks"]
    weeks = engine.compliance_by_week()
    assert sum(c["met"] + c["missed"] for c in weeks["total"]) > 100
    assert engine.step_times(by_version=True)


@pytest.mark.postgres
def test_a_grown_history_copies_into_an_empty_postgresql_database(grown, postgres_template):
    engine, _, _ = grown
    if postgres_template is None:
        pytest.skip("PostgreSQL tests need ALUR_TEST_POSTGRES_URL (`.ci/run` sets it)")
    url = postgres_template.fresh()
    target = create_engine(url)
    added = grow_history(engine.db.engine, target, cases=320, years=1, echo=lambda line: None)
    with target.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Case.__table__)) == 320
        # Sequences moved past the copied ids: the next insert gets a fresh id.
        assert conn.scalar(text("SELECT nextval(pg_get_serial_sequence('cases', 'id'))")) > 320
    assert added["cases"] == 20
    target.dispose()
    postgres_template.drop(url)
