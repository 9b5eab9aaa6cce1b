"""The event log for process mining: its rows, its XES and CSV files, the command and the download."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from cli_run import alur_env, ok, refused
from conftest import FIXTURES, MONDAY_MORNING, WIT, add_staff, sign_in
from workflow_engine import Conflict, Database, Engine, FixedClock, NotFound, Settings
from workflow_engine.event_log import COLUMNS, events_of_task, parse_bound
from workflow_engine.xes import EXTENSIONS, XES_NAMESPACE, csv_chunks, xes_chunks

H, M = 3600, 60
X = f"{{{XES_NAMESPACE}}}"
FIXTURE = FIXTURES / "rework_loop.bpmn"


def at(engine, seconds: float) -> None:
    engine.clock.set(MONDAY_MORNING + timedelta(seconds=seconds))


def ready_task(engine, case_id: int, step_id: str) -> int:
    return next(t["id"] for t in engine.tasks(case_id=case_id) if t["step_id"] == step_id)


def rework_history(engine) -> dict:
    """The rework_loop cases of test_performance, by name: c1 c2 c3 done, c5 cancelled, c6 open, a practice case."""
    for user, lanes in (("fo", ["Front Office"]), ("pemohon", ["Pemohon"])):
        try:
            add_staff(engine, user, lanes)
        except Conflict:
            pass  # the web fixture made the office's people already
    engine.deploy(FIXTURE.read_bytes(), FIXTURE.name, author="test")
    at(engine, 0)
    cases = {name: engine.start_case("rework_loop") for name in ("c1", "c2", "c3", "c5")}
    cases["practice"] = engine.start_case("rework_loop", practice=True, actor="fo")

    def done(name, step, answer=None):
        return lambda: engine.complete(ready_task(engine, cases[name], step), user="pemohon" if step == "perbaiki"
                                       else "fo", data={"hasil": answer} if answer else {})
    steps = [
        (10 * M, lambda: engine.claim(ready_task(engine, cases["c1"], "periksa"), user="fo")),
        (10 * M, done("practice", "periksa", "selesai")),
        (30 * M, done("c1", "periksa", "selesai")),
        (1 * H, done("c2", "periksa", "ulang")),
        (1 * H, lambda: cases.update(c6=engine.start_case("rework_loop"))),
        (2 * H, done("c5", "periksa", "ulang")),
        (3 * H, lambda: engine.cancel(cases["c5"], user="fo", reason="test")),
        (5 * H, done("c2", "perbaiki")),
        (5 * H + 30 * M, lambda: engine.claim(ready_task(engine, cases["c2"], "periksa"), user="fo")),
        (6 * H, done("c2", "periksa", "selesai")),
        (29 * H, lambda: engine.claim(ready_task(engine, cases["c3"], "periksa"), user="fo")),
        (30 * H, done("c3", "periksa", "selesai")),
    ]
    for offset, action in steps:
        at(engine, offset)
        action()
    return {name: engine.case(case_id)["registration_number"] for name, case_id in cases.items()}


@pytest.fixture
def history(engine):
    return engine, rework_history(engine)


def offsets(rows, case_id):
    """(step, lifecycle, seconds after Monday 08:00, resource) of one case's events."""
    return [(r["step_id"], r["lifecycle"], (r["timestamp"] - MONDAY_MORNING).total_seconds(), r["resource"])
            for r in rows if r["case_id"] == case_id]


# --- rows -------------------------------------------------------------------------------------------
def test_a_case_gives_schedule_start_complete_per_step_in_time_order(history):
    engine, numbers = history
    rows = engine.event_log("rework_loop")
    assert offsets(rows, numbers["c2"]) == [
        ("periksa", "schedule", 0, None), ("periksa", "start", 1 * H, "fo"), ("periksa", "complete", 1 * H, "fo"),
        ("perbaiki", "schedule", 1 * H, None), ("perbaiki", "start", 5 * H, "pemohon"),
        ("perbaiki", "complete", 5 * H, "pemohon"),
        ("periksa", "schedule", 5 * H, None), ("periksa", "start", 5 * H + 30 * M, "fo"),
        ("periksa", "complete", 6 * H, "fo")]


def test_a_row_has_every_column_and_the_lane_as_group(history):
    engine, numbers = history
    row = next(r for r in engine.event_log("rework_loop") if r["case_id"] == numbers["c1"])
    assert set(row) == set(COLUMNS)
    assert (row["activity"], row["group"], row["sop_key"], row["sop_version"], row["case_status"]) == (
        "Periksa", "Front Office", "rework_loop", 1, "completed")
    assert row["timestamp"].tzinfo is not None


def test_the_two_runs_of_a_step_are_two_instances(history):
    engine, numbers = history
    runs = {r["instance"] for r in engine.event_log("rework_loop")
            if r["case_id"] == numbers["c2"] and r["step_id"] == "periksa"}
    assert len(runs) == 2


def test_practice_cases_never_appear(history):
    engine, numbers = history
    for include_open in (False, True):
        cases = {r["case_id"] for r in engine.event_log("rework_loop", include_open=include_open)}
        assert numbers["practice"] not in cases and not any(c.startswith("LAT-") for c in cases)


def test_closed_cases_by_default_running_ones_when_asked(history):
    engine, numbers = history
    closed = {r["case_id"] for r in engine.event_log("rework_loop")}
    assert closed == {numbers[n] for n in ("c1", "c2", "c3", "c5")}
    everything = engine.event_log("rework_loop", include_open=True)
    assert offsets(everything, numbers["c6"]) == [("periksa", "schedule", 1 * H, None)]


def test_a_task_withdrawn_by_cancelling_is_marked_withdraw(history):
    engine, numbers = history
    assert offsets(engine.event_log("rework_loop"), numbers["c5"])[-2:] == [
        ("perbaiki", "schedule", 2 * H, None), ("perbaiki", "withdraw", 3 * H, None)]


def test_a_claimed_task_withdrawn_is_marked_ate_abort(history):
    engine, numbers = history
    at(engine, 40 * H)
    case_id = engine.start_case("rework_loop")
    at(engine, 41 * H)
    engine.claim(ready_task(engine, case_id, "periksa"), user="fo")
    at(engine, 42 * H)
    engine.cancel(case_id, user="fo", reason="test")
    number = engine.case(case_id)["registration_number"]
    assert [e[1:3] for e in offsets(engine.event_log("rework_loop"), number)] == [
        ("schedule", 40 * H), ("start", 41 * H), ("ate_abort", 42 * H)]


def test_an_unclaimed_completed_row_starts_when_it_completes():
    class Row:  # a row from before claims were recorded: Alur counts its work as zero
        registration_number, name, lane, step_id, id, version, case_status = "R-1", "A", "L", "a", 7, 1, "completed"
        ready_at, claimed_at, claimed_by = MONDAY_MORNING, None, None
        completed_at, completed_by, cancelled_at = MONDAY_MORNING + timedelta(hours=1), "fo", None
    events = events_of_task(Row, "k")
    assert [(e["lifecycle"], e["timestamp"], e["resource"]) for e in events] == [
        ("schedule", Row.ready_at, None), ("start", Row.completed_at, "fo"), ("complete", Row.completed_at, "fo")]


def test_wait_and_work_from_the_rows_are_alurs_step_times(history):
    engine, _ = history
    rows = engine.event_log("rework_loop", version=1)
    moments: dict = {}
    for r in rows:
        moments.setdefault((r["step_id"], r["instance"]), {})[r["lifecycle"]] = r["timestamp"]
    for step in engine.measured("rework_loop", 1)["steps"]:
        runs = [m for (s, _), m in moments.items() if s == step["step_id"] and "complete" in m]
        assert len(runs) == step["runs"]
        assert median((m["start"] - m["schedule"]).total_seconds() for m in runs) == step["wait_median"]
        assert median((m["complete"] - m["start"]).total_seconds() for m in runs) == step["work_median"]


def test_cases_are_chosen_by_registration_time(history):
    engine, numbers = history
    late = MONDAY_MORNING + timedelta(minutes=30)
    assert {r["case_id"] for r in engine.event_log("rework_loop", since=late, include_open=True)} == {numbers["c6"]}
    assert numbers["c6"] not in {r["case_id"] for r in engine.event_log("rework_loop", until=late, include_open=True)}


def test_unknown_sop_or_version_and_bad_periods_are_refused(history):
    engine, _ = history
    with pytest.raises(NotFound):
        engine.event_log("no_such_sop")
    with pytest.raises(NotFound):
        engine.event_log("rework_loop", version=9)
    with pytest.raises(ValueError):
        engine.event_log("rework_loop", since=datetime(2026, 11, 30))  # naive: its zone would be a guess
    with pytest.raises(ValueError):
        engine.event_log("rework_loop", since=MONDAY_MORNING, until=MONDAY_MORNING)
    with pytest.raises(NotFound):
        engine.event_log_export("no_such_sop", "xes")  # at once, before the first byte is asked for


def test_period_bounds_read_dates_in_the_office_zone():
    assert parse_bound("2026-11-30", "Asia/Jayapura") == datetime(2026, 11, 30, tzinfo=WIT)
    assert parse_bound("2026-11-30T08:00+00:00", "Asia/Jayapura").utcoffset() == timedelta(0)
    assert parse_bound("", "Asia/Jayapura") is None
    with pytest.raises(ValueError, match="2026-13-01"):
        parse_bound("2026-13-01", "Asia/Jayapura")


# --- XES --------------------------------------------------------------------------------------------
def xes_of(engine, **options):
    return etree.fromstring(b"".join(engine.event_log_export("rework_loop", "xes", **options)))


def values(element) -> dict:
    return {child.get("key"): child.get("value") for child in element if child.tag != X + "event"}


def test_xes_declares_the_four_standard_extensions(history):
    log = xes_of(history[0])
    assert log.tag == X + "log" and log.get("xes.version") == "1849-2016"
    declared = {(e.get("name"), e.get("prefix"), e.get("uri")) for e in log.iter(X + "extension")}
    assert declared == set(EXTENSIONS)
    assert {e.get("prefix") for e in log.iter(X + "extension")} == {"concept", "time", "lifecycle", "org"}


def test_xes_children_come_in_the_standards_order(history):
    order = ["extension", "global", "classifier", "string", "date", "int", "trace"]
    tags = [child.tag.removeprefix(X) for child in xes_of(history[0])]
    ranks = [min(order.index(t), 3) if t in ("string", "date", "int") else order.index(t) for t in tags]
    assert ranks == sorted(ranks)


def test_every_prefixed_key_belongs_to_a_declared_extension(history):
    log = xes_of(history[0])
    prefixes = {e.get("prefix") for e in log.iter(X + "extension")}
    keys = {e.get("key") for e in log.iter() if e.get("key")} | {
        k for c in log.iter(X + "classifier") for k in c.get("keys").split()}
    assert {k.split(":")[0] for k in keys if ":" in k} <= prefixes


def test_every_event_has_name_time_transition_and_lane(history):
    log = xes_of(history[0])
    events = list(log.iter(X + "event"))
    assert len(events) == len(history[0].event_log("rework_loop"))
    for event in events:
        attrs = values(event)
        assert {"concept:name", "time:timestamp", "lifecycle:transition", "org:group", "concept:instance"} <= set(attrs)
        assert datetime.fromisoformat(attrs["time:timestamp"]).utcoffset() == timedelta(hours=9)
        if attrs["lifecycle:transition"] in ("start", "complete"):
            assert attrs["org:resource"] in ("fo", "pemohon")
    kinds = {e.tag.removeprefix(X) for ev in events for e in ev}
    assert kinds <= {"string", "date"}


def test_traces_are_named_by_registration_number_with_the_version(history):
    engine, numbers = history
    traces = {values(t)["concept:name"]: t for t in xes_of(engine).iter(X + "trace")}
    assert set(traces) == {numbers[n] for n in ("c1", "c2", "c3", "c5")}
    version = traces[numbers["c1"]].find(f"{X}int[@key='sop_version']")
    assert version.get("value") == "1"
    assert values(traces[numbers["c5"]])["case_status"] == "cancelled"


def test_xes_names_the_period_and_the_choice_of_cases(history):
    engine, _ = history
    attrs = values(xes_of(engine, since=MONDAY_MORNING, include_open=True))
    assert attrs["period_since"] == "2026-11-30T08:00:00.000+09:00"
    assert attrs["cases"] == "closed and running" and attrs["lifecycle:model"] == "standard"


def fake_rows(cases: int, per_case: int = 3, name: str = "Periksa"):
    for c in range(cases):
        for i in range(per_case):
            yield {"case_id": f"R-{c}", "activity": name, "timestamp": MONDAY_MORNING + timedelta(minutes=i),
                   "lifecycle": "complete", "resource": "fo", "group": "FO", "step_id": "p",
                   "instance": str(c * 10 + i), "sop_key": "k", "sop_version": 1, "case_status": "completed"}


def test_xes_is_written_in_pieces_without_reading_every_row_first():
    taken = []

    def rows():
        for row in fake_rows(500):
            taken.append(row)
            yield row
    chunks = xes_chunks(rows(), {"key": "k", "name": "K"}, zone=WIT)
    head = next(chunks)
    assert b"<extension" in head and taken == []
    rest = list(chunks)
    assert len(rest) >= 10 and len(taken) == 1500
    assert len(etree.fromstring(head + b"".join(rest)).findall(X + "trace")) == 500


def test_characters_xml_cannot_carry_are_replaced():
    data = b"".join(xes_chunks(fake_rows(1, 1, name="Periksa\x01 <berkas> & \"tanda\""), {"key": "k", "name": "K"},
                               zone=WIT))
    event = etree.fromstring(data).find(f"{X}trace/{X}event")
    assert values(event)["concept:name"] == "Periksa\ufffd <berkas> & \"tanda\""


# --- CSV --------------------------------------------------------------------------------------------
def test_csv_has_the_same_rows_and_columns(history):
    engine, _ = history
    rows = engine.event_log("rework_loop")
    text = b"".join(engine.event_log_export("rework_loop", "csv")).decode("utf-8")
    lines = list(csv.DictReader(io.StringIO(text)))
    assert tuple(lines[0]) == COLUMNS and len(lines) == len(rows)
    first = lines[0]
    assert first["timestamp"] == "2026-11-30T08:00:00.000+09:00" and first["resource"] == ""
    assert [(line["case_id"], line["lifecycle"], line["instance"]) for line in lines] == [
        (r["case_id"], r["lifecycle"], r["instance"]) for r in rows]


def test_csv_is_written_in_pieces():
    chunks = list(csv_chunks(fake_rows(2000), COLUMNS, zone=ZoneInfo("UTC")))
    assert len(chunks) > 2 and b"".join(chunks).count(b"\n") == 6001


# --- the command --------------------------------------------------------------------------------------
@pytest.fixture
def cli_history(sqlite_url, tmp_path):
    engine = Engine(Database(sqlite_url), FixedClock(MONDAY_MORNING), Settings(database_url=sqlite_url))
    numbers = rework_history(engine)
    engine.db.dispose()
    return alur_env(sqlite_url, tmp_path), numbers


def test_the_command_writes_xes_and_csv(cli_history, tmp_path):
    env, numbers = cli_history
    done = ok(["export", "eventlog", "rework_loop", "--format", "xes", "--out", tmp_path / "log.xes"], env)
    assert "events of 4 case(s)" in done.stdout
    traces = etree.parse(str(tmp_path / "log.xes")).getroot().findall(X + "trace")
    assert len(traces) == 4
    ok(["export", "eventlog", "rework_loop", "--out", tmp_path / "log.csv", "--include-open",
        "--since", "2026-11-30", "--version", "1"], env)
    cases = {line["case_id"] for line in csv.DictReader((tmp_path / "log.csv").open(encoding="utf-8"))}
    assert numbers["c6"] in cases and len(cases) == 5


def test_the_command_refuses_in_one_line(cli_history, tmp_path):
    env, _ = cli_history
    assert "no_such_sop" in refused(["export", "eventlog", "no_such_sop", "--out", tmp_path / "a.xes"], env)
    assert ".xes or .csv" in refused(["export", "eventlog", "rework_loop", "--out", tmp_path / "a.txt"], env)
    assert "2026-13-01" in refused(["export", "eventlog", "rework_loop", "--out", tmp_path / "a.csv",
                                    "--since", "2026-13-01"], env)
    assert list(tmp_path.glob("a.*")) == [] and list(tmp_path.glob(".a.*")) == []


# --- the download -------------------------------------------------------------------------------------
def test_managers_download_xes_as_an_attachment(web, history):
    engine, _ = history
    response = sign_in(web, "pimpinan").get("/reports/eventlog/rework_loop.xes")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="eventlog-rework_loop-')
    assert response.is_streamed
    assert len(etree.fromstring(response.get_data()).findall(X + "trace")) == 4


def test_admins_download_csv_of_a_period_and_version(web, history):
    engine, numbers = history
    response = sign_in(web, "admin").get("/reports/eventlog/rework_loop.csv?since=2026-11-30&until=2026-12-01"
                                         "&version=1&open=1")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="eventlog-rework_loop-v1-' in response.headers["Content-Disposition"]
    assert numbers["c6"] in response.get_data(as_text=True)


def test_bad_downloads_are_refused_clearly(web, history):
    client = sign_in(web, "pimpinan")
    for url, code in [
            ("/reports/eventlog/no_such_sop.xes", 404), ("/reports/eventlog/rework_loop.pdf", 404),
            ("/reports/eventlog/rework_loop.xes?version=9", 404),
            ("/reports/eventlog/rework_loop.xes?since=kemarin", 400),
            ("/reports/eventlog/rework_loop.csv?version=satu", 400),
            ("/reports/eventlog/rework_loop.csv?since=2026-12-01&until=2026-11-01", 400)]:
        assert client.get(url).status_code == code, url


def test_staff_may_not_download(web, history):
    assert sign_in(web, "fo").get("/reports/eventlog/rework_loop.csv").status_code == 403
