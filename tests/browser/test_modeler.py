"""The SOP modeler in a real browser, offline: a new SOP from the template built with the palette and the
side panel, saved, published and run; and v1 of a library SOP turned into a new version while an old
case finishes on v1 (issue 5's done-when).

Clicks go where a person clicks (palette, context pad, side panel, buttons); the larger model surgery
goes through bpmn-js's own modeling API in the page, then the page's Save button, so it still passes
through the browser modeler and the save endpoint.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
from corpus import MIWG  # noqa: E402
TRAYEK_V1 = ROOT / "processes" / "izin-trayek" / "v1.bpmn"
NEW_KEY, NEW_NAME = "uji_modeler", "Uji modeler dari templat"
NEW_STEP = "Periksa lapangan"
NEW_STEP_HELP = "Periksa lokasi sesuai denah pemohon."
NUMBER = re.compile(r"\b[A-Z]{2,6}-\d{4}-\d{6}\b")


def expect(locator):
    from playwright.sync_api import expect as _expect
    return _expect(locator)


def sign_in(tab, username: str, t):
    tab.goto("/login")
    tab.page.get_by_label(t("Username")).fill(username)
    tab.page.get_by_label(t("Password")).fill(tab.server.password)
    tab.page.get_by_role("button", name=t("Sign in")).click()
    tab.page.wait_for_load_state()
    assert "/login" not in tab.page.url, f"{username} could not sign in"


def open_modeler(page):
    """Wait until the modeler has drawn the draft and the panel is there."""
    expect(page.locator("[data-modeler][data-ready='1']")).to_have_count(1, timeout=20_000)
    return page.locator("#modeler-panel")


def center(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).first.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag(page, selector: str, dx: float, dy: float = 0):
    x, y = center(page, selector)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y + dy / 2, steps=5)
    page.mouse.move(x + dx, y + dy, steps=5)
    page.mouse.up()


def js_select(page, element_id: str):
    page.evaluate("id => { const m = window.alurModeler; m.get('selection').select(m.get('elementRegistry').get(id)); }",
                  element_id)


def save(page, t, revision: int):
    page.get_by_role("button", name=t("Save"), exact=True).click()
    expect(page.locator(f"[data-modeler][data-revision='{revision}']")).to_have_count(1)
    expect(page.locator("#modeler-status")).to_have_text(t("All changes saved."))


def wait_for_check(page, t):
    """The debounced check of the latest change has answered, and found the model runnable."""
    page.wait_for_function("() => { const s = window.alurWorkbench.state;"
                           " return s.changes > 0 && s.checkedChanges === s.changes; }")
    expect(page.locator(".modeler-runnable")).to_have_text(t("Can run: it can be published."))


def publish(page, t, note: str):
    page.get_by_label(t("Change note (what changed and why)")).fill(note)
    page.get_by_role("button", name=t("Publish as a new version")).click()
    page.wait_for_load_state()
    assert re.search(r"/sop#sop-", page.url), page.url


def drive(engine, case_id: int, plan: dict, users: dict, max_steps: int = 100) -> dict:
    """Complete the case's ready tasks, oldest first, with the plan's data, until none is left."""
    for _ in range(max_steps):
        ready = sorted(engine.tasks(case_id=case_id), key=lambda t: t["id"])
        if not ready:
            return engine.case(case_id)
        task = ready[0]
        data = plan.get(task["step_id"], {})
        engine.complete(task["id"], user=users[task["lane"]], data=data[0] if isinstance(data, list) else data)
    raise AssertionError(f"case {case_id} did not end within {max_steps} steps")


def steps_done(view: dict) -> list[str]:
    return [t["step_id"] for t in view["tasks"] if t["state"] == "completed"]


# --- a new SOP from the template, built with clicks ----------------------------------------------

def test_new_sop_from_the_template_gets_a_user_task_with_a_form_and_budget_and_runs(new_tab, live_server, t):
    engine = live_server.engine
    analyst = new_tab()
    sign_in(analyst, "analis", t)
    page = analyst.page
    analyst.goto("/sop")
    page.get_by_label(t("Key (process id)")).fill(NEW_KEY)
    page.get_by_label(t("Name"), exact=True).fill(NEW_NAME)
    page.get_by_role("button", name=t("Start from the template")).click()
    panel = open_modeler(page)
    draft_id = int(re.search(r"/sop/drafts/(\d+)$", page.url).group(1))

    # With nothing selected the panel edits the SOP itself: its registration prefix.
    expect(panel.get_by_role("heading", name=t("The SOP"))).to_be_visible()
    panel.get_by_label(t("Registration prefix")).fill("UJM")
    panel.get_by_label(t("Registration prefix")).press("Enter")

    # Make room after the first step, drop a task from the palette onto the flow, make it a user task.
    drag(page, ".djs-shape[data-element-id='selesai']", 90)
    page.locator(".djs-palette [data-action='create.task']").click()
    x, y = center(page, ".djs-connection[data-element-id='Flow_selesai']")
    page.mouse.move(x - 20, y)
    page.mouse.move(x, y, steps=5)
    page.mouse.click(x, y)
    page.keyboard.press("Escape")  # leave the label editor the new shape opens
    page.locator(".djs-context-pad [data-action='replace']").click()
    page.locator(".djs-popup [data-id='replace-with-user-task']").click()
    expect(panel.locator(".mp-type")).to_contain_text(t("User task"))
    task_id = page.evaluate("() => window.alurModeler.get('selection').get()[0].id")

    # Name, instructions, time budget and a form field, all in the side panel.
    panel.get_by_label(t("Name"), exact=True).fill(NEW_STEP)
    panel.get_by_label(t("Instructions for staff")).fill(NEW_STEP_HELP)
    budget = t("Time budget")
    panel.get_by_label(f"{budget}: {t('hours')}").fill("2")
    panel.get_by_label(f"{budget}: {t('minutes')}").fill("30")
    panel.get_by_label(f"{budget}: {t('minutes')}").press("Tab")
    expect(panel.get_by_text("= PT2H30M")).to_be_visible()
    panel.get_by_role("button", name=t("Add a field")).click()
    panel.get_by_label(t("Label"), exact=True).fill("Hasil pemeriksaan")
    panel.get_by_label(t("Field id (letters, digits, _)")).fill("hasil_periksa")
    panel.get_by_label(t("Type"), exact=True).select_option("enum")
    panel.get_by_label(t("Required"), exact=True).check()
    panel.get_by_role("button", name=t("Add a choice")).click()
    panel.get_by_label(t("Choice label")).fill("Sesuai denah")
    panel.get_by_label(t("Choice id")).fill("sesuai")
    panel.get_by_label(t("Choice id")).press("Tab")
    expect(page.locator(f".djs-element[data-element-id='{task_id}'] .djs-label")).to_have_text(NEW_STEP)
    # Each panel edit is one command: undo takes the last one back, redo restores it.
    undone = page.evaluate("""() => { const cs = window.alurModeler.get('commandStack');
        const choice = () => window.alurModeler.get('selection').get()[0].businessObject.extensionElements
          .values.find(v => v.$type === 'camunda:FormData').fields[0].values[0].id;
        const before = choice(); cs.undo(); const after = choice(); cs.redo(); return [before, after, choice()]; }""")
    assert undone == ["sesuai", "option_1", "sesuai"]

    # The bpmn.io watermark stays fully visible (its licence).
    mark = page.locator(".bjs-powered-by")
    expect(mark).to_be_visible()
    assert mark.evaluate("""e => { const r = e.getBoundingClientRect();
        const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return e === top || e.contains(top); }""")

    wait_for_check(page, t)
    expect(page.locator(".modeler-problem--error")).to_have_count(0)
    analyst.screenshot("modeler-new-sop")
    save(page, t, 2)

    xml = engine.draft(draft_id)["xml"]
    assert f'<bpmn:userTask id="{task_id}" name="{NEW_STEP}">' in xml
    assert 'name="mutu.waktu" value="PT2H30M"' in xml and 'name="sop.kodeRegistrasi" value="UJM"' in xml
    assert re.search(r'<camunda:formField id="hasil_periksa" label="Hasil pemeriksaan" type="enum">\s*'
                     r'<camunda:validation>\s*<camunda:constraint name="required" />', xml)
    assert '<camunda:value id="sesuai" name="Sesuai denah" />' in xml
    assert NEW_STEP_HELP in xml

    publish(page, t, "SOP baru dengan pemeriksaan lapangan")
    expect(page.locator(".flash")).to_contain_text(NEW_NAME)
    row = page.locator(f"#sop-{NEW_KEY} tr[data-version='1']")
    expect(row).to_contain_text(t("used for new cases"))
    analyst.assert_clean()

    # The Front Office registers a case on it and finds the new step after the first one.
    fo = new_tab()
    sign_in(fo, "fo", t)
    page = fo.page
    fo.goto("/cases/new")
    sop = page.get_by_label(t("SOP"), exact=True)
    sop.select_option(sop.locator("option", has_text=NEW_NAME).get_attribute("value"))
    page.get_by_role("button", name=t("Start the case")).click()
    page.wait_for_load_state()
    number = NUMBER.search(page.get_by_role("heading", level=1).inner_text()).group(0)
    assert number.startswith("UJM-"), number
    case = engine.case(number, with_tasks=True)
    assert case["process"] == NEW_KEY and case["version"] == 1
    first = next(t_ for t_ in case["tasks"] if t_["state"] == "ready")
    engine.complete(first["id"], user="fo", data={})
    fo.goto("/tasks")
    row = page.locator("tr, li").filter(has_text=number).filter(has_text=NEW_STEP)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=re.compile(re.escape(NEW_STEP))).click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_contain_text(NEW_STEP)
    expect(page.get_by_text(NEW_STEP_HELP)).to_be_visible()
    expect(page.get_by_text("Hasil pemeriksaan").first).to_be_visible()
    fo.screenshot("modeler-new-sop-task")
    fo.assert_clean()


# --- v1 of a library SOP becomes v2 in the browser; an old case finishes on v1 ----------------------

def test_library_sop_v1_becomes_a_new_version_while_an_old_case_finishes_on_v1(new_tab, live_server, t):
    from sop_paths import LANE_USERS
    from test_sop_izin_trayek import HAPPY, KEY

    engine = live_server.engine
    v1 = engine.deploy(TRAYEK_V1.read_bytes(), "v1.bpmn", author="analis").version
    old_case = engine.start_case(KEY, version=v1, actor="fo")
    # The old case gets as far as the step the new version drops.
    for _ in range(20):
        ready = engine.tasks(case_id=old_case)
        if any(t_["step_id"] == "paraf_surat_tugas" for t_ in ready):
            break
        task = min(ready, key=lambda t_: t_["id"])
        data = HAPPY.get(task["step_id"], {})
        engine.complete(task["id"], user=LANE_USERS[task["lane"]], data=data[0] if isinstance(data, list) else data)
    else:
        pytest.fail("the v1 case never reached paraf_surat_tugas")

    analyst = new_tab()
    sign_in(analyst, "analis", t)
    page = analyst.page
    analyst.goto("/sop")
    page.locator(f"#sop-{KEY} tr[data-version='{v1}']").get_by_role("button", name=t("Open as a new draft")).click()
    panel = open_modeler(page)

    # Remove a step (bpmn-js joins its incoming and outgoing flows), and run two checks side by side.
    result = page.evaluate("""() => {
      const m = window.alurModeler, reg = m.get('elementRegistry'), modeling = m.get('modeling');
      const get = id => reg.get(id);
      modeling.removeElements([get('paraf_surat_tugas')]);
      modeling.removeElements(['Flow_registrasi_berkas_verifikasi_administrasi',
        'Flow_verifikasi_administrasi_cek_kuota_trayek', 'Flow_cek_kuota_trayek_gw_verifikasi'].map(get));
      const pool = get('verifikasi_administrasi').parent;
      const split = modeling.createShape({type: 'bpmn:ParallelGateway'}, {x: 1130, y: 480}, pool);
      const join = modeling.createShape({type: 'bpmn:ParallelGateway'}, {x: 1442, y: 480}, pool);
      modeling.connect(get('registrasi_berkas'), split);
      modeling.connect(split, get('verifikasi_administrasi'));
      modeling.connect(split, get('cek_kuota_trayek'));
      modeling.connect(get('verifikasi_administrasi'), join);
      modeling.connect(get('cek_kuota_trayek'), join);
      modeling.connect(join, get('gw_verifikasi'));
      return {after: get('konsep_surat_tugas').outgoing.map(f => f.target.id), split: split.id,
              undo: m.get('commandStack').canUndo()};
    }""")
    assert result["after"] == ["tandatangani_surat_tugas"] and result["undo"]

    # Budgets, changed in the side panel.
    budget = t("Time budget")
    for step, hours in (("survei_lapangan", "4"), ("tandatangani_surat_tugas", "1")):
        js_select(page, step)
        expect(panel.locator(".mp-type")).to_contain_text(step)
        panel.get_by_label(f"{budget}: {t('hours')}").fill(hours)
        panel.get_by_label(f"{budget}: {t('minutes')}").fill("0")
        panel.get_by_label(f"{budget}: {t('minutes')}").press("Tab")
    expect(panel.get_by_label(t("Lane (who does it)"))).to_have_value("Lane_izin_trayek_kepala_dinas")
    # The rejection report moves from the Back Office to the Front Office, by the panel's lane list.
    js_select(page, "susun_bap_penolakan")
    panel.get_by_label(t("Lane (who does it)")).select_option(label="Front Office")
    expect(panel.get_by_label(t("Lane (who does it)"))).to_have_value("Lane_izin_trayek_front_office")
    wait_for_check(page, t)

    # A listed problem selects its element and is marked on the diagram.
    item = page.locator(".modeler-problem[data-element-id='survei_lapangan']").first
    expect(item).to_be_visible()
    item.get_by_role("button").click()
    assert page.evaluate("() => window.alurModeler.get('selection').get().map(e => e.id)") == ["survei_lapangan"]
    expect(page.locator(".djs-element.alur-problem--warning[data-element-id='survei_lapangan']")).to_have_count(1)
    analyst.screenshot("modeler-trayek-v2")

    save(page, t, 2)
    publish(page, t, "Paraf surat tugas dihapus; verifikasi dan cek kuota berjalan paralel; survei 4 jam")
    versions = next(s for s in engine.catalogue() if s["key"] == KEY)["versions"]
    v2 = max(v["version"] for v in versions)
    assert v2 > v1
    info = engine.process_info(KEY, v2)
    steps = {s["id"]: s for s in info["steps"]}
    assert "paraf_surat_tugas" not in steps
    assert steps["survei_lapangan"]["budget_seconds"] == 4 * 3600
    assert steps["tandatangani_surat_tugas"]["budget_seconds"] == 3600
    assert steps["susun_bap_penolakan"]["lane"] == "Front Office"
    expect(page.locator(f"#sop-{KEY} tr[data-version='{v2}']")).to_contain_text(t("used for new cases"))
    analyst.assert_clean()

    # New cases run on the new version; the old one finishes on v1, through the step v2 dropped.
    new_case = engine.start_case(KEY, actor="fo")
    new_view = drive(engine, new_case, HAPPY, LANE_USERS)
    old_view = drive(engine, old_case, HAPPY, LANE_USERS)
    assert new_view["version"] == v2 and new_view["status"] == "completed"
    assert {"verifikasi_administrasi", "cek_kuota_trayek", "serahkan_izin"} <= set(steps_done(new_view))
    assert "paraf_surat_tugas" not in steps_done(new_view)
    assert old_view["version"] == v1 and old_view["status"] == "completed"
    assert "paraf_surat_tugas" in steps_done(old_view) and "serahkan_izin" in steps_done(old_view)


# --- two analysts on one draft --------------------------------------------------------------------

def test_a_save_after_someone_elses_is_refused_and_offers_a_reload(new_tab, live_server, t):
    engine = live_server.engine
    draft_id = engine.new_draft("uji_bentrok", "Uji bentrok", author="admin")
    analyst = new_tab()
    sign_in(analyst, "analis", t)
    page = analyst.page
    analyst.goto(f"/sop/drafts/{draft_id}")
    panel = open_modeler(page)
    js_select(page, "terima_berkas")
    panel.get_by_label(t("Name"), exact=True).fill("Nama dari analis")
    panel.get_by_label(t("Name"), exact=True).press("Enter")

    other = engine.draft(draft_id)["xml"].replace("Menerima berkas permohonan", "Nama dari admin")
    engine.save_draft(draft_id, other.encode(), author="admin", expected_revision=1)
    page.get_by_role("button", name=t("Save"), exact=True).click()
    alert = page.locator("#modeler-alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(t("Someone else saved this draft after you opened it. Reload to see their version; "
                                    "your changes since your last save are lost unless you download them first."))
    expect(page.locator("#modeler-status")).to_have_text(t("Not saved: someone else saved first."))
    assert "Nama dari admin" in engine.draft(draft_id)["xml"]
    page.once("dialog", lambda d: d.accept())  # the page asks before leaving unsaved work
    alert.get_by_role("button", name=t("Reload")).click()
    open_modeler(page)
    assert page.evaluate("() => window.alurModeler.get('elementRegistry').get('terima_berkas')"
                         ".businessObject.name") == "Nama dari admin"
    # The browser logs the refused save as a failed request; nothing else may go wrong.
    assert [p for p in analyst.problems if "409" not in p] == []
    assert analyst.outside == []


# --- models from other tools ----------------------------------------------------------------------

@pytest.mark.skipif(not MIWG.is_dir(), reason=f"no MIWG reference corpus at {MIWG}")
def test_models_from_other_tools_open_in_the_modeler_with_what_blocks_them_listed(new_tab, live_server, t):
    from workflow_engine import BpmnValidationError

    engine = live_server.engine
    analyst = new_tab()
    sign_in(analyst, "analis", t)
    page = analyst.page
    opened = []
    for path in sorted(MIWG.glob("*.bpmn")):
        try:
            draft_id = engine.create_draft(path.read_bytes(), path.name, author="analis")
        except BpmnValidationError:
            continue  # refused on upload with a located list (tests/test_web_workbench.py)
        analyst.goto(f"/sop/drafts/{draft_id}")
        expect(page.locator("[data-modeler][data-ready='1'], .modeler--failed")).to_have_count(1, timeout=20_000)
        drawn = page.locator("[data-modeler][data-ready='1']").count() == 1
        draft = engine.draft(draft_id)
        if drawn and not draft["executable"]:
            expect(page.locator(".modeler-runnable")).to_have_text(t("Cannot run yet: fix the errors before publishing."))
            assert page.locator(".modeler-problem--error").count() == len(draft["errors"])
        opened.append((path.name, drawn))
        engine.delete_draft(draft_id, actor="analis")
    assert opened and all(drawn for _, drawn in opened), [name for name, drawn in opened if not drawn]
    analyst.assert_clean()

