"""The staff path in a real browser, offline: sign in, start a case, complete two steps, read the case.

Pages are found the way a clerk finds them, by their visible labels and roles (get_by_label,
get_by_role), so these tests also check that the pages are labelled. Texts are looked up in the
Indonesian catalog (`t`), because Indonesian is what the pages show by default.
"""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "bpmn"
WIT = ZoneInfo("Asia/Jayapura")
SOP_NAME = "Uji linear tiga langkah"
STEP_1, STEP_2, STEP_3 = "Isi formulir permohonan", "Verifikasi berkas", "Terbitkan dokumen"
TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b")


def expect(locator):
    from playwright.sync_api import expect as _expect
    return _expect(locator)


def sign_in(tab, username: str, t, *, lang: str | None = None):
    tab.goto("/login" + (f"?lang={lang}" if lang else ""))
    tr = (lambda s: s) if lang == "en" else t
    tab.page.get_by_label(tr("Username")).fill(username)
    tab.page.get_by_label(tr("Password")).fill(tab.server.password)
    tab.page.get_by_role("button", name=tr("Sign in")).click()
    tab.page.wait_for_load_state()
    assert "/login" not in tab.page.url, f"{username} could not sign in"


# --- the sign-in page in both languages ---------------------------------------------------------

def test_sign_in_page_is_indonesian_by_default(tab, t):
    tab.goto("/login")
    page = tab.page
    assert page.locator("html").get_attribute("lang") == "id"
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Sign in to Alur"))
    assert t("Sign in to Alur") != "Sign in to Alur", "the sign-in page has no Indonesian translation"
    expect(page.get_by_label(t("Username"))).to_be_visible()
    expect(page.get_by_label(t("Password"))).to_have_attribute("type", "password")
    expect(page.get_by_role("button", name=t("Sign in"))).to_be_visible()
    # Every asset of the page came from Alur itself, and the page obeyed its own CSP.
    tab.assert_clean()


def test_sign_in_page_in_english(tab, t):
    tab.goto("/login?lang=en")
    page = tab.page
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Alur")
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    # The language links name themselves in their own language.
    expect(page.get_by_role("link", name="Bahasa Indonesia")).to_have_attribute("lang", "id")
    sign_in(tab, "pimpinan", t, lang="en")
    tab.assert_clean()


# --- the diagram on its own (independent of the pages that use it) -------------------------------

def harness(live_server, boxes: str, language: str = "id") -> str:
    """A page at the server's own address (so the app's CSP applies) holding `boxes` and the partial."""
    from flask import render_template

    with live_server.app.test_request_context(f"/?lang={language}"):
        partial = render_template("_diagram.html")
    return (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>diagram</title>'
            '<link rel="stylesheet" href="/static/css/alur.css"></head><body><main>'
            f"{boxes}</main>{partial}</body></html>")


def serve(tab, path: str, body: str, content_type: str, status: int = 200):
    from web.app import CSP

    tab.page.route(tab.server(path), lambda route: route.fulfill(
        status=status, body=body, content_type=content_type, headers={"Content-Security-Policy": CSP}))


def viewer_requests(tab) -> list[str]:
    seen: list[str] = []
    tab.page.on("request", lambda r: seen.append(r.url) if "/vendor/bpmn-js/" in r.url else None)
    return seen


def test_diagram_renders_offline_with_markers_and_legend(tab, t):
    xml = (FIXTURES / "linear3.bpmn").read_text(encoding="utf-8")
    serve(tab, "/_test/linear3.bpmn", xml, "application/xml")
    serve(tab, "/_test/missing.bpmn", "not here", "text/plain", status=404)
    serve(tab, "/_test/diagram", harness(tab.server, """
      <div class="diagram" id="ok" data-bpmn-url="/_test/linear3.bpmn" data-highlight="verifikasi"
           data-completed="start isi_formulir Flow_start_isi_formulir" data-active="verifikasi no_such_step">
        <p>JavaScript is needed for the diagram.</p></div>
      <div class="diagram" id="step" data-bpmn-url="/_test/linear3.bpmn" data-highlight="isi_formulir"></div>
      <div class="diagram" id="broken" data-bpmn-url="/_test/missing.bpmn"></div>
      <div class="diagram" id="elsewhere" data-bpmn-url="https://example.org/sop.bpmn"></div>
    """), "text/html")
    loaded = viewer_requests(tab)
    tab.goto("/_test/diagram")
    page = tab.page
    ok = page.locator("#ok")
    expect(ok.locator(".djs-element[data-element-id='terbitkan']")).to_be_visible()
    assert ok.locator("svg").count() >= 1

    # Markers: completed, active, the current step; pending steps unmarked; unknown ids ignored.
    def classes(element_id):
        return ok.locator(f".djs-element[data-element-id='{element_id}']").first.get_attribute("class")
    assert "alur-completed" in classes("isi_formulir") and "alur-completed" in classes("start")
    assert "alur-active" in classes("verifikasi") and "alur-current" in classes("verifikasi")
    assert "alur-" not in classes("terbitkan")
    fill = ok.locator(".djs-element[data-element-id='isi_formulir'] .djs-visual > :first-child")
    assert fill.evaluate("e => getComputedStyle(e).fill") == "rgb(220, 239, 226)"
    stroke = ok.locator(".djs-element[data-element-id='verifikasi'] .djs-visual > :first-child")
    assert stroke.evaluate("e => getComputedStyle(e).strokeWidth") == "5px"

    # The legend reads without colour, in the page's language.
    legend = ok.locator(".diagram__legend")
    for text in ("This step", "Completed", "In progress", "Not yet"):
        expect(legend).to_contain_text(t(text))
    assert t("Completed") == "Selesai"
    # A task page's box marks only its step, and its legend says only that.
    step_legend = page.locator("#step .diagram__legend")
    expect(step_legend).to_have_text(re.compile(r"^\W*" + re.escape(t("This step")) + r"\s*$"))
    assert "alur-current" in page.locator("#step .djs-element[data-element-id='isi_formulir']").get_attribute("class")

    # Fitted: every shape lies inside the box.
    box = ok.locator(".diagram__canvas").bounding_box()
    for element_id in ("start", "isi_formulir", "verifikasi", "terbitkan", "end"):
        shape = ok.locator(f".djs-element[data-element-id='{element_id}']").first.bounding_box()
        assert box["x"] <= shape["x"] and shape["x"] + shape["width"] <= box["x"] + box["width"] + 1, element_id
        assert box["y"] <= shape["y"] and shape["y"] + shape["height"] <= box["y"] + box["height"] + 1, element_id

    # The bpmn.io watermark stays fully visible (its licence): nothing covers its centre.
    mark = ok.locator(".bjs-powered-by")
    expect(mark).to_be_visible()
    assert mark.evaluate("""e => { const r = e.getBoundingClientRect();
        const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return e === top || e.contains(top); }""")

    # The zoom buttons are labelled and work.
    zoom = "e => e.alurViewer.get('canvas').zoom()"
    before = ok.evaluate(zoom)
    ok.get_by_role("button", name=t("Zoom in")).click()
    assert ok.evaluate(zoom) > before
    ok.get_by_role("button", name=t("Fit to box")).click()
    assert abs(ok.evaluate(zoom) - before) < 0.01

    # Failures become a sentence in the box, never a blank or a broken page.
    failed = t("The diagram could not be shown. The steps are listed on this page.")
    expect(page.locator("#broken .diagram__message")).to_have_text(failed)
    expect(page.locator("#elsewhere .diagram__message")).to_have_text(failed)

    assert len([u for u in loaded if u.endswith(".js")]) == 1, loaded  # one viewer for all boxes
    assert tab.outside == [], "the cross-origin diagram address must not even be requested"
    # The only error is the 404 of the missing file, which the test asked for.
    problems = [p for p in tab.problems if "404" not in p]
    assert not problems, problems
    tab.screenshot("diagram")


def test_diagram_fits_a_phone(new_tab):
    tab = new_tab(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    serve(tab, "/_test/linear3.bpmn", (FIXTURES / "linear3.bpmn").read_text(encoding="utf-8"), "application/xml")
    serve(tab, "/_test/phone", harness(tab.server, """<div class="diagram" id="ok"
        data-bpmn-url="/_test/linear3.bpmn" data-completed="isi_formulir" data-active="verifikasi"></div>"""),
        "text/html")
    tab.goto("/_test/phone")
    ok = tab.page.locator("#ok")
    expect(ok.locator(".djs-element[data-element-id='end']")).to_be_visible()
    box = ok.locator(".diagram__canvas").bounding_box()
    assert box["width"] <= 360
    for element_id in ("start", "end"):
        shape = ok.locator(f".djs-element[data-element-id='{element_id}']").first.bounding_box()
        assert box["x"] <= shape["x"] and shape["x"] + shape["width"] <= box["x"] + box["width"] + 1, element_id
    expect(ok.locator(".bjs-powered-by")).to_be_visible()
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= 360, "the page scrolls sideways"
    tab.screenshot("diagram-phone")
    tab.assert_clean()


def test_a_page_without_a_diagram_does_not_load_the_viewer(tab):
    serve(tab, "/_test/plain", harness(tab.server, "<p>No diagram here.</p>"), "text/html")
    loaded = viewer_requests(tab)
    tab.goto("/_test/plain")
    tab.page.wait_for_load_state("networkidle")
    assert loaded == []
    tab.assert_clean()


# --- the staff path ------------------------------------------------------------------------------

def _stub(module: str) -> bool:
    """Whether a views module is still the placeholder from before the page was built."""
    text = (ROOT / "web" / module).read_text(encoding="utf-8")
    return "(being built)" in text.split("\n", 1)[0]


def choose(page, label: str, option: str):
    """Pick an enum value, whether the form draws it as a drop-down or as radio buttons."""
    dropdown = page.get_by_role("combobox", name=re.compile(re.escape(label)))
    if dropdown.count():
        dropdown.select_option(label=option)
    else:
        page.get_by_role("group", name=re.compile(re.escape(label))).get_by_role("radio", name=option).check()


def row_of(page, *texts: str):
    """The table row (or list item) that holds all `texts`."""
    rows = page.locator("tr, li")
    for text in texts:
        rows = rows.filter(has_text=text)
    return rows


def test_front_office_starts_a_case_and_back_office_completes_the_next_step(new_tab, live_server, t):
    missing = [f"{page} ({module})" for page, module in
               [("the inbox and task page /tasks", "tasks_views.py"), ("the case pages /cases", "cases_views.py")]
               if _stub(module)]
    if missing:
        pytest.skip("not built yet: " + ", ".join(missing))

    # The front office registers a case.
    fo = new_tab()
    sign_in(fo, "fo", t)
    fo.goto("/cases/new")
    page = fo.page
    sop = page.get_by_label(t("SOP"), exact=True)
    option = sop.locator("option", has_text=SOP_NAME)
    sop.select_option(option.get_attribute("value"))
    page.get_by_role("button", name=t("Start the case")).click()
    page.wait_for_load_state()
    year = datetime.now(WIT).year
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(f"LIN-{year}-")
    number = re.search(rf"LIN-{year}-\d+", heading.inner_text()).group(0)
    assert page.url.endswith(f"/cases/{number}")

    # The first step waits in the front office's inbox; the clerk opens it from there.
    fo.goto("/tasks")
    row = row_of(page, number, STEP_1)
    expect(row).to_have_count(1)
    fo.screenshot("inbox-front-office")
    row.get_by_role("link", name=re.compile(re.escape(STEP_1))).click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_contain_text(STEP_1)
    expect(page.get_by_text("Isi data pemohon sesuai dokumen asli.")).to_be_visible()  # the instruction
    diagram = page.locator(".diagram[data-bpmn-url]")
    if diagram.count():
        expect(diagram.locator(".djs-element.alur-current[data-element-id='isi_formulir']")).to_be_visible()
    fo.screenshot("task-isi-formulir")

    # The form from camunda:formData, by its labels.
    page.get_by_label("Nama pemohon").fill("Yonas Wenda")
    page.get_by_label("Jumlah berkas").fill("3")
    choose(page, "Jenis layanan", "Baru")
    page.get_by_label("Pemohon menyatakan data benar").check()
    page.get_by_label("Tanggal permohonan").fill(datetime.now(WIT).date().isoformat())
    page.get_by_role("button", name=t("Complete task")).click()
    page.wait_for_load_state()
    assert not page.locator(".field-error").count(), page.locator(".field-error").all_inner_texts()
    fo.goto("/tasks")
    expect(row_of(page, number)).to_have_count(0)  # nothing left for the front office on this case
    fo.assert_clean()

    # The back office finds the next step in its inbox and completes it.
    bo = new_tab()
    sign_in(bo, "bo", t)
    bo.goto("/tasks")
    page = bo.page
    row = row_of(page, number, STEP_2)
    expect(row).to_have_count(1)
    bo.screenshot("inbox-back-office")
    row.get_by_role("link", name=re.compile(re.escape(STEP_2))).click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_contain_text(STEP_2)
    expect(page.get_by_text("Periksa kebenaran data terhadap dokumen asli.")).to_be_visible()
    # The case's data so far, read only.
    expect(page.get_by_text("Yonas Wenda")).to_be_visible()
    bo.screenshot("task-verifikasi")
    page.get_by_role("button", name=t("Complete task")).click()
    page.wait_for_load_state()
    bo.assert_clean()

    # The case page shows both steps with who and when, and the diagram drawn offline.
    bo.goto(f"/cases/{number}")
    timeline = page.locator("table.timeline, .timeline").first
    for step, who in ((STEP_1, "fo"), (STEP_2, "bo")):
        step_row = timeline.locator("tr").filter(has_text=step)
        expect(step_row).to_have_count(1)
        expect(step_row).to_contain_text(t("Completed"))
        expect(step_row).to_contain_text(who)
        assert len(TIME.findall(step_row.inner_text())) >= 2, step_row.inner_text()  # ready and completed
    expect(timeline.locator("tr").filter(has_text=STEP_3)).to_have_count(1)  # the third step is open
    diagram = page.locator(".diagram[data-bpmn-url]")
    expect(diagram.locator("svg").first).to_be_visible()
    expect(diagram.locator(".djs-element.alur-completed[data-element-id='verifikasi']")).to_be_visible()
    expect(diagram.locator(".djs-element.alur-active[data-element-id='terbitkan']")).to_be_visible()
    expect(diagram.locator(".bjs-powered-by")).to_be_visible()
    bo.screenshot("case-page")
    bo.assert_clean()
