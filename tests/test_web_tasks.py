"""The staff workspace: the inbox of my lanes and the task page with its generated form."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from conftest import csrf_of, sign_in
from web.i18n import merged_catalog

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
LINEAR_DATA = {"nama_pemohon": "Budi Santoso", "jumlah_berkas": 3, "jenis_layanan": "baru",
               "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"}
# What a browser sends for the first linear3 form: every value a string, the ticked box "on".
LINEAR_FORM = {"nama_pemohon": "Budi Santoso", "jumlah_berkas": "3", "jenis_layanan": "baru",
               "pernyataan_benar": "on", "tanggal_permohonan": "2026-11-30", "action": "complete"}

# One user task with every kind of field the generator draws, and Markdown (with a script) as
# its instructions. No diagram: the loader does not need one.
FORM_KINDS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_kinds" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="form_kinds" name="Uji jenis isian" isExecutable="true">
    <bpmn:extensionElements><camunda:properties>
      <camunda:property name="sop.kodeRegistrasi" value="FRM" />
    </camunda:properties></bpmn:extensionElements>
    <bpmn:laneSet id="LaneSet_kinds">
      <bpmn:lane id="Lane_bo" name="Back Office">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>isi</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="isi" name="Isi semua jenis">
      <bpmn:documentation>**Periksa** berkas asli.

- cocokkan KTP
- cocokkan NPWP

&lt;script&gt;alert("x")&lt;/script&gt;</bpmn:documentation>
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="petugas_loket" label="Petugas loket" type="string" defaultValue="Sari">
            <camunda:validation><camunda:constraint name="readonly" /></camunda:validation>
          </camunda:formField>
          <camunda:formField id="catatan" label="Catatan" type="text">
            <camunda:validation><camunda:constraint name="maxlength" config="500" /></camunda:validation>
          </camunda:formField>
          <camunda:formField id="luas" label="Luas (m2)" type="double">
            <camunda:validation><camunda:constraint name="required" />
              <camunda:constraint name="min" config="0.5" /></camunda:validation>
          </camunda:formField>
          <camunda:formField id="kategori" label="Kategori" type="enum">
            <camunda:value id="a" name="Kategori A" /><camunda:value id="b" name="Kategori B" />
            <camunda:value id="c" name="Kategori C" /><camunda:value id="d" name="Kategori D" />
            <camunda:value id="e" name="Kategori E" /><camunda:value id="f" name="Kategori F" />
          </camunda:formField>
          <camunda:formField id="survei" label="Perlu survei" type="boolean" />
          <camunda:formField id="tanggal_survei" label="Tanggal survei" type="date">
            <camunda:validation><camunda:constraint name="min" config="2026-01-01" /></camunda:validation>
          </camunda:formField>
        </camunda:formData>
        <camunda:properties>
          <camunda:property name="mutu.kelengkapan" value="Berkas permohonan lengkap" />
          <camunda:property name="mutu.waktu" value="PT2H" />
          <camunda:property name="mutu.output" value="Berita acara" />
          <camunda:property name="mutu.keterangan" value="Gunakan formulir F-01" />
        </camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="isi" />
    <bpmn:sequenceFlow id="f2" sourceRef="isi" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def _html(response) -> str:
    return response.get_data(as_text=True)


def _ready(engine, case_id):
    return engine.tasks(case_id=case_id)


def _only_task(engine, case_id) -> dict:
    tasks = _ready(engine, case_id)
    assert len(tasks) == 1, tasks
    return tasks[0]


def _post(client, url, data=None, page=None):
    """POST a form the way a browser does, with the CSRF token of the page it came from."""
    token = csrf_of(_html(client.get(page or "/tasks")))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def _add_person(engine, name, lanes, role="staff"):
    from werkzeug.security import generate_password_hash
    engine.add_user(name, role=role, lanes=lanes, password_hash=generate_password_hash("rahasia"))


@pytest.fixture
def linear(engine, deploy):
    deploy("linear3.bpmn")
    return engine.start_case("linear3", actor="fo")


# --- the inbox ----------------------------------------------------------------------------------
def test_inbox_shows_only_the_tasks_of_my_lanes(web, engine, deploy, linear):
    deploy("exclusive.bpmn")
    other = engine.start_case("exclusive")
    fo, bo = sign_in(web, "fo"), sign_in(web, "bo")
    page = _html(fo.get("/tasks"))
    assert "LIN-2026-000001" in page and "EXC-2026-000001" in page
    assert "Isi formulir permohonan" in page and "Uji linear tiga langkah" in page
    empty = _html(bo.get("/tasks"))
    assert "LIN-2026-000001" not in empty and "EXC-2026-000001" not in empty
    assert "Saat ini tidak ada tugas yang menunggu Anda." in empty
    engine.complete(_only_task(engine, linear)["id"], user="fo", data=LINEAR_DATA)
    page = _html(bo.get("/tasks"))
    assert "LIN-2026-000001" in page and "Verifikasi berkas" in page and "EXC-2026-000001" not in page
    assert "LIN-2026-000001" not in _html(fo.get("/tasks"))
    assert other  # the exclusive case stays with the front office


def test_managers_see_every_lane_and_filter_by_one(web, engine, deploy, linear):
    deploy("exclusive.bpmn")
    case = engine.start_case("exclusive")
    engine.complete(_only_task(engine, case)["id"], user="fo", data={"nama_pemohon": "Ani"})
    for who in ("pimpinan", "admin", "analis"):
        client = sign_in(web, who)
        page = _html(client.get("/tasks"))
        assert "LIN-2026-000001" in page and "EXC-2026-000001" in page, who
        assert '<select id="lane" name="lane">' in page
        only_kabid = _html(client.get("/tasks?lane=Kepala+Bidang"))
        assert "EXC-2026-000001" in only_kabid and "LIN-2026-000001" not in only_kabid


def test_staff_cannot_filter_to_another_lane(web, linear):
    page = _html(sign_in(web, "bo").get("/tasks?lane=Front+Office"))
    assert "LIN-2026-000001" not in page


def test_inbox_row_has_times_sla_state_and_the_most_urgent_first(web, engine, clock, deploy, linear):
    clock.advance(hours=20)
    engine.start_case("linear3")  # 20 hours younger: less urgent
    page = _html(sign_in(web, "fo").get("/tasks"))
    assert page.index("LIN-2026-000001") < page.index("LIN-2026-000002")
    first_row = page[page.index("LIN-2026-000001"):page.index("LIN-2026-000002")]
    assert 'class="sla sla-at_risk"' in first_row and "▲" in first_row and "Berisiko" in first_row
    assert "20 j 0 mnt" in first_row  # waited
    assert "4 j 0 mnt" in first_row  # left until the deadline
    assert "01-12-2026 08:00 WIT" in first_row  # the deadline, in the office's zone
    assert 'data-label="Sisa waktu"' in first_row  # readable on a phone
    assert '<a href="/cases/LIN-2026-000001">LIN-2026-000001</a>' in page
    second_row = page[page.index("LIN-2026-000002"):]
    assert "sla-on_track" in second_row and "Sesuai jadwal" in second_row
    clock.advance(hours=6)
    page = _html(sign_in(web, "fo").get("/tasks"))
    first_row = page[page.index("LIN-2026-000001"):page.index("LIN-2026-000002")]
    assert "sla-breached" in first_row and "Lewat batas" in first_row and "■" in first_row
    assert "-2 j 0 mnt" in first_row  # negative once breached


def test_practice_cases_carry_a_badge(web, engine, deploy):
    deploy("linear3.bpmn")
    case = engine.start_case("linear3", practice=True)
    client = sign_in(web, "fo")
    inbox = _html(client.get("/tasks"))
    assert "LAT-LIN-2026-000001" in inbox and '<span class="badge practice">Latihan</span>' in inbox
    task = _html(client.get(f"/tasks/{_only_task(engine, case)['id']}"))
    assert '<span class="badge practice">Latihan</span>' in task and "berkas latihan" in task


def test_inbox_pages_by_fifty(web, engine, deploy):
    deploy("linear3.bpmn")
    for _ in range(52):
        engine.start_case("linear3")
    client = sign_in(web, "fo")
    first = _html(client.get("/tasks"))
    assert first.count('data-label="Nomor registrasi"') == 50
    assert 'href="/tasks?page=2"' in first and 'rel="prev"' not in first
    second = _html(client.get("/tasks?page=2"))
    assert second.count('data-label="Nomor registrasi"') == 2
    assert "LIN-2026-000052" in second and 'rel="next"' not in second
    assert client.get("/tasks?page=abc").status_code == 200
    assert "Tidak ada tugas lagi" in _html(client.get("/tasks?page=9"))


def test_claim_and_release_through_the_inbox(web, engine, linear):
    task_id = _only_task(engine, linear)["id"]
    client = sign_in(web, "fo")
    response = _post(client, f"/tasks/{task_id}/claim", {"next": "/tasks?page=1"})
    assert response.status_code == 302 and response.headers["Location"] == "/tasks?page=1"
    assert _only_task(engine, linear)["claimed_by"] == "fo"
    page = _html(client.get("/tasks"))
    assert "Tugas diambil" in page and 'data-label="Diambil oleh">Anda' in page
    assert f'action="/tasks/{task_id}/release"' in page and f'action="/tasks/{task_id}/claim"' not in page
    response = _post(client, f"/tasks/{task_id}/release", {"next": "/tasks"})
    assert response.status_code == 302
    assert _only_task(engine, linear)["claimed_by"] is None
    assert f'action="/tasks/{task_id}/claim"' in _html(client.get("/tasks"))


def test_a_task_claimed_by_someone_else_cannot_be_claimed_or_released(web, engine, linear):
    _add_person(engine, "fo2", ["Front Office"])
    task_id = _only_task(engine, linear)["id"]
    engine.claim(task_id, user="fo2")
    client = sign_in(web, "fo")
    page = _html(client.get("/tasks"))
    assert 'data-label="Diambil oleh">fo2' in page and f'/tasks/{task_id}/claim"' not in page
    _post(client, f"/tasks/{task_id}/claim", {"next": "/tasks"})
    assert "sedang diambil oleh fo2" in _html(client.get("/tasks"))
    _post(client, f"/tasks/{task_id}/release", {"next": "/tasks"})
    assert _only_task(engine, linear)["claimed_by"] == "fo2"


def test_claiming_another_lanes_task_is_not_found(web, engine, linear):
    task_id = _only_task(engine, linear)["id"]
    response = _post(sign_in(web, "bo"), f"/tasks/{task_id}/claim")
    assert response.status_code == 404
    assert _only_task(engine, linear)["claimed_by"] is None


# --- the task page ------------------------------------------------------------------------------
def test_task_page_shows_instructions_budget_mutu_baku_and_the_form(web, engine, linear):
    task_id = _only_task(engine, linear)["id"]
    response = sign_in(web, "fo").get(f"/tasks/{task_id}")
    page = _html(response)
    assert response.status_code == 200 and '<html lang="id">' in page
    assert "<h1>Isi formulir permohonan</h1>" in page and "LIN-2026-000001" in page
    assert "Uji linear tiga langkah" in page
    assert "Isi data pemohon sesuai dokumen asli." in page  # the step's documentation
    assert "15 mnt" in page  # time budget
    assert "Formulir permohonan; KTP" in page and "Data permohonan terekam" in page  # mutu baku
    assert "01-12-2026 08:00 WIT" in page and "Sesuai jadwal" in page  # deadline and state
    # Every field has a label, required ones say so in words, constraints show as hints.
    for field in ("nama_pemohon", "jumlah_berkas", "pernyataan_benar", "tanggal_permohonan"):
        assert f'<label for="f-{field}">' in page, field
    assert page.count('<span class="required">(wajib)</span>') == 5
    assert 'type="text" id="f-nama_pemohon"' in page and 'minlength="3" maxlength="100"' in page
    assert "Antara 3 dan 100 karakter." in page
    assert 'type="number" id="f-jumlah_berkas"' in page and 'min="1" max="20"' in page
    assert 'aria-describedby="f-jumlah_berkas-hint"' in page and "Dari 1 sampai 20." in page
    assert 'type="checkbox" id="f-pernyataan_benar" value="on"' in page
    assert 'type="date" id="f-tanggal_permohonan"' in page
    assert '<legend><strong>Jenis layanan</strong>' in page
    assert '<label for="f-jenis_layanan-1"><input type="radio" id="f-jenis_layanan-1" name="jenis_layanan" value="perpanjangan"' in page
    assert 'data-bpmn-url="/cases/LIN-2026-000001/diagram.bpmn" data-highlight="isi_formulir"' in page
    assert 'name="action" value="complete"' in page and 'value="return"' not in page
    assert '<script src="/static/js/draft.js" defer></script>' in page
    assert 'data-draft="task-%d"' % task_id in page


def test_markdown_instructions_are_rendered_and_raw_html_is_escaped(web, engine):
    engine.deploy(FORM_KINDS.encode(), "form_kinds.bpmn")
    case = engine.start_case("form_kinds")
    page = _html(sign_in(web, "bo").get(f"/tasks/{_only_task(engine, case)['id']}"))
    assert "<strong>Periksa</strong> berkas asli." in page
    assert "<li>cocokkan KTP</li>" in page
    assert '<script>alert("x")</script>' not in page and "&lt;script&gt;" in page
    # Every kind of field: long text, decimal number, a long list as a select, read only, checkbox.
    assert '<textarea id="f-catatan" name="catatan"' in page and 'maxlength="500"' in page
    assert 'type="number" id="f-luas"' in page and 'step="any"' in page and 'min="0.5"' in page
    assert '<select id="f-kategori" name="kategori">' in page and '<option value="f">Kategori F</option>' in page
    assert 'name="petugas_loket"' not in page and "Sari" in page and "(hanya dibaca)" in page
    assert 'type="checkbox" id="f-survei"' in page and "required" not in page.split('id="f-survei"')[1][:80]
    assert 'type="date" id="f-tanggal_survei"' in page and 'min="2026-01-01"' in page
    assert "Gunakan formulir F-01" in page and "Berita acara" in page and "2 j 0 mnt" in page


def test_complete_through_the_form_moves_the_case_on(web, engine, linear):
    task_id = _only_task(engine, linear)["id"]
    client = sign_in(web, "fo")
    response = _post(client, f"/tasks/{task_id}", LINEAR_FORM, page=f"/tasks/{task_id}")
    assert response.status_code == 302 and response.headers["Location"] == "/tasks"
    nxt = _only_task(engine, linear)
    assert nxt["step_id"] == "verifikasi" and nxt["lane"] == "Back Office"
    case = engine.case(linear)
    assert case["data"]["jumlah_berkas"] == 3 and case["data"]["pernyataan_benar"] is True
    done = next(t for t in case["tasks"] if t["id"] == task_id)
    assert done["completed_by"] == "fo" and done["claimed_by"] == "fo"  # claimed on completion
    inbox = _html(client.get("/tasks"))
    assert "Tugas selesai." in inbox
    assert f'data-draft-drop="task-{task_id}"' in inbox and "js/draft.js" in inbox  # the draft is dropped
    assert "js/draft.js" not in _html(client.get("/tasks"))  # only once


def test_complete_goes_on_to_the_next_task_of_the_case_in_my_lanes(web, engine, linear):
    _add_person(engine, "serba", ["Front Office", "Back Office"])
    client = sign_in(web, "serba")
    first = _only_task(engine, linear)["id"]
    response = _post(client, f"/tasks/{first}", LINEAR_FORM, page=f"/tasks/{first}")
    second = _only_task(engine, linear)
    assert response.headers["Location"] == f"/tasks/{second['id']}"
    page = _html(client.get(response.headers["Location"]))
    assert "Tugas selesai." in page and "Verifikasi berkas" in page
    assert "Budi Santoso" in page and "Nama pemohon" in page  # the case's data so far
    assert "Baru" in page  # an enum's value shown by its label
    assert "This step has no fields" not in page and "Langkah ini tidak punya isian" in page


def test_invalid_data_is_refused_with_values_kept_and_messages_next_to_fields(web, engine, linear):
    task_id = _only_task(engine, linear)["id"]
    client = sign_in(web, "fo")
    bad = {**LINEAR_FORM, "nama_pemohon": "Bu", "jumlah_berkas": "99", "tanggal_permohonan": ""}
    del bad["pernyataan_benar"]
    response = _post(client, f"/tasks/{task_id}", bad, page=f"/tasks/{task_id}")
    page = _html(response)
    assert response.status_code == 422
    assert 'value="Bu"' in page and 'value="99"' in page  # what was typed is kept
    assert 'value="baru" checked' in page
    assert '<p class="field-error" id="f-nama_pemohon-error"><span aria-hidden="true">■</span> minimal 3 karakter</p>' in page
    assert 'aria-describedby="f-nama_pemohon-hint f-nama_pemohon-error" aria-invalid="true"' in page
    assert 'id="f-jumlah_berkas-error"' in page and "maksimal 20" in page
    assert 'id="f-pernyataan_benar-error"' in page and "wajib dicentang" in page
    assert 'id="f-tanggal_permohonan-error"' in page and "wajib diisi" in page
    summary = page[page.index('id="error-summary"'):page.index('id="h-time"')]
    assert '<a href="#f-nama_pemohon">Nama pemohon: minimal 3 karakter</a>' in summary
    assert 'data-draft-restore="no"' in page
    task = _only_task(engine, linear)  # nothing changed
    assert task["id"] == task_id and task["claimed_by"] is None
    assert engine.case(linear)["data"] == {}


def test_form_errors_speak_english_to_an_english_reader(web, engine, linear):
    task_id = _only_task(engine, linear)["id"]
    client = sign_in(web, "fo")
    response = _post(client, f"/tasks/{task_id}?lang=en", {**LINEAR_FORM, "jumlah_berkas": "x"},
                     page=f"/tasks/{task_id}")
    page = _html(response)
    assert response.status_code == 422 and '<html lang="en">' in page
    assert "must be a whole number" in page and "The form was not saved" in page


def test_a_task_of_another_lane_is_not_found(web, engine, linear):
    task_id = _only_task(engine, linear)["id"]
    bo = sign_in(web, "bo")
    assert bo.get(f"/tasks/{task_id}").status_code == 404
    assert _post(bo, f"/tasks/{task_id}", LINEAR_FORM).status_code == 404
    assert _post(bo, f"/tasks/{task_id}/comment", {"comment": "x"}).status_code == 404
    assert bo.get("/tasks/999999").status_code == 404
    assert _only_task(engine, linear)["id"] == task_id


def test_managers_read_a_task_but_only_its_lane_completes_it(web, engine, linear):
    task_id = _only_task(engine, linear)["id"]
    client = sign_in(web, "pimpinan")
    page = _html(client.get(f"/tasks/{task_id}"))
    assert "Hanya petugas pelaksana Front Office" in page and "<fieldset disabled>" in page
    assert 'value="complete"' not in page
    assert _post(client, f"/tasks/{task_id}", LINEAR_FORM, page=f"/tasks/{task_id}").status_code == 403
    assert _only_task(engine, linear)["id"] == task_id


def test_a_task_completed_meanwhile_says_by_whom_and_when(web, engine, clock, linear):
    task_id = _only_task(engine, linear)["id"]
    client = sign_in(web, "fo")
    token = csrf_of(_html(client.get(f"/tasks/{task_id}")))
    clock.advance(minutes=5)
    engine.complete(task_id, user="admin", data=LINEAR_DATA)
    response = client.post(f"/tasks/{task_id}", data={**LINEAR_FORM, "csrf_token": token})
    page = _html(response)
    assert response.status_code == 409
    assert "Tugas ini sudah diselesaikan oleh admin pada 30-11-2026 08:05 WIT." in page
    assert f'data-draft-drop="task-{task_id}"' in page and 'data-draft="task-' not in page
    english = client.post(f"/tasks/{task_id}?lang=en", data={**LINEAR_FORM, "csrf_token": token})
    assert english.status_code == 409
    assert "This task was already completed by admin at 30-11-2026 08:05 WIT." in _html(english)


def test_a_task_claimed_by_someone_else_is_a_conflict_with_values_kept(web, engine, linear):
    _add_person(engine, "fo2", ["Front Office"])
    task_id = _only_task(engine, linear)["id"]
    engine.claim(task_id, user="fo2")
    response = _post(sign_in(web, "fo"), f"/tasks/{task_id}", LINEAR_FORM, page=f"/tasks/{task_id}")
    page = _html(response)
    assert response.status_code == 409 and "sedang diambil oleh fo2" in page
    assert 'value="Budi Santoso"' in page
    assert _only_task(engine, linear)["id"] == task_id


def test_return_to_the_applicant_sends_the_case_to_the_pemohon_step(web, engine, deploy):
    deploy("rework_loop.bpmn")
    case = engine.start_case("rework_loop")
    task_id = _only_task(engine, case)["id"]
    client = sign_in(web, "fo")
    page = _html(client.get(f"/tasks/{task_id}"))
    assert '<button type="submit" name="action" value="return" formnovalidate>Kembalikan ke pemohon</button>' in page
    response = _post(client, f"/tasks/{task_id}", {"action": "return"}, page=f"/tasks/{task_id}")
    assert response.status_code == 302
    nxt = _only_task(engine, case)
    assert nxt["step_id"] == "perbaiki" and nxt["lane"] == "Pemohon"
    assert engine.case(case)["data"]["hasil"] == "ulang"
    assert "RWK-2026-000001" in _html(sign_in(web, "pemohon").get("/tasks"))


def test_no_return_button_where_the_sop_has_no_such_path(web, engine, deploy):
    deploy("exclusive.bpmn")
    case = engine.start_case("exclusive")
    engine.complete(_only_task(engine, case)["id"], user="fo", data={"nama_pemohon": "Ani"})
    page = _html(sign_in(web, "kabid").get(f"/tasks/{_only_task(engine, case)['id']}"))
    assert "Keputusan" in page and 'value="return"' not in page


def test_comments_are_added_and_shown_escaped(web, engine, linear):
    task_id = _only_task(engine, linear)["id"]
    client = sign_in(web, "fo")
    response = _post(client, f"/tasks/{task_id}/comment", {"comment": "KTP <b>buram</b>\nminta ulang"},
                     page=f"/tasks/{task_id}")
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{task_id}#comments"
    page = _html(client.get(f"/tasks/{task_id}"))
    assert "KTP &lt;b&gt;buram&lt;/b&gt;<br>minta ulang" in page
    assert "fo · 30-11-2026 08:00 WIT" in page
    assert engine.case(linear)["comments"][0]["text"] == "KTP <b>buram</b>\nminta ulang"


def test_an_empty_comment_is_refused_next_to_the_field(web, engine, linear):
    task_id = _only_task(engine, linear)["id"]
    client = sign_in(web, "fo")
    response = _post(client, f"/tasks/{task_id}/comment", {"comment": "   "}, page=f"/tasks/{task_id}")
    page = _html(response)
    assert response.status_code == 422
    assert '<p class="field-error" id="comment-error">' in page and 'aria-describedby="comment-error"' in page
    assert engine.case(linear)["comments"] == []


@pytest.mark.parametrize("path", ["/tasks/{id}", "/tasks/{id}/claim", "/tasks/{id}/release",
                                  "/tasks/{id}/comment"])
def test_posts_without_a_csrf_token_are_refused(web, engine, linear, path):
    task_id = _only_task(engine, linear)["id"]
    client = sign_in(web, "fo")
    response = client.post(path.format(id=task_id), data={**LINEAR_FORM, "comment": "x"})
    assert response.status_code == 400
    task = _only_task(engine, linear)
    assert task["id"] == task_id and task["claimed_by"] is None
    assert engine.case(linear)["comments"] == []


def test_pages_need_a_sign_in(web, engine, linear):
    client = web.test_client()
    task_id = _only_task(engine, linear)["id"]
    for path in ("/tasks", f"/tasks/{task_id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def _weight(client, path) -> int:
    """Bytes of a page's HTML plus every stylesheet and script it loads from Alur at once."""
    html = client.get(path).get_data()
    total = len(html)
    text = html.decode()
    assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', text) + re.findall(r'<script src="([^"]+)"', text)
    assert any(a.endswith("alur.css") for a in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        total += len(response.get_data())
        response.close()
    return total


def test_inbox_and_task_page_stay_under_100_kb(web, engine, deploy):
    deploy("linear3.bpmn")
    cases = [engine.start_case("linear3") for _ in range(50)]
    client = sign_in(web, "fo")
    assert _weight(client, "/tasks") < 100_000
    task_page = f"/tasks/{_only_task(engine, cases[0])['id']}"
    assert "js/draft.js" in _html(client.get(task_page))
    assert _weight(client, task_page) < 100_000
    assert (WEB / "static" / "js" / "draft.js").stat().st_size < 5_000


def test_every_string_of_the_workspace_has_an_indonesian_translation():
    catalog = merged_catalog("id")
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
    sources = [WEB / "tasks_views.py", WEB / "task_forms.py", *sorted((WEB / "templates" / "tasks").glob("*.html"))]
    found = set()
    for path in sources:
        method = "python" if path.suffix == ".py" else "jinja2"
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        for _line, message, _comments, _context in extract_from_file(method, str(path), keywords=keywords,
                                                                      options=options):
            found.update(m for m in (message if isinstance(message, tuple) else (message,)) if m)
    assert len(found) > 60
    missing = sorted(m for m in found if not (catalog.get(m) and catalog.get(m).string))
    assert missing == []


def test_form_fields_become_engine_values():
    """The generator's round trip without a browser: browser strings in, engine-typed values out."""
    from web import task_forms
    from workflow_engine.sop_info import FormField
    fields = [FormField("n", "N", "long", True, (), {"min": 1}), FormField("b", "B", "boolean"),
              FormField("e", "E", "enum", False, (("ulang", "Ulang"), ("ok", "OK"))),
              FormField("r", "R", "string", False, (), {"readonly": True}, "tetap")]
    data = task_forms.collect(fields, {"n": "2", "e": "ok", "r": "diubah"})
    assert data == {"n": "2", "b": None, "e": "ok"}
    assert task_forms.validate(fields, data, "id") == {"n": 2, "b": False, "e": "ok"}
    assert task_forms.return_choice(fields, [{"lane": "Pemohon"}]) == ("e", "ulang", "Ulang")
    assert task_forms.return_choice(fields, [{"lane": "Front Office"}]) is None
