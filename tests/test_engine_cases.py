"""Cases: start, claim, release, complete with forms, lanes, gateways, cancel."""
import pytest
from sqlalchemy import select

from conftest import add_staff
from workflow_engine import Conflict, Forbidden, FormError, InvalidState, NotFound
from workflow_engine.models import AuditEvent

LINEAR_FORM = {"nama_pemohon": "Yakobus Wenda", "jumlah_berkas": 3, "jenis_layanan": "baru",
               "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"}


@pytest.fixture
def staff(engine):
    add_staff(engine, "fo", ["Front Office"])
    add_staff(engine, "bo", ["Back Office"])
    add_staff(engine, "kabid", ["Kepala Bidang"])
    add_staff(engine, "teknis", ["Tim Teknis"])
    add_staff(engine, "kadin", ["Kepala Dinas"])
    add_staff(engine, "pemohon", ["Pemohon"])
    return engine


def ready(engine, case_id):
    return {t["step_id"]: t for t in engine.tasks(case_id=case_id)}


def test_start_gives_a_readable_registration_number(staff, deploy):
    deploy("linear3.bpmn")
    first = staff.case(staff.start_case("linear3", actor="fo"))
    second = staff.case(staff.start_case("linear3", actor="fo"))
    assert first["registration_number"] == "LIN-2026-000001"
    assert second["registration_number"] == "LIN-2026-000002"
    assert staff.case("lin-2026-000002")["id"] == second["id"]


def test_registration_numbers_restart_each_year(staff, deploy, clock):
    deploy("linear3.bpmn")
    staff.start_case("linear3")
    clock.advance(days=40)  # into January 2027 in Jayapura
    assert staff.case(staff.start_case("linear3"))["registration_number"] == "LIN-2027-000001"


def test_start_on_a_named_version(staff, deploy):
    deploy("linear3.bpmn")
    from conftest import fixture_bytes
    staff.deploy(fixture_bytes("linear3.bpmn").replace(b"Terbitkan dokumen", b"Serahkan dokumen"), "l.bpmn")
    assert staff.case(staff.start_case("linear3"))["version"] == 2
    assert staff.case(staff.start_case("linear3", version=1))["version"] == 1


def test_start_data_must_use_field_names(staff, deploy):
    deploy("linear3.bpmn")
    with pytest.raises(FormError, match="not a valid field name"):
        staff.start_case("linear3", data={"bad name": 1})
    assert staff.cases() == []


def test_first_task_is_ready_in_its_lane(staff, deploy):
    deploy("linear3.bpmn")
    case_id = staff.start_case("linear3")
    [task] = staff.tasks(case_id=case_id)
    assert (task["step_id"], task["lane"], task["state"]) == ("isi_formulir", "Front Office", "ready")
    assert task["budget_seconds"] == 15 * 60
    assert staff.tasks(lanes=["Back Office"]) == []


def test_complete_records_data_and_moves_on(staff, deploy, clock):
    deploy("linear3.bpmn")
    case_id = staff.start_case("linear3")
    task = ready(staff, case_id)["isi_formulir"]
    clock.advance(minutes=10)
    staff.complete(task["id"], user="fo", data={**LINEAR_FORM, "jumlah_berkas": "3"})
    view = staff.case(case_id)
    done = view["tasks"][0]
    assert done["completed_by"] == "fo" and done["claimed_by"] == "fo"
    assert done["data"]["jumlah_berkas"] == 3  # typed by the form
    assert view["data"]["nama_pemohon"] == "Yakobus Wenda"
    assert list(ready(staff, case_id)) == ["verifikasi"]


def test_invalid_form_data_changes_nothing(staff, deploy):
    deploy("linear3.bpmn")
    case_id = staff.start_case("linear3")
    task = ready(staff, case_id)["isi_formulir"]
    before = staff.case(case_id)
    with pytest.raises(FormError) as caught:
        staff.complete(task["id"], user="fo", data={"jumlah_berkas": "tiga", "jenis_layanan": "lain"})
    assert {"nama_pemohon", "jumlah_berkas", "jenis_layanan"} <= set(caught.value.fields)
    assert staff.case(case_id) == before


def test_user_outside_the_lane_is_refused(staff, deploy):
    deploy("linear3.bpmn")
    case_id = staff.start_case("linear3")
    task = ready(staff, case_id)["isi_formulir"]
    with pytest.raises(Forbidden, match="not in lane 'Front Office'"):
        staff.complete(task["id"], user="bo", data=LINEAR_FORM)
    with pytest.raises(Forbidden):
        staff.claim(task["id"], user="bo")
    assert ready(staff, case_id)["isi_formulir"]["state"] == "ready"


def test_unknown_user_or_task(staff, deploy):
    deploy("linear3.bpmn")
    case_id = staff.start_case("linear3")
    task = ready(staff, case_id)["isi_formulir"]
    with pytest.raises(NotFound):
        staff.complete(task["id"], user="ghost", data=LINEAR_FORM)
    with pytest.raises(NotFound):
        staff.complete(999_999, user="fo", data=LINEAR_FORM)


def test_completing_twice_is_a_conflict(staff, deploy):
    deploy("linear3.bpmn")
    case_id = staff.start_case("linear3")
    task = ready(staff, case_id)["isi_formulir"]
    staff.complete(task["id"], user="fo", data=LINEAR_FORM)
    revision = staff.case(case_id)["revision"]
    with pytest.raises(Conflict, match="already completed by fo"):
        staff.complete(task["id"], user="fo", data=LINEAR_FORM)
    assert staff.case(case_id)["revision"] == revision


def test_claim_and_release(staff, deploy, clock):
    deploy("linear3.bpmn")
    add_staff(staff, "fo2", ["Front Office"])
    case_id = staff.start_case("linear3")
    task = ready(staff, case_id)["isi_formulir"]
    clock.advance(minutes=3)
    staff.claim(task["id"], user="fo")
    claimed = ready(staff, case_id)["isi_formulir"]
    assert claimed["claimed_by"] == "fo" and claimed["wait_seconds"] == 180
    with pytest.raises(Conflict, match="claimed by fo"):
        staff.claim(task["id"], user="fo2")
    with pytest.raises(Conflict, match="claimed by fo"):
        staff.complete(task["id"], user="fo2", data=LINEAR_FORM)
    with pytest.raises(Forbidden):
        staff.release(task["id"], user="fo2")
    staff.release(task["id"], user="fo")
    assert ready(staff, case_id)["isi_formulir"]["claimed_by"] is None
    staff.complete(task["id"], user="fo2", data=LINEAR_FORM)


def test_every_operation_is_audited(staff, deploy):
    deploy("linear3.bpmn")
    case_id = staff.start_case("linear3", actor="fo")
    task = ready(staff, case_id)["isi_formulir"]
    staff.claim(task["id"], user="fo")
    staff.complete(task["id"], user="fo", data=LINEAR_FORM)
    with staff.db.read() as s:
        actions = [(e.action, e.actor) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id))]
    assert actions == [("case.started", "fo"), ("task.claimed", "fo"), ("task.completed", "fo")]


def _run_linear(staff, case_id):
    staff.complete(ready(staff, case_id)["isi_formulir"]["id"], user="fo", data=LINEAR_FORM)
    staff.complete(ready(staff, case_id)["verifikasi"]["id"], user="bo")
    staff.complete(ready(staff, case_id)["terbitkan"]["id"], user="fo",
                   data={"nomor_dokumen": "503/001/2026"})


def test_a_case_runs_to_completion(staff, deploy):
    deploy("linear3.bpmn")
    case_id = staff.start_case("linear3")
    _run_linear(staff, case_id)
    view = staff.case(case_id)
    assert view["status"] == "completed" and view["closed_at"]
    assert [t["state"] for t in view["tasks"]] == ["completed"] * 3
    with pytest.raises(InvalidState, match="completed"):
        staff.cancel(case_id)


@pytest.mark.parametrize("decision,expected", [("setuju", "terbitkan_izin"), ("tolak", "kirim_penolakan")])
def test_exclusive_gateway_follows_the_decision(staff, deploy, decision, expected):
    deploy("exclusive.bpmn")
    case_id = staff.start_case("exclusive")
    staff.complete(ready(staff, case_id)["ajukan"]["id"], user="fo", data={"nama_pemohon": "Maria"})
    staff.complete(ready(staff, case_id)["putuskan"]["id"], user="kabid",
                   data={"keputusan": decision, "alasan": "sesuai aturan"})
    assert list(ready(staff, case_id)) == [expected]


def test_parallel_branches_are_ready_together_and_joined(staff, deploy):
    deploy("parallel.bpmn")
    case_id = staff.start_case("parallel")
    tasks = ready(staff, case_id)
    assert set(tasks) == {"cek_administrasi", "survei_lapangan"}
    staff.complete(tasks["survei_lapangan"]["id"], user="teknis", data={"catatan_survei": "ok"})
    assert list(ready(staff, case_id)) == ["cek_administrasi"]  # the join waits
    staff.complete(tasks["cek_administrasi"]["id"], user="bo", data={"catatan_administrasi": "ok"})
    assert list(ready(staff, case_id)) == ["tanda_tangan"]


def test_cancel_closes_open_tasks_and_keeps_history(staff, deploy, clock):
    deploy("parallel.bpmn")
    case_id = staff.start_case("parallel")
    clock.advance(hours=1)
    staff.cancel(case_id, user="admin", reason="ditarik pemohon")
    view = staff.case(case_id)
    assert view["status"] == "cancelled" and view["sla_state"] is None
    assert {t["state"] for t in view["tasks"]} == {"cancelled"}
    assert staff.tasks(case_id=case_id) == []
    with pytest.raises(InvalidState):
        staff.cancel(case_id)


def test_list_cases_filters(staff, deploy):
    deploy("linear3.bpmn")
    deploy("parallel.bpmn")
    a = staff.start_case("linear3")
    staff.start_case("parallel")
    staff.cancel(a)
    assert [c["process"] for c in staff.cases(process="parallel")] == ["parallel"]
    assert [c["id"] for c in staff.cases(status="cancelled")] == [a]
    assert "tasks" not in staff.cases()[0]
    assert len(staff.cases(limit=1)) == 1


def test_practice_case_lets_its_learner_do_every_lane(staff, deploy):
    deploy("linear3.bpmn")
    case_id = staff.start_case("linear3", actor="fo", practice=True)
    view = staff.case(case_id)
    assert view["practice"] and view["registration_number"].startswith("LAT-LIN-2026-")
    staff.complete(ready(staff, case_id)["isi_formulir"]["id"], user="fo", data=LINEAR_FORM)
    back_office = ready(staff, case_id)["verifikasi"]
    assert staff.task(back_office["id"], username="fo")["may_act"]
    assert [t["step_id"] for t in staff.tasks(lanes=["Front Office"], practice_of="fo")] == ["verifikasi"]
    staff.complete(back_office["id"], user="fo")  # the learner does the Back Office step too
    # ...but nobody else outside the lane may act on someone's practice case
    with pytest.raises(Forbidden):
        staff.complete(ready(staff, case_id)["terbitkan"]["id"], user="kabid")
    real = staff.start_case("linear3", actor="fo")
    assert not staff.case(real)["practice"] and staff.case(real)["registration_number"] == "LIN-2026-000001"
