"""BPMN constructs through the engine: inclusive gateways, subprocesses, call activities, timers, loops."""
from datetime import timedelta

import pytest

from conftest import add_staff
from workflow_engine.models import Case


@pytest.fixture
def office(engine):
    for name, lanes in [("fo", ["Front Office"]), ("bo", ["Back Office"]), ("teknis", ["Tim Teknis"]),
                        ("kabid", ["Kepala Bidang"]), ("pemohon", ["Pemohon"])]:
        add_staff(engine, name, lanes)
    return engine


def ready(engine, case_id):
    return {t["step_id"]: t for t in engine.tasks(case_id=case_id)}


LANE_USER = {"Front Office": "fo", "Back Office": "bo", "Tim Teknis": "teknis",
             "Kepala Bidang": "kabid", "Pemohon": "pemohon"}


def complete(engine, task, **data):
    return engine.complete(task["id"], user=LANE_USER[task["lane"]], data=data)


@pytest.mark.parametrize("choice,expected", [
    ({"perlu_dinkes": True, "perlu_pupr": False, "perlu_lh": True},
     {"rekomendasi_dinkes", "rekomendasi_lh"}),
    ({"perlu_dinkes": False, "perlu_pupr": True, "perlu_lh": False}, {"rekomendasi_pupr"}),
    ({"perlu_dinkes": False, "perlu_pupr": False, "perlu_lh": False}, {"tanpa_rekomendasi"}),
])
def test_inclusive_gateway_opens_the_chosen_branches(office, deploy, choice, expected):
    deploy("inclusive.bpmn")
    case_id = office.start_case("inclusive")
    complete(office, ready(office, case_id)["pilih_rekomendasi"], **choice)
    branches = ready(office, case_id)
    assert set(branches) == expected
    for task in branches.values():
        complete(office, task)
    assert list(ready(office, case_id)) == ["terbitkan"]
    complete(office, ready(office, case_id)["terbitkan"])
    assert office.case(case_id)["status"] == "completed"


def test_embedded_subprocess_tasks_get_rows(office, deploy):
    deploy("subprocess.bpmn")
    case_id = office.start_case("subprocess")
    complete(office, ready(office, case_id)["terima"])
    inner = ready(office, case_id)
    assert list(inner) == ["periksa_dokumen"] and inner["periksa_dokumen"]["lane"] == "Back Office"
    complete(office, inner["periksa_dokumen"])
    complete(office, ready(office, case_id)["periksa_lapangan"])
    complete(office, ready(office, case_id)["terbitkan"])
    assert office.case(case_id)["status"] == "completed"


def test_call_activity_runs_the_called_process(office, deploy):
    deploy("call_activity.bpmn")
    case_id = office.start_case("call_activity")
    complete(office, ready(office, case_id)["ajukan"], nama_pemohon="Maria")
    called = ready(office, case_id)["beri_rekomendasi"]
    assert called["lane"] == "Tim Teknis" and called["budget_seconds"]
    complete(office, called, rekomendasi="layak")
    complete(office, ready(office, case_id)["terbitkan"])
    view = office.case(case_id)
    assert view["status"] == "completed"
    assert view["data"]["rekomendasi"] == "layak"


def test_boundary_timer_fires_on_the_engine_clock(office, deploy, clock):
    deploy("boundary_timer.bpmn")
    case_id = office.start_case("boundary_timer")
    assert ready(office, case_id)["tunggu_rekomendasi"]["lane"] == "Back Office"
    with office.db.read() as s:
        from workflow_engine.models import Case
        due = s.get(Case, case_id).next_timer_at
    assert due == clock.now() + timedelta(hours=2)
    clock.advance(minutes=119)
    assert office.fire_due_timers() == 0
    assert list(ready(office, case_id)) == ["tunggu_rekomendasi"]
    clock.advance(minutes=2)
    assert office.fire_due_timers() == 1
    tasks = {t["step_id"]: t for t in office.case(case_id)["tasks"]}
    assert tasks["tunggu_rekomendasi"]["state"] == "cancelled"
    assert tasks["eskalasi_rekomendasi"]["state"] == "ready"
    assert tasks["eskalasi_rekomendasi"]["ready_at"] == "2026-11-30T10:01:00+09:00"
    assert office.fire_due_timers() == 0  # nothing fires twice
    complete(office, ready(office, case_id)["eskalasi_rekomendasi"], catatan_eskalasi="ditagih")
    complete(office, ready(office, case_id)["terbitkan_izin"])
    assert office.case(case_id)["status"] == "completed"


def test_completing_before_the_timer_cancels_it(office, deploy, clock):
    deploy("boundary_timer.bpmn")
    case_id = office.start_case("boundary_timer")
    complete(office, ready(office, case_id)["tunggu_rekomendasi"], nomor_rekomendasi="REK/01")
    clock.advance(hours=3)
    assert office.fire_due_timers() == 0
    assert list(ready(office, case_id)) == ["terbitkan_izin"]


def test_rework_loop_records_each_iteration(office, deploy):
    deploy("rework_loop.bpmn")
    case_id = office.start_case("rework_loop")
    for _ in range(3):
        complete(office, ready(office, case_id)["periksa"], hasil="ulang")
        complete(office, ready(office, case_id)["perbaiki"])
    complete(office, ready(office, case_id)["periksa"], hasil="selesai")
    view = office.case(case_id)
    assert view["status"] == "completed"
    assert [t["iteration"] for t in view["tasks"] if t["step_id"] == "periksa"] == [1, 2, 3, 4]
    assert [t["iteration"] for t in view["tasks"] if t["step_id"] == "perbaiki"] == [1, 2, 3]


@pytest.mark.slow
def test_a_long_rework_loop_runs_past_spiffworkflows_depth_limit_and_then_ends(engine, deploy):
    """Unpruned, SpiffWorkflow would hide tasks deeper than 1000 levels (about 250 rounds) and call the case complete."""
    add_staff(engine, "fo", ["Front Office", "Pemohon"])
    deploy("rework_loop.bpmn")
    case_id = engine.start_case("rework_loop")
    sizes = {}
    for round_ in range(1, 601):
        for data in ({"hasil": "ulang"}, {}):
            [task] = engine.tasks(case_id=case_id)
            engine.complete(task["id"], user="fo", data=data)
        if round_ in (20, 600):
            with engine.db.read() as s:
                sizes[round_] = len(s.get(Case, case_id).state_json)
    assert engine.case(case_id, with_tasks=False)["status"] == "running"
    assert sizes[600] < 2 * sizes[20], "the state must not grow with the rounds"
    [task] = engine.tasks(case_id=case_id)
    engine.complete(task["id"], user="fo", data={"hasil": "selesai"})
    view = engine.case(case_id)
    assert view["status"] == "completed"
    # Every round stays in the task rows, whatever the workflow state forgot.
    assert [t["iteration"] for t in view["tasks"] if t["step_id"] == "periksa"] == list(range(1, 602))
