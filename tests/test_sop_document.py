"""The SOP document's layout model: rows in flow order, symbols in lane columns, arrows, mutu baku, pages."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from workflow_engine import NotFound
from workflow_engine.sop_document import build_document, document_for_version, waktu_text
from workflow_engine.sop_pages import paginate
from workflow_engine.sop_info import read_sop_info

ROOT = Path(__file__).resolve().parent.parent
SOP_FILES = sorted((ROOT / "processes").glob("*/v*.bpmn"))
PBG1 = ROOT / "processes" / "persetujuan-bangunan-gedung" / "v1.bpmn"
PBG2 = ROOT / "processes" / "persetujuan-bangunan-gedung" / "v2.bpmn"

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
<bpmn:process id="p" name="Uji" isExecutable="true">"""
TAIL = "</bpmn:process></bpmn:definitions>"


def doc_of(path: Path, **kw):
    return build_document(path.read_bytes(), **kw)


def names(doc) -> list[str]:
    return [r.kegiatan for r in doc.rows]


def row_named(doc, text: str):
    return next(r for r in doc.rows if r.kegiatan == text)


def arrows_from(doc, row):
    index = doc.rows.index(row)
    return [a for a in doc.arrows if a.source == index]


# --- every real SOP -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", SOP_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_step_is_one_row_numbered_in_order(path):
    doc = doc_of(path)
    from lxml import etree
    root = etree.fromstring(path.read_bytes())
    info = read_sop_info(root.find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process"), root)
    step_rows = [r.node_id for r in doc.rows if r.symbol in ("activity", "decision") and r.node_id in info.steps]
    assert sorted(step_rows) == sorted(info.steps)
    assert [r.number for r in doc.rows] == list(range(1, len(doc.rows) + 1))


@pytest.mark.parametrize("path", SOP_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_symbols_sit_in_their_lane_and_arrows_join_rows(path):
    doc = doc_of(path)
    assert doc.lanes[0] == "Pemohon"
    for row in doc.rows:
        assert 0 <= row.lane < len(doc.lanes)
    for arrow in doc.arrows:
        assert 0 <= arrow.source < len(doc.rows) and 0 <= arrow.target < len(doc.rows)
    terminators = [r for r in doc.rows if r.symbol == "terminator"]
    assert doc.rows[0].symbol == "terminator" and len(terminators) >= 2
    for row in doc.rows:
        outgoing = arrows_from(doc, row)
        if row.symbol == "decision":
            assert len(outgoing) >= 2 and all(a.label for a in outgoing if a.label is not None)
        if row.symbol == "terminator" and row is not doc.rows[0]:
            assert outgoing == []


@pytest.mark.parametrize("path", SOP_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_main_path_ends_before_the_side_branches(path):
    doc = doc_of(path)
    ends = [i for i, r in enumerate(doc.rows) if r.symbol == "terminator" and i > 0]
    # The first end reached is the licence issued, and refusals and rework come after it.
    first_end = doc.rows[ends[0]].kegiatan
    assert "ditolak" not in first_end.lower()
    assert any("ditolak" in doc.rows[i].kegiatan.lower() for i in ends[1:])


def test_a_check_followed_by_its_gateway_is_one_diamond_row():
    doc = doc_of(PBG1)
    check = row_named(doc, "Memeriksa kelengkapan berkas")
    assert check.symbol == "decision" and check.question == "Berkas lengkap?"
    assert check.lane == doc.lanes.index("Front Office")
    labels = {a.label for a in arrows_from(doc, check)}
    assert labels == {"Lengkap", "Tidak lengkap"}
    assert not any(r.node_id == "gw_kelengkapan" for r in doc.rows)


def test_rework_returns_with_a_back_arrow_and_comes_last():
    doc = doc_of(PBG1)
    rework = row_named(doc, "Melengkapi berkas")
    assert doc.rows[-1] is rework
    (back,) = arrows_from(doc, rework)
    assert back.back and doc.rows[back.target].kegiatan == "Memeriksa kelengkapan berkas"


def test_pbg_v1_reads_in_the_order_of_the_procedure():
    order = names(doc_of(PBG1))
    assert order[:5] == ["Permohonan diajukan", "Menerima berkas dan mendaftarkan permohonan PBG",
                         "Memeriksa kelengkapan berkas", "Meregistrasi berkas dan menerbitkan tanda terima",
                         "Memverifikasi data administrasi dan legalitas tanah"]
    assert order.index("PBG terbit") < order.index("Permohonan ditolak")
    assert order.index("Membayar retribusi PBG") < order.index("Menyerahkan PBG kepada pemohon")


def test_mutu_baku_comes_from_the_task_properties():
    row = row_named(doc_of(PBG1), "Menerima berkas dan mendaftarkan permohonan PBG")
    assert row.waktu == "30 menit" and row.budget_seconds == 1800
    assert row.kelengkapan.startswith("Formulir permohonan")
    assert row.output == "Data permohonan terekam di aplikasi"
    assert row.keterangan.startswith("Dilayani di loket")


def test_parallel_branches_say_what_runs_beside_them():
    doc = doc_of(PBG2)
    noted = [r for r in doc.rows if "Paralel dengan No." in r.keterangan]
    assert len(noted) >= 4
    arsitektur = row_named(doc, "Menilai dokumen rencana arsitektur")
    retribusi = next(r for r in doc.rows if r.kegiatan.startswith("Menghitung retribusi"))
    assert str(retribusi.number) in arsitektur.keterangan


def test_identity_fields_are_split_into_items():
    doc = doc_of(PBG1, version=1, status="in_force", created=date(2026, 1, 2), effective=date(2026, 1, 2))
    identity = dict(doc.identity)
    assert len(identity["dasarHukum"]) == 9
    assert identity["peringatan"][0].startswith("Jika SOP ini tidak dilaksanakan")
    assert doc.nomor == "503/002/SOP-PBG/DPMPTSP-TLK/2026"
    assert doc.agency == "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Tolikara"
    assert doc.name == "Persetujuan Bangunan Gedung (PBG)"
    assert [name for name, _ in doc.identity] == ["dasarHukum", "kualifikasiPelaksana", "keterkaitan",
                                                  "peralatan", "peringatan", "pencatatan"]


@pytest.mark.parametrize("seconds, text", [(7200, "2 jam"), (1800, "30 menit"), (5400, "1 jam 30 menit"),
                                           (259200, "3 hari"), (100800, "1 hari 4 jam"), (None, "")])
def test_waktu_reads_like_an_sop(seconds, text):
    assert waktu_text(seconds) == text


def test_waktu_in_english():
    assert waktu_text(7200, "en") == "2 hours" and waktu_text(60, "en") == "1 minute"


# --- small models -------------------------------------------------------------------------------
def small(body: str):
    return build_document((HEAD + body + TAIL).encode())


def test_an_unnamed_two_way_decision_is_labelled_ya_and_tidak():
    doc = small("""
      <bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="cek"/>
      <bpmn:userTask id="cek" name="Cek"/><bpmn:sequenceFlow id="f2" sourceRef="cek" targetRef="g"/>
      <bpmn:exclusiveGateway id="g" default="f4"/>
      <bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="a"/><bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="e2"/>
      <bpmn:userTask id="a" name="Lanjut"/><bpmn:sequenceFlow id="f5" sourceRef="a" targetRef="b"/>
      <bpmn:userTask id="b" name="Terbit"/><bpmn:sequenceFlow id="f6" sourceRef="b" targetRef="e1"/>
      <bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>""")
    cek = row_named(doc, "Cek")
    labels = {doc.rows[a.target].kegiatan: a.label for a in arrows_from(doc, cek)}
    assert labels == {"Lanjut": "Ya", "Selesai": "Tidak"}
    assert names(doc) == ["Mulai", "Cek", "Lanjut", "Terbit", "Selesai", "Selesai"]
    assert doc.lanes == ("",) and {r.lane for r in doc.rows} == {0}


def test_a_boundary_timer_is_an_arrow_from_its_task():
    doc = small("""
      <bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
      <bpmn:userTask id="t" name="Tunggu"/><bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
      <bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:timerEventDefinition/></bpmn:boundaryEvent>
      <bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="x"/>
      <bpmn:userTask id="x" name="Ingatkan"/><bpmn:sequenceFlow id="f4" sourceRef="x" targetRef="e"/>
      <bpmn:endEvent id="e" name="Beres"/>""")
    task = row_named(doc, "Tunggu")
    labels = {doc.rows[a.target].kegiatan: a.label for a in arrows_from(doc, task)}
    assert labels == {"Beres": None, "Ingatkan": "Batas waktu"}


def test_a_loop_without_an_end_does_not_hang():
    doc = small("""
      <bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="m"/>
      <bpmn:exclusiveGateway id="m"/><bpmn:sequenceFlow id="f2" sourceRef="m" targetRef="t"/>
      <bpmn:userTask id="t" name="Ulang"/><bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="m"/>""")
    assert names(doc) == ["Mulai", "Ulang"]
    assert any(a.back for a in doc.arrows)


def test_a_file_without_a_process_is_refused():
    with pytest.raises(ValueError):
        build_document(b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>')


# --- pages --------------------------------------------------------------------------------------
def test_one_page_when_everything_fits():
    doc = doc_of(PBG1)
    (page,) = paginate(doc, [10.0] * len(doc.rows), room=10_000, connector_height=5)
    assert page.rows == doc.rows and len(page.arrows) == len(doc.arrows)


def test_arrows_across_pages_end_in_matching_off_page_connectors():
    doc = doc_of(PBG1)
    pages = paginate(doc, [50.0] * len(doc.rows), room=400, connector_height=20)
    assert len(pages) > 2
    steps = [r for p in pages for r in p.rows if r.symbol != "connector"]
    assert steps == list(doc.rows)
    connectors = [r for p in pages for r in p.rows if r.symbol == "connector"]
    letters = [r.connector for r in connectors]
    assert len(connectors) % 2 == 0 and all(letters.count(x) == 2 for x in letters)
    crossing = len(connectors) // 2
    assert sum(len(p.arrows) for p in pages) == len(doc.arrows) + crossing
    for page in pages:
        for arrow in page.arrows:
            assert 0 <= arrow.source < len(page.rows) and 0 <= arrow.target < len(page.rows)
        # Each page holds at most the room it was given, connectors included.
        height = sum(20 if r.symbol == "connector" else 50 for r in page.rows)
        assert height <= 400


def test_long_arrows_in_one_column_get_different_tracks():
    doc = doc_of(PBG1)
    page = doc.whole()
    long = [a for a in page.arrows if not a.adjacent]
    by_column = {}
    for arrow in long:
        by_column.setdefault(page.rows[arrow.source].lane, []).append(arrow)
    for arrows in by_column.values():
        for a in arrows:
            for b in arrows:
                overlap = min(max(a.source, a.target), max(b.source, b.target)) > \
                    max(min(a.source, a.target), min(b.source, b.target))
                if a is not b and overlap:
                    assert a.track != b.track


# --- from stored versions -----------------------------------------------------------------------
def test_a_stored_version_has_its_dates_and_status(engine, clock):
    from datetime import timedelta

    engine.deploy(PBG1.read_bytes(), "v1.bpmn", author="analis")
    clock.advance(timedelta(days=40))
    engine.deploy(PBG2.read_bytes(), "v2.bpmn", author="analis")
    first = document_for_version(engine, "persetujuan_bangunan_gedung", 1)
    latest = document_for_version(engine, "persetujuan_bangunan_gedung")
    assert (first.version, first.status, latest.version, latest.status) == (1, "superseded", 2, "in_force")
    assert first.tanggal_revisi is None and latest.tanggal_revisi == date(2027, 1, 9)
    assert latest.tanggal_pembuatan == first.tanggal_pembuatan == first.tanggal_efektif == date(2026, 11, 30)
    assert latest.tanggal_efektif == date(2027, 1, 9)
    engine.set_version_status("persetujuan_bangunan_gedung", 1, "retired")
    assert document_for_version(engine, "persetujuan_bangunan_gedung", 1).status == "retired"
    with pytest.raises(NotFound):
        document_for_version(engine, "persetujuan_bangunan_gedung", 7)
    with pytest.raises(NotFound):
        document_for_version(engine, "tidak_ada")


def test_a_parallel_split_across_a_break_costs_one_connector():
    doc = doc_of(PBG2)
    fork = next(i for i, r in enumerate(doc.rows) if sum(a.source == i for a in doc.arrows) >= 4)
    heights = [10.0] * len(doc.rows)
    heights[fork] = 400.0  # the page is full right after the fork
    pages = paginate(doc, heights, room=440, connector_height=10)
    outgoing = [r for p in pages for r in p.rows if r.symbol == "connector" and r.node_id.endswith("-out")
                and "," in r.keterangan]
    assert len(outgoing) == 1 and len(outgoing[0].keterangan.split(",")) >= 3
    (spread,) = [r for p in pages for r in p.rows if r.connector == outgoing[0].connector and r is not outgoing[0]]
    page = next(p for p in pages if spread in p.rows)
    assert sum(a.source == page.rows.index(spread) for a in page.arrows) == len(outgoing[0].keterangan.split(","))
