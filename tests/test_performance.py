"""Measured performance per version: counts, the 24-hour share, case times, step times, rework, time shares."""
from datetime import timedelta

import pytest

from conftest import MONDAY_MORNING, add_staff
from workflow_engine.calendars import TwentyFourSeven
from workflow_engine.performance import percentile, scalars
from workflow_engine.sop_info import SopInfo

H, M = 3600, 60


def at(engine, seconds: float) -> None:
    engine.clock.set(MONDAY_MORNING + timedelta(seconds=seconds))


def ready_task(engine, case_id: int, step_id: str) -> int:
    return next(t["id"] for t in engine.tasks(case_id=case_id) if t["step_id"] == step_id)


@pytest.fixture
def office(engine, deploy):
    add_staff(engine, "fo", ["Front Office"])
    add_staff(engine, "pemohon", ["Pemohon"])
    add_staff(engine, "bo", ["Back Office"])
    return engine


@pytest.fixture
def rework(office, deploy):
    """Six rework_loop cases registered Monday 08:00 WIT with known times, and one practice case.

    c1 done in 30 min; c2 returned once (applicant 4 h), done after 6 h; c3 done after 30 h (missed);
    c5 returned then cancelled; c6 registered at 09:00 and still open; a practice case done at once.
    """
    engine = office
    deploy("rework_loop.bpmn")
    at(engine, 0)
    c1, c2, c3, c5 = (engine.start_case("rework_loop") for _ in range(4))
    practice = engine.start_case("rework_loop", practice=True, actor="fo")
    steps = [
        (10 * M, lambda: engine.claim(ready_task(engine, c1, "periksa"), user="fo")),
        (10 * M, lambda: engine.complete(ready_task(engine, practice, "periksa"), user="fo", data={"hasil": "selesai"})),
        (30 * M, lambda: engine.complete(ready_task(engine, c1, "periksa"), user="fo", data={"hasil": "selesai"})),
        (1 * H, lambda: engine.complete(ready_task(engine, c2, "periksa"), user="fo", data={"hasil": "ulang"})),
        (1 * H, lambda: engine.start_case("rework_loop")),
        (2 * H, lambda: engine.complete(ready_task(engine, c5, "periksa"), user="fo", data={"hasil": "ulang"})),
        (3 * H, lambda: engine.cancel(c5, user="fo", reason="test")),
        (5 * H, lambda: engine.complete(ready_task(engine, c2, "perbaiki"), user="pemohon")),
        (5 * H + 30 * M, lambda: engine.claim(ready_task(engine, c2, "periksa"), user="fo")),
        (6 * H, lambda: engine.complete(ready_task(engine, c2, "periksa"), user="fo", data={"hasil": "selesai"})),
        (29 * H, lambda: engine.claim(ready_task(engine, c3, "periksa"), user="fo")),
        (30 * H, lambda: engine.complete(ready_task(engine, c3, "periksa"), user="fo", data={"hasil": "selesai"})),
    ]
    for offset, action in steps:
        at(engine, offset)
        action()
    return engine, (c1, c2, c3, c5)


def test_percentile_interpolates_between_ranks():
    assert percentile([], 0.5) is None
    assert percentile([5], 0.9) == 5
    assert percentile([4, 1, 3, 2], 0.5) == 2.5
    assert percentile([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9) == 90
    assert percentile([1800, 7200, 108000], 0.9) == pytest.approx(87840)


def test_cases_are_counted_without_practice(rework):
    engine, _ = rework
    figures = engine.measured("rework_loop", 1)
    assert figures["cases"] == {"started": 5, "completed": 3, "cancelled": 1, "open": 1}
    assert figures["basis"]["practice_cases"] == "excluded"


def test_share_meeting_the_limit_matches_the_case_pages(rework):
    engine, cases = rework
    compliance = engine.measured("rework_loop", 1)["compliance"]
    assert (compliance["met"], compliance["missed"], compliance["met_share"]) == (2, 1, 0.6667)
    states = [engine.case(c)["sla_state"] for c in cases]
    assert states == ["met", "met", "missed", None]


def test_case_time_on_calendar_and_working_hours(rework):
    engine, _ = rework
    figures = engine.measured("rework_loop", 1)
    # Net of the applicant's 4 h: 30 min, 2 h, 30 h on the calendar; 30 min, 2 h, 8 h + 6 h at the office.
    assert figures["case_time"]["calendar"] == {"n": 3, "median": 2 * H, "p90": 87840}
    assert figures["case_time"]["working"] == {"n": 3, "median": 2 * H, "p90": 41760}
    assert figures["lead_time"] == {"n": 3, "median": 6 * H, "p90": 90720}
    histogram = figures["case_time"]["histogram"]
    assert histogram["edges_seconds"][:3] == [0, 4 * H, 8 * H] and len(histogram["counts"]) == 13
    assert histogram["counts"][0] == 2 and histogram["counts"][7] == 1 and sum(histogram["counts"]) == 3


def test_step_wait_work_and_budget(rework):
    engine, _ = rework
    steps = {s["step_id"]: s for s in engine.measured("rework_loop", 1)["steps"]}
    periksa = steps["periksa"]
    # Runs of closed cases: c1 (10 m wait, 20 m work), c2 twice (1 h, 0; 30 m, 30 m), c3 (29 h, 1 h), c5 (2 h, 0).
    assert periksa["runs"] == 5 and periksa["budget_seconds"] == 30 * M
    assert (periksa["wait_median"], periksa["work_median"], periksa["duration_median"]) == (1 * H, 20 * M, 1 * H)
    assert periksa["over_budget_share"] == 0.8  # all but c1, which took exactly its 30 minutes
    perbaiki = steps["perbaiki"]
    assert perbaiki["runs"] == 1 and perbaiki["pauses_clock"] and perbaiki["wait_median"] == 4 * H
    assert perbaiki["over_budget_share"] == 0.0
    assert list(steps) == ["periksa", "perbaiki"]


def test_rework_and_returned_files(rework):
    engine, _ = rework
    assert engine.measured("rework_loop", 1)["rework"] == {
        "cases": 4, "reworked": 1, "rework_share": 0.25, "returned": 2, "returned_share": 0.5}


def test_where_the_time_goes(rework):
    engine, _ = rework
    share = engine.measured("rework_loop", 1)["time_share"]
    assert share["total_seconds"] == 30 * M + 6 * H + 30 * H
    rows = {r["step_id"]: r for r in share["steps"]}
    assert rows["periksa"]["seconds"] == 30 * M + 2 * H + 30 * H
    assert rows["perbaiki"]["seconds"] == 4 * H and rows["perbaiki"]["pauses_clock"]
    assert share["paused_share"] == round(4 * H / (36 * H + 30 * M), 4) and share["idle_share"] == 0.0


def test_since_and_until_select_cases_by_registration(rework):
    engine, _ = rework
    later = engine.measured("rework_loop", 1, since=MONDAY_MORNING + timedelta(minutes=1))
    assert later["cases"] == {"started": 1, "completed": 0, "cancelled": 0, "open": 1}
    assert later["compliance"]["met_share"] is None and later["case_time"]["calendar"]["median"] is None
    earlier = engine.measured("rework_loop", 1, until=MONDAY_MORNING + timedelta(minutes=1))
    assert earlier["cases"]["started"] == 4


def test_parallel_steps_share_their_time(office, deploy):
    engine = office
    add_staff(engine, "teknis", ["Tim Teknis"])
    add_staff(engine, "kadin", ["Kepala Dinas"])
    deploy("parallel.bpmn")
    at(engine, 0)
    case = engine.start_case("parallel")
    at(engine, 2 * H)
    engine.complete(ready_task(engine, case, "cek_administrasi"), user="bo")
    at(engine, 4 * H)
    engine.complete(ready_task(engine, case, "survei_lapangan"), user="teknis")
    at(engine, 5 * H)
    engine.complete(ready_task(engine, case, "tanda_tangan"), user="kadin")
    rows = {r["step_id"]: r["seconds"] for r in engine.measured("parallel")["time_share"]["steps"]}
    assert rows == {"cek_administrasi": 1 * H, "survei_lapangan": 3 * H, "tanda_tangan": 1 * H}


def test_a_working_hours_sop_counts_from_its_clock_start(office, deploy):
    engine = office
    deploy("clock_start.bpmn")
    at(engine, 0)
    case = engine.start_case("clock_start")
    for offset, step, user in ((1 * H, "berkas_lengkap", "fo"), (7 * H, "proses", "bo"), (26 * H, "terbitkan", "fo")):
        at(engine, offset)
        engine.complete(ready_task(engine, case, step), user=user)
    figures = engine.measured("clock_start")
    # Clock from Monday 09:00 to Tuesday 10:00: 25 h on the calendar, 7 h + 2 h of office hours (> 8 h).
    assert figures["case_time"]["calendar"]["median"] == 25 * H
    assert figures["case_time"]["working"]["median"] == 9 * H
    assert figures["compliance"]["missed"] == 1 and engine.case(case)["sla_state"] == "missed"
    assert figures["compliance"]["calendar"] == "jam-kerja"


def test_scalars_flatten_the_comparable_numbers(rework):
    engine, _ = rework
    flat = scalars(engine.measured("rework_loop", 1))
    assert flat["met_share"] == 0.6667 and flat["case_time_calendar_median"] == 2 * H
    assert flat["cases_started"] == 5 and flat["rework_share"] == 0.25
    assert scalars(None)["met_share"] is None


def test_measure_needs_no_database_for_an_empty_version():
    from datetime import datetime, timezone

    from workflow_engine.performance import measure

    info = SopInfo(key="k", name="K")
    figures = measure([], [], info=info, calendar=TwentyFourSeven(), working=TwentyFourSeven(),
                      at_risk_share=0.75, as_of=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert figures["cases"]["started"] == 0 and figures["compliance"]["met_share"] is None
    assert figures["steps"] == [] and figures["rework"]["rework_share"] is None


# --- the compare page's measured partial -----------------------------------------------------------

@pytest.fixture
def app(engine):
    from web.app import create_app

    return create_app(engine.settings, engine, config={"TESTING": True})


def render_measured(app, comparison, language="id") -> str:
    from flask import render_template

    with app.test_request_context(f"/?lang={language}"):
        return render_template("compare/_measured.html", measured={
            "a": comparison["a"]["measured"], "b": comparison["b"]["measured"],
            "delta": comparison["delta"]["measured"]})


def test_measured_partial_shows_tables_and_hands_the_charts_their_data(rework, app):
    import json
    import re

    engine, _ = rework
    html = render_measured(app, engine.compare("rework_loop", 1, 1))
    assert "Kinerja terukur" in html and "66.7 %" in html and "2 dari 3" in html
    assert "style=" not in html and "<script>" not in html  # CSP: no inline script or style
    data = json.loads(re.search(r'<script type="application/json" id="measured-data">(.*?)</script>', html, re.S).group(1))
    assert data["a"]["compliance"]["met"] == 2 and data["labels"] == {"a": "Versi 1", "b": "Versi 1"}
    assert 'data-chart-src="/static/vendor/chartjs/chart.umd.min.js"' in html
    assert "Measured performance" in render_measured(app, engine.compare("rework_loop", 1, 1), "en")


def test_a_draft_side_has_metrics_but_nothing_measured(rework, app):
    from conftest import FIXTURES

    engine, _ = rework
    draft = engine.create_draft((FIXTURES / "rework_loop.bpmn").read_bytes(), "rework_loop.bpmn", author="analis")
    comparison = engine.compare("rework_loop", 1, f"d{draft}")
    assert comparison["b"]["draft"] == draft and comparison["b"]["measured"] is None
    assert comparison["b"]["metrics"]["steps"] == 2 and comparison["delta"]["metrics"]["steps"] == 0
    assert comparison["delta"]["measured"]["met_share"] is None
    html = render_measured(app, comparison)
    assert "Draf belum menjalankan kasus" in html
