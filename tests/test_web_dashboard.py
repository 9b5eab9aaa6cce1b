"""The dashboard page and the monthly report on the web and the command line: who may open them, what they
show on a known history and on demo data, their bad input, no inline script or style, the PDF's text."""
from __future__ import annotations

import re
import zlib
from datetime import datetime

import pytest

from cli_run import alur_env, ok, run_alur
from conftest import WIT, sign_in
from dashboard_history import build

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)


@pytest.fixture
def app(web, engine, deploy):
    build(engine, deploy)
    return web


def pdf_text(data: bytes) -> str:
    """The text drawn on the pages of a PDF written by fpdf2 (its streams are zlib-compressed)."""
    texts = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            texts.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return " ".join("".join(re.findall(r"\((.*?)\)\s*Tj", t)) for t in texts)


# --- who may open it ------------------------------------------------------------------------------
@pytest.mark.parametrize("user", ["pimpinan", "admin"])
def test_managers_and_admins_see_the_dashboard(app, user):
    response = sign_in(app, user).get("/dashboard")
    assert response.status_code == 200
    assert 'id="open-breached"' in response.get_data(as_text=True)


@pytest.mark.parametrize("user", ["fo", "analis"])
@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/report", "/dashboard/report.pdf"])
def test_staff_and_analysts_may_not(app, user, path):
    assert sign_in(app, user).get(path).status_code == 403


def test_signed_out_people_are_sent_to_sign_in(app):
    response = app.test_client().get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_menu_links_the_dashboard_for_managers_only(app):
    assert 'href="/dashboard"' in sign_in(app, "pimpinan").get("/cases").get_data(as_text=True)
    assert 'href="/dashboard"' not in sign_in(app, "fo").get("/cases").get_data(as_text=True)


# --- what it shows --------------------------------------------------------------------------------
def test_the_page_shows_the_figures_of_the_history(app):
    html = sign_in(app, "pimpinan").get("/dashboard").get_data(as_text=True)
    assert re.search(r'id="open-on_track">2<', html) and re.search(r'id="open-at_risk">1<', html)
    assert re.search(r'id="open-breached">2<', html)
    assert "Uji perulangan perbaikan" in html and "2026-W49" in html
    assert "lajur Pemohon (belum diambil)" in html  # who holds the breached case: nobody claimed it
    assert 'data-bpmn-url="/sop/rework_loop/compare/1.bpmn"' in html
    assert 'id="heat-data"' in html and 'id="trend-data"' in html and "heat-row--over" in html


def test_no_inline_script_or_style(app):
    html = sign_in(app, "pimpinan").get("/dashboard").get_data(as_text=True)
    assert not INLINE_SCRIPT.search(html)
    assert " style=" not in html and "<style" not in html
    report = sign_in(app, "pimpinan").get("/dashboard/report?month=2026-11").get_data(as_text=True)
    assert not INLINE_SCRIPT.search(report) and " style=" not in report and "<style" not in report


def test_filters_narrow_the_figures(app, engine, deploy):
    deploy("linear3.bpmn")
    engine.start_case("linear3")
    client = sign_in(app, "pimpinan")
    html = client.get("/dashboard?key=linear3&version=1").get_data(as_text=True)
    assert re.search(r'id="open-on_track">1<', html) and re.search(r'id="open-breached">0<', html)
    assert 'data-bpmn-url="/sop/linear3/compare/1.bpmn"' in html
    html = client.get("/dashboard?since=2026-12-01&until=2026-12-01").get_data(as_text=True)
    assert "2026-W49" in html and "0/1" in html  # only c3 closed on Tuesday, late


@pytest.mark.parametrize("query, status", [
    ("?since=1-12-2026", 400), ("?until=besok", 400), ("?since=2026-12-02&until=2026-12-01", 400),
    ("?version=x&key=rework_loop", 400), ("?key=nope", 404), ("?key=rework_loop&version=9", 404),
    ("?key=<script>", 404)])
def test_bad_filters_get_a_clear_answer(app, query, status):
    response = sign_in(app, "pimpinan").get("/dashboard" + query)
    assert response.status_code == status


def test_satisfaction_index_is_included_when_the_engine_has_it(app, engine):
    html = sign_in(app, "pimpinan").get("/dashboard").get_data(as_text=True)
    assert ('id="ikm-title"' in html) == hasattr(engine, "ikm")


def test_event_log_downloads_are_linked_when_that_page_exists(app):
    html = sign_in(app, "pimpinan").get("/dashboard").get_data(as_text=True)
    if "eventlog.download" in app.view_functions:
        assert "/reports/eventlog/rework_loop.xes" in html and "/reports/eventlog/rework_loop.csv" in html
    else:
        assert "/reports/eventlog/" not in html


# --- the monthly report ---------------------------------------------------------------------------
def test_report_html_for_a_month(app):
    html = sign_in(app, "pimpinan").get("/dashboard/report?month=2026-11").get_data(as_text=True)
    assert "Laporan Kepatuhan Waktu Layanan" in html and "Periode: November 2026" in html
    row = re.search(r'<tr data-sop="rework_loop">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    # number, limit, received, completed, on time, late, share, median, still open, past the limit
    assert cells == ["1", "24 jam", "8", "2", "2", "0", "100.0 %", "1 j 15 mnt", "4", "2"]
    assert "Jumlah kantor" in html and "Berkas latihan tidak dihitung." in html


def test_report_defaults_to_this_month_and_refuses_a_bad_one(app):
    client = sign_in(app, "pimpinan")
    assert "Desember 2026" in client.get("/dashboard/report").get_data(as_text=True)
    response = client.get("/dashboard/report?month=2026-13")
    assert response.status_code == 400 and "YYYY-MM" in response.get_data(as_text=True)
    assert client.get("/dashboard/report.pdf?month=bulan").status_code == 400


def test_report_pdf_carries_the_same_figures(app):
    response = sign_in(app, "pimpinan").get("/dashboard/report.pdf?month=2026-11")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "laporan-kepatuhan-2026-11.pdf" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert "LAPORAN KEPATUHAN WAKTU LAYANAN" in text and "Periode: November 2026" in text
    assert "Uji perulangan perbaikan" in text and "Jumlah kantor" in text and "1 j 15 mnt" in text


# --- on demo data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, sqlite_template):
    from werkzeug.security import generate_password_hash

    from test_demo_history import demo_office
    from web.app import create_app
    from web.demo import generate_history
    from workflow_engine import Database, Engine, FixedClock, Settings

    now = datetime(2026, 12, 2, 14, 30, tzinfo=WIT)
    path = tmp_path_factory.mktemp("dash-demo") / "alur.sqlite"
    path.write_bytes(sqlite_template.read_bytes())
    settings = Settings(database_url=f"sqlite:///{path}")
    engine = Engine(Database(settings.database_url), FixedClock(now), settings)
    demo_office(engine, now, 21)
    generate_history(engine, seed=3, days=21, cases=80, now=now, password_hash="x", echo=lambda line: None)
    engine.clock = FixedClock(now)
    hashed = generate_password_hash("rahasia")
    engine.add_user("kepala", role="manager", lanes=[], password_hash=hashed)
    return create_app(settings, engine, config={"TESTING": True}), engine


def test_the_demo_data_shows_on_the_dashboard_without_errors(demo_app):
    app, engine = demo_app
    client = sign_in(app, "kepala")
    response = client.get("/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    figures = engine.dashboard()
    total = figures["open"]["total"]
    assert re.search(rf'id="open-breached">{total["breached"]}<', html)
    assert total["open"] > 0 and figures["compliance"]["weeks"] and figures["steps"]
    for key in {s["key"] for s in figures["open"]["sops"]}:
        assert client.get(f"/dashboard?key={key}").status_code == 200
    for path in ("/dashboard/report?month=2026-11", "/dashboard/report.pdf?month=2026-11"):
        assert client.get(path).status_code == 200


def test_demo_open_states_agree_with_the_case_list(demo_app):
    _, engine = demo_app
    states = [c["sla_state"] for c in engine.cases(status="running", practice=False, limit=10_000)]
    total = engine.sla_now()["total"]
    assert {s: states.count(s) for s in ("on_track", "at_risk", "breached")} == \
        {s: total[s] for s in ("on_track", "at_risk", "breached")}


def test_demo_monthly_compliance_agrees_with_the_weekly_one(demo_app):
    _, engine = demo_app
    since, until = engine.month_bounds("2026-11")
    weekly = engine.compliance_by_week(since=since, until=until)
    report = engine.monthly_report("2026-11")["total"]
    assert (sum(w["met"] for w in weekly["total"]), sum(w["missed"] for w in weekly["total"])) == \
        (report["met"], report["missed"])


# --- the command ----------------------------------------------------------------------------------
def test_alur_report_monthly_writes_pdf_and_html(history_url, tmp_path):
    env = alur_env(history_url, tmp_path)
    pdf, html = tmp_path / "laporan.pdf", tmp_path / "laporan.html"
    done = ok(["report", "monthly", "--month", "2026-11", "--out", pdf], env)
    assert "2026-11" in done.stdout and pdf.read_bytes().startswith(b"%PDF")
    assert "Jumlah kantor" in pdf_text(pdf.read_bytes())
    ok(["report", "monthly", "--month", "2026-11", "--out", html], env)
    text = html.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and "<style>" in text and "Laporan Kepatuhan Waktu Layanan" in text
    assert "Uji perulangan perbaikan" in text


@pytest.mark.parametrize("args, message", [
    (["--month", "2026-13", "--out", "x.pdf"], "YYYY-MM"),
    (["--month", "2026-11", "--out", "x.docx"], "end the file name with .pdf or .html")])
def test_alur_report_monthly_refuses_bad_input(history_url, tmp_path, args, message):
    done = run_alur(["report", "monthly", *args], alur_env(history_url, tmp_path))
    assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr


@pytest.fixture
def history_url(engine, deploy, database_url):
    build(engine, deploy)
    return database_url
