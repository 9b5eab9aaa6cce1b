"""The SOP document rendered: HTML with the inline SVG flowchart, the PDF, and the web pages with roles."""
from __future__ import annotations

import re
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import sign_in
from web.sop_doc_pdf import latin1, sop_pdf
from web.sop_doc_render import cli_translations, columns_for, html_context, standalone_html
from workflow_engine.sop_document import build_document

ROOT = Path(__file__).resolve().parent.parent
SOP_FILES = sorted((ROOT / "processes").glob("*/v*.bpmn"))
PBG1 = ROOT / "processes" / "persetujuan-bangunan-gedung" / "v1.bpmn"
REKLAME = ROOT / "processes" / "izin-reklame"
ID = cli_translations("id").gettext


def doc_of(path: Path, **kw):
    return build_document(path.read_bytes(), version=1, status="in_force", **kw)


# --- reading what was rendered ------------------------------------------------------------------
class _Rows(HTMLParser):
    """Collects each procedure row's data attributes, and the symbols and arrowheads in its SVG."""

    def __init__(self):
        super().__init__()
        self.rows, self.fields, self.heads = [], {}, 0
        self._field = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-symbol" in attrs:
            self.rows.append({**attrs, "symbols": []})
        elif tag in ("rect", "polygon") and "data-symbol" in attrs and self.rows:
            x = float(attrs["x"]) + float(attrs["width"]) / 2 if tag == "rect" else \
                sum(float(p.split(",")[0]) for p in attrs["points"].split()) / len(attrs["points"].split())
            self.rows[-1]["symbols"].append((attrs["data-symbol"], x))
        elif tag == "polygon" and attrs.get("class") == "head":
            self.heads += 1
        if "data-field" in attrs:
            self._field = attrs["data-field"]
            self.fields[self._field] = ""

    def handle_data(self, data):
        if self._field:
            self.fields[self._field] += data

    def handle_endtag(self, tag):
        if tag == "td":
            self._field = None


def parse(html: str) -> _Rows:
    parser = _Rows()
    parser.feed(html)
    return parser


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", data))


def pdf_text(data: bytes) -> str:
    """The text drawn in a PDF, from its decompressed content streams (no PDF library needed)."""
    shown = []
    for match in re.finditer(rb"/Length (\d+)[^>]*>>\s*stream\r?\n", data):
        stream = data[match.end():match.end() + int(match.group(1))]
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", content):
            text = re.sub(rb"\\([()\\])", rb"\1", literal)
            shown.append(text.decode("latin-1"))
    return " ".join(" ".join(shown).split())


# --- HTML ---------------------------------------------------------------------------------------
def test_the_html_shows_every_step_in_order_with_one_symbol_in_its_lane():
    doc = doc_of(PBG1)
    page = parse(standalone_html(doc, "id"))
    steps = [r for r in page.rows if r["data-symbol"] != "connector"]
    assert [r["data-node"] for r in steps] == [r.node_id for r in doc.rows]
    cols = columns_for(len(doc.lanes))
    for shown, row in zip(steps, doc.rows):
        (symbol, x), = shown["symbols"]
        assert symbol == row.symbol
        assert int(shown["data-lane"]) == row.lane
        assert cols.lane * row.lane < x < cols.lane * (row.lane + 1)


def test_the_html_draws_one_arrowhead_per_arrow():
    doc = doc_of(PBG1)
    context = html_context(doc, ID)
    arrows = sum(len(p.arrows) for p in context["pages"])
    assert arrows >= len(doc.arrows)
    assert parse(standalone_html(doc, "id")).heads == arrows


def test_the_html_has_the_identity_block_in_indonesian():
    html = standalone_html(doc_of(PBG1), "id")
    fields = parse(html).fields
    assert fields["nomor"] == "503/002/SOP-PBG/DPMPTSP-TLK/2026"
    assert fields["nama"] == "Persetujuan Bangunan Gedung (PBG)"
    assert "Kepala Dinas Penanaman Modal" in fields["disahkan_oleh"]
    for name in ("tanggal_pembuatan", "tanggal_revisi", "tanggal_efektif", "dasarHukum",
                 "kualifikasiPelaksana", "keterkaitan", "peralatan", "peringatan", "pencatatan"):
        assert name in fields
    assert "Undang-Undang Nomor 25 Tahun 2009 tentang Pelayanan Publik" in fields["dasarHukum"]
    for word in ("Nomor SOP", "Tanggal pembuatan", "Disahkan oleh", "Dasar hukum", "Kegiatan", "Pelaksana",
                 "Mutu baku", "Kelengkapan", "Waktu", "Output", "Keterangan", "NIP"):
        assert word in html
    assert "<style>" in html and 'style="' not in html


def test_dates_are_written_the_indonesian_way():
    from datetime import date

    html = standalone_html(doc_of(PBG1, created=date(2026, 1, 2), effective=date(2026, 8, 17)), "id")
    assert "2 Januari 2026" in html and "17 Agustus 2026" in html


def test_english_headings_when_asked():
    html = standalone_html(build_document(PBG1.read_bytes(), language="en"), "en")
    assert "SOP number" in html and "Activity" in html and "30 minutes" in html


@pytest.mark.parametrize("path", SOP_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_sop_renders_as_html_and_pdf(path):
    doc = doc_of(path)
    html = standalone_html(doc, "id")
    assert len([r for r in parse(html).rows if r["data-symbol"] != "connector"]) == len(doc.rows)
    data = sop_pdf(doc, ID)
    assert data.startswith(b"%PDF") and pdf_pages(data) >= 2
    text = pdf_text(data)
    assert latin1(doc.name) in text
    for row in doc.rows:
        assert latin1(row.kegiatan) in text, row.kegiatan


# --- PDF ----------------------------------------------------------------------------------------
def test_the_pdf_has_the_name_every_step_and_its_pages():
    doc = doc_of(PBG1)
    data = sop_pdf(doc, ID)
    text = pdf_text(data)
    assert "Persetujuan Bangunan Gedung (PBG)" in text
    assert "Nomor SOP" in text and "Kegiatan" in text and "Mutu baku" in text
    positions = [text.index(row.kegiatan) for row in doc.rows]
    assert positions == sorted(positions)
    pages = pdf_pages(data)
    assert 3 <= pages <= 6
    assert f"Halaman {pages} dari {pages}" in text
    assert b"/MediaBox [0 0 841.89 595.28]" in data  # A4 landscape


def test_each_pdf_page_repeats_the_table_header():
    data = sop_pdf(doc_of(PBG1), ID)
    assert pdf_text(data).count("Pelaksana Mutu baku") == pdf_pages(data) - 1


def test_the_pdf_keeps_to_latin1_without_losing_letters():
    assert latin1("Luas 24 m² – “besar” … ≥ 5 → ok") == 'Luas 24 m² - "besar" ... >= 5 -> ok'
    assert latin1("Bahasa Indonesia: déjà ✓") == "Bahasa Indonesia: déjà ?"


def test_six_lanes_keep_readable_columns():
    for lanes in range(1, 9):
        cols = columns_for(lanes)
        total = cols.no + cols.kegiatan + cols.flow + cols.kelengkapan + cols.waktu + cols.output + cols.keterangan
        assert total <= 1047
        assert cols.kegiatan >= 150 and cols.kelengkapan >= 110
    assert columns_for(6).lane >= 64


# --- web ----------------------------------------------------------------------------------------
@pytest.fixture
def office(web, engine):
    for version in ("v1.bpmn", "v2.bpmn"):
        engine.deploy((REKLAME / version).read_bytes(), version, author="analis")
    return web


@pytest.mark.parametrize("user", ["admin", "analis", "pimpinan", "fo"])
def test_every_role_may_read_the_document(office, user):
    client = sign_in(office, user)
    page = client.get("/sop/izin_reklame/v1/document")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Izin Penyelenggaraan Reklame" in html and "/static/css/sopdoc.css" in html
    assert "/sop/izin_reklame/v1/document.pdf" in html
    assert "<style>" not in html and 'style="' not in html  # the CSP allows neither
    pdf = client.get("/sop/izin_reklame/v2/document.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF")
    assert 'filename="SOP-izin_reklame-v2.pdf"' in pdf.headers["Content-Disposition"]


def test_the_web_page_says_which_version_is_in_force(office):
    client = sign_in(office, "pimpinan")
    assert "berlaku" in client.get("/sop/izin_reklame/v2/document").get_data(as_text=True)
    assert "digantikan versi yang lebih baru" in client.get("/sop/izin_reklame/v1/document").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/sop/izin_reklame/v9/document", "/sop/tidak_ada/v1/document",
                                  "/sop/izin_reklame/v9/document.pdf", "/sop/izin_reklame/vx/document"])
def test_unknown_sops_and_versions_are_404(office, path):
    assert sign_in(office, "pimpinan").get(path).status_code == 404


def test_signing_in_is_required(office):
    response = office.test_client().get("/sop/izin_reklame/v1/document.pdf")
    assert response.status_code in (302, 401)
