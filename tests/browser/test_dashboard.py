"""The dashboard in chromium: the trend chart drawn, the SOP diagram coloured by median step time with a
badge on each step, the report printable; offline, without console or CSP errors."""
from __future__ import annotations

import pytest

from .test_staff_path import sign_in

KEY = "rework_loop"


@pytest.fixture(scope="module")
def history(live_server):
    """A few rework_loop cases on the live server: three completed, one returned to the applicant, one open."""
    from .conftest import FIXTURES

    engine = live_server.engine
    engine.deploy((FIXTURES / "rework_loop.bpmn").read_bytes(), "rework_loop.bpmn", author="analis")

    def periksa(case_id, result):
        task = next(t["id"] for t in engine.tasks(case_id=case_id) if t["step_id"] == "periksa")
        engine.complete(task, user="fo", data={"hasil": result})
    cases = [engine.start_case(KEY, actor="fo") for _ in range(5)]
    for case_id in cases[:3]:
        periksa(case_id, "selesai")
    periksa(cases[3], "ulang")
    return cases


def open_dashboard(tab, t, query=f"?key={KEY}"):
    sign_in(tab, "pimpinan", t)
    tab.goto("/dashboard" + query)
    tab.page.wait_for_selector("#heat-diagram.diagram--ready")
    tab.page.wait_for_selector(".djs-overlay .heat-badge")


def test_the_trend_chart_is_drawn(tab, t, history):
    open_dashboard(tab, t)
    tab.page.wait_for_function("() => { const b = document.querySelector('[data-dash-charts]'); return b && b.alurChart; }")
    box = tab.page.locator("[data-dash-charts]")
    assert box.is_visible()
    size = tab.page.evaluate("() => { const c = document.getElementById('chart-trend'); return [c.width, c.height]; }")
    assert size[0] > 200 and size[1] > 100
    labels = tab.page.evaluate("() => document.querySelector('[data-dash-charts]').alurChart.data.labels")
    assert labels and all(label.count("-W") == 1 for label in labels)
    tab.assert_clean()


def test_the_diagram_is_coloured_by_median_step_time(tab, t, history):
    open_dashboard(tab, t)
    classes = tab.page.evaluate(
        """() => { const v = document.getElementById('heat-diagram').alurViewer;
                   const r = v.get('elementRegistry');
                   return ['periksa', 'perbaiki'].map(id => Array.from(r.getGraphics(r.get(id)).classList)); }""")
    assert any(c.startswith("heat-") for c in classes[0]) and "heat-applicant" in classes[1]
    assert tab.page.locator(".djs-overlay .heat-badge").count() == 2
    fill = tab.page.locator(".djs-element[data-element-id='perbaiki'] .djs-visual > rect").evaluate(
        "e => getComputedStyle(e).fill")
    assert fill == "rgb(207, 224, 242)"  # the applicant's colour of the legend
    assert tab.page.locator(".heat-legend li").count() == 5
    tab.screenshot("dashboard-heatmap")
    tab.assert_clean()


def test_the_version_list_follows_the_chosen_sop(tab, t, history):
    open_dashboard(tab, t)
    tab.page.select_option("#key", "")
    hidden = tab.page.evaluate("() => Array.from(document.querySelectorAll('#version option[data-sop]')).every(o => o.disabled)")
    assert hidden
    tab.page.select_option("#key", KEY)
    assert tab.page.locator(f"#version option[data-sop='{KEY}']:not([disabled])").count() == 1
    tab.assert_clean()


def test_the_monthly_report_page_is_clean(tab, t, history):
    sign_in(tab, "pimpinan", t)
    tab.goto("/dashboard/report")
    assert tab.page.locator("#report table tbody tr").count() >= 2
    tab.page.emulate_media(media="print")
    assert not tab.page.locator("header.top").is_visible()
    tab.screenshot("dashboard-report-print")
    tab.assert_clean()
