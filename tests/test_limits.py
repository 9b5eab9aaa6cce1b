"""Limits: request sizes (form fields, field counts, bodies, JSON) and rows per list page.

The list pages are found in the app's URL map (every GET page without URL arguments), so a new
list page is checked as soon as it exists.
"""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from conftest import csrf_of, sign_in
from workflow_engine.models import AuditEvent, Case

# Werkzeug's defaults, which Flask applies unless configured otherwise; pinned here on purpose.
FIELD_LIMIT = 500_000
PARTS_LIMIT = 1_000
MAX_ROWS = 100  # the most items a list page may show at once


@pytest.fixture
def office(web, engine, deploy):
    deploy("linear3.bpmn")
    case_id = engine.start_case("linear3", actor="fo")
    return web, engine, engine.case(case_id)["registration_number"]


def comments(engine) -> int:
    with engine.db.read() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.commented"))


def test_limits_are_configured(web):
    assert web.config["MAX_CONTENT_LENGTH"] <= 10_000_000
    assert (web.config.get("MAX_FORM_MEMORY_SIZE") or FIELD_LIMIT) <= FIELD_LIMIT
    assert (web.config.get("MAX_FORM_PARTS") or PARTS_LIMIT) <= PARTS_LIMIT


def test_a_long_comment_is_refused_and_not_stored(office):
    app, engine, ref = office
    client = sign_in(app, "fo")
    token = csrf_of(client.get(f"/cases/{ref}").get_data(as_text=True))
    response = client.post(f"/cases/{ref}/comment", data={"csrf_token": token, "comment": "x" * 2_001})
    assert response.status_code == 422
    assert comments(engine) == 0


def test_a_field_over_the_form_memory_limit_is_413(office):
    app, engine, ref = office
    client = sign_in(app, "fo")
    token = csrf_of(client.get(f"/cases/{ref}").get_data(as_text=True))
    response = client.post(f"/cases/{ref}/comment", data={"csrf_token": token, "comment": "x" * (FIELD_LIMIT + 10)})
    assert response.status_code == 413 and "<html" in response.get_data(as_text=True)
    assert comments(engine) == 0


def test_too_many_fields_is_413(office):
    app, engine, ref = office
    client = sign_in(app, "fo")
    token = csrf_of(client.get(f"/cases/{ref}").get_data(as_text=True))
    fields = {f"f{i}": "1" for i in range(PARTS_LIMIT + 50)}
    response = client.post(f"/cases/{ref}/comment", data={"csrf_token": token, "comment": "ok", **fields},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert comments(engine) == 0


def test_a_body_over_the_content_length_limit_is_413_even_signed_out(web):
    client = web.test_client()
    body = b"username=" + b"x" * (web.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/login", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_task_form_values_over_the_fields_maxlength_are_refused(office):
    app, engine, ref = office
    client = sign_in(app, "fo")
    task_id = engine.case(ref)["tasks"][0]["id"]
    token = csrf_of(client.get(f"/tasks/{task_id}").get_data(as_text=True))
    response = client.post(f"/tasks/{task_id}", data={"csrf_token": token, "nama_pemohon": "N" * 5_000,
                                                      "jumlah_berkas": "1", "jenis_layanan": "baru",
                                                      "pernyataan_benar": "true", "tanggal_permohonan": "2026-11-30"})
    assert response.status_code == 422
    assert engine.case(ref)["tasks"][0]["state"] == "ready"


def test_json_over_the_bpmn_limit_is_413(web, engine, deploy):
    deploy("linear3.bpmn")
    draft_id = engine.draft_from_version("linear3", 1, author="analis")
    client = sign_in(web, "analis")
    token = csrf_of(client.get(f"/sop/drafts/{draft_id}").get_data(as_text=True))
    too_big = json.dumps({"xml": "x" * (engine.settings.max_bpmn_bytes + 1), "revision": 1})
    for action in ("check", "save"):
        response = client.post(f"/sop/drafts/{draft_id}/{action}", data=too_big, content_type="application/json",
                               headers={"X-CSRFToken": token})
        assert response.status_code == 413, action
    assert engine.draft(draft_id)["revision"] == 1
    huge = b'{"xml": "' + b"x" * web.config["MAX_CONTENT_LENGTH"] + b'"}'
    response = client.post(f"/sop/drafts/{draft_id}/check", data=huge, content_type="application/json",
                           headers={"X-CSRFToken": token})
    assert response.status_code == 413


# --- rows per list page ---------------------------------------------------------------------------------
SKIP = {"static", "healthz", "index", "auth.login"}
# Known unbounded pages, to be paginated by their owners; strict, so fixing one turns this red.
UNBOUNDED = {"admin.users": "lists every user (engine.users() has no limit)",
             "workbench.catalogue": "lists every SOP, version and draft (engine.catalogue() has no limit)"}


def list_pages(app) -> list[tuple[str, str]]:
    return sorted((rule.endpoint, rule.rule) for rule in app.url_map.iter_rules()
                  if "GET" in rule.methods and not rule.arguments and rule.endpoint not in SKIP
                  and not rule.rule.startswith("/api/"))


@pytest.fixture
def crowded(web, engine, deploy, database_url):
    """More cases, open tasks, users and drafts than a page may show."""
    if not database_url.startswith("sqlite"):
        pytest.skip("row caps are the same on both databases; SQLite is enough")
    deploy("linear3.bpmn")
    for _ in range(MAX_ROWS + 10):
        engine.start_case("linear3", actor="fo")
    for i in range(MAX_ROWS + 10):
        engine.add_user(f"massal{i:03d}", role="staff", lanes=["Front Office"], password_hash="x")
    xml = engine.sop_xml("linear3", 1).encode()
    for i in range(MAX_ROWS + 10):
        engine.create_draft(xml.replace(b'name="Uji linear tiga langkah"', f'name="Draf massal {i:03d}"'.encode()),
                            "linear3.bpmn", author="analis")
    return web


SELECT = re.compile(r"<select\b.*?</select>", re.S)
MARKERS = {"cases": re.compile(r"LIN-\d{4}-\d{6}"), "users": re.compile(r"massal\d{3}"),
           "drafts": re.compile(r"Draf massal \d{3}")}


@pytest.mark.slow
def test_every_list_page_caps_its_rows(crowded):
    client = sign_in(crowded, "admin")
    found, unbounded = [], []
    for endpoint, rule in list_pages(crowded):
        response = client.get(rule)
        assert response.status_code in (200, 302, 403), f"{rule}: {response.status_code}"
        if response.mimetype != "text/html":
            continue  # downloads and feeds are not list pages
        # Choices in a drop-down are not rows (e.g. the user a token acts as).
        html = SELECT.sub("", response.get_data(as_text=True))
        for kind, marker in MARKERS.items():
            shown = len(set(marker.findall(html)))
            if shown > MAX_ROWS:
                (unbounded if endpoint in UNBOUNDED else found).append(f"{rule} shows {shown} {kind}")
    assert found == [], "list pages must paginate"
    assert sorted({u.split()[0] for u in unbounded}) == sorted(
        r for e, r in list_pages(crowded) if e in UNBOUNDED), "a known unbounded page changed: update UNBOUNDED"


def test_list_pages_exist_to_check(web):
    endpoints = {e for e, _ in list_pages(web)}
    assert {"cases.index", "tasks.inbox", "workbench.catalogue", "admin.users"} <= endpoints


def test_page_numbers_are_bounded(web, engine):
    client = sign_in(web, "admin")
    for url in ("/cases?page=999999999999", "/tasks?page=999999999999", "/cases?page=-5", "/tasks?page=abc"):
        assert client.get(url).status_code == 200, url
