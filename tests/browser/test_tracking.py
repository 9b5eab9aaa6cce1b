"""The public tracking page on a phone, offline: look a file up, read its progress, answer the survey.

A phone-size context (360 × 740, touch) with no sign-in; the same server as the other browser tests.
Texts are looked up in the Indonesian catalog (`t`), the pages' default language.
"""
from __future__ import annotations

import pytest

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
FORM = {"nama_pemohon": "Yakobus Wenda", "jumlah_berkas": 2, "jenis_layanan": "baru",
        "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"}
QUESTIONS = ["How well do the requirements of the service fit the kind of service?",
             "How easy is the procedure of the service at this office?",
             "How fast was the service given?",
             "How fair is the cost or tariff of the service?",
             "How well does what you received fit what the service standard promises?",
             "How competent were the staff in giving the service?",
             "How polite and friendly were the staff?",
             "How are complaints from service users handled?",
             "How good are the facilities and infrastructure?"]


def expect(locator):
    from playwright.sync_api import expect as _expect
    return _expect(locator)


@pytest.fixture
def phone(new_tab, live_server):
    # A fresh lookup allowance: the limiter is per address and every tab here is 127.0.0.1.
    live_server.app.extensions.pop("alur.tracking_limiter", None)
    return lambda **options: new_tab(**{**PHONE, **options})


def _step(engine, case_id, step_id):
    return next(t["id"] for t in engine.tasks(case_id=case_id) if t["step_id"] == step_id and t["state"] == "ready")


def a_case(live_server, *, done: bool) -> str:
    engine = live_server.engine
    case_id = engine.start_case(live_server.process_key, actor="fo")
    engine.complete(_step(engine, case_id, "isi_formulir"), user="fo", data=FORM)
    if done:
        engine.complete(_step(engine, case_id, "verifikasi"), user="bo")
        engine.complete(_step(engine, case_id, "terbitkan"), user="fo", data={"nomor_dokumen": "D/1"})
    return engine.case(case_id)["registration_number"]


def fits_the_screen(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def test_an_applicant_tracks_a_file_on_a_phone(phone, live_server, t):
    number = a_case(live_server, done=False)
    tab = phone()
    tab.goto("/lacak")
    page = tab.page
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Track a file"))
    page.get_by_label(t("Registration number")).fill(number.lower())
    page.get_by_role("button", name=t("Track"), exact=True).click()
    page.wait_for_load_state()
    assert f"nomor={number.lower()}" in page.url
    expect(page.get_by_role("heading", level=2)).to_have_text(number)
    expect(page.get_by_text(t("Being processed"), exact=True)).to_be_visible()
    expect(page.get_by_text("Verifikasi berkas")).to_be_visible()
    expect(page.get_by_text(t("Promised by"))).to_be_visible()
    assert "Yakobus" not in page.content()
    assert fits_the_screen(page)
    tab.screenshot("tracking-phone")
    tab.assert_clean()


def test_a_wrong_number_says_so_on_a_phone(phone, t):
    tab = phone()
    failed = []
    tab.page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
    response = tab.goto("/lacak?nomor=LIN-2026-999999")
    expect(tab.page.get_by_role("alert")).to_contain_text(t(
        "No file was found with this number. Check the number on your receipt and try again."))
    expect(tab.page.get_by_label(t("Registration number"))).to_have_value("LIN-2026-999999")
    # The page itself answers 404, which chromium logs as a console error; nothing else failed.
    assert response.status == 404 and failed == [(404, tab.page.url)]
    tab.problems[:] = [p for p in tab.problems if "status of 404" not in p]
    tab.assert_clean()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_survey_is_answered_on_a_phone(phone, live_server, t, javascript):
    number = a_case(live_server, done=True)
    before = live_server.engine.ikm()["responses"]
    tab = phone(java_script_enabled=javascript)
    tab.goto(f"/lacak?nomor={number}")
    page = tab.page
    expect(page.get_by_text(t("Finished"), exact=True).first).to_be_visible()
    expect(page.get_by_role("heading", name=t("Satisfaction survey"))).to_be_visible()
    assert fits_the_screen(page)
    groups = page.get_by_role("group")
    expect(groups).to_have_count(9)
    tab.screenshot(f"tracking-survey-phone-{'js' if javascript else 'no-js'}")
    for index, question in enumerate(QUESTIONS):
        group = page.get_by_role("group", name=t(question))
        group.get_by_role("radio").nth(index % 4).check()
    page.get_by_label(t("Suggestions (optional)")).fill("Pelayanan cepat")
    page.get_by_role("button", name=t("Send answers")).click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Thank you"))
    assert live_server.engine.ikm()["responses"] == before + 1
    page.get_by_role("link", name=t("Back to file %(number)s").replace("%(number)s", number)).click()
    page.wait_for_load_state()
    expect(page.get_by_text(t("Thank you: the survey for this file was answered."))).to_be_visible()
    assert page.get_by_role("radio").count() == 0
    tab.assert_clean()


def test_a_question_left_open_is_caught_by_the_browser(phone, live_server, t):
    number = a_case(live_server, done=True)
    tab = phone()
    tab.goto(f"/lacak?nomor={number}")
    page = tab.page
    for question in QUESTIONS[:-1]:
        page.get_by_role("group", name=t(question)).get_by_role("radio").first.check()
    page.get_by_role("button", name=t("Send answers")).click()
    # `required` radios: the browser itself keeps the form until the last question is answered.
    assert page.url.endswith(f"nomor={number}")
    assert live_server.engine.track(number)["survey"] == "open"
    tab.assert_clean()
