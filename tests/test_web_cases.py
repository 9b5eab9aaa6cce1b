"""Web: the case list with its filters, starting real and practice cases, the case page, its diagram."""
import re

import pytest

from conftest import csrf_of, sign_in

LINEAR_FORM = {"nama_pemohon": "Yakobus Wenda", "jumlah_berkas": 3, "jenis_layanan": "baru",
               "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"}


@pytest.fixture
def office(web, engine, deploy):
    """The web app with two SOPs deployed."""
    deploy("linear3.bpmn")
    deploy("exclusive.bpmn")
    return web


def ready(engine, case_id):
    return {t["step_id"]: t for t in engine.tasks(case_id=case_id)}


def number_of(engine, case_id):
    return engine.case(case_id, with_tasks=False)["registration_number"]


def html_of(response):
    return response.get_data(as_text=True)


def listed(html):
    """Registration numbers linked from the case list, in order."""
    return re.findall(r'<a href="/cases/([A-Z0-9-]+)">', html)


# --- the list -----------------------------------------------------------------------------------
def test_list_shows_each_case_with_sop_status_sla_and_times(office, engine):
    case_id = engine.start_case("linear3", actor="fo")
    html = html_of(sign_in(office, "pimpinan").get("/cases"))
    number = number_of(engine, case_id)
    assert listed(html) == [number]
    assert "Uji linear tiga langkah" in html and "versi 1" in html
    assert "Berjalan" in html
    # The SLA state reads without colour: a class for the colour, an icon and a word.
    assert '<span class="sla sla-on_track"><span aria-hidden="true">●</span> Sesuai jadwal</span>' in html
    assert '<time datetime="2026-12-01T08:00:00+09:00">01-12-2026 08:00 WIT</time>' in html  # deadline
    assert '<time datetime="2026-11-30T08:00:00+09:00">30-11-2026 08:00 WIT</time>' in html  # started
    assert 'class="responsive cases"' in html and 'data-label="Nomor registrasi"' in html


def test_list_filters_by_status_sop_sla_and_period(office, engine, clock):
    first = engine.start_case("linear3", actor="fo")
    clock.advance(days=1, hours=1)
    second = engine.start_case("exclusive", actor="fo")
    third = engine.start_case("linear3", actor="fo")
    engine.cancel(third, user="admin", reason="duplikat")
    client = sign_in(office, "admin")
    n1, n2, n3 = (number_of(engine, c) for c in (first, second, third))

    assert listed(html_of(client.get("/cases"))) == [n3, n2, n1]
    assert listed(html_of(client.get("/cases?status=cancelled"))) == [n3]
    assert listed(html_of(client.get("/cases?status=running"))) == [n2, n1]
    assert listed(html_of(client.get("/cases?process=exclusive"))) == [n2]
    # The first case is past its 24 hours now.
    assert listed(html_of(client.get("/cases?sla=breached"))) == [n1]
    assert listed(html_of(client.get("/cases?sla=on_track"))) == [n2]
    # Periods are whole days in the office's zone.
    assert listed(html_of(client.get("/cases?from=2026-12-01"))) == [n3, n2]
    assert listed(html_of(client.get("/cases?to=2026-11-30"))) == [n1]
    assert listed(html_of(client.get("/cases?from=2026-11-30&to=2026-11-30&status=running"))) == [n1]
    # The chosen filters stay in the form.
    html = html_of(client.get("/cases?status=cancelled&process=exclusive"))
    assert '<option value="cancelled" selected>' in html and '<option value="exclusive" selected>' in html


def test_list_refuses_a_bad_period_next_to_the_field(office, engine):
    client = sign_in(office, "admin")
    response = client.get("/cases?from=kemarin")
    assert response.status_code == 400
    html = html_of(response)
    assert 'id="from-error"' in html and 'aria-invalid="true"' in html and 'value="kemarin"' in html
    response = client.get("/cases?from=2026-12-02&to=2026-12-01")
    assert response.status_code == 400 and 'id="to-error"' in html_of(response)


def test_search_by_registration_number(office, engine):
    ids = [engine.start_case("linear3", actor="fo") for _ in range(3)]
    client = sign_in(office, "admin")
    wanted = number_of(engine, ids[1])
    assert listed(html_of(client.get(f"/cases?q={wanted}"))) == [wanted]
    assert listed(html_of(client.get(f"/cases?q={wanted.lower()[-6:]}"))) == [wanted]
    html = html_of(client.get("/cases?q=TIDAK-ADA"))
    assert listed(html) == [] and "Tidak ada berkas yang sesuai" in html


def test_staff_see_only_the_cases_of_their_lanes(office, engine):
    mine = engine.start_case("linear3", actor="fo")
    at_back_office = engine.start_case("linear3", actor="admin")
    engine.complete(ready(engine, at_back_office)["isi_formulir"]["id"], user="admin", data=LINEAR_FORM)
    elsewhere = engine.start_case("exclusive", actor="admin")
    numbers = {c: number_of(engine, c) for c in (mine, at_back_office, elsewhere)}

    assert set(listed(html_of(sign_in(office, "bo").get("/cases")))) == {numbers[at_back_office]}
    fo_sees = set(listed(html_of(sign_in(office, "fo").get("/cases"))))
    assert fo_sees == set(numbers.values())  # every SOP starts in the Front Office
    assert set(listed(html_of(sign_in(office, "teknis").get("/cases")))) == set()
    for role_user in ("admin", "analis", "pimpinan"):
        assert set(listed(html_of(sign_in(office, role_user).get("/cases")))) == set(numbers.values())
    bo = sign_in(office, "bo")
    assert bo.get(f"/cases/{numbers[mine]}").status_code == 404
    assert bo.get(f"/cases/{numbers[at_back_office]}").status_code == 200


def test_practice_cases_are_hidden_unless_asked_for(office, engine):
    real = number_of(engine, engine.start_case("linear3", actor="fo"))
    practice = number_of(engine, engine.start_case("linear3", actor="fo", practice=True))
    client = sign_in(office, "admin")
    assert listed(html_of(client.get("/cases"))) == [real]
    html = html_of(client.get("/cases?practice=1"))
    assert listed(html) == [practice, real]
    assert 'class="badge practice"' in html and ">Latihan</span>" in html
    assert 'name="practice" type="checkbox" value="1" checked' in html


def test_list_pages_by_fifty(office, engine):
    for _ in range(51):
        engine.start_case("exclusive", actor="fo")
    client = sign_in(office, "admin")
    html = html_of(client.get("/cases?process=exclusive"))
    assert len(listed(html)) == 50 and 'rel="next"' in html and 'rel="prev"' not in html
    html2 = html_of(client.get("/cases?process=exclusive&page=2"))
    assert listed(html2) == ["EXC-2026-000001"] and 'rel="prev"' in html2 and 'rel="next"' not in html2
    assert "process=exclusive" in re.search(r'href="([^"]+)" rel="prev"', html2).group(1)
    # Filtering on the computed SLA state pages the same way.
    html3 = html_of(client.get("/cases?sla=on_track&page=2"))
    assert listed(html3) == ["EXC-2026-000001"]


# --- starting a case ----------------------------------------------------------------------------
def test_front_office_starts_a_case(office, engine):
    client = sign_in(office, "fo")
    page = client.get("/cases/new")
    html = html_of(page)
    assert page.status_code == 200 and '<option value="linear3"' in html
    assert 'name="version"' not in html  # only admins and analysts choose a version
    response = client.post("/cases/new", data={"process": "linear3", "csrf_token": csrf_of(html)})
    assert response.status_code == 302 and response.headers["Location"] == "/cases/LIN-2026-000001"
    html = html_of(client.get(response.headers["Location"]))
    assert "Berkas LIN-2026-000001 terdaftar." in html
    case = engine.case("LIN-2026-000001")
    assert case["started_by"] == "fo" and not case["practice"]
    assert [t["step_id"] for t in case["tasks"]] == ["isi_formulir"]
    # The first step is the clerk's own: the case page leads straight to it.
    assert f'<a href="/tasks/{case["tasks"][0]["id"]}">Isi formulir permohonan</a>' in html


def test_anyone_signed_in_starts_a_practice_case(office, engine):
    client = sign_in(office, "analis")
    html = html_of(client.get("/cases/new"))
    assert 'type="hidden" name="practice" value="1"' in html
    response = client.post("/cases/new", data={"process": "linear3", "practice": "1", "version": "1",
                                               "csrf_token": csrf_of(html)})
    assert response.status_code == 302 and response.headers["Location"] == "/cases/LAT-LIN-2026-000001"
    html = html_of(client.get(response.headers["Location"]))
    assert "Berkas latihan LAT-LIN-2026-000001 dimulai." in html
    assert 'class="badge practice"' in html and "Latihan" in html
    assert engine.case("LAT-LIN-2026-000001")["practice"] is True
    # A back-office clerk may practise too, and then sees the case they started.
    bo = sign_in(office, "bo")
    token = csrf_of(html_of(bo.get("/cases/new")))
    response = bo.post("/cases/new", data={"process": "exclusive", "practice": "1", "csrf_token": token})
    assert response.status_code == 302
    page = bo.get(response.headers["Location"])
    # The learner acts in every lane of their own practice case: the Front Office step is linked.
    [task] = engine.tasks(case_id=engine.case("LAT-EXC-2026-000001")["id"])
    assert page.status_code == 200 and f'<a href="/tasks/{task["id"]}">' in html_of(page)


def test_only_front_office_and_admins_start_real_cases(office, engine):
    for username in ("bo", "analis", "pimpinan"):
        client = sign_in(office, username)
        token = csrf_of(html_of(client.get("/cases/new")))
        assert client.post("/cases/new", data={"process": "linear3", "csrf_token": token}).status_code == 403
    admin = sign_in(office, "admin")
    token = csrf_of(html_of(admin.get("/cases/new")))
    assert admin.post("/cases/new", data={"process": "linear3", "csrf_token": token}).status_code == 302
    assert engine.cases(practice=False)[0]["started_by"] == "admin"


def test_new_case_form_errors_stand_next_to_the_field(office, engine):
    client = sign_in(office, "admin")
    token = csrf_of(html_of(client.get("/cases/new")))
    response = client.post("/cases/new", data={"process": "", "csrf_token": token})
    html = html_of(response)
    assert response.status_code == 422 and 'id="process-error"' in html and "Pilih SOP." in html
    response = client.post("/cases/new", data={"process": "linear3", "version": "7", "practice": "1",
                                               "csrf_token": token})
    html = html_of(response)
    assert response.status_code == 422 and 'id="version-error"' in html
    assert 'value="7"' in html and '<option value="linear3" selected>' in html  # values kept
    assert 'name="practice" type="checkbox" value="1" aria-describedby="practice-hint" checked' in html
    assert client.post("/cases/new", data={"process": "tidak_ada", "csrf_token": token}).status_code == 422
    assert engine.cases() == []


# --- the case page ------------------------------------------------------------------------------
def test_case_page_shows_the_timeline_with_times_and_budgets(office, engine, clock):
    case_id = engine.start_case("linear3", actor="fo")
    number = number_of(engine, case_id)
    task = ready(engine, case_id)["isi_formulir"]
    clock.advance(minutes=5)
    engine.claim(task["id"], user="fo")
    clock.advance(minutes=20)  # 25 minutes against a 15-minute budget
    engine.complete(task["id"], user="fo", data=LINEAR_FORM)
    clock.advance(minutes=3)
    client = sign_in(office, "fo")
    engine.update_user("fo", language="en")
    html = html_of(client.get(f"/cases/{number}"))
    assert f"Case {number}" in html and "Uji linear tiga langkah · version 1" in html
    rows = re.findall(r"<tr[^>]*>\s*<td data-label=\"Step\">.*?</tr>", html, re.S)
    assert len(rows) == 2
    done, open_ = rows
    assert "Isi formulir permohonan" in done and "Front Office" in done
    assert '<time datetime="2026-11-30T08:05:00+09:00">30-11-2026 08:05</time>' in done  # claimed
    assert '<time datetime="2026-11-30T08:25:00+09:00">30-11-2026 08:25</time>' in done  # completed
    assert done.count(">fo<br>") == 2
    assert "over by 10 m" in done and 'class="over"' in rows[0][:30]
    assert '<td data-label="Wait">5 m</td>' in done and '<td data-label="Work">20 m</td>' in done
    assert "Back Office" in open_ and "Waiting" in open_ and "left" in open_
    assert 'href="/tasks/' not in open_  # another lane's task: no link for fo
    assert f'<a href="/tasks/{ready(engine, case_id)["verifikasi"]["id"]}">' in html_of(
        sign_in(office, "bo").get(f"/cases/{number}"))
    # The countdown: text and machine-readable moments.
    assert '<time datetime="2026-12-01T08:00:00+09:00">01-12-2026 08:00 WIT</time>' in html
    assert '<time datetime="PT84720S">23 h 32 m</time> left' in html
    # The diagram box for the viewer script, with completed and active steps.
    assert (f'data-bpmn-url="/cases/{number}/diagram.bpmn"' in html
            and 'data-completed="isi_formulir" data-active="verifikasi"' in html)
    # The case data, read only, by the form's labels.
    assert "<dt>Nama pemohon</dt>" in html and "<dd>Yakobus Wenda</dd>" in html
    assert "<dd>Yes</dd>" in html  # pernyataan_benar


def test_case_page_shows_an_overdue_case_and_a_paused_clock(office, engine, clock, deploy):
    deploy("rework_loop.bpmn")
    case_id = engine.start_case("rework_loop", actor="fo")
    engine.complete(ready(engine, case_id)["periksa"]["id"], user="fo", data={"hasil": "ulang"})
    html = html_of(sign_in(office, "admin").get(f"/cases/{number_of(engine, case_id)}"))
    assert "Dijeda: berkas menunggu pemohon." in html

    late = engine.start_case("linear3", actor="fo")
    clock.advance(hours=26)
    html = html_of(sign_in(office, "admin").get(f"/cases/{number_of(engine, late)}"))
    assert 'Terlambat <time datetime="PT7200S">2 j 0 mnt</time>' in html
    assert "sla-breached" in html and "Lewat batas" in html


def test_case_page_as_of_an_earlier_moment(office, engine, clock):
    case_id = engine.start_case("linear3", actor="fo")
    number = number_of(engine, case_id)
    clock.advance(hours=2)
    engine.complete(ready(engine, case_id)["isi_formulir"]["id"], user="fo", data=LINEAR_FORM)
    client = sign_in(office, "admin")
    now_html = html_of(client.get(f"/cases/{number}"))
    assert now_html.count('<td data-label="Langkah">') == 2
    then = client.get(f"/cases/{number}?as_of=2026-11-30T09:00")
    html = html_of(then)
    assert then.status_code == 200
    assert html.count('<td data-label="Langkah">') == 1
    assert "sebagaimana keadaannya pada 30-11-2026 09:00 WIT" in html
    assert 'data-completed="" data-active="isi_formulir"' in html
    assert 'value="2026-11-30T09:00"' in html
    assert "Tambahkan komentar" not in html  # no commenting on the past
    before = client.get(f"/cases/{number}?as_of=2026-11-29T09:00")
    assert before.status_code == 400 and 'id="as_of-error"' in html_of(before)
    assert "Berkas belum terdaftar pada waktu itu." in html_of(before)
    assert client.get(f"/cases/{number}?as_of=besok").status_code == 400


def test_comments_are_added_and_listed(office, engine, clock):
    number = number_of(engine, engine.start_case("linear3", actor="fo"))
    client = sign_in(office, "fo")
    token = csrf_of(html_of(client.get(f"/cases/{number}")))
    clock.advance(minutes=7)
    response = client.post(f"/cases/{number}/comment", data={"comment": "Pemohon <b>menelepon</b>",
                                                            "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{number}#comments")
    html = html_of(client.get(f"/cases/{number}"))
    assert "Komentar ditambahkan." in html
    assert "Pemohon &lt;b&gt;menelepon&lt;/b&gt;" in html  # escaped, never markup
    assert '<time datetime="2026-11-30T08:07:00+09:00" class="muted">30-11-2026 08:07 WIT</time>' in html
    assert engine.case(number)["comments"][0]["by"] == "fo"

    empty = client.post(f"/cases/{number}/comment", data={"comment": "   ", "csrf_token": token})
    assert empty.status_code == 422 and 'id="comment-error"' in html_of(empty)
    long = client.post(f"/cases/{number}/comment", data={"comment": "x" * 2001, "csrf_token": token})
    assert long.status_code == 422 and "x" * 2001 in html_of(long)  # what was typed is kept
    assert client.post(f"/cases/{number}/comment", data={"comment": "tanpa token"}).status_code == 400
    assert len(engine.case(number)["comments"]) == 1
    # Someone who may not see the case may not comment on it either.
    bo = sign_in(office, "bo")
    token = csrf_of(html_of(bo.get("/cases")))
    assert bo.post(f"/cases/{number}/comment", data={"comment": "x", "csrf_token": token}).status_code == 404


def test_case_page_by_id_and_unknown_cases(office, engine):
    case_id = engine.start_case("linear3", actor="fo")
    client = sign_in(office, "admin")
    assert client.get(f"/cases/{case_id}").status_code == 200
    assert client.get("/cases/lin-2026-000001").status_code == 200
    assert client.get("/cases/LIN-2026-999999").status_code == 404
    assert client.get("/cases/999").status_code == 404


def test_diagram_is_the_versions_bpmn_as_a_download(office, engine):
    number = number_of(engine, engine.start_case("linear3", actor="fo"))
    client = sign_in(office, "fo")
    response = client.get(f"/cases/{number}/diagram.bpmn")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    assert response.headers["Content-Disposition"] == 'attachment; filename="linear3-v1.bpmn"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert b'<bpmn:process id="linear3"' in response.data
    assert sign_in(office, "bo").get(f"/cases/{number}/diagram.bpmn").status_code == 404
    assert client.get("/cases/LIN-2026-999999/diagram.bpmn").status_code == 404
    assert office.test_client().get(f"/cases/{number}/diagram.bpmn").status_code == 302
