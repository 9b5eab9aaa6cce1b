"""Dashboard figures on a hand-built history: open cases by SLA state, weekly compliance, step medians,
lane workload, the heatmap, the monthly report; filters; practice cases never counted. Both databases."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from conftest import MONDAY_MORNING, WIT, add_staff, fixture_bytes
from dashboard_history import H, M, build, ready_task
from workflow_engine import InvalidState, NotFound, store_dashboard
from workflow_engine.dashboard import heat_level, week_label
from workflow_engine.dashboard_report import parse_month


@pytest.fixture
def history(engine, deploy):
    return engine, build(engine, deploy)


def by_key(rows, key="rework_loop"):
    return next(r for r in rows if r["key"] == key)


# --- open cases now -----------------------------------------------------------------------------
def test_open_cases_by_state_match_the_case_pages(history):
    engine, ids = history
    now = engine.sla_now()
    assert now["total"] == {"on_track": 2, "at_risk": 1, "breached": 2, "paused": 2, "open": 5}
    pages = {name: engine.case(ids[name], with_tasks=False)["sla_state"]
             for name in ("ok", "risk", "late", "paused", "paused_late")}
    assert pages == {"ok": "on_track", "risk": "at_risk", "late": "breached", "paused": "on_track",
                     "paused_late": "breached"}
    assert by_key(now["sops"])["name"] == "Uji perulangan perbaikan"


def test_a_paused_case_is_judged_by_its_clock_not_its_stale_deadline(history):
    engine, ids = history
    # The stored deadline was computed when the pause began (2 h) and has not moved since.
    assert engine.case(ids["paused"], with_tasks=False)["sla"]["paused"] is True
    urgent = {c["registration_number"]: c for c in engine.urgent_cases()}
    paused = engine.case(ids["paused"], with_tasks=False)["registration_number"]
    assert paused not in urgent


def test_urgent_cases_most_overdue_first_with_who_holds_them(history):
    engine, ids = history
    urgent = engine.urgent_cases()
    numbers = [engine.case(ids[n], with_tasks=False)["registration_number"] for n in ("paused_late", "late", "risk")]
    assert [c["registration_number"] for c in urgent] == numbers
    assert [c["state"] for c in urgent] == ["breached", "breached", "at_risk"]
    late = urgent[1]
    assert [(h["step"], h["lane"], h["claimed_by"]) for h in late["holders"]] == [("Periksa", "Front Office", "fo")]
    assert datetime.fromisoformat(late["holders"][0]["ready_at"]) == MONDAY_MORNING + timedelta(hours=1)
    assert urgent[0]["holders"][0]["lane"] == "Pemohon" and urgent[0]["holders"][0]["claimed_by"] is None
    assert urgent[0]["paused"] is True and late["paused"] is False
    assert late["overdue_seconds"] == 6 * H  # deadline 25 h, now 31 h
    assert engine.urgent_cases(limit=1)[0]["registration_number"] == numbers[0]


def test_lane_workload(history):
    engine, _ = history
    lanes = {r["lane"]: r for r in engine.lane_workload()}
    assert set(lanes) == {"Front Office", "Pemohon"}
    assert (lanes["Front Office"]["open"], lanes["Front Office"]["claimed"], lanes["Front Office"]["unclaimed"]) == (3, 1, 2)
    assert lanes["Front Office"]["oldest_age_seconds"] == 30 * H
    assert (lanes["Pemohon"]["open"], lanes["Pemohon"]["claimed"]) == (2, 0)
    assert lanes["Pemohon"]["oldest_age_seconds"] == 29 * H


# --- over a period ------------------------------------------------------------------------------
def test_weekly_compliance_counts_completed_cases_by_their_week(history):
    engine, _ = history
    weekly = engine.compliance_by_week()
    assert weekly["weeks"] == [{"index": weekly["weeks"][0]["index"], "week": "2026-W49", "start": "2026-11-30"}]
    assert by_key(weekly["sops"])["weeks"] == [{"met": 2, "missed": 1, "share": 0.6667}]
    assert weekly["total"] == [{"met": 2, "missed": 1, "share": 0.6667}]


def test_weekly_compliance_agrees_with_the_measured_figures(history):
    engine, _ = history
    measured = engine.measured("rework_loop")["compliance"]
    row = by_key(engine.compliance_by_week()["sops"])
    assert (row["met"], row["missed"]) == (measured["met"], measured["missed"])


def test_a_week_ends_on_sunday_midnight_in_the_office_zone(engine, deploy):
    build(engine, deploy)
    sunday_late = datetime(2026, 12, 6, 23, 0, tzinfo=WIT)
    for start, done in ((sunday_late, sunday_late + timedelta(minutes=30)),
                        (sunday_late + timedelta(minutes=70), sunday_late + timedelta(minutes=90)),
                        (datetime(2026, 12, 21, 9, 0, tzinfo=WIT), datetime(2026, 12, 21, 9, 20, tzinfo=WIT))):
        engine.clock.set(start)
        case = engine.start_case("rework_loop")
        engine.clock.set(done)
        engine.complete(ready_task(engine, case, "periksa"), user="fo", data={"hasil": "selesai"})
    weekly = engine.compliance_by_week()
    assert [w["week"] for w in weekly["weeks"]] == ["2026-W49", "2026-W50", "2026-W51", "2026-W52"]
    assert [c["met"] + c["missed"] for c in weekly["total"]] == [4, 1, 0, 1]
    assert weekly["total"][2]["share"] is None


def test_the_period_bounds_the_weeks_shown(history):
    engine, _ = history
    since = datetime(2026, 11, 16, tzinfo=WIT)
    weekly = engine.compliance_by_week(since=since, until=datetime(2026, 12, 14, tzinfo=WIT))
    assert [w["week"] for w in weekly["weeks"]] == ["2026-W47", "2026-W48", "2026-W49", "2026-W50"]
    assert [c["met"] + c["missed"] for c in weekly["total"]] == [0, 0, 3, 0]
    # Only c3 closed on Tuesday.
    tuesday = engine.compliance_by_week(since=datetime(2026, 12, 1, tzinfo=WIT))
    assert tuesday["total"] == [{"met": 0, "missed": 1, "share": 0.0}]


def test_step_medians_wait_work_and_budget(history):
    engine, _ = history
    steps = {s["step_id"]: s for s in engine.step_times()}
    periksa = steps["periksa"]
    # Seven real runs: 30 m, 1 h, 2 h, 2 h, 1 h, 25 h, 30 h (practice's 10 m left out).
    assert (periksa["runs"], periksa["duration_median"], periksa["wait_median"], periksa["work_median"]) == \
        (7, 2 * H, 2 * H, 0)
    assert periksa["budget_seconds"] == 30 * M and periksa["level"] == "over" and periksa["budget_ratio"] == 4
    assert (steps["perbaiki"]["runs"], steps["perbaiki"]["duration_median"], steps["perbaiki"]["level"]) == \
        (1, 4 * H, "applicant")


def test_an_even_count_takes_the_mean_of_the_middle_two(history):
    engine, _ = history
    since = MONDAY_MORNING + timedelta(hours=16)
    periksa = next(s for s in engine.step_times(since=since) if s["step_id"] == "periksa")
    assert (periksa["runs"], periksa["duration_median"]) == (2, 27.5 * H)


def test_heatmap_colours_every_step_of_the_version(history):
    engine, _ = history
    heat = engine.heatmap("rework_loop")
    assert heat["version"] == 1 and heat["calendar"] == "24x7"
    levels = {s["step_id"]: (s["level"], s["runs"]) for s in heat["steps"]}
    assert levels == {"periksa": ("over", 7), "perbaiki": ("applicant", 1)}


@pytest.mark.parametrize("median, budget, pauses, level", [
    (None, 100, False, "none"), (10, None, False, "none"), (74, 100, False, "ok"), (75, 100, False, "near"),
    (100, 100, False, "near"), (101, 100, False, "over"), (500, 100, True, "applicant")])
def test_heat_levels(median, budget, pauses, level):
    assert heat_level(median, budget, pauses) == level


def test_week_labels_are_iso_weeks():
    assert week_label(0) == {"index": 0, "week": "1970-W02", "start": "1970-01-05"}


# --- filters ------------------------------------------------------------------------------------
def test_filters_by_sop_and_version(history, deploy):
    engine, _ = history
    deploy("linear3.bpmn")
    engine.start_case("linear3")
    assert engine.sla_now()["total"]["open"] == 6
    assert engine.sla_now(key="rework_loop")["total"]["open"] == 5
    assert engine.sla_now(key="linear3")["total"] == {"on_track": 1, "at_risk": 0, "breached": 0, "paused": 0, "open": 1}
    assert engine.sla_now(key="rework_loop", version=1)["total"]["open"] == 5
    assert {r["lane"] for r in engine.lane_workload(key="linear3")} == {"Front Office"}
    assert engine.compliance_by_week(key="linear3")["sops"] == []
    with pytest.raises(NotFound):
        engine.sla_now(key="rework_loop", version=2)
    with pytest.raises(InvalidState):
        engine.sla_now(version=1)
    with pytest.raises(InvalidState):
        engine.compliance_by_week(since=MONDAY_MORNING, until=MONDAY_MORNING)


def test_practice_cases_never_count(history):
    engine, ids = history
    figures = engine.dashboard()
    practice = {engine.case(ids[n], with_tasks=False)["registration_number"] for n in ("practice_done", "practice_open")}
    assert not practice & {c["registration_number"] for c in figures["urgent"]}
    assert figures["open"]["total"]["open"] == 5
    assert sum(s["runs"] for s in figures["steps"] if s["step_id"] == "periksa") == 7


def test_the_dashboard_holds_every_figure_as_of_now(history):
    engine, _ = history
    figures = engine.dashboard()
    assert figures["as_of"] == engine.now().isoformat()
    assert set(figures) >= {"open", "urgent", "compliance", "steps", "lanes", "since", "at_risk_share"}
    # The default period starts on the Monday eleven weeks before this week's.
    assert datetime.fromisoformat(figures["since"]).astimezone(WIT) == datetime(2026, 9, 14, tzinfo=WIT)
    assert figures["steps"][0]["version"] == 1


# --- the monthly report -------------------------------------------------------------------------
def test_monthly_report_november(history):
    engine, _ = history
    report = engine.monthly_report("2026-11")
    row = by_key(report["sops"])
    assert {k: row[k] for k in ("received", "completed", "met", "missed", "open", "breached")} == \
        {"received": 8, "completed": 2, "met": 2, "missed": 0, "open": 4, "breached": 2}
    assert row["met_share"] == 1.0 and row["median_case_seconds"] == 75 * M  # 30 m and 2 h
    assert row["limit_seconds"] == 24 * H
    assert report["total"]["received"] == 8 and report["total"]["median_case_seconds"] == 75 * M
    assert datetime.fromisoformat(report["since"]) == datetime(2026, 11, 1, tzinfo=WIT)
    assert datetime.fromisoformat(report["until"]) == datetime(2026, 12, 1, tzinfo=WIT)


def test_monthly_report_december_and_an_empty_month(history):
    engine, _ = history
    december = by_key(engine.monthly_report("2026-12")["sops"])
    assert {k: december[k] for k in ("received", "completed", "met", "missed", "open", "breached")} == \
        {"received": 1, "completed": 1, "met": 0, "missed": 1, "open": 1, "breached": 0}
    assert december["median_case_seconds"] == 30 * H and december["met_share"] == 0.0
    empty = engine.monthly_report("2026-01")
    assert by_key(empty["sops"])["received"] == 0 and empty["total"]["met_share"] is None


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "11-2026", "", "2026-1", "abcd-ef"])
def test_a_bad_month_is_refused_with_the_expected_form(text):
    with pytest.raises(InvalidState, match="YYYY-MM"):
        parse_month(text)


def test_on_working_hours_a_case_closed_after_hours_at_its_limit_met_it(engine, deploy):
    build(engine, deploy)
    add_staff(engine, "bo", ["Back Office"])
    deploy("clock_start.bpmn")
    monday = datetime(2026, 11, 30, 7, 0, tzinfo=WIT)
    outcomes = {}
    for name, done in (("evening", monday + timedelta(hours=11)), ("tuesday", monday + timedelta(hours=25, minutes=30))):
        engine.clock.set(monday)
        case = engine.start_case("clock_start")
        # The clock starts at 07:00, counts from 08:00 and reaches 8 h at 16:00, the end of the office day.
        engine.complete(ready_task(engine, case, "berkas_lengkap"), user="fo")
        engine.clock.set(done - timedelta(minutes=1))
        for step in ("proses", "terbitkan"):
            task = next(t for t in engine.tasks(case_id=case) if t["step_id"] == step)
            engine.complete(task["id"], user="fo" if task["lane"] != "Back Office" else "bo")
            engine.clock.set(done)
        outcomes[name] = engine.case(case, with_tasks=False)["sla_state"]
    assert outcomes == {"evening": "met", "tuesday": "missed"}
    row = by_key(engine.compliance_by_week(key="clock_start")["sops"], "clock_start")
    assert (row["met"], row["missed"]) == (1, 1)
    assert by_key(engine.monthly_report("2026-12")["sops"], "clock_start")["met"] == 0


def test_step_medians_read_here_or_walked_in_the_index_agree(history, monkeypatch):
    """Small periods are read and sorted here, years of rows walked in the index (SQLite): same medians."""
    engine, _ = history
    add_staff(engine, "fo2", ["Front Office", "Pemohon"])
    v2 = fixture_bytes("rework_loop.bpmn").replace(b'name="Periksa"', b'name="Periksa berkas"')
    engine.deploy(v2, "rework_loop.bpmn")
    for hours in (3, 5):
        case_id = engine.start_case("rework_loop")
        engine.clock.advance(hours=hours)
        [task] = engine.tasks(case_id=case_id)
        engine.complete(task["id"], user="fo2", data={"hasil": "selesai"})
    since = MONDAY_MORNING + timedelta(hours=16)
    asked = [{}, {"by_version": True}, {"since": since}, {"key": "rework_loop", "version": 2}]
    read = [engine.step_times(**kwargs) for kwargs in asked]
    monkeypatch.setattr(store_dashboard, "READ_AT_MOST", 0)
    walked = [engine.step_times(**kwargs) for kwargs in asked]
    assert walked == read
    merged = next(s for s in read[0] if s["step_id"] == "periksa")
    assert merged["runs"] == 9 and merged["name"] == "Periksa berkas"
