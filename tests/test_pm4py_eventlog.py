"""pm4py reads Alur's XES and CSV event logs and its performance analysis finds Alur's own step and case times.

The history is the demo office's, made through the engine on a FixedClock (web.demo.generate_history),
plus a practice case that must not appear. Alur's figures come from engine.measured (the compare page
and `alur compare`); pm4py's from its service time of paired start/complete events and its case durations.
Times in the files are written to the millisecond, so on the demo's microsecond clock they agree within
a few milliseconds; on whole-minute times (the rework scenario of test_event_log) they agree exactly.
"""
from __future__ import annotations

import warnings
from datetime import datetime, timedelta

import pandas as pd
import pm4py
import pytest
from pm4py.objects.log.util import interval_lifecycle

from conftest import PROCESSES, WIT
from test_event_log import rework_history
from web.demo import DEMO_USERS, deploy_library, generate_history, history_period
from workflow_engine import Database, Engine, FixedClock, Settings
from workflow_engine.performance import percentile

NOW = datetime(2026, 12, 2, 14, 30, tzinfo=WIT)  # a Wednesday afternoon in Karubaga
SLACK = 0.002  # seconds: two timestamps each cut to the millisecond


def exported(engine: Engine, key: str, fmt: str, path, **options):
    with open(path, "wb") as target:
        for chunk in engine.event_log_export(key, fmt, **options):
            target.write(chunk)
    return path


def read_xes(path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pm4py suggests optional faster readers
        return pm4py.read_xes(str(path), show_progress_bar=False)


def read_csv(path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"instance": str, "resource": str})
    frame = pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity", timestamp_key="timestamp")
    return frame.rename(columns={"lifecycle": "lifecycle:transition", "instance": "concept:instance"})


def service_times(frame: pd.DataFrame, measure: str = "median") -> dict:
    """pm4py's service time per activity: start -> complete of each paired step instance."""
    interval = interval_lifecycle.to_interval(pm4py.convert_to_event_log(frame))
    return pm4py.get_service_time(interval, aggregation_measure=measure, start_timestamp_key="start_timestamp")


def waiting_times(frame: pd.DataFrame) -> dict:
    """schedule -> start per activity, by letting pm4py pair schedule as the start and start as the end."""
    lifecycle = frame["lifecycle:transition"]
    shifted = frame[lifecycle.isin(["schedule", "start"])].copy()
    shifted["lifecycle:transition"] = shifted["lifecycle:transition"].map({"schedule": "start", "start": "complete"})
    return service_times(shifted)


def runs(frame: pd.DataFrame) -> dict:
    return frame[frame["lifecycle:transition"] == "complete"].groupby("concept:name").size().to_dict()


def names(frame: pd.DataFrame) -> dict:
    pairs = frame[["concept:name", "step_id"]].drop_duplicates()
    assert not pairs["concept:name"].duplicated().any(), "two steps share a name: pm4py would merge them"
    return dict(zip(pairs["step_id"], pairs["concept:name"]))


@pytest.fixture(scope="module")
def office(tmp_path_factory, sqlite_template):
    """Sixty demo cases over twenty days, a practice case, and each SOP version's log as XES and CSV."""
    folder = tmp_path_factory.mktemp("pm4py")
    path = folder / "alur.sqlite"
    path.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{path}"
    engine = Engine(Database(url), FixedClock(NOW), Settings(database_url=url))
    engine.clock = FixedClock(history_period(NOW, 20)[0] - timedelta(days=7))
    deploy_library(engine, PROCESSES, now=NOW, days=20, echo=lambda line: None)
    for username, role, lanes in DEMO_USERS:
        engine.add_user(username, role=role, lanes=lanes, password_hash="x")
    generate_history(engine, seed=7, days=20, cases=60, now=NOW, password_hash="x", echo=lambda line: None)
    engine.clock = FixedClock(NOW)
    practice = engine.start_case("izin_reklame", practice=True, actor="fo")
    engine.claim(engine.tasks(case_id=practice)[0]["id"], user="fo")
    engine.cancel(practice, user="fo", reason="latihan selesai")  # closed, so only its being practice hides it
    logs = {}
    for sop in engine.processes():
        for version in sop["versions"]:
            measured = engine.measured(sop["key"], version["version"])
            if measured["cases"]["completed"]:
                stem = folder / f"{sop['key']}-v{version['version']}"
                logs[(sop["key"], version["version"])] = {
                    "measured": measured,
                    "xes": read_xes(exported(engine, sop["key"], "xes", f"{stem}.xes", version=version["version"])),
                    "csv": read_csv(exported(engine, sop["key"], "csv", f"{stem}.csv", version=version["version"]))}
    yield engine, logs, engine.case(practice)["registration_number"]
    engine.db.dispose()


def test_the_history_has_logs_to_compare(office):
    _, logs, _ = office
    assert len(logs) >= 4
    assert sum(len(log["measured"]["steps"]) for log in logs.values()) >= 20


def test_pm4py_reads_every_trace_and_the_version(office):
    _, logs, _ = office
    for (key, version), log in logs.items():
        frame, counts = log["xes"], log["measured"]["cases"]
        assert frame["case:concept:name"].nunique() == counts["completed"] + counts["cancelled"]
        assert set(frame["case:sop_version"]) == {version} and set(frame["case:sop_key"]) == {key}
        assert set(frame["lifecycle:transition"]) <= {"schedule", "start", "complete", "withdraw", "ate_abort"}
        assert str(frame["time:timestamp"].dt.tz) == "UTC"


def test_practice_cases_are_absent(office):
    engine, logs, practice = office
    assert practice.startswith("LAT-")
    for log in logs.values():
        for frame in (log["xes"], log["csv"]):
            assert not frame["case:concept:name"].str.startswith("LAT-").any()
    everything = b"".join(engine.event_log_export("izin_reklame", "csv", include_open=True))
    assert practice.encode() not in everything


@pytest.mark.parametrize("fmt", ["xes", "csv"])
def test_pm4py_service_time_is_alurs_work_time_per_step(office, fmt):
    _, logs, _ = office
    for (key, version), log in logs.items():
        frame = log[fmt]
        served, counted, named = service_times(frame), runs(frame), names(frame)
        for step in log["measured"]["steps"]:
            activity = named[step["step_id"]]
            assert counted[activity] == step["runs"], (key, version, activity)
            assert served[activity] == pytest.approx(step["work_median"], abs=SLACK), (key, version, activity)


@pytest.mark.parametrize("fmt", ["xes", "csv"])
def test_pm4py_schedule_to_start_is_alurs_wait_per_step(office, fmt):
    _, logs, _ = office
    for (key, version), log in logs.items():
        waits, named = waiting_times(log[fmt]), names(log[fmt])
        for step in log["measured"]["steps"]:
            assert waits[named[step["step_id"]]] == pytest.approx(step["wait_median"], abs=SLACK), (key, version)


@pytest.mark.parametrize("fmt", ["xes", "csv"])
def test_pm4py_case_durations_are_alurs_lead_times(office, fmt):
    _, logs, _ = office
    for (key, version), log in logs.items():
        frame = log[fmt]
        completed = frame[frame["case:case_status" if fmt == "xes" else "case_status"] == "completed"]
        durations = pm4py.get_all_case_durations(completed)
        lead = log["measured"]["lead_time"]
        assert len(durations) == lead["n"], (key, version)
        assert percentile(durations, 0.5) == pytest.approx(lead["median"], abs=SLACK), (key, version)
        assert percentile(durations, 0.9) == pytest.approx(lead["p90"], abs=SLACK), (key, version)


def test_on_whole_seconds_the_times_are_exactly_equal(engine, tmp_path):
    rework_history(engine)
    measured = engine.measured("rework_loop", 1)
    frame = read_xes(exported(engine, "rework_loop", "xes", tmp_path / "rework.xes"))
    served, waits, named = service_times(frame), waiting_times(frame), names(frame)
    for step in measured["steps"]:
        assert served[named[step["step_id"]]] == step["work_median"]
        assert waits[named[step["step_id"]]] == step["wait_median"]
    completed = frame[frame["case:case_status"] == "completed"]
    assert percentile(pm4py.get_all_case_durations(completed), 0.5) == measured["lead_time"]["median"]
