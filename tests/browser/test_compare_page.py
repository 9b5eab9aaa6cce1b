"""The compare page in chromium: two viewers, coloured markers on the right elements, viewports in step,
and a change chosen in the list selected in both diagrams; offline, without CSP errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from .test_staff_path import sign_in

DIFF = Path(__file__).resolve().parents[1] / "fixtures" / "diff"
KEY = "diff_demo"


@pytest.fixture(scope="module")
def versions(live_server):
    """diff_demo v1 (base), v2 (one step added), v3 (base with a step renamed)."""
    numbers = [live_server.engine.deploy((DIFF / name).read_bytes(), name, author="analis").version
               for name in ("base.bpmn", "added_step.bpmn", "rename.bpmn")]
    return numbers


def open_compare(tab, t, a, b):
    sign_in(tab, "pimpinan", t)
    tab.goto(f"/sop/{KEY}/compare?a={a}&b={b}")
    tab.page.wait_for_selector(".compare-viewers[data-ready='1']")


def markers(tab, side: str, element_id: str) -> list[str]:
    return tab.page.evaluate(
        """([side, id]) => {
             const viewer = window.alurCompare[side];
             const el = viewer.get('elementRegistry').get(id);
             return el ? Array.from(viewer.get('elementRegistry').getGraphics(el).classList) : null;
           }""", [side, element_id])


def viewbox(tab, side: str) -> dict:
    return tab.page.evaluate("side => { const b = window.alurCompare[side].get('canvas').viewbox();"
                             " return {x: b.x, y: b.y, width: b.width, height: b.height}; }", side)


def test_markers_sit_on_the_right_elements(tab, t, versions):
    open_compare(tab, t, versions[0], versions[1])
    assert "compare-added" in markers(tab, "b", "verifikasi")
    assert "compare-added" in markers(tab, "b", "f_verifikasi_end")
    assert "compare-removed" in markers(tab, "a", "f_periksa_end")
    assert "compare-moved" in markers(tab, "a", "end_selesai") and "compare-moved" in markers(tab, "b", "end_selesai")
    # Unchanged elements carry no marker, and an added element is not in A at all.
    assert not [c for c in markers(tab, "b", "terima") if c.startswith("compare-")]
    assert markers(tab, "a", "verifikasi") is None
    stroke = tab.page.locator("#compare-viewer-b .djs-element[data-element-id='verifikasi'] .djs-visual > :first-child")
    assert stroke.evaluate("e => getComputedStyle(e).stroke") == "rgb(26, 127, 55)"
    tab.screenshot("compare-added-step")
    tab.assert_clean()


def test_changed_elements_are_amber_in_both(tab, t, versions):
    open_compare(tab, t, versions[0], versions[2])
    assert "compare-changed" in markers(tab, "a", "terima") and "compare-changed" in markers(tab, "b", "terima")
    shape = tab.page.locator("#compare-viewer-a .djs-element[data-element-id='terima'] .djs-visual > :first-child")
    assert shape.evaluate("e => getComputedStyle(e).stroke") == "rgb(178, 106, 0)"
    tab.assert_clean()


def test_the_legend_and_the_list_are_there(tab, t, versions):
    open_compare(tab, t, versions[0], versions[1])
    legend = tab.page.locator(".compare-legend")
    for word in ("Added", "Removed", "Changed", "Moved only"):
        assert t(word) in legend.inner_text()
    assert tab.page.locator(".compare-change").count() == 5


def test_clicking_a_change_selects_it_in_both_diagrams(tab, t, versions):
    open_compare(tab, t, versions[0], versions[1])
    tab.page.locator(".compare-moved summary").click()  # elements only moved are listed folded
    tab.page.locator(".compare-change[data-element='end_selesai'] button").click()
    selected = tab.page.evaluate("['a', 'b'].map(s => window.alurCompare[s].get('selection').get().map(e => e.id))")
    assert selected == [["end_selesai"], ["end_selesai"]]
    assert "compare-change--chosen" in tab.page.locator(".compare-change[data-element='end_selesai']").get_attribute("class")
    # An added element is only in B: A selects nothing.
    tab.page.locator(".compare-change[data-element='verifikasi'] button").click()
    selected = tab.page.evaluate("['a', 'b'].map(s => window.alurCompare[s].get('selection').get().map(e => e.id))")
    assert selected == [[], ["verifikasi"]]
    tab.assert_clean()


def test_clicking_brings_the_element_into_view(tab, t, versions):
    open_compare(tab, t, versions[0], versions[1])
    tab.page.evaluate("window.alurCompare.b.get('canvas').viewbox({x: 2000, y: 2000, width: 400, height: 300})")
    tab.page.locator(".compare-change[data-element='verifikasi'] button").click()
    box = viewbox(tab, "b")
    assert box["x"] < 710 < box["x"] + box["width"] and box["y"] < 340 < box["y"] + box["height"]


def test_viewports_stay_in_step(tab, t, versions):
    open_compare(tab, t, versions[0], versions[1])
    assert viewbox(tab, "a") == pytest.approx(viewbox(tab, "b"))
    tab.page.evaluate("window.alurCompare.a.get('canvas').viewbox({x: 150, y: 80, width: 500, height: 400})")
    # The viewer keeps its box's aspect ratio, so compare with what A shows, not with what was asked.
    assert viewbox(tab, "a")["x"] == pytest.approx(150) and viewbox(tab, "a")["width"] == pytest.approx(500)
    assert viewbox(tab, "b") == pytest.approx(viewbox(tab, "a"))
    # Dragging B with the mouse moves A too.
    surface = tab.page.locator("#compare-viewer-b")
    surface.scroll_into_view_if_needed()
    rect = surface.bounding_box()
    before = viewbox(tab, "a")
    tab.page.mouse.move(rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] - 20)
    tab.page.mouse.down()
    tab.page.mouse.move(rect["x"] + rect["width"] / 2 - 120, rect["y"] + rect["height"] - 60, steps=8)
    tab.page.mouse.up()
    after_a, after_b = viewbox(tab, "a"), viewbox(tab, "b")
    assert after_a != pytest.approx(before)
    assert after_a == pytest.approx(after_b)
    tab.assert_clean()


def test_the_list_works_without_javascript(browser, live_server, versions, t):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server("/login"))
        page.get_by_label(t("Username")).fill("pimpinan")
        page.get_by_label(t("Password")).fill(live_server.password)
        page.get_by_role("button", name=t("Sign in")).click()
        page.goto(live_server(f"/sop/{KEY}/compare?a={versions[0]}&b={versions[2]}"))
        text = page.locator(".compare-changes").inner_text()
        assert "Terima berkas" in text and "Terima dan registrasi berkas" in text
    finally:
        context.close()
