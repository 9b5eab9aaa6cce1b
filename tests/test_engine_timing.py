"""Per-step times, budgets, the case deadline and SLA states, as of any moment."""
from datetime import date, datetime, timedelta

import pytest

from conftest import WIT, add_staff
from workflow_engine import InvalidState


@pytest.fixture
def people(engine):
    for name, lanes in [("fo", ["Front Office"]), ("bo", ["Back Office"]), ("pemohon", ["Pemohon"])]:
        add_staff(engine, name, lanes)
    return engine


def only_ready(engine, case_id):
    [task] = engine.tasks(case_id=case_id)
    return task


def at(*args):
    return datetime(*args, tzinfo=WIT)


def test_step_records_ready_claim_and_completion(people, deploy, clock):
    deploy("linear3.bpmn")
    case_id = people.start_case("linear3")
    task = only_ready(people, case_id)
    clock.advance(minutes=5)
    people.claim(task["id"], user="fo")
    clock.advance(minutes=20)
    people.complete(task["id"], user="fo", data={
        "nama_pemohon": "Yakobus", "jumlah_berkas": 1, "jenis_layanan": "baru",
        "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"})
    step = people.case(case_id)["tasks"][0]
    assert step["ready_at"] == "2026-11-30T08:00:00+09:00"
    assert step["claimed_at"] == "2026-11-30T08:05:00+09:00"
    assert step["completed_at"] == "2026-11-30T08:25:00+09:00"
    assert (step["claimed_by"], step["completed_by"]) == ("fo", "fo")
    assert (step["wait_seconds"], step["work_seconds"], step["duration_seconds"]) == (300, 1200, 1500)
    assert step["budget_seconds"] == 900 and step["over_budget"] is True


def test_deadline_is_24_hours_after_registration(people, deploy):
    deploy("parallel.bpmn")
    view = people.case(people.start_case("parallel"))
    assert view["deadline"] == "2026-12-01T08:00:00+09:00"
    assert view["sla_state"] == "on_track"


@pytest.mark.parametrize("hours,state", [(1, "on_track"), (17.9, "on_track"), (18, "at_risk"),
                                         (23.9, "at_risk"), (24.1, "breached")])
def test_open_case_states_as_of(people, deploy, hours, state):
    deploy("parallel.bpmn")
    case_id = people.start_case("parallel")
    view = people.case(case_id, as_of=at(2026, 11, 30, 8) + timedelta(hours=hours))
    assert view["sla_state"] == state


def _finish_parallel(engine, case_id, clock, hours):
    add_staff(engine, "teknis", ["Tim Teknis"])
    add_staff(engine, "kadin", ["Kepala Dinas"])
    for task in engine.tasks(case_id=case_id):
        engine.complete(task["id"], user="bo" if task["lane"] == "Back Office" else "teknis")
    clock.advance(hours=hours)
    engine.complete(only_ready(engine, case_id)["id"], user="kadin")


def test_met_when_closed_in_time(people, deploy, clock):
    deploy("parallel.bpmn")
    case_id = people.start_case("parallel")
    _finish_parallel(people, case_id, clock, hours=20)
    view = people.case(case_id, as_of=at(2026, 12, 5, 8))
    assert (view["status"], view["sla_state"]) == ("completed", "met")


def test_missed_when_closed_late(people, deploy, clock):
    deploy("parallel.bpmn")
    case_id = people.start_case("parallel")
    _finish_parallel(people, case_id, clock, hours=30)
    assert people.case(case_id)["sla_state"] == "missed"
    # ...and as of the 20th hour it was still running and at risk
    earlier = people.case(case_id, as_of=at(2026, 12, 1, 4))
    assert (earlier["status"], earlier["sla_state"]) == ("running", "at_risk")


def test_applicant_step_pauses_the_clock(people, deploy, clock):
    deploy("rework_loop.bpmn")
    case_id = people.start_case("rework_loop")
    clock.advance(hours=2)
    people.complete(only_ready(people, case_id)["id"], user="fo", data={"hasil": "ulang"})
    fix = only_ready(people, case_id)
    assert fix["pauses_clock"] and fix["lane"] == "Pemohon"
    paused = people.case(case_id, as_of=at(2026, 11, 30, 20))
    assert paused["sla"]["paused"] is True
    assert paused["sla"]["used_seconds"] == 2 * 3600
    clock.advance(hours=30)  # the applicant takes 30 hours to fix the file
    people.complete(fix["id"], user="pemohon")
    view = people.case(case_id)
    assert view["sla"]["paused_seconds"] == 30 * 3600
    assert view["deadline"] == "2026-12-02T14:00:00+09:00"  # 24 h + 30 h paused
    assert view["sla_state"] == "on_track"


def test_the_deadline_moves_while_the_pause_lasts(people, deploy, clock):
    deploy("rework_loop.bpmn")
    case_id = people.start_case("rework_loop")
    people.complete(only_ready(people, case_id)["id"], user="fo", data={"hasil": "ulang"})
    first = people.case(case_id, as_of=at(2026, 11, 30, 10))["deadline"]
    later = people.case(case_id, as_of=at(2026, 12, 2, 10))
    assert first == "2026-12-01T10:00:00+09:00"
    assert later["deadline"] == "2026-12-03T10:00:00+09:00"
    assert later["sla_state"] == "on_track"  # waiting on the applicant is not a breach


def test_clock_starts_after_the_named_step(people, deploy, clock):
    deploy("clock_start.bpmn")
    case_id = people.start_case("clock_start")
    before = people.case(case_id)
    assert before["deadline"] is None and before["clock_started_at"] is None
    clock.advance(hours=3)
    people.complete(only_ready(people, case_id)["id"], user="fo")
    view = people.case(case_id)
    assert view["clock_started_at"] == "2026-11-30T11:00:00+09:00"
    # 8 working hours from Monday 11:00: 5 h on Monday (to 16:00) and 3 h on Tuesday
    assert view["deadline"] == "2026-12-01T11:00:00+09:00"


def test_working_hours_skip_a_weekend_and_a_national_holiday(people, deploy, clock):
    deploy("clock_start.bpmn")
    clock.set(at(2026, 12, 23, 14))  # Wednesday; 24 Dec is cuti bersama, 25 Dec Christmas
    case_id = people.start_case("clock_start")
    people.complete(only_ready(people, case_id)["id"], user="fo")
    view = people.case(case_id)
    # 2 h on Wednesday, then Monday 28 December from 08:00 for 6 h
    assert view["deadline"] == "2026-12-28T14:00:00+09:00"
    friday = people.case(case_id, as_of=at(2026, 12, 25, 12))
    assert friday["sla"]["used_seconds"] == 2 * 3600
    assert friday["sla_state"] == "on_track"


def test_a_local_holiday_moves_the_deadline(people, deploy, clock):
    people.add_holiday(date(2026, 12, 1), "HUT Kabupaten (contoh)")
    deploy("clock_start.bpmn")
    case_id = people.start_case("clock_start")
    clock.advance(hours=3)
    people.complete(only_ready(people, case_id)["id"], user="fo")
    assert people.case(case_id)["deadline"] == "2026-12-02T11:00:00+09:00"


def test_as_of_shows_the_case_as_it_stood(people, deploy, clock):
    deploy("linear3.bpmn")
    case_id = people.start_case("linear3")
    clock.advance(hours=1)
    people.complete(only_ready(people, case_id)["id"], user="fo", data={
        "nama_pemohon": "Yakobus", "jumlah_berkas": 1, "jenis_layanan": "baru",
        "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"})
    then = people.case(case_id, as_of=at(2026, 11, 30, 8, 30))
    assert [t["state"] for t in then["tasks"]] == ["ready"]
    assert then["tasks"][0]["completed_by"] is None
    assert then["tasks"][0]["duration_seconds"] == 1800
    now = people.case(case_id)
    assert [t["state"] for t in now["tasks"]] == ["completed", "ready"]


def test_as_of_before_registration_is_refused(people, deploy):
    deploy("linear3.bpmn")
    case_id = people.start_case("linear3")
    with pytest.raises(InvalidState, match="registered at"):
        people.case(case_id, as_of=at(2026, 11, 29, 8))


def test_timestamps_carry_the_office_offset(people, deploy):
    deploy("linear3.bpmn")
    view = people.case(people.start_case("linear3"))
    assert view["started_at"].endswith("+09:00")
    assert datetime.fromisoformat(view["deadline"]).utcoffset() == timedelta(hours=9)
