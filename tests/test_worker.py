"""The worker fires due timers: on time, once, side by side with other workers, past failing cases."""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from conftest import FIXTURES, add_staff
from workflow_engine import Database, Engine, ScriptError, Settings, SystemClock
from workflow_engine.engine import TimerFailed
from workflow_engine.models import AuditEvent, Case
from workflow_engine.worker import Worker

BOUNDARY = (FIXTURES / "boundary_timer.bpmn").read_text()


def failing_variant(xml: str) -> str:
    """boundary_timer with a gateway after the timer whose condition divides by the case's `pembagi`."""
    xml = xml.replace(
        '<bpmn:sequenceFlow id="Flow_timer_2_jam_eskalasi_rekomendasi" sourceRef="timer_2_jam" '
        'targetRef="eskalasi_rekomendasi" />',
        '<bpmn:sequenceFlow id="Flow_timer_2_jam_eskalasi_rekomendasi" sourceRef="timer_2_jam" '
        'targetRef="gw_pembagi" />\n'
        '    <bpmn:exclusiveGateway id="gw_pembagi"><bpmn:incoming>Flow_timer_2_jam_eskalasi_rekomendasi'
        '</bpmn:incoming><bpmn:outgoing>Flow_gw_pembagi</bpmn:outgoing></bpmn:exclusiveGateway>\n'
        '    <bpmn:sequenceFlow id="Flow_gw_pembagi" sourceRef="gw_pembagi" targetRef="eskalasi_rekomendasi">'
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">1 / pembagi &gt; 0'
        '</bpmn:conditionExpression></bpmn:sequenceFlow>')
    xml = xml.replace('<bpmn:incoming>Flow_timer_2_jam_eskalasi_rekomendasi</bpmn:incoming>\n      <bpmn:outgoing>'
                      'Flow_eskalasi', '<bpmn:incoming>Flow_gw_pembagi</bpmn:incoming>\n      <bpmn:outgoing>'
                      'Flow_eskalasi')
    xml = xml.replace('<bpmn:flowNodeRef>gw_gabung</bpmn:flowNodeRef>',
                      '<bpmn:flowNodeRef>gw_gabung</bpmn:flowNodeRef>\n        '
                      '<bpmn:flowNodeRef>gw_pembagi</bpmn:flowNodeRef>')
    return xml.replace('id="boundary_timer"', 'id="timer_gagal"').replace(
        'processRef="boundary_timer"', 'processRef="timer_gagal"')


def fired_per_case(engine: Engine) -> Counter:
    with engine.db.read() as s:
        rows = s.execute(select(AuditEvent.case_id, func.count()).where(
            AuditEvent.action == "case.timers_fired").group_by(AuditEvent.case_id))
        return Counter(dict(rows.all()))


def ready_steps(engine: Engine, case_id: int) -> set[str]:
    return {t["step_id"] for t in engine.tasks(case_id=case_id)}


def next_timer_at(engine: Engine, case_id: int):
    with engine.db.read() as s:
        return s.get(Case, case_id).next_timer_at


@pytest.fixture
def office(engine):
    add_staff(engine, "bo", ["Back Office"])
    add_staff(engine, "kabid", ["Kepala Bidang"])
    engine.deploy(BOUNDARY.encode(), "boundary_timer.bpmn")
    return engine


# --- on the engine's clock ------------------------------------------------------------------------
def test_a_boundary_timer_fires_when_the_worker_runs_after_its_due_time_and_not_before(office, clock):
    case_id = office.start_case("boundary_timer")
    due = next_timer_at(office, case_id)
    assert due == clock.now() + timedelta(hours=2)
    worker = Worker(office)
    clock.advance(minutes=119)
    assert worker.run_once() == 0
    clock.set(due)  # SpiffWorkflow fires once the moment has passed, not at it
    assert worker.run_once() == 0
    assert ready_steps(office, case_id) == {"tunggu_rekomendasi"}
    clock.advance(minutes=1)
    assert worker.run_once() == 1
    assert ready_steps(office, case_id) == {"eskalasi_rekomendasi"}
    assert next_timer_at(office, case_id) is None  # written in the same commit as the firing
    assert worker.run_once() == 0
    assert fired_per_case(office) == {case_id: 1}


def test_two_passes_fire_each_due_case_once(office, clock):
    cases = [office.start_case("boundary_timer") for _ in range(3)]
    clock.advance(hours=3)
    worker = Worker(office)
    assert worker.run_once() == 3
    assert worker.run_once() == 0
    assert fired_per_case(office) == {c: 1 for c in cases}
    assert office.next_timer_due() is None


def test_the_most_overdue_case_is_taken_first(office, clock):
    first = office.start_case("boundary_timer")
    clock.advance(minutes=10)
    second = office.start_case("boundary_timer")
    clock.advance(hours=3)
    assert office.fire_next_due_timer() == first
    assert office.fire_next_due_timer() == second
    assert office.fire_next_due_timer() is None


def test_a_batch_bounds_one_pass(office, clock):
    cases = [office.start_case("boundary_timer") for _ in range(3)]
    clock.advance(hours=3)
    worker = Worker(office, batch=2)
    assert worker.run_once() == 2
    assert worker.seconds_to_next() == 0  # more is due: no sleeping
    assert worker.run_once() == 1
    assert fired_per_case(office) == {c: 1 for c in cases}


# --- several workers ------------------------------------------------------------------------------
def test_two_workers_racing_fire_each_of_twenty_cases_exactly_once(office, clock, settings):
    cases = [office.start_case("boundary_timer") for _ in range(20)]
    clock.advance(hours=3)
    other_db = Database(settings.database_url)
    try:
        engines = [office, Engine(other_db, clock, settings)]
        workers = [Worker(e, batch=1) for e in engines]
        start = threading.Barrier(len(workers))
        fired = [0] * len(workers)
        errors = []

        def run(i):
            try:
                start.wait()
                give_up = time.monotonic() + 30
                while ((n := workers[i].run_once()) or office.next_timer_due() is not None) \
                        and time.monotonic() < give_up:
                    fired[i] += n
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(workers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        assert sum(fired) == 20
        assert fired_per_case(office) == {c: 1 for c in cases}
        assert all(w.failures_total == 0 for w in workers)
        assert all(ready_steps(office, c) == {"eskalasi_rekomendasi"} for c in cases)
    finally:
        other_db.dispose()


@pytest.mark.postgres
def test_a_case_locked_by_another_transaction_is_skipped_not_waited_for(office, clock):
    if office.db.dialect != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers instead")
    first = office.start_case("boundary_timer")
    second = office.start_case("boundary_timer")
    clock.advance(hours=3)
    with office.db.engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT id FROM cases WHERE id = :id FOR UPDATE"), {"id": first})
        taken = []
        thread = threading.Thread(target=lambda: taken.append(office.fire_next_due_timer()))
        thread.start()
        thread.join(10)
        assert not thread.is_alive(), "the worker waited for the locked case"
        assert taken == [second]
    assert office.fire_next_due_timer() == first
    assert fired_per_case(office) == {first: 1, second: 1}


# --- failures -------------------------------------------------------------------------------------
def test_a_failing_case_does_not_stop_the_others(office, clock):
    office.deploy(failing_variant(BOUNDARY).encode(), "timer_gagal.bpmn")
    good_before = office.start_case("timer_gagal", data={"pembagi": 1})
    bad = office.start_case("timer_gagal", data={"pembagi": 0})
    good_after = office.start_case("timer_gagal", data={"pembagi": 2})
    due = next_timer_at(office, bad)
    clock.advance(hours=3)

    with pytest.raises(TimerFailed) as failed:
        office.fire_next_due_timer(exclude={good_before})
    assert failed.value.case_id == bad and isinstance(failed.value.cause, ScriptError)
    assert "division by zero" in str(failed.value)

    worker = Worker(office, retry_after=0.3)
    assert worker.run_once() == 2
    assert fired_per_case(office) == {good_before: 1, good_after: 1}
    # the failing case is left as it was, and left alone for a while
    assert ready_steps(office, bad) == {"tunggu_rekomendasi"}
    assert next_timer_at(office, bad) == due
    assert set(worker.failing()) == {bad} and worker.failures_total == 1
    assert worker.run_once() == 0 and worker.failures_total == 1
    assert 0 < worker.seconds_to_next() <= 0.35  # wakes for the retry, not before
    time.sleep(0.35)
    assert worker.run_once() == 0 and worker.failures_total == 2
    assert worker.failing()[bad] > 0.4  # the pause doubles


def test_a_failing_case_does_not_make_the_loop_spin(office, clock):
    office.deploy(failing_variant(BOUNDARY).encode(), "timer_gagal.bpmn")
    office.start_case("timer_gagal", data={"pembagi": 0})
    clock.advance(hours=3)
    worker = Worker(office, max_sleep=0.1)
    stop = threading.Event()
    thread = worker.start_thread(stop)
    time.sleep(0.6)
    stop.set()
    thread.join(2)
    assert not thread.is_alive()
    assert worker.failures_total == 1


def test_escalations_run_on_each_pass_when_the_engine_has_them(office):
    calls = []
    office.run_escalations = lambda limit=100: calls.append(limit) or 2
    worker = Worker(office)
    worker.run_once()
    worker.run_once()
    assert len(calls) == 2 and worker.escalations_total == 4

    def broken(limit=100):
        raise RuntimeError("SMTP down")
    office.run_escalations = broken
    assert worker.run_once() == 0  # logged, not raised


# --- on the real clock ----------------------------------------------------------------------------
def test_a_worker_fires_a_timer_within_seconds_of_its_due_time(database_url, tmp_path):
    settings = Settings(database_url=database_url)
    engine = Engine(Database(database_url), SystemClock(), settings)
    try:
        add_staff(engine, "bo", ["Back Office"])
        short = tmp_path / "boundary_timer.bpmn"
        short.write_text(BOUNDARY.replace('"PT2H"', '"PT2S"'))
        engine.deploy(short.read_bytes(), short.name)
        case_id = engine.start_case("boundary_timer")
        due = next_timer_at(engine, case_id)
        stop = threading.Event()
        thread = Worker(engine).start_thread(stop)  # max_sleep 30 s: it must sleep until `due`
        try:
            fired_at = None
            give_up = time.monotonic() + 8
            while fired_at is None and time.monotonic() < give_up:
                time.sleep(0.05)
                with engine.db.read() as s:
                    fired_at = s.scalar(select(AuditEvent.at).where(
                        AuditEvent.case_id == case_id, AuditEvent.action == "case.timers_fired"))
            assert fired_at is not None, "the timer did not fire"
            assert due < fired_at < due + timedelta(seconds=2)
            assert ready_steps(engine, case_id) == {"eskalasi_rekomendasi"}
        finally:
            stop.set()
            stopped = time.monotonic()
            thread.join(5)
        assert not thread.is_alive() and time.monotonic() - stopped < 2  # a stop wakes it at once
    finally:
        engine.db.dispose()


# --- the command ----------------------------------------------------------------------------------
def test_alur_worker_runs_until_sigterm_and_exits_cleanly(sqlite_url, tmp_path):
    import signal
    import subprocess
    import sys

    from cli_run import ROOT, alur_env, ok

    env = alur_env(sqlite_url, tmp_path)
    assert "0 case(s) moved" in ok(["worker", "--once"], env).stdout
    process = subprocess.Popen([sys.executable, "-m", "web.cli", "worker", "--max-sleep", "30"],
                               env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    try:
        give_up = time.monotonic() + 20
        while not any("worker started" in line for line in lines) and time.monotonic() < give_up:
            time.sleep(0.05)
        assert any("worker started" in line for line in lines), "".join(lines)
        process.send_signal(signal.SIGTERM)
        assert process.wait(5) == 0
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(2)
    assert any("worker stopped" in line for line in lines), "".join(lines)
    assert not any("Traceback" in line for line in lines)
