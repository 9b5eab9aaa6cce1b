"""Static files go gzip-compressed to browsers that ask; pages never do (BREACH); revalidation still works."""
import gzip

import pytest
from conftest import ROOT, sign_in

VIEWER = "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js"
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture
def client(web):
    return web.test_client()


def test_a_static_file_is_sent_compressed_to_a_browser_that_accepts_gzip(client):
    answer = client.get(VIEWER, headers=GZIP)
    on_disk = (ROOT / "web" / VIEWER.lstrip("/")).read_bytes()
    assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(answer.data) == on_disk
    assert int(answer.headers["Content-Length"]) == len(answer.data) < len(on_disk) // 2
    assert "Accept-Encoding" in answer.headers["Vary"]
    assert answer.headers["ETag"].startswith('W/"')


def test_revalidating_a_compressed_file_answers_not_modified(client):
    etag = client.get(VIEWER, headers=GZIP).headers["ETag"]
    again = client.get(VIEWER, headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_without_gzip_in_accept_encoding_the_file_goes_as_it_is(client):
    for headers in ({}, {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip;q=0, br"}):
        answer = client.get(VIEWER, headers=headers)
        assert answer.status_code == 200 and "Content-Encoding" not in answer.headers
        assert answer.data == (ROOT / "web" / VIEWER.lstrip("/")).read_bytes()


def test_a_range_request_is_answered_uncompressed(client):
    answer = client.get(VIEWER, headers={**GZIP, "Range": "bytes=0-99"})
    assert answer.status_code == 206 and len(answer.data) == 100 and "Content-Encoding" not in answer.headers


def test_pages_with_a_csrf_token_are_never_compressed(web):
    page = sign_in(web, "fo").get("/tasks?cari=abc", headers=GZIP)
    assert page.status_code == 200 and "Content-Encoding" not in page.headers
    assert b"csrf_token" in page.data


def test_tiny_files_and_other_types_go_as_they_are(client):
    tiny = client.get("/static/css/api-docs.css", headers=GZIP)  # 166 bytes: nothing to gain
    assert tiny.status_code == 200 and "Content-Encoding" not in tiny.headers
    notes = client.get("/static/vendor/bpmn-js/README.md", headers=GZIP)  # not a type browsers load
    assert notes.status_code == 200 and "Content-Encoding" not in notes.headers
    css = client.get("/static/css/alur.css", headers=GZIP)
    assert css.headers["Content-Encoding"] == "gzip"


def test_a_case_diagram_is_sent_compressed(web, engine, deploy):
    key = deploy("izin-reklame/v2.bpmn")
    case_id = engine.start_case(key, actor="admin")
    ref = engine.case(case_id, with_tasks=False)["registration_number"]
    client = sign_in(web, "admin")
    plain = client.get(f"/cases/{ref}/diagram.bpmn")
    packed = client.get(f"/cases/{ref}/diagram.bpmn", headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip" and gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) // 4 and "Content-Encoding" not in plain.headers
