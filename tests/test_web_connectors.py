"""The connectors admin page, the failed call on the case page with its retry button, and the CLI."""
from __future__ import annotations

import pytest

from agency import Agency
from cli_run import alur_env, ok, ok_json, refused
from conftest import csrf_of, fixture_bytes, sign_in


@pytest.fixture
def agency():
    server = Agency()
    yield server
    server.close()


def form(agency, **changes) -> dict:
    return {"name": "dinkes", "url": agency.url + "/api/str", "method": "POST",
            "send": "nik -> nik_pemohon\nnama_pemohon", "receive": "status -> status_str\ndata.nomor -> nomor_str",
            "timeout_seconds": "2", "retries": "0", "credential": "", "original": "", **changes}


def post(client, url, data):
    token = csrf_of(client.get("/admin/connectors").get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


# --- the admin page ------------------------------------------------------------------------------
def test_only_admins_open_the_connectors_page(web):
    assert sign_in(web, "admin").get("/admin/connectors").status_code == 200
    for person in ("fo", "analis", "pimpinan"):
        assert sign_in(web, person).get("/admin/connectors").status_code == 403


def test_an_admin_adds_a_connector(web, engine, agency):
    client = sign_in(web, "admin")
    response = post(client, "/admin/connectors", form(agency))
    assert response.status_code == 302
    saved = engine.connector("dinkes")
    assert saved["send"] == [{"field": "nik", "as": "nik_pemohon"}, {"field": "nama_pemohon", "as": "nama_pemohon"}]
    page = client.get("/admin/connectors").get_data(as_text=True)
    assert "Konektor dinkes disimpan." in page and agency.url + "/api/str" in page


def test_wrong_fields_are_marked_in_indonesian_and_nothing_is_stored(web, engine, agency):
    client = sign_in(web, "admin")
    response = post(client, "/admin/connectors", form(agency, url="ftp://dinkes/api", send="nik\n9salah",
                                                       credential="PATH", timeout_seconds="500"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Isi alamat yang diawali http:// atau https://." in page
    assert "Baris 2: 9salah bukan nama field data berkas" in page
    assert "ALUR_CONNECTOR_" in page and "Isi bilangan bulat dari 1 sampai 120." in page
    assert 'id="url-error"' in page and 'aria-invalid="true"' in page
    assert 'value="ftp://dinkes/api"' in page  # what was typed stays
    assert engine.connectors() == []


def test_a_taken_name_is_refused_next_to_the_name(web, engine, agency):
    engine.save_connector(form(agency))
    response = post(sign_in(web, "admin"), "/admin/connectors", form(agency))
    assert response.status_code == 422
    assert "Sudah ada konektor dengan nama ini." in response.get_data(as_text=True)


def test_an_admin_changes_and_deletes_a_connector(web, engine, agency):
    engine.save_connector(form(agency))
    client = sign_in(web, "admin")
    page = client.get("/admin/connectors?edit=dinkes").get_data(as_text=True)
    assert "Ubah konektor dinkes" in page and "nik -&gt; nik_pemohon" in page
    assert client.get("/admin/connectors?edit=tidak-ada").status_code == 404
    response = post(client, "/admin/connectors", form(agency, name="dinkes-str", original="dinkes", retries="5"))
    assert response.status_code == 302
    assert [(c["name"], c["retries"]) for c in engine.connectors()] == [("dinkes-str", 5)]
    assert post(client, "/admin/connectors/delete", {"name": "dinkes-str"}).status_code == 302
    assert engine.connectors() == []
    assert post(client, "/admin/connectors/delete", {"name": "dinkes-str"}).status_code == 404


def test_the_page_tells_whether_the_credential_is_set_never_its_value(web, engine, agency):
    engine.connector_environ = {"ALUR_CONNECTOR_DINKES": "sangat-rahasia"}
    engine.save_connector(form(agency, credential="ALUR_CONNECTOR_DINKES"))
    engine.save_connector(form(agency, name="bpkad", credential="ALUR_CONNECTOR_BPKAD"))
    page = sign_in(web, "admin").get("/admin/connectors").get_data(as_text=True)
    assert "sudah diisi di server ini" in page and "belum diisi di server ini" in page
    assert "sangat-rahasia" not in page


# --- the case page -------------------------------------------------------------------------------------
@pytest.fixture
def failed_case(web, engine, agency):
    """A case whose call to the Dinas Kesehatan failed (503, no retries left)."""
    engine.deploy(fixture_bytes("connector_str.bpmn"), "connector_str.bpmn")
    engine.save_connector(form(agency))
    agency.fail(1)
    case_id = engine.start_case("connector_str", actor="fo")
    engine.complete(engine.case(case_id)["tasks"][0]["id"], user="fo",
                    data={"nik": "9101", "nama_pemohon": "Yohana Wenda"})
    engine.run_connector_jobs()
    return engine.case(case_id)


def test_the_case_page_shows_the_failed_call_clearly(web, failed_case):
    page = sign_in(web, "fo").get(f"/cases/{failed_case['registration_number']}").get_data(as_text=True)
    assert "Panggilan ke instansi lain" in page
    assert "Panggilan ke dinkes (127.0.0.1) gagal: HTTP 503 setelah 1 percobaan." in page
    assert "Coba panggil lagi" not in page  # staff see the error, admins retry
    assert "Administrator dapat mengulang panggilan" in page


def test_an_admin_retries_the_call_from_the_case_page(web, engine, failed_case):
    client = sign_in(web, "admin")
    number = failed_case["registration_number"]
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "Coba panggil lagi" in page
    job_id = failed_case["connector_jobs"][0]["id"]
    response = client.post("/admin/connectors/retry", data={"job_id": job_id, "case": number,
                                                             "csrf_token": csrf_of(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{number}#exchange")
    assert engine.case(number)["connector_jobs"][0]["state"] == "pending"
    engine.run_connector_jobs()
    view = engine.case(number)
    assert [t["step_id"] for t in view["tasks"] if t["state"] == "ready"] == ["terbitkan"]
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "Dijawab" in page and "Diterima: nomor_str, status_str" in page
    # Retrying again: the call is no longer failed, so the admin is told and sent back to the case.
    again = client.post("/admin/connectors/retry", data={"job_id": job_id, "case": number,
                                                          "csrf_token": csrf_of(page)})
    assert again.status_code == 302
    assert "tidak dapat diulang" in client.get(f"/cases/{number}").get_data(as_text=True)


def test_failed_calls_are_listed_for_the_admin(web, failed_case):
    page = sign_in(web, "admin").get("/admin/connectors").get_data(as_text=True)
    assert failed_case["registration_number"] in page and "HTTP 503" in page
    assert "connector_str v1: Cek STR ke Dinas Kesehatan" in page


# --- the command line ------------------------------------------------------------------------------------
def test_alur_connectors_add_list_remove(sqlite_url, tmp_path):
    env = alur_env(sqlite_url, tmp_path)
    ok(["connectors", "add", "dinkes", "--url", "https://dinkes.example/api/str", "--send", "nik->nik_pemohon",
        "--receive", "data.status->status_str", "--credential", "ALUR_CONNECTOR_DINKES"], env)
    [item] = ok_json(["connectors", "list"], env)
    assert item["receive"] == [{"field": "data.status", "as": "status_str"}] and item["credential_set"] is False
    text = ok(["connectors", "list"], env).stdout
    assert "dinkes: POST https://dinkes.example/api/str" in text and "NOT SET" in text
    assert "already exists" in refused(["connectors", "add", "dinkes", "--url", "https://x.example"], env)
    ok(["connectors", "add", "dinkes", "--url", "https://dinkes.example/v2", "--replace"], env)
    assert ok_json(["connectors", "list"], env)[0]["url"] == "https://dinkes.example/v2"
    ok(["connectors", "remove", "dinkes"], env)
    assert ok_json(["connectors", "list"], env) == []
    assert "no connector named" in refused(["connectors", "remove", "dinkes"], env)


def test_alur_connectors_add_refuses_wrong_settings_in_one_line(sqlite_url, tmp_path):
    env = alur_env(sqlite_url, tmp_path)
    message = refused(["connectors", "add", "dinkes", "--url", "ftp://dinkes", "--credential", "HOME"], env)
    assert "url: give an http:// or https:// address" in message and "credential:" in message
