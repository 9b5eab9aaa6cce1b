"""Service tasks call other agencies through connectors: queued in the case's transaction, called by
the worker outside it, retried with backoff, failed clearly, retried by an admin; never twice."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from agency import Agency
from conftest import FIXTURES, add_staff, fixture_bytes
from workflow_engine import BpmnValidationError, Conflict, Database, Engine, InvalidState, NotFound
from workflow_engine.connector_calls import (CallError, ConnectorInputError, ConnectorSpec, clean_connector,
                                             credential_header, parse_mapping)
from workflow_engine.models import AuditEvent, ConnectorJob
from workflow_engine.worker import Worker

SEND = "nik -> nik_pemohon\nnama_pemohon"
RECEIVE = "status -> status_str, data.nomor -> nomor_str"


@pytest.fixture
def agency():
    server = Agency()
    yield server
    server.close()


@pytest.fixture
def office(engine, agency):
    add_staff(engine, "fo", ["Front Office"])
    engine.deploy(fixture_bytes("connector_str.bpmn"), "connector_str.bpmn")
    engine.connector_environ = {"ALUR_CONNECTOR_DINKES": "rahasia-dinkes"}
    engine.save_connector(connector(agency), actor="admin")
    return engine


def connector(agency, **changes) -> dict:
    return {"name": "dinkes", "url": agency.url + "/api/str", "send": SEND, "receive": RECEIVE,
            "timeout_seconds": 2, "retries": 3, "credential": "ALUR_CONNECTOR_DINKES", **changes}


def submitted(engine, nik="9101010101010001") -> int:
    """A case whose first step is done, so that it waits at the service task."""
    case_id = engine.start_case("connector_str", actor="fo")
    task_id = engine.case(case_id)["tasks"][0]["id"]
    engine.complete(task_id, user="fo", data={"nik": nik, "nama_pemohon": "Yohana Wenda"})
    return case_id


def job_of(engine, case_id) -> dict:
    jobs = engine.case(case_id)["connector_jobs"]
    assert len(jobs) == 1
    return jobs[0]


def ready(engine, case_id) -> list[str]:
    return [t["step_id"] for t in engine.case(case_id)["tasks"] if t["state"] == "ready"]


def actions(engine, case_id) -> list[str]:
    with engine.db.read() as s:
        return [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                            .order_by(AuditEvent.id))]


# --- the happy path ------------------------------------------------------------------------------
def test_reaching_a_service_task_queues_a_call_and_calls_nobody_yet(office, agency, clock):
    case_id = submitted(office)
    job = job_of(office, case_id)
    assert job["state"] == "pending" and job["attempts"] == 0 and job["connector"] == "dinkes"
    assert job["step_name"] == "Cek STR ke Dinas Kesehatan"
    assert job["next_attempt_at"] == clock.now().astimezone(office.zone).isoformat()
    assert agency.requests == []  # the engine never calls out inside the case's transaction
    assert ready(office, case_id) == []
    assert office.case(case_id)["status"] == "running"


def test_the_worker_calls_and_the_answer_moves_the_case_on(office, agency):
    case_id = submitted(office)
    assert office.run_connector_jobs() == 1
    [request] = agency.requests
    assert request["method"] == "POST" and request["path"] == "/api/str"
    assert request["body"] == {"nik_pemohon": "9101010101010001", "nama_pemohon": "Yohana Wenda"}
    assert request["headers"]["authorization"] == "Bearer rahasia-dinkes"
    assert request["headers"]["content-type"].startswith("application/json")
    view = office.case(case_id)
    assert view["data"]["status_str"] == "aktif" and view["data"]["nomor_str"] == "STR-2026-0001"
    assert ready(office, case_id) == ["terbitkan"]  # the gateway read the answer
    job = view["connector_jobs"][0]
    assert job["state"] == "done" and job["attempts"] == 1 and job["received"] == ["nomor_str", "status_str"]
    assert "connector.done" in actions(office, case_id)
    assert office.run_connector_jobs() == 0  # nothing twice


def test_the_answer_can_send_the_case_down_the_other_path(office, agency):
    agency.answer({"status": "dicabut", "data": {"nomor": "STR-1"}})
    case_id = submitted(office)
    office.run_connector_jobs()
    assert ready(office, case_id) == ["tolak"]
    assert office.case(case_id)["data"]["status_str"] == "dicabut"


def test_get_sends_the_fields_in_the_address(office, agency):
    office.save_connector(connector(agency, method="GET", url=agency.url + "/api/str?versi=2"), original="dinkes")
    case_id = submitted(office)
    office.run_connector_jobs()
    [request] = agency.requests
    assert request["method"] == "GET" and request["body"] is None
    assert request["query"] == {"versi": "2", "nik_pemohon": "9101010101010001", "nama_pemohon": "Yohana Wenda"}
    assert ready(office, case_id) == ["terbitkan"]


def test_a_credential_of_the_form_header_colon_value_names_its_own_header(office, agency):
    office.connector_environ = {"ALUR_CONNECTOR_DINKES": "X-Api-Key: kunci-123"}
    submitted(office)
    office.run_connector_jobs()
    headers = agency.requests[0]["headers"]
    assert headers["x-api-key"] == "kunci-123" and "authorization" not in headers


def test_the_credential_is_never_stored(office, agency):
    case_id = submitted(office)
    office.run_connector_jobs()
    with office.db.read() as s:
        job = s.scalars(select(ConnectorJob)).one()
        stored = (job.request, job.response, [e.detail for e in s.scalars(select(AuditEvent))])
    assert "rahasia" not in repr(stored)
    assert stored[0] == {"method": "POST", "url": agency.url + "/api/str", "fields": ["nik_pemohon", "nama_pemohon"]}
    assert office.connector("dinkes")["credential_set"] is True


# --- failures, retries, backoff ---------------------------------------------------------------------
def test_a_503_is_retried_with_growing_pauses_then_succeeds(office, agency, clock):
    agency.fail(2)
    case_id = submitted(office)
    start = clock.now()
    assert office.run_connector_jobs() == 1
    job = job_of(office, case_id)
    assert job["state"] == "pending" and job["attempts"] == 1 and job["last_error"] == "HTTP 503"
    assert job["next_attempt_at"] == (start + timedelta(seconds=30)).astimezone(office.zone).isoformat()
    assert office.run_connector_jobs() == 0 and len(agency.requests) == 1  # not due yet
    clock.advance(seconds=30)
    assert office.run_connector_jobs() == 1
    assert job_of(office, case_id)["next_attempt_at"] == \
        (clock.now() + timedelta(seconds=60)).astimezone(office.zone).isoformat()
    clock.advance(seconds=59)
    assert office.run_connector_jobs() == 0
    clock.advance(seconds=1)
    assert office.run_connector_jobs() == 1
    job = job_of(office, case_id)
    assert job["state"] == "done" and job["attempts"] == 3 and job["last_error"] is None
    assert ready(office, case_id) == ["terbitkan"]
    assert actions(office, case_id).count("connector.attempt_failed") == 2


def run_until_settled(engine, clock, rounds: int = 12) -> None:
    for _ in range(rounds):
        engine.run_connector_jobs()
        clock.advance(hours=1)


def test_after_its_retries_a_call_fails_clearly_on_the_case(office, agency, clock):
    office.save_connector(connector(agency, retries=2), original="dinkes")
    agency.default = ("json", 503, {"error": "gangguan"})
    case_id = submitted(office)
    run_until_settled(office, clock)
    assert len(agency.requests) == 3  # the first try and two retries
    view = office.case(case_id)
    job = view["connector_jobs"][0]
    assert job["state"] == "failed" and job["attempts"] == 3
    assert job["message"] == "Panggilan ke dinkes (127.0.0.1) gagal: HTTP 503 setelah 3 percobaan."
    assert view["status"] == "running" and ready(office, case_id) == []
    failed = [e for e in _events(office, case_id) if e.action == "connector.failed"]
    assert failed[0].detail["message"] == job["message"]


def _events(engine, case_id):
    with engine.db.read() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)))
        s.expunge_all()  # read their attributes after the session ends
        return events


def test_an_admin_retries_a_failed_call_and_the_case_goes_on(office, agency, clock):
    office.save_connector(connector(agency, retries=0), original="dinkes")
    agency.fail(1)
    case_id = submitted(office)
    office.run_connector_jobs()
    job = job_of(office, case_id)
    assert job["state"] == "failed"
    office.retry_connector_job(job["id"], actor="admin")
    assert job_of(office, case_id)["state"] == "pending"
    with pytest.raises(InvalidState):
        office.retry_connector_job(job["id"], actor="admin")  # a pending call cannot be retried
    assert office.run_connector_jobs() == 1
    assert job_of(office, case_id)["state"] == "done" and ready(office, case_id) == ["terbitkan"]
    retried = [e for e in _events(office, case_id) if e.action == "connector.retried"]
    assert retried[0].actor == "admin"


def test_retrying_a_call_that_is_not_failed_or_missing_is_refused(office, agency):
    case_id = submitted(office)
    with pytest.raises(InvalidState, match="only a failed call"):
        office.retry_connector_job(job_of(office, case_id)["id"], actor="admin")
    with pytest.raises(NotFound):
        office.retry_connector_job(999, actor="admin")


@pytest.mark.parametrize("behaviour, error", [
    (("raw", 200, b"<html>bukan json</html>"), "jawabannya bukan JSON yang sah"),
    (("json", 200, ["daftar"]), "jawabannya bukan objek JSON"),
    (("json", 200, {"status": "aktif"}), "jawabannya tidak memuat field 'data.nomor'"),
    (("json", 302, {}), "HTTP 302"),
    (("json", 404, {}), "HTTP 404"),
])
def test_bad_answers_fail_with_a_clear_reason(office, agency, behaviour, error):
    office.save_connector(connector(agency, retries=0), original="dinkes")
    agency.script.append(behaviour)
    case_id = submitted(office)
    office.run_connector_jobs()
    job = job_of(office, case_id)
    assert job["state"] == "failed" and job["last_error"] == error
    assert error in job["message"]
    assert len(agency.requests) == 1  # a redirect is not followed (it would carry the credential along)


def test_no_answer_within_the_timeout_is_a_failed_attempt(office, agency):
    office.save_connector(connector(agency, timeout_seconds=1, retries=0), original="dinkes")
    agency.script.append(("sleep", 2.5))
    case_id = submitted(office)
    office.run_connector_jobs()
    job = job_of(office, case_id)
    assert job["state"] == "failed" and job["last_error"] == "tidak ada jawaban dalam 1 detik"


def test_an_agency_that_is_down_is_a_network_failure(office, agency):
    office.save_connector(connector(agency, url="http://127.0.0.1:9/api", retries=0), original="dinkes")
    case_id = submitted(office)
    office.run_connector_jobs()
    assert job_of(office, case_id)["last_error"].startswith("tidak dapat terhubung")


# --- what retrying cannot fix fails at once ------------------------------------------------------
def test_a_missing_connector_fails_the_call_at_once_until_an_admin_sets_it_up(office, agency):
    office.remove_connector("dinkes", actor="admin")
    case_id = submitted(office)
    office.run_connector_jobs()
    job = job_of(office, case_id)
    assert job["state"] == "failed" and job["attempts"] == 1 and agency.requests == []
    assert "konektor 'dinkes' belum diatur oleh administrator" in job["message"]
    office.save_connector(connector(agency), actor="admin")
    office.retry_connector_job(job["id"], actor="admin")
    office.run_connector_jobs()
    assert ready(office, case_id) == ["terbitkan"]


def test_a_credential_variable_that_is_not_set_fails_clearly(office, agency):
    office.connector_environ = {}
    case_id = submitted(office)
    office.run_connector_jobs()
    job = job_of(office, case_id)
    assert job["state"] == "failed" and agency.requests == []
    assert "ALUR_CONNECTOR_DINKES" in job["last_error"]
    assert office.connector("dinkes")["credential_set"] is False


def test_case_data_the_connector_needs_but_the_case_lacks_fails_clearly(office, agency):
    office.save_connector(connector(agency, send="npwp"), original="dinkes")
    case_id = submitted(office)
    office.run_connector_jobs()
    assert job_of(office, case_id)["last_error"] == "data berkas tidak memuat field 'npwp' yang harus dikirim"


def test_only_alur_connector_variables_can_ever_be_read():
    spec = ConnectorSpec(name="x", url="http://a", credential="HOME")
    with pytest.raises(CallError) as caught:
        credential_header(spec, {"HOME": "/root"})
    assert caught.value.kind == "credential_name"
    with pytest.raises(ConnectorInputError) as refused:
        clean_connector({"name": "x", "url": "http://a", "credential": "DATABASE_URL"})
    assert refused.value.problems["credential"][0] == "credential"


# --- cancelled cases ---------------------------------------------------------------------------------
def test_cancelling_the_case_cancels_its_pending_call(office, agency):
    case_id = submitted(office)
    office.cancel(case_id, user="fo", reason="ditarik pemohon")
    assert job_of(office, case_id)["state"] == "cancelled"
    assert office.run_connector_jobs() == 0 and agency.requests == []


# --- the worker ----------------------------------------------------------------------------------------
def test_the_worker_makes_due_calls_and_wakes_for_the_next_retry(office, agency, clock):
    agency.fail(1)
    case_id = submitted(office)
    worker = Worker(office, max_sleep=600)
    worker.run_once()
    assert worker.calls_total == 1 and len(agency.requests) == 1
    assert 0 < worker.seconds_to_next() <= 30
    clock.advance(seconds=30)
    worker.run_once()
    assert ready(office, case_id) == ["terbitkan"] and worker.calls_total == 2


def test_two_workers_never_make_the_same_call_twice(office, agency, settings, clock):
    agency.delay = 0.05  # calls overlap
    case_ids = [submitted(office, nik=f"91010101010100{n:02d}") for n in range(8)]
    engines = [Engine(Database(settings.database_url), clock, settings) for _ in range(3)]
    for other in engines:
        other.connector_environ = office.connector_environ
    errors = []

    def work(eng):
        try:
            eng.run_connector_jobs(limit=20)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(eng,)) for eng in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for eng in engines:
        eng.db.dispose()
    assert errors == []
    niks = sorted(r["body"]["nik_pemohon"] for r in agency.requests)
    assert niks == sorted(set(niks)) and len(niks) == 8  # every case called exactly once
    assert all(ready(office, c) == ["terbitkan"] for c in case_ids)


# --- connectors: the admin's settings -------------------------------------------------------------------
def test_connectors_list_the_sop_steps_that_use_them(office, agency):
    [item] = office.connectors()
    assert item["used_by"] == [{"key": "connector_str", "version": 1, "step_id": "cek_str",
                                "step": "Cek STR ke Dinas Kesehatan"}]
    assert item["send"] == [{"field": "nik", "as": "nik_pemohon"}, {"field": "nama_pemohon", "as": "nama_pemohon"}]
    assert item["receive"][1] == {"field": "data.nomor", "as": "nomor_str"}


def test_a_connector_name_is_unique_and_can_be_renamed(office, agency):
    with pytest.raises(Conflict):
        office.save_connector(connector(agency), actor="admin")
    office.save_connector(connector(agency, name="dinkes-str"), original="dinkes", actor="admin")
    assert [c["name"] for c in office.connectors()] == ["dinkes-str"]
    with pytest.raises(NotFound):
        office.remove_connector("dinkes")


@pytest.mark.parametrize("changes, field, code", [
    ({"url": "ftp://dinkes/api"}, "url", "url_scheme"),
    ({"url": "https://user:sandi@dinkes/api"}, "url", "url_secret"),
    ({"url": ""}, "url", "required"),
    ({"url": "http://a b/"}, "url", "url"),
    ({"name": "dinas kesehatan"}, "name", "name"),
    ({"method": "DELETE"}, "method", "method"),
    ({"send": "nik\n1nik"}, "send", "mapping_case_field"),
    ({"receive": "status -> status str"}, "receive", "mapping_case_field"),
    ({"receive": "a b -> x"}, "receive", "mapping_remote_field"),
    ({"send": "nik, nik"}, "send", "mapping_twice"),
    ({"timeout_seconds": "0"}, "timeout_seconds", "range"),
    ({"retries": "11"}, "retries", "range"),
    ({"credential": "alur_connector_x"}, "credential", "credential"),
])
def test_wrong_settings_are_refused_field_by_field(changes, field, code):
    values = {"name": "dinkes", "url": "https://dinkes.example/api", **changes}
    with pytest.raises(ConnectorInputError) as refused:
        clean_connector(values)
    assert refused.value.problems[field][0] == code
    assert field in refused.value.fields


def test_mapping_errors_name_their_line():
    with pytest.raises(ConnectorInputError) as refused:
        clean_connector({"name": "x", "url": "http://a", "send": "nik\nnama\n9salah"})
    assert refused.value.problems["send"][2] == {"line": 3, "value": "9salah"}
    assert parse_mapping("a -> b, c", remote_first=False) == [{"field": "a", "as": "b"}, {"field": "c", "as": "c"}]


# --- deploy-time checks ---------------------------------------------------------------------------------
def _variant(old: str, new: str) -> bytes:
    xml = fixture_bytes("connector_str.bpmn").decode()
    assert old in xml
    return xml.replace(old, new).encode()


CONNECTOR_PROPERTY = '<camunda:property name="alur.connector" value="dinkes" />'


@pytest.mark.parametrize("old, new, expected", [
    (CONNECTOR_PROPERTY, "", "names no connector"),
    (CONNECTOR_PROPERTY, '<camunda:property name="alur.connector" value="dinas kesehatan" />', "no spaces"),
    ('<bpmn:serviceTask id="cek_str"', '<bpmn:serviceTask id="cek_str" camunda:class="id.go.Dinkes"',
     "camunda:class"),
    ('<bpmn:serviceTask id="cek_str"', '<bpmn:serviceTask id="cek_str" camunda:expression="${dinkes.cek()}"',
     "camunda:expression"),
    ('<bpmn:outgoing>Flow_cek_str_gw_str</bpmn:outgoing>',
     '<bpmn:outgoing>Flow_cek_str_gw_str</bpmn:outgoing><bpmn:multiInstanceLoopCharacteristics />', "repeats"),
    ('</camunda:properties>\n      </bpmn:extensionElements>\n      <bpmn:incoming>Flow_ajukan_cek_str',
     '</camunda:properties><camunda:executionListener event="start"><camunda:script scriptFormat="python">'
     'x = 1</camunda:script></camunda:executionListener>\n      </bpmn:extensionElements>\n      '
     '<bpmn:incoming>Flow_ajukan_cek_str', "script"),
])
def test_service_tasks_other_than_the_connector_form_are_refused(engine, old, new, expected):
    with pytest.raises(BpmnValidationError) as refused:
        engine.deploy(_variant(old, new), "connector_str.bpmn")
    messages = [p.message for p in refused.value.problems]
    assert any(expected in m and "cek_str" in m for m in messages), messages
    assert all(p.element_id and p.line for p in refused.value.problems)


def test_a_camunda_external_task_is_refused_with_the_property_to_use_instead(engine):
    content = (FIXTURES.parent / "connectors" / "camunda_external_task.bpmn").read_bytes()
    with pytest.raises(BpmnValidationError) as refused:
        engine.deploy(content, "camunda_external_task.bpmn")
    [problem] = refused.value.problems
    assert "external task" in problem.message and "alur.connector = dinkes-str" in problem.message
    assert problem.element_id == "cek_str" and problem.code == "exchange"


def test_an_unknown_alur_property_is_a_warning(engine):
    result = engine.deploy(_variant(CONNECTOR_PROPERTY, CONNECTOR_PROPERTY +
                                    '<camunda:property name="alur.konektor" value="x" />'), "connector_str.bpmn")
    assert any("alur.konektor" in w.message for w in result.warnings)


def test_a_connector_missing_at_deploy_is_fine_it_is_configured_per_office(engine):
    assert engine.deploy(fixture_bytes("connector_str.bpmn"), "connector_str.bpmn").created
    assert engine.connectors() == []


def test_an_agency_that_does_not_answer_costs_one_timeout_per_pass(office, agency):
    office.save_connector(connector(agency, timeout_seconds=1), original="dinkes")
    agency.default = ("sleep", 1.5)
    cases = [submitted(office, nik=f"910101010101000{n}") for n in range(3)]
    assert office.run_connector_jobs() == 1  # the other two wait for the next pass
    states = [(j["state"], j["attempts"]) for c in cases for j in office.case(c)["connector_jobs"]]
    assert sorted(states) == [("pending", 0), ("pending", 0), ("pending", 1)]


def test_a_pass_with_nothing_due_takes_no_write_lock(office, agency, monkeypatch):
    submitted(office)
    office.run_connector_jobs()
    monkeypatch.setattr(office.db, "write", lambda: (_ for _ in ()).throw(AssertionError("write lock taken")))
    assert office.run_connector_jobs() == 0
