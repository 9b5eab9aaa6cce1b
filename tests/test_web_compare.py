"""The compare page: who may open it, what it lists, its bad and missing references, and the model files."""
from __future__ import annotations

import json
import re

import pytest

from conftest import FIXTURES, sign_in

DIFF = FIXTURES.parent / "diff"


@pytest.fixture
def app(web, engine, deploy):
    deploy("izin-reklame/v1.bpmn")
    deploy("izin-reklame/v2.bpmn")
    return web


@pytest.fixture
def small(web, engine):
    """A small SOP in two versions: base and base with one step added."""
    for name in ("base.bpmn", "added_step.bpmn"):
        engine.deploy((DIFF / name).read_bytes(), name, author="test")
    return web


def page(client, query: str, key: str = "izin_reklame"):
    return client.get(f"/sop/{key}/compare{query}")


@pytest.mark.parametrize("user", ["pimpinan", "analis", "admin"])
def test_managers_analysts_and_admins_may_compare(app, user):
    response = page(sign_in(app, user), "?a=1&b=2")
    assert response.status_code == 200
    assert 'id="compare-viewer-a"' in response.get_data(as_text=True)


@pytest.mark.parametrize("user", ["fo", "kadin"])
def test_staff_may_not(app, user):
    assert page(sign_in(app, user), "?a=1&b=2").status_code == 403


def test_signed_out_people_are_sent_to_sign_in(app):
    response = page(app.test_client(), "?a=1&b=2")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_sop_is_404(app):
    assert page(sign_in(app, "pimpinan"), "?a=1&b=2", key="tidak_ada").status_code == 404


def test_missing_version_is_404(app):
    assert page(sign_in(app, "pimpinan"), "?a=1&b=9").status_code == 404


def test_missing_draft_is_404(app):
    assert page(sign_in(app, "pimpinan"), "?a=1&b=d999").status_code == 404


@pytest.mark.parametrize("ref", ["x", "0", "-1", "d", "dx", "1.5", "9999999999"])
def test_a_malformed_ref_is_400_with_a_message(app, ref):
    response = page(sign_in(app, "pimpinan"), f"?a=1&b={ref}")
    assert response.status_code == 400
    assert "d7" in response.get_data(as_text=True)


def test_without_refs_the_newest_two_versions_are_compared(app):
    html = page(sign_in(app, "pimpinan"), "").get_data(as_text=True)
    assert '/sop/izin_reklame/compare/1.bpmn' in html and '/sop/izin_reklame/compare/2.bpmn' in html


def test_the_list_names_each_change_with_its_attributes(small):
    html = page(sign_in(small, "pimpinan"), "?a=1&b=2", key="diff_demo").get_data(as_text=True)
    assert 'data-element="verifikasi"' in html and "Verifikasi kepala bidang" in html
    assert 'compare-change--added' in html and 'compare-change--removed' in html
    assert 'compare-change--moved' in html  # end_selesai moved to make room


def test_changed_attributes_show_old_and_new(web, engine):
    for name in ("base.bpmn", "rename.bpmn"):
        engine.deploy((DIFF / name).read_bytes(), name, author="test")
    html = page(sign_in(web, "pimpinan"), "?a=1&b=2", key="diff_demo").get_data(as_text=True)
    assert "<del>Terima berkas</del>" in html and "<ins>Terima dan registrasi berkas</ins>" in html


def test_marks_for_the_viewers_are_json(small):
    html = page(sign_in(small, "pimpinan"), "?a=1&b=2", key="diff_demo").get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="compare-data">(.*?)</script>', html,
                                re.S).group(1))
    assert data["marks"]["b"]["added"] == ["f_periksa_verifikasi", "f_verifikasi_end", "verifikasi"]
    assert data["marks"]["a"]["removed"] == ["f_periksa_end"]
    assert data["marks"]["a"]["moved"] == data["marks"]["b"]["moved"] == ["end_selesai"]


def test_the_same_version_twice_has_no_changes(small):
    html = page(sign_in(small, "pimpinan"), "?a=2&b=2", key="diff_demo").get_data(as_text=True)
    assert 'class="compare-changes"' not in html


def test_process_changes_are_marked_on_the_pool(app):
    html = page(sign_in(app, "pimpinan"), "?a=1&b=2").get_data(as_text=True)
    # The process's documentation changed; the diagram draws it as the pool (participant).
    assert 'data-element="Participant_izin_reklame"' in html


def test_the_selectors_list_the_versions(app):
    html = page(sign_in(app, "pimpinan"), "?a=1&b=2").get_data(as_text=True)
    assert html.count('<select name="a"') == 1 and html.count('<select name="b"') == 1
    assert re.search(r'<option value="2" selected', html)


def test_the_page_has_no_inline_script_or_style(app):
    html = page(sign_in(app, "pimpinan"), "?a=1&b=2").get_data(as_text=True)
    assert " style=" not in html and "onclick" not in html
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts), scripts


def test_the_page_is_in_indonesian_by_default(app):
    html = page(sign_in(app, "pimpinan"), "?a=1&b=2").get_data(as_text=True)
    assert "Ditambahkan" in html and "Bandingkan" in html


def test_model_files_are_served_to_the_same_roles(app, engine):
    client = sign_in(app, "pimpinan")
    response = client.get("/sop/izin_reklame/compare/2.bpmn")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.get_data(as_text=True) == engine.sop_xml("izin_reklame", 2)
    assert sign_in(app, "fo").get("/sop/izin_reklame/compare/2.bpmn").status_code == 403
    assert client.get("/sop/izin_reklame/compare/7.bpmn").status_code == 404
    assert client.get("/sop/izin_reklame/compare/zz.bpmn").status_code == 404


def test_a_draft_can_be_compared_when_drafts_exist(app, engine):
    if not hasattr(engine, "draft_from_version"):
        pytest.skip("drafts are not in this build yet")
    draft_id = engine.draft_from_version("izin_reklame", 2, author="analis")
    client = sign_in(app, "analis")
    response = page(client, f"?a=2&b=d{draft_id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    html = response.get_data(as_text=True)
    assert f'value="d{draft_id}" selected' in html
    assert "The two models are the same." in html or "Kedua model sama." in html


@pytest.fixture
def ran(app, engine):
    """One approved case on each version of izin reklame, so every section has data."""
    from sop_paths import run_path
    from test_sop_izin_reklame import HAPPY, HAPPY_V2

    run_path(engine, "izin_reklame", HAPPY, version=1)
    run_path(engine, "izin_reklame", HAPPY_V2, version=2)
    return app


def test_one_page_holds_the_summary_diff_metrics_measured_forecast_and_findings(ran, engine):
    html = page(sign_in(ran, "pimpinan"), "?a=1&b=2").get_data(as_text=True)
    sections = ["summary-title", "diff-title", "Ukuran SOP", "Kinerja terukur", "Perkiraan (simulasi)"]
    positions = [html.find(s) for s in sections]
    assert -1 not in positions and positions == sorted(positions), dict(zip(sections, positions))
    measured = engine.measured("izin_reklame", 2)
    share = measured["compliance"]["met_share"]
    assert f"{share * 100:.1f} %" in html  # the summary shows what the measured section computed
    assert "/sop/izin_reklame/v1/document" in html and "/sop/izin_reklame/v2/document.pdf" in html
    assert 'id="measured-data"' in html and html.count('id="compare-data"') == 1
    assert "style=" not in html
