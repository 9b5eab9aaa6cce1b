"""The demo history: made through the engine's API on an injected clock, realistic and repeatable."""
from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from conftest import FIXTURES, PROCESSES, WIT
from sqlalchemy import select

from web.demo import DEMO_USERS, deploy_library, generate_history, history_period, knobs, make_demo
from workflow_engine import Database, Engine, FixedClock, Settings
from workflow_engine.forms import validate_form
from workflow_engine.models import AuditEvent, Case, TaskRecord, User
from workflow_engine.sop_info import SopInfo

# A Wednesday afternoon in Karubaga; tests pass `now` so that they do not depend on the real date.
WEDNESDAY = datetime(2026, 12, 2, 14, 30, tzinfo=WIT)
SATURDAY_EVENING = datetime(2026, 11, 28, 19, 0, tzinfo=WIT)
MONDAY_EARLY = datetime(2026, 11, 30, 7, 30, tzinfo=WIT)
SUMMARY_LINE = re.compile(r"^\w+ v\d+: \d+ cases, (\d+%|-) met the 24-hour limit")


def new_engine(tmp_path_factory, sqlite_template, now: datetime) -> Engine:
    path = tmp_path_factory.mktemp("history") / "alur.sqlite"
    path.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{path}"
    return Engine(Database(url), FixedClock(now), Settings(database_url=url))


def demo_office(engine: Engine, now: datetime, days: int, library=PROCESSES) -> None:
    """The office `alur demo` makes: the SOP library deployed at its dates, one user per role and lane."""
    start, _ = history_period(now, days)
    engine.clock = FixedClock(start - timedelta(days=7))
    deploy_library(engine, library, now=now, days=days, echo=lambda line: None)
    for username, role, lanes in DEMO_USERS:
        engine.add_user(username, role=role, lanes=lanes, password_hash="x")


def run_history(tmp_path_factory, sqlite_template, *, now=WEDNESDAY, days=20, cases=60, seed=7):
    engine = new_engine(tmp_path_factory, sqlite_template, now)
    demo_office(engine, now, days)
    lines: list[str] = []
    summary = generate_history(engine, seed=seed, days=days, cases=cases, now=now, password_hash="x",
                               echo=lines.append)
    return engine, summary, lines


@pytest.fixture(scope="module")
def history(tmp_path_factory, sqlite_template):
    engine, summary, lines = run_history(tmp_path_factory, sqlite_template)
    yield engine, summary, lines
    engine.db.dispose()


def rows(engine: Engine, *entities, where=()):
    with engine.db.read() as s:
        query = select(*entities)
        for condition in where:
            query = query.where(condition)
        return list(s.execute(query).all())


def infos(engine: Engine) -> dict:
    return {(p["key"], v["version"]): SopInfo.from_dict(engine.process_info(p["key"], v["version"]))
            for p in engine.processes() for v in p["versions"]}


def in_office_hours(calendar, moment: datetime) -> bool:
    """Inside office hours, or exactly at closing time (work that ends as the office closes)."""
    return calendar.is_counted(moment) or calendar.is_counted(moment - timedelta(seconds=1))


# --- the summary ---------------------------------------------------------------------------------
def test_summary_counts_every_case_and_prints_a_line_per_version(history):
    engine, summary, lines = history
    assert summary["cases"] == 60 == sum(v["cases"] for v in summary["by_version"])
    assert len(rows(engine, Case.id)) == 60
    version_lines = [line for line in lines if SUMMARY_LINE.match(line)]
    assert len(version_lines) == len(summary["by_version"]) >= 1
    for entry in summary["by_version"]:
        closed = entry["met"] + entry["missed"]
        assert entry["cases"] == closed + entry["cancelled"] + entry["open"]
        assert entry["met_share"] == (round(entry["met"] / closed, 4) if closed else None)
    assert summary["invalid_forms"] == 0
    assert any(line.startswith("history: 60/60") for line in lines)  # progress without click


# --- everything went through the engine ----------------------------------------------------------
def test_task_rows_match_the_audit_log(history):
    engine, summary, _ = history
    completed = {r.id for r in rows(engine, TaskRecord.id, where=[TaskRecord.state == "completed"])}
    events = rows(engine, AuditEvent.task_id, AuditEvent.action)
    completed_events = [e.task_id for e in events if e.action == "task.completed"]
    assert sorted(completed_events) == sorted(completed) and len(completed) == summary["tasks_completed"]
    started = Counter(e.action for e in events)["case.started"]
    assert started == summary["cases"]
    # An explicit claim leaves an audit event; a task completed without one is claimed as it completes.
    claimed_early = {r.id for r in rows(engine, TaskRecord.id, TaskRecord.claimed_at, TaskRecord.completed_at,
                                        where=[TaskRecord.claimed_at.is_not(None)])
                     if r.completed_at is None or r.claimed_at < r.completed_at}
    assert {e.task_id for e in events if e.action == "task.claimed"} == claimed_early
    assert summary["tasks_claimed"] == len(claimed_early) > 0
    assert Counter(e.action for e in events)["case.cancelled"] == summary["cases_cancelled"]


def test_every_step_is_done_by_a_member_of_its_lane(history):
    engine, summary, _ = history
    users = {u.username: u for u in rows(engine, User.username, User.lanes, User.role, User.active)}
    assert {"fo2", "fo3", "bo2", "bo3", "teknis2", "teknis3"} <= set(summary["new_staff"]) <= set(users)
    actors = Counter()
    for task in rows(engine, TaskRecord.lane, TaskRecord.claimed_by, TaskRecord.completed_by):
        for username in filter(None, (task.claimed_by, task.completed_by)):
            person = users[username]
            assert person.active and person.role == "staff" and task.lane in person.lanes, (task, username)
            actors[username] += 1
    assert actors["fo2"] and actors["bo3"] and actors["kadin"]  # the work is spread over the staff
    # The clerk who registers a file works in the lane of the SOP's first office step.
    first_lane = {key: next(s.lane for s in info.steps.values() if s.lane and not s.pauses_clock)
                  for key, info in infos(engine).items()}
    with engine.db.read() as s:
        for case in s.execute(select(Case.started_by, Case.process_key, Case.process_version_id)):
            number = engine.version(case.process_version_id, s).number
            assert first_lane[(case.process_key, number)] in users[case.started_by].lanes


def test_cases_arrive_and_staff_work_in_office_hours(history):
    engine, _, _ = history
    calendar = engine.calendar("jam-kerja")
    start = WEDNESDAY - timedelta(days=20)
    for case in rows(engine, Case.started_at):
        assert start <= case.started_at <= WEDNESDAY
        assert calendar.is_counted(case.started_at) and case.started_at.astimezone(WIT).hour < 15
    office = rows(engine, TaskRecord.claimed_at, TaskRecord.completed_at,
                  where=[TaskRecord.pauses_clock.is_(False), TaskRecord.completed_at.is_not(None)])
    assert office
    for task in office:
        assert in_office_hours(calendar, task.claimed_at) and in_office_hours(calendar, task.completed_at)


def test_version_two_takes_over_after_the_switch(history):
    engine, _, _ = history
    _, switch = history_period(WEDNESDAY, 20)
    latest = {p["key"]: p["latest_version"] for p in engine.processes()}
    with engine.db.read() as s:
        cases = [(c.process_key, engine.version(c.process_version_id, s).number, c.started_at)
                 for c in s.execute(select(Case.process_key, Case.process_version_id, Case.started_at))]
    assert all(version == 1 for _, version, at in cases if at < switch)
    settled = switch + timedelta(days=knobs.OVERLAP_DAYS)
    assert all(version == latest[key] for key, version, at in cases if at >= settled)
    assert any(version > 1 for _, version, _ in cases)


def test_form_data_always_passes_validation(history):
    engine, _, _ = history
    steps = infos(engine)
    with engine.db.read() as s:
        done = [(t, engine.version(t.process_version_id, s).number, t.process_key) for t in s.execute(
            select(TaskRecord.step_id, TaskRecord.data, Case.process_version_id, Case.process_key)
            .join(Case, Case.id == TaskRecord.case_id).where(TaskRecord.state == "completed"))]
    assert done
    for task, version, key in done:
        form = steps[(key, version)].steps[task.step_id].form
        assert validate_form(form, task.data or {}) == task.data
        for field in form:
            if field.id == "nik":
                assert re.fullmatch(r"\d{16}", task.data["nik"])
            if field.id == "no_hp":
                assert re.fullmatch(r"08\d{9,10}", task.data["no_hp"])


def test_decisions_mostly_move_files_on(history):
    engine, _, _ = history
    checks = [t.data["hasil"] for t in rows(engine, TaskRecord.data)
              if t.data and t.data.get("hasil") in ("lengkap", "tidak_lengkap")]
    assert checks.count("lengkap") > checks.count("tidak_lengkap") > 0


def test_open_cases_stand_in_every_sla_state(history):
    engine, summary, _ = history
    states = Counter(c["sla_state"] for c in engine.cases(status="running", limit=1000, as_of=WEDNESDAY))
    assert {k: states[k] for k in ("on_track", "at_risk", "breached")} == summary["open_by_state"]
    assert min(summary["open_by_state"].values()) >= 1, summary["open_by_state"]


@pytest.mark.parametrize("now", [SATURDAY_EVENING, MONDAY_EARLY], ids=["saturday-evening", "monday-early"])
def test_open_states_exist_whenever_the_demo_is_made(tmp_path_factory, sqlite_template, now):
    engine, summary, _ = run_history(tmp_path_factory, sqlite_template, now=now)
    assert min(summary["open_by_state"].values()) >= 1, summary["open_by_state"]
    engine.db.dispose()


# --- repeatable ----------------------------------------------------------------------------------
def fingerprint(engine: Engine) -> list:
    with engine.db.read() as s:
        cases = [tuple(c) for c in s.execute(select(
            Case.registration_number, Case.process_key, Case.status, Case.started_at, Case.closed_at)
            .order_by(Case.id))]
        tasks = [tuple(t) for t in s.execute(select(
            TaskRecord.case_id, TaskRecord.step_id, TaskRecord.state, TaskRecord.claimed_by,
            TaskRecord.claimed_at, TaskRecord.completed_by, TaskRecord.completed_at, TaskRecord.data)
            .order_by(TaskRecord.id))]
    return [cases, tasks]


def test_the_same_seed_gives_the_same_history(tmp_path_factory, sqlite_template):
    runs = [run_history(tmp_path_factory, sqlite_template, days=12, cases=30, seed=seed)
            for seed in (11, 11, 12)]
    first, again, other = (fingerprint(engine) for engine, _, _ in runs)
    assert first == again
    assert first != other
    assert runs[0][1]["by_version"] == runs[1][1]["by_version"]
    for engine, _, _ in runs:
        engine.db.dispose()


# --- timers ----------------------------------------------------------------------------------------
def test_boundary_timers_fire_as_the_clock_passes(tmp_path_factory, sqlite_template, tmp_path):
    library = tmp_path / "library" / "eskalasi"
    library.mkdir(parents=True)
    (library / "v1.bpmn").write_bytes((FIXTURES / "boundary_timer.bpmn").read_bytes())
    engine = new_engine(tmp_path_factory, sqlite_template, WEDNESDAY)
    demo_office(engine, WEDNESDAY, 10, library=tmp_path / "library")
    summary = generate_history(engine, seed=3, days=10, cases=25, now=WEDNESDAY, password_hash="x",
                               echo=lambda line: None)
    assert summary["timer_fires"] > 0
    steps = Counter((r.step_id, r.state) for r in rows(engine, TaskRecord.step_id, TaskRecord.state))
    assert steps[("tunggu_rekomendasi", "cancelled")] > 0 and steps[("eskalasi_rekomendasi", "completed")] > 0
    assert steps[("terbitkan_izin", "completed")] > 0
    engine.db.dispose()


# --- the point of version 2 ------------------------------------------------------------------------
def test_version_two_meets_the_24_hour_limit_far_more_often(tmp_path_factory, sqlite_template):
    engine, summary, _ = run_history(tmp_path_factory, sqlite_template, days=60, cases=300, seed=2026)
    totals = {1: Counter(), 2: Counter()}
    for entry in summary["by_version"]:
        totals[min(entry["version"], 2)].update(met=entry["met"], missed=entry["missed"])
    share = {v: c["met"] / (c["met"] + c["missed"]) for v, c in totals.items()}
    assert share[1] < 0.4 and share[2] > 0.75, share
    for key in {e["process"] for e in summary["by_version"]}:
        by = {e["version"]: e for e in summary["by_version"] if e["process"] == key}
        if 1 in by and 2 in by and by[1]["met_share"] is not None and by[2]["met_share"] is not None:
            assert by[2]["met_share"] > by[1]["met_share"], (key, by)
    engine.db.dispose()


# --- alur demo -------------------------------------------------------------------------------------
def test_make_demo_builds_the_office_and_its_history(tmp_path):
    path = tmp_path / "demo.sqlite"
    lines: list[str] = []
    engine = make_demo(Settings(database_url=f"sqlite:///{path}"), path, seed=5, days=10, cases=40,
                       echo=lines.append)
    assert any(line.startswith("Logins") for line in lines)
    assert any(SUMMARY_LINE.match(line) for line in lines)
    assert any(line.startswith("open cases now:") for line in lines)
    assert type(engine.clock).__name__ == "SystemClock"
    assert len(engine.cases(limit=100)) == 40
    # Versions and people date from before the history; later versions from the switch-over.
    now = datetime.now(UTC)
    for process in engine.processes():
        for version in process["versions"]:
            created = datetime.fromisoformat(version["created_at"])
            assert created < now - timedelta(days=4) if version["version"] > 1 else created < now - timedelta(days=10)
    # Each SOP's current version waits as the analyst's next draft, ready to compare and forecast.
    drafts = engine.drafts()
    assert sorted(d["key"] for d in drafts) == sorted(p["key"] for p in engine.processes())
    assert all(d["base_version"] == 2 and d["executable"] for d in drafts)
    engine.db.dispose()
