"""Messages from other agencies: a callback continues a case waiting at a catch event or receive task."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import add_staff, fixture_bytes
from workflow_engine import BpmnValidationError, FormError, InvalidState, NotFound, ScriptError
from workflow_engine.models import AuditEvent, Case


@pytest.fixture
def office(engine):
    add_staff(engine, "fo", ["Front Office"])
    for name in ("message_verifikasi.bpmn", "message_pembayaran.bpmn"):
        engine.deploy(fixture_bytes(name), name)
    return engine


def waiting_case(engine, key="message_verifikasi") -> int:
    case_id = engine.start_case(key, actor="fo")
    task_id = engine.case(case_id)["tasks"][0]["id"]
    engine.complete(task_id, user="fo", data={"nik": "9101", "nama_pemohon": "Yohana Wenda"})
    return case_id


def ready(view: dict) -> list[str]:
    return [t["step_id"] for t in view["tasks"] if t["state"] == "ready"]


def state_json(engine, case_id) -> str:
    with engine.db.read() as s:
        return s.get(Case, case_id).state_json


def test_a_case_waits_for_its_message_with_no_task_open(office):
    case_id = waiting_case(office)
    assert office.waiting_messages(case_id) == ["hasil_verifikasi"]
    assert ready(office.case(case_id)) == []


def test_the_message_continues_the_case_and_its_fields_join_the_case_data(office):
    case_id = waiting_case(office)
    view = office.deliver_message(office.case(case_id)["registration_number"], "hasil_verifikasi",
                                  {"status_verifikasi": "disetujui", "nomor_rekomendasi": "REK-77"},
                                  actor="api:dinkes")
    assert ready(view) == ["terbitkan"]  # the gateway read the payload's field
    assert view["data"]["status_verifikasi"] == "disetujui" and view["data"]["nomor_rekomendasi"] == "REK-77"
    assert view["data"]["nama_pemohon"] == "Yohana Wenda"
    assert "_Response" not in state_json(office, case_id)  # no stray SpiffWorkflow variable
    assert office.waiting_messages(case_id) == []


def test_the_payload_decides_the_path(office):
    case_id = waiting_case(office)
    view = office.deliver_message(case_id, "hasil_verifikasi", {"status_verifikasi": "ditolak"}, actor="api")
    assert ready(view) == ["tolak"]


def test_delivery_is_audited_with_who_sent_what(office):
    case_id = waiting_case(office)
    office.deliver_message(case_id, "hasil_verifikasi", {"status_verifikasi": "ditolak"}, actor="api:dinkes")
    with office.db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "case.message_received")).one()
        assert (event.actor, event.case_id) == ("api:dinkes", case_id)
        assert event.detail == {"message": "hasil_verifikasi", "fields": ["status_verifikasi"]}


def test_a_receive_task_waits_for_its_message_too(office):
    case_id = waiting_case(office, "message_pembayaran")
    assert office.waiting_messages(case_id) == ["pembayaran"]
    view = office.deliver_message(case_id, "pembayaran", {"lunas": True, "nomor_bukti": "BPKAD-1"}, actor="api")
    assert ready(view) == ["terbitkan"] and view["data"]["lunas"] is True


def test_an_empty_payload_is_delivered_when_nothing_after_needs_data(office, engine):
    xml = fixture_bytes("message_verifikasi.bpmn").decode().replace(
        'status_verifikasi == "disetujui"', "True")
    engine.deploy(xml.replace('value="MVER"', 'value="MVE"').replace(
        'id="message_verifikasi"', 'id="message_kosong"').replace(
        'processRef="message_verifikasi"', 'processRef="message_kosong"').encode(), "message_kosong.bpmn")
    case_id = engine.start_case("message_kosong", actor="fo")
    engine.complete(engine.case(case_id)["tasks"][0]["id"], user="fo", data={"nik": "1", "nama_pemohon": "Ani"})
    view = engine.deliver_message(case_id, "hasil_verifikasi", {}, actor="api")
    assert ready(view) == ["terbitkan"]


def test_a_payload_without_what_the_gateway_needs_fails_and_changes_nothing(office):
    case_id = waiting_case(office)
    revision = office.case(case_id)["revision"]
    with pytest.raises(ScriptError):
        office.deliver_message(case_id, "hasil_verifikasi", {"catatan": "lupa statusnya"}, actor="api")
    view = office.case(case_id)
    assert view["revision"] == revision and "catatan" not in view["data"]
    assert office.waiting_messages(case_id) == ["hasil_verifikasi"]


# --- refusals -------------------------------------------------------------------------------------
def test_an_unknown_case_is_not_found(office):
    with pytest.raises(NotFound):
        office.deliver_message("MVER-2026-999999", "hasil_verifikasi", {}, actor="api")
    with pytest.raises(NotFound):
        office.deliver_message(999, "hasil_verifikasi", {}, actor="api")


def test_a_message_the_case_does_not_wait_for_is_refused_saying_what_it_waits_for(office):
    case_id = waiting_case(office)
    with pytest.raises(InvalidState, match="not waiting for message 'pembayaran'; it waits for: hasil_verifikasi"):
        office.deliver_message(case_id, "pembayaran", {"lunas": True}, actor="api")


def test_a_message_before_the_case_reaches_its_event_is_refused(office):
    case_id = office.start_case("message_verifikasi", actor="fo")
    with pytest.raises(InvalidState, match="waits for no message now"):
        office.deliver_message(case_id, "hasil_verifikasi", {"status_verifikasi": "disetujui"}, actor="api")


def test_a_message_delivered_twice_is_refused_the_second_time(office):
    case_id = waiting_case(office)
    office.deliver_message(case_id, "hasil_verifikasi", {"status_verifikasi": "disetujui"}, actor="api")
    with pytest.raises(InvalidState):
        office.deliver_message(case_id, "hasil_verifikasi", {"status_verifikasi": "ditolak"}, actor="api")


def test_a_cancelled_case_waits_for_no_message(office):
    case_id = waiting_case(office)
    office.cancel(case_id, user="fo")
    with pytest.raises(InvalidState, match="cancelled"):
        office.deliver_message(case_id, "hasil_verifikasi", {"status_verifikasi": "disetujui"}, actor="api")


@pytest.mark.parametrize("payload, field", [
    (["disetujui"], "payload"),
    ({"1status": "x"}, "1status"),
    ({"_rahasia": "x"}, "_rahasia"),
    ({"status verifikasi": "x"}, "status verifikasi"),
    ({"isi": "x" * 70_000}, "payload"),
    ({f"f{i}": i for i in range(101)}, "payload"),
])
def test_bad_payloads_are_refused_by_field(office, payload, field):
    case_id = waiting_case(office)
    with pytest.raises(FormError) as refused:
        office.deliver_message(case_id, "hasil_verifikasi", payload, actor="api")
    assert field in refused.value.fields
    assert office.waiting_messages(case_id) == ["hasil_verifikasi"]


# --- deploy-time checks ----------------------------------------------------------------------------
def _refused(engine, old: str, new: str) -> list[str]:
    xml = fixture_bytes("message_verifikasi.bpmn").decode()
    assert old in xml
    with pytest.raises(BpmnValidationError) as refused:
        engine.deploy(xml.replace(old, new).encode(), "message_verifikasi.bpmn")
    assert all(p.line for p in refused.value.problems)
    return [p.message for p in refused.value.problems]


def test_a_catch_event_must_name_a_message_with_a_name(engine):
    messages = _refused(engine, 'messageRef="Message_hasil_verifikasi" ', "")
    assert any("tunggu_hasil" in m and "names none" in m for m in messages)
    messages = _refused(engine, '<bpmn:message id="Message_hasil_verifikasi" name="hasil_verifikasi" />',
                        '<bpmn:message id="Message_hasil_verifikasi" />')
    assert any("has no name" in m for m in messages)
    messages = _refused(engine, 'name="hasil_verifikasi"', 'name="hasil verifikasi OPD"')
    assert any("web address" in m for m in messages)


def test_sending_messages_is_refused_with_a_pointer_to_connectors(engine):
    xml = fixture_bytes("message_verifikasi.bpmn").decode().replace("bpmn:intermediateCatchEvent",
                                                                    "bpmn:intermediateThrowEvent")
    with pytest.raises(BpmnValidationError) as refused:
        engine.deploy(xml.encode(), "message_verifikasi.bpmn")
    messages = [p.message for p in refused.value.problems]
    assert any("sends a message" in m and "alur.connector" in m for m in messages)


def test_a_message_start_event_is_refused(engine):
    messages = _refused(engine, '<bpmn:outgoing>Flow_start_ajukan</bpmn:outgoing>\n    </bpmn:startEvent>',
                        '<bpmn:outgoing>Flow_start_ajukan</bpmn:outgoing>\n      <bpmn:messageEventDefinition '
                        'messageRef="Message_hasil_verifikasi" />\n    </bpmn:startEvent>')
    assert any("start the process on a message" in m for m in messages)


def test_a_send_task_is_refused(engine):
    xml = fixture_bytes("message_pembayaran.bpmn").decode()
    xml = xml.replace("<bpmn:receiveTask id=", "<bpmn:sendTask id=").replace("</bpmn:receiveTask>", "</bpmn:sendTask>")
    with pytest.raises(BpmnValidationError) as refused:
        engine.deploy(xml.encode(), "message_pembayaran.bpmn")
    assert any("send task" in p.message for p in refused.value.problems)


def test_a_message_boundary_event_interrupts_the_step_it_is_attached_to(engine):
    xml = fixture_bytes("linear3.bpmn").decode()
    xml = xml.replace('  <bpmn:process id="linear3"', '  <bpmn:message id="Message_batal" name="pembatalan" />\n'
                      '  <bpmn:process id="linear3"')
    xml = xml.replace('    <bpmn:endEvent id="end" name="Selesai">', '''    <bpmn:boundaryEvent id="batal_opd" attachedToRef="verifikasi">
      <bpmn:outgoing>Flow_batal_opd_end_batal</bpmn:outgoing>
      <bpmn:messageEventDefinition id="MessageEventDefinition_batal" messageRef="Message_batal" />
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="end_batal" name="Dibatalkan OPD">
      <bpmn:incoming>Flow_batal_opd_end_batal</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_batal_opd_end_batal" sourceRef="batal_opd" targetRef="end_batal" />
    <bpmn:endEvent id="end" name="Selesai">''')
    engine.deploy(xml.encode(), "linear3.bpmn")
    add_staff(engine, "fo", ["Front Office"])
    case_id = engine.start_case("linear3", actor="fo")
    engine.complete(engine.case(case_id)["tasks"][0]["id"], user="fo", data={
        "nama_pemohon": "Yohana", "jumlah_berkas": 2, "jenis_layanan": "baru", "pernyataan_benar": True,
        "tanggal_permohonan": "2026-11-30"})
    assert engine.waiting_messages(case_id) == ["pembatalan"]
    view = engine.deliver_message(case_id, "pembatalan", {"alasan_batal": "izin ditarik"}, actor="api")
    assert view["status"] == "completed" and view["data"]["alasan_batal"] == "izin ditarik"
    assert [t["state"] for t in view["tasks"] if t["step_id"] == "verifikasi"] == ["cancelled"]
