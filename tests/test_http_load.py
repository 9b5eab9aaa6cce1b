"""The HTTP benchmark's form filler completes every step of the library's SOPs through the web."""
import re

import pytest
from conftest import sign_in

from bench.http_load import fill_form
from bench.weights import _assets

SOPS = ["izin-reklame", "izin-trayek", "persetujuan-bangunan-gedung", "surat-izin-praktik",
        "verifikasi-sertifikat-standar"]


@pytest.mark.parametrize("sop", [f"{name}/v{n}.bpmn" for name in SOPS for n in (1, 2)])
def test_filled_forms_complete_a_case_to_its_end(web, engine, deploy, sop):
    key = deploy(sop)
    case_id = engine.start_case(key, actor="admin")
    client = sign_in(web, "admin")
    steps = 0
    while ready := engine.tasks(case_id=case_id, state="ready", limit=1):
        task_id = ready[0]["id"]
        page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
        values = fill_form(page, task_id)
        assert values, f"no form on the page of task {task_id}"
        answer = client.post(f"/tasks/{task_id}", data=values)
        errors = re.findall(r'class="field-error"[^>]*>(.*?)</p>', answer.get_data(as_text=True))
        assert answer.status_code == 302, errors
        steps += 1
    assert engine.case(case_id, with_tasks=False)["status"] == "completed" and steps > 3


def test_page_assets_include_what_the_diagram_loads_on_demand(web, engine, deploy):
    key = deploy("izin-reklame/v2.bpmn")
    engine.start_case(key, actor="admin")
    task_id = engine.tasks(state="ready", limit=1)[0]["id"]
    page = sign_in(web, "admin").get(f"/tasks/{task_id}").get_data(as_text=True)
    found = dict(_assets(page))
    assert found["/static/js/diagram.js"] is False and found["/static/css/alur.css"] is False
    assert found["/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js"] is True
    assert any(ref.endswith("/diagram.bpmn") and lazy for ref, lazy in found.items())
