"""The SOP catalogue and drafts on the web: who may do what, uploads refused with located reasons, saving
with a revision, publishing and retiring; on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import re

import pytest

from conftest import FIXTURES, PROCESSES, csrf_of, sign_in

from corpus import MIWG  # noqa: E402
LINEAR3 = (FIXTURES / "linear3.bpmn").read_bytes()


@pytest.fixture
def office(web, engine, deploy):
    """linear3 published once (with one case on it), and the app."""
    deploy("linear3.bpmn")
    engine.start_case("linear3", actor="fo")
    return web


def client_of(app, username):
    client = sign_in(app, username)
    return client, csrf_of(client.get("/cases").get_data(as_text=True))


def upload(client, token, content: bytes, filename="sop.bpmn", **extra):
    from io import BytesIO
    return client.post("/sop/upload", data={"csrf_token": token, "file": (BytesIO(content), filename), **extra},
                       content_type="multipart/form-data")


def boot_of(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="modeler-boot">(.*?)</script>', html, re.DOTALL)
    assert match, "the modeler page has no boot data"
    return json.loads(match.group(1))


def post_json(client, url, token, data):
    return client.post(url, data=json.dumps(data), content_type="application/json",
                       headers={"X-CSRFToken": token, "Accept": "application/json"})


def sop_of(engine, key: str) -> dict:
    return next(s for s in engine.catalogue() if s["key"] == key)


def linear3_changed(name="Uji linear (diubah)") -> bytes:
    return LINEAR3.replace(b'name="Uji linear tiga langkah"', f'name="{name}"'.encode())


# --- who may do what ----------------------------------------------------------------------------

def test_staff_get_403_on_every_workbench_page(office, engine):
    draft_id = engine.new_draft("baru", "SOP baru", author="analis")
    client, token = client_of(office, "fo")
    for url in ("/sop", f"/sop/drafts/{draft_id}", f"/sop/drafts/{draft_id}.bpmn", "/sop/linear3/v1.bpmn",
                f"/sop/drafts/{draft_id}/publish"):
        assert client.get(url).status_code == 403, url
    for url in ("/sop/new", "/sop/upload", "/sop/linear3/v1/draft", "/sop/linear3/v1/status",
                f"/sop/drafts/{draft_id}/publish", f"/sop/drafts/{draft_id}/delete"):
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url
    assert post_json(client, f"/sop/drafts/{draft_id}/save", token, {"xml": "x", "revision": 1}).status_code == 403
    assert engine.draft(draft_id)["revision"] == 1


def test_anonymous_visitors_are_sent_to_sign_in(office):
    response = office.test_client().get("/sop")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_manager_reads_the_catalogue_without_edit_controls(office, engine):
    engine.new_draft("baru", "SOP baru", author="analis")
    client, token = client_of(office, "pimpinan")
    html = client.get("/sop").get_data(as_text=True)
    assert "Uji linear tiga langkah" in html and "SOP baru" in html
    assert 'action="/sop/upload"' not in html and 'action="/sop/new"' not in html
    assert "/status" not in html and "/draft\"" not in html
    assert client.get("/sop/linear3/v1.bpmn").status_code == 200
    assert client.post("/sop/new", data={"csrf_token": token, "key": "x", "name": "X"}).status_code == 403
    assert client.post("/sop/linear3/v1/status", data={"csrf_token": token, "status": "retired",
                                                       "confirm": "yes"}).status_code == 403
    assert sop_of(engine, "linear3")["versions"][0]["status"] == "published"


@pytest.mark.parametrize("username, sees", [("analis", True), ("admin", True), ("pimpinan", True), ("fo", False)])
def test_the_sop_link_is_in_the_navigation_for_those_who_may_open_it(office, username, sees):
    client, _ = client_of(office, username)
    html = client.get("/cases").get_data(as_text=True)
    assert ('href="/sop"' in html) is sees


# --- the catalogue ------------------------------------------------------------------------------

def test_catalogue_lists_versions_with_status_author_note_cases_and_marks_the_published_one(office, engine):
    engine.deploy(linear3_changed(), "linear3.bpmn", author="analis", note="Nama baru")
    engine.set_version_status("linear3", 1, "retired", actor="analis")
    engine.draft_from_version("linear3", 2, author="analis")
    client, _ = client_of(office, "analis")
    html = client.get("/sop").get_data(as_text=True)
    rows = {int(n): row for n, row in re.findall(r'data-version="(\d+)">(.*?)</tr>', html, re.DOTALL)}
    assert set(rows) == {1, 2}
    assert "version--current" in html.split('data-version="2"')[0].rsplit("<tr", 1)[1]
    assert "Nama baru" in rows[2] and "analis" in rows[2]
    assert re.search(r"Dipensiunkan|Retired", rows[1])
    assert re.search(r'>1</a>', rows[1]), "the case run on version 1 is counted"
    assert "/sop/linear3/compare?a=1&amp;b=2" in html
    assert re.search(r'/sop/linear3/compare\?a=2&amp;b=d\d+', html), "the draft links to a comparison with its base"
    assert re.search(r'href="/sop/drafts/\d+"', html)


def test_catalogue_is_indonesian_by_default_and_english_on_request(office):
    client, _ = client_of(office, "analis")
    assert "SOP baru" in client.get("/sop").get_data(as_text=True)  # "New SOP"
    english = client.get("/sop?lang=en").get_data(as_text=True)  # analis has no language of their own
    assert "New SOP" in english and "Upload a .bpmn file" in english


# --- new SOP from the template -----------------------------------------------------------------

def test_new_sop_from_the_template_opens_the_modeler(office, engine):
    client, token = client_of(office, "analis")
    response = client.post("/sop/new", data={"csrf_token": token, "key": "izin_baru", "name": "Izin Baru"})
    assert response.status_code == 302
    draft_id = int(re.search(r"/sop/drafts/(\d+)$", response.headers["Location"]).group(1))
    page = client.get(f"/sop/drafts/{draft_id}")
    html = page.get_data(as_text=True)
    boot = boot_of(html)
    assert boot["id"] == draft_id and boot["key"] == "izin_baru" and boot["revision"] == 1
    assert 'id="izin_baru"' in boot["xml"]
    assert boot["urls"]["save"] == f"/sop/drafts/{draft_id}/save"
    assert boot["messages"]["budget"] and boot["messages"]["addField"]
    assert "bpmn-modeler.production.min.js" in html and "camunda.json" in html
    assert "<script>" not in html and " style=" not in html


def test_only_the_modeler_page_loads_the_modeler(office):
    client, _ = client_of(office, "analis")
    for url in ("/sop", "/cases", "/tasks"):
        assert "bpmn-js-modeler" not in client.get(url).get_data(as_text=True), url


@pytest.mark.parametrize("key, name, field", [("", "Nama", "key"), ("1abc", "Nama", "key"),
                                              ("ada spasi", "Nama", "key"), ("baru", "", "name")])
def test_new_sop_with_a_bad_key_or_name_is_refused_and_stores_nothing(office, engine, key, name, field):
    client, token = client_of(office, "analis")
    response = client.post("/sop/new", data={"csrf_token": token, "key": key, "name": name})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert engine.drafts() == []


def test_new_sop_with_the_key_of_an_existing_sop_is_refused(office, engine):
    client, token = client_of(office, "analis")
    response = client.post("/sop/new", data={"csrf_token": token, "key": "linear3", "name": "Lagi"})
    assert response.status_code == 422 and 'id="key-error"' in response.get_data(as_text=True)
    assert engine.drafts() == []


# --- upload -------------------------------------------------------------------------------------

def test_upload_of_a_good_file_makes_a_draft_and_opens_it(office, engine):
    client, token = client_of(office, "analis")
    response = upload(client, token, linear3_changed(), "linear3-baru.bpmn", note="dari Camunda Modeler")
    assert response.status_code == 302
    [draft] = engine.drafts()
    assert response.headers["Location"].endswith(f"/sop/drafts/{draft['id']}")
    assert draft["executable"] and draft["key"] == "linear3" and draft["author"] == "analis"


def test_upload_of_a_descriptive_model_is_kept_as_a_draft_with_what_blocks_it(office, engine):
    client, token = client_of(office, "analis")
    content = (MIWG / "A.1.0.bpmn").read_bytes() if MIWG.is_dir() else LINEAR3.replace(
        b"<bpmn:userTask", b"<bpmn:complexGateway").replace(b"</bpmn:userTask>", b"</bpmn:complexGateway>")
    response = upload(client, token, content, "A.1.0.bpmn")
    assert response.status_code == 302
    draft = engine.draft(engine.drafts()[0]["id"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    if not draft["executable"]:
        assert draft["errors"] and draft["errors"][0]["message"] in page.replace("&#39;", "'").replace("&#34;", '"')


@pytest.mark.parametrize("content, located", [
    (b"this is not xml at all", True),
    ((b'<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">\n'
      b'<bpmn:process id="p">\n<bpmn:task id="t"></bpmn:process></bpmn:definitions>'), True),
    (b'<?xml version="1.0"?><html><body>no bpmn</body></html>', False),
])
def test_upload_of_a_broken_file_is_refused_with_a_located_list_and_stores_nothing(office, engine, content, located):
    client, token = client_of(office, "analis")
    response = upload(client, token, content, "rusak.bpmn")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="problem-list"' in html and "rusak.bpmn" in html
    if located:
        assert re.search(r"(baris|line) \d+", html), "the refusal names no line"
    assert engine.drafts() == []


def test_upload_with_an_external_entity_is_refused_without_reading_the_file(office, engine, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("RAHASIA-XXE-42")
    payload = (f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>\n'
               '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
               '<bpmn:process id="p" name="&x;"/></bpmn:definitions>').encode()
    client, token = client_of(office, "analis")
    response = upload(client, token, payload, "xxe.bpmn")
    assert response.status_code == 422
    assert "RAHASIA-XXE-42" not in response.get_data(as_text=True)
    assert engine.drafts() == []


def test_upload_with_entity_expansion_is_refused(office, engine):
    payload = (b'<?xml version="1.0"?>\n<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
               b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
               b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
               b'<bpmn:process id="p" name="&c;"/></bpmn:definitions>')
    client, token = client_of(office, "analis")
    response = upload(client, token, payload, "lol.bpmn")
    assert response.status_code == 422 and "aaaaaaaaaaaaaaaaaaaa" not in response.get_data(as_text=True)
    assert engine.drafts() == []


def test_upload_over_the_size_limit_is_refused_and_stores_nothing(office, engine):
    limit = engine.settings.max_bpmn_bytes
    client, token = client_of(office, "analis")
    big = LINEAR3.replace(b"</bpmn:definitions>", b"<!--" + b"x" * limit + b"-->\n</bpmn:definitions>")
    response = upload(client, token, big, "besar.bpmn")
    assert response.status_code == 413
    assert "besar.bpmn" in response.get_data(as_text=True)
    assert engine.drafts() == []


def test_upload_without_a_file_says_so(office, engine):
    client, token = client_of(office, "analis")
    response = client.post("/sop/upload", data={"csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 422 and 'id="upload-error"' in response.get_data(as_text=True)
    assert upload(client, token, b"   ", "kosong.bpmn").status_code == 422
    assert engine.drafts() == []


@pytest.mark.skipif(not MIWG.is_dir(), reason=f"no MIWG reference corpus at {MIWG}")
def test_every_miwg_reference_file_imports_as_a_draft_or_is_refused_with_a_located_list(office, engine):
    client, token = client_of(office, "analis")
    outcomes = {}
    for path in sorted(MIWG.glob("*.bpmn")):
        response = upload(client, token, path.read_bytes(), path.name)
        outcomes[path.name] = response.status_code
        if response.status_code == 422:
            assert 'class="problem-list"' in response.get_data(as_text=True), path.name
        else:
            assert response.status_code == 302, (path.name, response.status_code)
            draft_id = int(response.headers["Location"].rsplit("/", 1)[1])
            assert client.get(f"/sop/drafts/{draft_id}").status_code == 200, path.name
    assert len(engine.drafts()) == sum(1 for code in outcomes.values() if code == 302)
    assert outcomes and all(code in (302, 422) for code in outcomes.values()), outcomes


# --- versions -----------------------------------------------------------------------------------

def test_version_download_is_the_stored_file_as_an_attachment(office, engine):
    client, _ = client_of(office, "analis")
    response = client.get("/sop/linear3/v1.bpmn")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.headers["Content-Disposition"] == 'attachment; filename="linear3-v1.bpmn"'
    assert b'id="linear3"' in response.get_data()
    assert client.get("/sop/linear3/v9.bpmn").status_code == 404
    assert client.get("/sop/nope/v1.bpmn").status_code == 404


def test_a_version_opens_as_a_new_draft_based_on_it(office, engine):
    client, token = client_of(office, "analis")
    response = client.post("/sop/linear3/v1/draft", data={"csrf_token": token})
    assert response.status_code == 302
    [draft] = engine.drafts()
    assert draft["base_version"] == 1 and response.headers["Location"].endswith(f"/sop/drafts/{draft['id']}")
    assert client.post("/sop/linear3/v7/draft", data={"csrf_token": token}).status_code == 404


def test_retire_and_publish_again_need_confirmation_and_leave_running_cases_alone(office, engine):
    client, token = client_of(office, "analis")
    unconfirmed = client.post("/sop/linear3/v1/status", data={"csrf_token": token, "status": "retired"})
    assert unconfirmed.status_code == 303
    assert sop_of(engine, "linear3")["versions"][0]["status"] == "published"
    response = client.post("/sop/linear3/v1/status",
                           data={"csrf_token": token, "status": "retired", "confirm": "yes"})
    assert response.status_code == 302
    sop = sop_of(engine, "linear3")
    assert sop["versions"][0]["status"] == "retired" and sop["published_version"] is None
    assert engine.cases(process="linear3")[0]["status"] == "running"
    html = client.get("/sop").get_data(as_text=True)
    assert "Publish version 1 again" in html or "Terbitkan lagi versi 1" in html
    client.post("/sop/linear3/v1/status", data={"csrf_token": token, "status": "published", "confirm": "yes"})
    assert sop_of(engine, "linear3")["published_version"] == 1


def test_an_unknown_status_changes_nothing(office, engine):
    client, token = client_of(office, "analis")
    client.post("/sop/linear3/v1/status", data={"csrf_token": token, "status": "deleted", "confirm": "yes"})
    assert sop_of(engine, "linear3")["versions"][0]["status"] == "published"


# --- saving and checking from the modeler --------------------------------------------------------

@pytest.fixture
def draft(office, engine):
    """A draft of linear3 v1 opened by the analyst: (client, token, draft id)."""
    draft_id = engine.draft_from_version("linear3", 1, author="analis")
    client, token = client_of(office, "analis")
    return client, token, draft_id


def test_save_with_the_current_revision_stores_and_bumps_it(draft, engine):
    client, token, draft_id = draft
    response = post_json(client, f"/sop/drafts/{draft_id}/save", token,
                         {"xml": linear3_changed("Disimpan").decode(), "revision": 1})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["revision"] == 2 and body["executable"] is True and isinstance(body["warnings"], list)
    assert 'name="Disimpan"' in engine.draft(draft_id)["xml"]


def test_save_with_a_stale_revision_is_a_409_and_keeps_the_other_save(draft, engine):
    client, token, draft_id = draft
    engine.save_draft(draft_id, linear3_changed("Orang lain"), author="admin", expected_revision=1)
    response = post_json(client, f"/sop/drafts/{draft_id}/save", token,
                         {"xml": linear3_changed("Saya").decode(), "revision": 1})
    assert response.status_code == 409
    assert response.get_json()["error"] == "conflict" and response.get_json()["message"]
    assert 'name="Orang lain"' in engine.draft(draft_id)["xml"]


def test_save_of_unreadable_xml_is_refused_with_problems(draft, engine):
    client, token, draft_id = draft
    response = post_json(client, f"/sop/drafts/{draft_id}/save", token, {"xml": "<nope", "revision": 1})
    assert response.status_code == 422
    assert response.get_json()["problems"][0]["message"]
    assert engine.draft(draft_id)["revision"] == 1


@pytest.mark.parametrize("payload", [{"xml": "<x/>"}, {"xml": "<x/>", "revision": "1"}, {"revision": 1}, ["x"]])
def test_save_without_xml_or_revision_is_a_400(draft, payload):
    client, token, draft_id = draft
    assert post_json(client, f"/sop/drafts/{draft_id}/save", token, payload).status_code == 400


def test_save_and_check_take_only_json(draft, engine):
    client, token, draft_id = draft
    for action in ("save", "check"):
        response = client.post(f"/sop/drafts/{draft_id}/{action}", data={"csrf_token": token, "xml": "<x/>"})
        assert response.status_code == 415 and response.get_json()["error"] == "not_json"
    assert engine.draft(draft_id)["revision"] == 1


def test_save_without_the_csrf_header_is_refused(draft, engine):
    client, _, draft_id = draft
    response = client.post(f"/sop/drafts/{draft_id}/save", data=json.dumps({"xml": LINEAR3.decode(), "revision": 1}),
                           content_type="application/json")
    assert response.status_code == 400
    assert engine.draft(draft_id)["revision"] == 1


def test_save_to_a_deleted_draft_is_a_404_json(draft, engine):
    client, token, draft_id = draft
    engine.delete_draft(draft_id, actor="admin")
    response = post_json(client, f"/sop/drafts/{draft_id}/save", token, {"xml": LINEAR3.decode(), "revision": 1})
    assert response.status_code == 404


def test_check_returns_errors_and_warnings_of_the_posted_xml_without_saving(draft, engine):
    client, token, draft_id = draft
    broken = LINEAR3.replace(b'targetRef="verifikasi"', b'targetRef="tidak_ada"')
    response = post_json(client, f"/sop/drafts/{draft_id}/check", token, {"xml": broken.decode()})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) >= {"key", "name", "executable", "errors", "warnings"}
    assert body["executable"] is False and body["errors"]
    assert all({"message", "element_id", "line", "severity"} <= set(p) for p in body["errors"] + body["warnings"])
    assert engine.draft(draft_id)["revision"] == 1
    good = post_json(client, f"/sop/drafts/{draft_id}/check", token, {"xml": LINEAR3.decode()}).get_json()
    assert good["executable"] is True and good["errors"] == []


def test_check_of_something_that_is_not_xml_answers_with_problems_not_a_crash(draft):
    client, token, draft_id = draft
    body = post_json(client, f"/sop/drafts/{draft_id}/check", token, {"xml": "not xml"}).get_json()
    assert body["executable"] is False and body["errors"]


def test_check_over_the_size_limit_is_a_413(draft, engine):
    client, token, draft_id = draft
    big = "x" * (engine.settings.max_bpmn_bytes + 1)
    assert post_json(client, f"/sop/drafts/{draft_id}/check", token, {"xml": big}).status_code == 413


def test_the_draft_downloads_as_its_file(draft, engine):
    client, _, draft_id = draft
    response = client.get(f"/sop/drafts/{draft_id}.bpmn")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True) == engine.draft(draft_id)["xml"]


def test_an_unknown_draft_is_a_404(office):
    client, token = client_of(office, "analis")
    assert client.get("/sop/drafts/999").status_code == 404
    assert post_json(client, "/sop/drafts/999/check", token, {"xml": "<x/>"}).status_code == 404


# --- publishing and deleting --------------------------------------------------------------------

def test_publish_makes_the_next_version_with_its_note_and_drops_the_draft(draft, engine):
    client, token, draft_id = draft
    engine.save_draft(draft_id, linear3_changed("Versi dua"), author="analis", expected_revision=1)
    response = client.post(f"/sop/drafts/{draft_id}/publish", data={"csrf_token": token, "note": "Nama diganti"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sop#sop-linear3")
    sop = sop_of(engine, "linear3")
    assert [v["version"] for v in sop["versions"]] == [1, 2] and sop["published_version"] == 2
    assert sop["versions"][1]["note"] == "Nama diganti" and sop["versions"][1]["author"] == "analis"
    assert sop["drafts"] == []
    case_id = engine.start_case("linear3", actor="fo")
    assert engine.case(case_id, with_tasks=False)["version"] == 2


def test_publish_without_a_note_is_refused(draft, engine):
    client, token, draft_id = draft
    response = client.post(f"/sop/drafts/{draft_id}/publish", data={"csrf_token": token, "note": "  "})
    assert response.status_code == 422 and 'id="note-error"' in response.get_data(as_text=True)
    assert len(sop_of(engine, "linear3")["versions"]) == 1


def test_publish_of_a_draft_that_cannot_run_lists_the_blocking_errors(draft, engine):
    client, token, draft_id = draft
    broken = LINEAR3.replace(b'targetRef="verifikasi"', b'targetRef="tidak_ada"')
    engine.save_draft(draft_id, broken, author="analis", expected_revision=1)
    response = client.post(f"/sop/drafts/{draft_id}/publish", data={"csrf_token": token, "note": "coba"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'class="problem-list"' in html and "tidak_ada" in html
    assert len(sop_of(engine, "linear3")["versions"]) == 1 and engine.draft(draft_id)


def test_publish_of_an_unchanged_copy_says_there_is_nothing_new(draft, engine):
    client, token, draft_id = draft
    response = client.post(f"/sop/drafts/{draft_id}/publish", data={"csrf_token": token, "note": "sama"})
    assert response.status_code == 422
    assert len(sop_of(engine, "linear3")["versions"]) == 1


def test_the_publish_page_works_without_javascript(draft):
    client, _, draft_id = draft
    html = client.get(f"/sop/drafts/{draft_id}/publish").get_data(as_text=True)
    assert f'action="/sop/drafts/{draft_id}/publish"' in html and 'name="note"' in html and "<script src" not in html


def test_delete_needs_confirmation_then_drops_the_draft(draft, engine):
    client, token, draft_id = draft
    assert client.post(f"/sop/drafts/{draft_id}/delete", data={"csrf_token": token}).status_code == 303
    assert engine.drafts()
    response = client.post(f"/sop/drafts/{draft_id}/delete", data={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 302 and engine.drafts() == []


# --- the SOP library round trip -------------------------------------------------------------------

@pytest.mark.parametrize("folder", sorted(p.name for p in PROCESSES.iterdir() if p.is_dir()))
def test_each_library_sop_opens_in_the_modeler(web, engine, folder):
    key = engine.deploy((PROCESSES / folder / "v1.bpmn").read_bytes(), "v1.bpmn", author="analis").key
    draft_id = engine.draft_from_version(key, 1, author="analis")
    client, _ = client_of(web, "analis")
    boot = boot_of(client.get(f"/sop/drafts/{draft_id}").get_data(as_text=True))
    assert boot["problems"]["executable"] is True and boot["problems"]["errors"] == []
