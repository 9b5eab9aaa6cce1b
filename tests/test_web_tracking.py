"""The public tracking page /lacak and the survey form, through Flask's test client (no sign-in)."""
import re
import statistics
import time
from pathlib import Path

import pytest

from conftest import csrf_of, sign_in
from workflow_engine.tracking import SKM_CODES

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
LINEAR_FORM = {"nama_pemohon": "Yakobus Wenda", "jumlah_berkas": "3", "jenis_layanan": "perpanjangan",
               "pernyataan_benar": "true", "tanggal_permohonan": "2026-11-30"}
# Staff usernames and names of the `web` fixture's office, the case's data and its comment.
SECRETS = ("Yakobus Wenda", "perpanjangan", "Berkas asli sudah dicek", "DOK/77/2026", "Front Office",
           "Back Office", "Maria Kogoya", ">fo<", ">bo<", "pimpinan", "admin")


@pytest.fixture
def office(web, engine, deploy):
    deploy("linear3.bpmn")
    engine.update_user("fo", full_name="Maria Kogoya")
    return web, engine


def ready(engine, case_id, step):
    return next(t["id"] for t in engine.tasks(case_id=case_id) if t["step_id"] == step and t["state"] == "ready")


def new_case(engine, clock, *, done: bool = False) -> str:
    case_id = engine.start_case("linear3", actor="fo")
    engine.comment(case_id, user="fo", text="Berkas asli sudah dicek")
    engine.complete(ready(engine, case_id, "isi_formulir"), user="fo", data=LINEAR_FORM)
    engine.claim(ready(engine, case_id, "verifikasi"), user="bo")
    if done:
        clock.advance(hours=1)
        engine.complete(ready(engine, case_id, "verifikasi"), user="bo")
        engine.complete(ready(engine, case_id, "terbitkan"), user="fo", data={"nomor_dokumen": "DOK/77/2026"})
    return engine.case(case_id)["registration_number"]


def answers(value: int = 4) -> dict:
    return {code: str(value) for code in SKM_CODES}


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


# --- the lookup ----------------------------------------------------------------------------------

def test_the_form_needs_no_sign_in_and_is_indonesian(office):
    web, _ = office
    page = web.test_client().get("/lacak")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="id">' in html
    assert "Lacak berkas" in html and 'name="nomor"' in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert page.headers["X-Robots-Tag"] == "noindex, nofollow"


def test_english_on_request(office):
    web, _ = office
    html = web.test_client().get("/lacak?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "Track a file" in html


def test_a_shared_link_answers_directly(office, clock):
    web, engine = office
    number = new_case(engine, clock)
    page = web.test_client().get(f"/lacak?nomor={number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert number in html and "Uji linear tiga langkah" in html and "Verifikasi berkas" in html
    assert "Sedang diproses" in html and "Dijanjikan selesai" in html
    assert page.headers["Cache-Control"] == "no-store"


def test_the_page_shows_no_staff_case_data_or_comments(office, clock):
    web, engine = office
    for done in (False, True):
        number = new_case(engine, clock, done=done)
        html = web.test_client().get(f"/lacak?nomor={number}").get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in html, secret


def test_a_signed_in_clerk_sees_the_same_public_page_without_the_staff_menu(office, clock):
    web, engine = office
    number = new_case(engine, clock)
    html = sign_in(web, "fo").get(f"/lacak?nomor={number}").get_data(as_text=True)
    assert "Maria Kogoya" not in html and "/logout" not in html and "/tasks" not in html


def test_unknown_and_malformed_numbers_get_the_same_answer(office, clock):
    web, engine = office
    new_case(engine, clock)
    client = web.test_client()
    pages = {typed: client.get("/lacak", query_string={"nomor": typed})
             for typed in ("LIN-2026-999999", "zz", "1", "LAT-LIN-2026-000001", "<script>x</script>")}
    assert {p.status_code for p in pages.values()} == {404}
    # Only the typed number comes back (in the field and the language links), nothing else differs.
    shapes = {re.sub(r'value="[^"]*"|nomor=[^"&]*', '', p.get_data(as_text=True)) for p in pages.values()}
    assert len(shapes) == 1, "the not-found page must not differ by what was typed"
    html = pages["LIN-2026-999999"].get_data(as_text=True)
    assert "Tidak ada berkas dengan nomor ini" in html and "Uji linear" not in html
    assert "<script>x" not in pages["<script>x</script>"].get_data(as_text=True)


def test_practice_cases_are_not_found(office):
    web, engine = office
    number = engine.case(engine.start_case("linear3", actor="fo", practice=True))["registration_number"]
    assert web.test_client().get(f"/lacak?nomor={number}").status_code == 404


def test_unknown_and_malformed_lookups_run_the_same_queries(office, clock):
    """The same SQL for any number that is not a file: nothing to time apart."""
    from sqlalchemy import event

    web, engine = office
    new_case(engine, clock)
    client = web.test_client()
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)
    event.listen(engine.db.engine, "before_cursor_execute", record)
    try:
        seen = {}
        for typed in ("LIN-2026-999999", "%%%", "1", "x" * 500):
            statements.clear()
            client.get("/lacak", query_string={"nomor": typed})
            seen[typed] = list(statements)
    finally:
        event.remove(engine.db.engine, "before_cursor_execute", record)
    assert len({tuple(s) for s in seen.values()}) == 1
    assert [s for s in seen["1"] if s.lstrip().upper().startswith("SELECT")] != []


def test_unknown_and_malformed_lookups_take_similar_time(office, clock):
    web, engine = office
    web.config["ALUR_TRACKING_LOOKUPS"] = 1000
    new_case(engine, clock)
    client = web.test_client()
    times = {"LIN-2026-999999": [], "%%%": []}
    for typed in times:  # warm up both paths
        client.get("/lacak", query_string={"nomor": typed})
    for _ in range(25):  # interleaved, so a busy machine slows both alike
        for typed, found in times.items():
            start = time.perf_counter()
            client.get("/lacak", query_string={"nomor": typed})
            found.append(time.perf_counter() - start)
    unknown, malformed = (statistics.median(v) for v in times.values())
    assert 1 / 3 < unknown / malformed < 3, (unknown, malformed)


def test_lookups_are_rate_limited_per_address(office, clock):
    web, engine = office
    number = new_case(engine, clock)
    client = web.test_client()
    for _ in range(20):
        assert client.get(f"/lacak?nomor={number}").status_code == 200
    limited = client.get(f"/lacak?nomor={number}")
    assert limited.status_code == 429 and "Terlalu banyak pencarian" in limited.get_data(as_text=True)
    assert limited.headers["Retry-After"] == "300"
    assert number not in visible_text(limited.get_data(as_text=True).split("</form>")[-1])
    other = web.test_client().get(f"/lacak?nomor={number}", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200
    # The empty form is no lookup and stays open.
    assert client.get("/lacak").status_code == 200


def test_the_limit_counts_wrong_numbers_too(office):
    web, _ = office
    client = web.test_client()
    for n in range(20):
        assert client.get(f"/lacak?nomor=LIN-2026-{n:06d}").status_code == 404
    assert client.get("/lacak?nomor=LIN-2026-000099").status_code == 429


def test_the_page_stays_small(office, clock):
    web, engine = office
    number = new_case(engine, clock, done=True)
    html = web.test_client().get(f"/lacak?nomor={number}").get_data()
    assets = re.findall(rb'(?:href|src)="/static/([^"?]+)', html)
    assert assets == [b"css/tracking.css"]
    total = len(html) + sum((STATIC / a.decode()).stat().st_size for a in assets)
    assert total < 30_000, total


# --- the survey --------------------------------------------------------------------------------

def test_the_survey_form_shows_only_once_the_case_is_done(office, clock):
    web, engine = office
    running = new_case(engine, clock)
    assert 'action="/lacak/survei"' not in web.test_client().get(f"/lacak?nomor={running}").get_data(as_text=True)
    done = new_case(engine, clock, done=True)
    html = web.test_client().get(f"/lacak?nomor={done}").get_data(as_text=True)
    assert 'action="/lacak/survei"' in html and "Survei Kepuasan Masyarakat" in html
    assert html.count('type="radio"') == 36 and 'name="csrf_token"' in html
    assert "kesesuaian persyaratan pelayanan" in html and "kualitas sarana dan prasarana" in html


def test_survey_without_csrf_token_is_refused(office, clock):
    web, engine = office
    number = new_case(engine, clock, done=True)
    response = web.test_client().post("/lacak/survei", data={"nomor": number, **answers()})
    assert response.status_code == 400
    assert engine.track(number)["survey"] == "open"


def test_survey_is_stored_and_thanked_once(office, clock):
    web, engine = office
    number = new_case(engine, clock, done=True)
    client = web.test_client()
    token = csrf_of(client.get(f"/lacak?nomor={number}").get_data(as_text=True))
    sent = client.post("/lacak/survei", data={"csrf_token": token, "nomor": number, "komentar": "Cepat",
                                              **answers(3)})
    assert sent.status_code == 200 and "Terima kasih" in sent.get_data(as_text=True)
    assert engine.ikm()["ikm"] == 75.0
    again = client.post("/lacak/survei", data={"csrf_token": token, "nomor": number, **answers(1)})
    assert again.status_code == 409 and "sudah diisi" in again.get_data(as_text=True)
    assert engine.ikm()["ikm"] == 75.0
    page = client.get(f"/lacak?nomor={number}").get_data(as_text=True)
    assert 'action="/lacak/survei"' not in page


def test_survey_before_completion_is_refused(office, clock):
    web, engine = office
    number = new_case(engine, clock)
    client = web.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/lacak/survei", data={"csrf_token": token, "nomor": number, **answers()})
    assert response.status_code == 409 and engine.ikm()["responses"] == 0


def test_a_missing_answer_is_shown_next_to_its_question(office, clock):
    web, engine = office
    number = new_case(engine, clock, done=True)
    client = web.test_client()
    token = csrf_of(client.get(f"/lacak?nomor={number}").get_data(as_text=True))
    partial = {k: v for k, v in answers(2).items() if k != "U7"}
    response = client.post("/lacak/survei", data={"csrf_token": token, "nomor": number, **partial})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="err-U7"' in html and 'id="err-U6"' not in html
    assert re.search(r'name="U6" value="2" required\s+checked', html), "given answers are kept"
    assert engine.ikm()["responses"] == 0


def test_survey_for_an_unknown_number_is_not_found(office):
    web, engine = office
    client = web.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    for data in ({"nomor": "LIN-2026-404404", **answers()}, {"nomor": "LIN-2026-404404"}, {}):
        response = client.post("/lacak/survei", data={"csrf_token": token, **data})
        assert response.status_code == 404


def test_survey_posts_count_against_the_limit(office):
    web, _ = office
    client = web.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    for _ in range(20):
        client.post("/lacak/survei", data={"csrf_token": token, "nomor": "X"})
    assert client.post("/lacak/survei", data={"csrf_token": token, "nomor": "X"}).status_code == 429


def test_login_page_links_to_tracking(office):
    web, _ = office
    html = web.test_client().get("/login").get_data(as_text=True)
    assert 'href="/lacak"' in html and "Lacak berkas" in html


# --- the IKM partial ----------------------------------------------------------------------------

def test_ikm_partial_renders_elements_index_and_grade(office, clock):
    web, engine = office
    for value in (4, 3):
        number = new_case(engine, clock, done=True)
        engine.submit_survey(number, answers(value), None)
    with web.test_request_context("/"):
        from flask import render_template
        html = render_template("dashboard/_ikm.html", ikm=engine.ikm())
    assert "87.50" in html and "mutu B (Baik)" in html and "Persyaratan" in html
    assert "Sarana dan prasarana" in html and html.count("<tr>") == 9 + 1 + 1 + 1
    with web.test_request_context("/"):
        from flask import render_template
        empty = render_template("dashboard/_ikm.html", ikm=engine.ikm(key="none"))
    assert "Belum ada jawaban survei" in empty
