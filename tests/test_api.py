"""The REST API /api/v1 through Flask's test client; every answer is checked against the OpenAPI document."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from api_client import ApiClient
from conftest import sign_in
from workflow_engine.models import AuditEvent
from workflow_engine.tokens import SCOPES

GOOD_FORM = {"nama_pemohon": "Budi Santoso", "jumlah_berkas": 2, "jenis_layanan": "baru",
             "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"}


@dataclass
class World:
    app: object
    engine: object
    api: ApiClient  # a token with every scope, acting as "oss" (Front Office)
    secret: str

    def token(self, *scopes: str, name: str | None = None, acts_as: str = "oss") -> ApiClient:
        _, secret = self.engine.create_token(name or "t-" + "-".join(s.replace(":", "") for s in scopes) or "t",
                                             list(scopes), acts_as=acts_as)
        return self.api.with_token(secret)


@pytest.fixture
def world(web, engine, deploy):
    deploy("linear3.bpmn")
    engine.add_user("oss", role="staff", lanes=["Front Office"], password_hash="x")
    _, secret = engine.create_token("oss-all", list(SCOPES), acts_as="oss", created_by="admin")
    return World(web, engine, ApiClient(web, secret), secret)


def _start(world, **body):
    response = world.api.post("/api/v1/cases", json={"process": "linear3", **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    assert error["request_id"] == response.headers["X-Request-Id"] != ""
    return error


# --- SOPs and starting cases ---------------------------------------------------------------------
def test_processes_lists_published_versions(world):
    items = world.api.get("/api/v1/processes").get_json()["items"]
    assert [(p["key"], p["latest_version"]) for p in items] == [("linear3", 1)]


def test_start_case_answers_201_with_its_location(world):
    response = world.api.post("/api/v1/cases", json={"process": "linear3", "data": {"kanal": "oss"}})
    assert response.status_code == 201
    case = response.get_json()
    assert response.headers["Location"] == f"/api/v1/cases/{case['registration_number']}"
    assert case["status"] == "running" and case["version"] == 1 and case["data"] == {"kanal": "oss"}
    assert case["deadline"] and case["sla_state"] == "on_track"
    again = world.api.get(response.headers["Location"]).get_json()
    assert again["id"] == case["id"]


def test_the_service_account_is_written_in_the_audit_log(world):
    case = _start(world)
    with world.engine.db.read() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "case.started",
                                                  AuditEvent.case_id == case["id"]))
        assert event.actor == "oss"


def test_start_case_on_a_named_version_and_refusals(world):
    assert _start(world, version=1)["version"] == 1
    _error(world.api.post("/api/v1/cases", json={"process": "linear3", "version": 9}), 404, "not_found")
    _error(world.api.post("/api/v1/cases", json={"process": "nope"}), 404, "not_found")
    world.engine.set_version_status("linear3", 1, "retired")
    _error(world.api.post("/api/v1/cases", json={"process": "linear3"}), 404, "not_found")
    _error(world.api.post("/api/v1/cases", json={"process": "linear3", "version": 1}), 409, "invalid_state")


@pytest.mark.parametrize("body, field", [
    ({}, "process"),
    ({"process": ""}, "process"),
    ({"process": 7}, "process"),
    ({"process": "linear3", "version": "1"}, "version"),
    ({"process": "linear3", "version": True}, "version"),
    ({"process": "linear3", "data": [1]}, "data"),
    ({"process": "linear3", "colour": "red"}, "colour"),
])
def test_start_case_names_the_bad_member(world, body, field):
    error = _error(world.api.post("/api/v1/cases", json=body), 422, "invalid_request")
    assert field in error["fields"]
    assert world.engine.cases() == []


def test_case_data_names_must_be_identifiers(world):
    error = _error(world.api.post("/api/v1/cases", json={"process": "linear3", "data": {"not a name": 1}}),
                   422, "invalid_form")
    assert error["fields"] == {"not a name": "not a valid field name"}
    assert world.engine.cases() == []


def test_the_body_must_be_a_json_object(world):
    _error(world.api.post("/api/v1/cases", data="process=linear3",
                          content_type="application/x-www-form-urlencoded"), 415, "unsupported_media_type")
    _error(world.api.post("/api/v1/cases", data="{nope", content_type="application/json"), 400, "invalid_json")
    _error(world.api.post("/api/v1/cases", json=["linear3"]), 400, "invalid_json")


def test_a_large_body_is_refused_before_it_is_read(world):
    big = '{"process": "linear3", "data": {"x": "' + "a" * 1_000_001 + '"}}'
    _error(world.api.post("/api/v1/cases", data=big, content_type="application/json"), 413, "too_large")
    assert world.engine.cases() == []


# --- reading cases -------------------------------------------------------------------------------
def test_a_case_by_id_or_registration_number(world):
    case = _start(world)
    number = case["registration_number"]
    for ref in (case["id"], number, number.lower()):
        assert world.api.get(f"/api/v1/cases/{ref}").get_json()["registration_number"] == number
    _error(world.api.get("/api/v1/cases/LIN-2026-999999"), 404, "not_found")
    _error(world.api.get("/api/v1/cases/999"), 404, "not_found")


def test_a_case_shows_steps_open_tasks_and_their_form(world):
    case = _start(world)
    step, = case["steps"]
    assert (step["step_id"], step["lane"], step["state"], step["iteration"]) == ("isi_formulir", "Front Office",
                                                                                "ready", 1)
    task, = case["open_tasks"]
    assert task["may_complete"] is True and task["claimed"] is False
    assert task["links"]["complete"] == f"/api/v1/tasks/{task['id']}/complete"
    fields = {f["id"]: f for f in task["form"]}
    assert fields["jenis_layanan"]["options"][0] == {"id": "baru", "label": "Baru"}
    assert fields["jumlah_berkas"]["type"] == "long" and fields["jumlah_berkas"]["required"]


def test_no_staff_names_or_comments_leave_through_the_api(world):
    case = _start(world)
    world.engine.comment(case["id"], user="fo", text="rahasia kantor")
    world.engine.complete(case["open_tasks"][0]["id"], user="fo", data=GOOD_FORM)
    text = world.api.get(f"/api/v1/cases/{case['id']}").get_data(as_text=True)
    assert "rahasia kantor" not in text and '"fo"' not in text


def test_list_filters_and_pages(world):
    ids = [_start(world)["id"] for _ in range(5)]
    world.engine.cancel(ids[0], user="admin")
    first = world.api.get("/api/v1/cases?limit=2").get_json()
    assert [c["id"] for c in first["items"]] == ids[::-1][:2] and first["next_cursor"]
    _start(world)  # a new case does not shift the next page
    second = world.api.get(first["links"]["next"]).get_json()
    assert [c["id"] for c in second["items"]] == ids[::-1][2:4]
    assert world.api.get(f"/api/v1/cases?status=cancelled").get_json()["items"][0]["id"] == ids[0]
    assert len(world.api.get("/api/v1/cases?process=linear3&sla_state=on_track").get_json()["items"]) == 5
    assert world.api.get("/api/v1/cases?process=other").get_json() == {"items": [], "next_cursor": None,
                                                                       "links": {"next": None}}
    assert len(world.api.get("/api/v1/cases?since=2026-11-30&until=2026-12-01").get_json()["items"]) == 6
    assert world.api.get("/api/v1/cases?since=2026-12-01T00:00:00%2B09:00").get_json()["items"] == []


@pytest.mark.parametrize("query, name", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=x", "limit"), ("status=open", "status"),
    ("sla_state=late", "sla_state"), ("since=yesterday", "since"), ("until=2026-13-01", "until"),
    ("cursor=bm9wZQ", "cursor"), ("cursor=%%%", "cursor"), ("colour=red", "colour"),
])
def test_list_names_the_bad_parameter(world, query, name):
    error = _error(world.api.get(f"/api/v1/cases?{query}"), 400, "invalid_parameter")
    assert name in error["fields"]


# --- completing tasks ----------------------------------------------------------------------------
def test_complete_a_task_as_the_service_account(world):
    case = _start(world)
    task_id = case["open_tasks"][0]["id"]
    response = world.api.post(f"/api/v1/tasks/{task_id}/complete", json={"data": GOOD_FORM})
    assert response.status_code == 200
    body = response.get_json()
    assert body["task"]["id"] == task_id and body["task"]["state"] == "completed"
    assert [t["step_id"] for t in body["case"]["open_tasks"]] == ["verifikasi"]
    assert body["case"]["open_tasks"][0]["may_complete"] is False  # Back Office, not the account's lane
    facts = world.engine.task(task_id)
    assert facts["completed_by"] == "oss" and facts["claimed_by"] == "oss"


def test_form_errors_name_each_field_and_leave_the_task_unclaimed(world):
    task_id = _start(world)["open_tasks"][0]["id"]
    error = _error(world.api.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"nama_pemohon": "Bu"}}),
                   422, "invalid_form")
    assert set(error["fields"]) == {"nama_pemohon", "jumlah_berkas", "jenis_layanan", "pernyataan_benar",
                                    "tanggal_permohonan"}
    assert world.engine.task(task_id)["claimed_by"] is None


def test_a_task_outside_the_accounts_lanes_is_forbidden(world):
    case = _start(world)
    world.api.post(f"/api/v1/tasks/{case['open_tasks'][0]['id']}/complete", json={"data": GOOD_FORM})
    next_task = world.engine.case(case["id"])["tasks"][-1]["id"]
    error = _error(world.api.post(f"/api/v1/tasks/{next_task}/complete", json={}), 403, "forbidden")
    assert "Back Office" in error["message"]


def test_completing_twice_or_a_claimed_or_missing_task_conflicts(world):
    first = _start(world)["open_tasks"][0]["id"]
    world.api.post(f"/api/v1/tasks/{first}/complete", json={"data": GOOD_FORM})
    _error(world.api.post(f"/api/v1/tasks/{first}/complete", json={"data": GOOD_FORM}), 409, "conflict")
    second = _start(world)["open_tasks"][0]["id"]
    world.engine.claim(second, user="fo")
    _error(world.api.post(f"/api/v1/tasks/{second}/complete", json={"data": GOOD_FORM}), 409, "conflict")
    _error(world.api.post("/api/v1/tasks/9999/complete", json={}), 404, "not_found")


# --- tokens, scopes and cookies ------------------------------------------------------------------
def _api_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method, getattr(app.view_functions[rule.endpoint], "required_scope", None)


def _url(rule) -> str:
    return rule.rule.replace("<ref>", "1").replace("<name>", "ping").replace("<int:task_id>", "1")


def test_every_scoped_route_refuses_a_token_without_its_scope(world):
    checked = 0
    for rule, method, scope in _api_routes(world.app):
        if scope is None:
            continue
        others = [s for s in SCOPES if s != scope]
        client = world.token(*others, name=f"without-{rule.endpoint}-{method}".replace(".", "-"))
        error = _error(client.open(method, _url(rule), json={}), 403, "insufficient_scope")
        assert error["required_scope"] == scope
        checked += 1
    assert checked == 6


def test_every_scoped_route_refuses_a_request_without_a_token(world):
    anonymous = world.api.with_token(None)
    for rule, method, scope in _api_routes(world.app):
        response = anonymous.open(method, _url(rule), json={})
        if scope is None:
            assert response.status_code == 200
        else:
            _error(response, 401, "unauthorized")
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer alur_unknown", "Bearer " + "x" * 300, "Basic b3NzOnNlY3JldA==",
                                    "Bearer", "bearer  "])
def test_unknown_tokens_and_other_schemes_are_refused(world, header):
    response = world.api.with_token(None).get("/api/v1/cases", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] in ("unauthorized", "invalid_token")


def test_a_revoked_token_is_refused_at_once(world):
    assert world.api.get("/api/v1/cases").status_code == 200
    world.engine.revoke_token("oss-all", actor="admin")
    _error(world.api.get("/api/v1/cases"), 401, "invalid_token")


def test_read_only_token_reads_but_cannot_start(world):
    reader = world.token("cases:read")
    assert reader.get("/api/v1/cases").status_code == 200
    _error(reader.post("/api/v1/cases", json={"process": "linear3"}), 403, "insufficient_scope")
    assert world.engine.cases() == []


def test_a_signed_in_session_cookie_does_not_open_the_api(world):
    browser = sign_in(world.app, "admin")
    response = browser.get("/api/v1/cases")
    assert response.status_code == 401 and response.is_json
    response = browser.post("/api/v1/cases", json={"process": "linear3"})
    assert response.status_code == 401 and world.engine.cases() == []


def test_an_expired_or_forged_cookie_gets_json_not_the_login_page(world):
    client = world.app.test_client()
    client.set_cookie("session", "eyJfZnJlc2giOmZhbHNlfQ.expired.signature")
    response = client.get("/api/v1/cases")
    assert response.status_code == 401 and response.is_json and "Location" not in response.headers


def test_the_api_sets_no_cookie_and_allows_no_caching(world):
    response = world.api.get("/api/v1/cases")
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


# --- errors anywhere under /api/v1 ---------------------------------------------------------------
def test_unknown_paths_and_methods_answer_json(world):
    _error(world.api.get("/api/v1/nothing/here"), 404, "not_found")
    error = _error(world.api.open("DELETE", "/api/v1/cases"), 405, "method_not_allowed")
    assert "DELETE" in error["message"]


def test_pages_outside_the_api_keep_their_html_errors(world):
    response = world.app.test_client().get("/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"


# --- messages ---------------------------------------------------------------------------------------
def test_message_body_is_checked_first(world):
    error = _error(world.api.post("/api/v1/cases/1/messages/x", json={"payload": [1]}), 422, "invalid_request")
    assert "payload" in error["fields"]


def test_a_message_moves_the_case_on(world, deploy):
    deploy("message_verifikasi.bpmn")
    case = world.api.post("/api/v1/cases", json={"process": "message_verifikasi"}).get_json()
    task_id = case["open_tasks"][0]["id"]
    world.api.post(f"/api/v1/tasks/{task_id}/complete",
                   json={"data": {"nik": "9471010101010001", "nama_pemohon": "Budi"}})
    url = f"/api/v1/cases/{case['registration_number']}/messages/hasil_verifikasi"
    response = world.api.post(url, json={"payload": {"status_verifikasi": "disetujui"}})
    assert response.status_code == 200, response.get_json()
    moved = response.get_json()
    assert [t["step_id"] for t in moved["open_tasks"]] == ["terbitkan"]
    assert moved["data"]["status_verifikasi"] == "disetujui"
    _error(world.api.post(url, json={"payload": {}}), 409, "invalid_state")  # it waits for nothing now
    _error(world.api.post("/api/v1/cases/999/messages/hasil_verifikasi", json={}), 404, "not_found")
    _error(world.api.post(url, json={"payload": {"_x": 1}}), 422, "invalid_form")
