"""Public tracking by registration number, the SKM survey and the IKM index (engine side)."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import add_staff
from workflow_engine import FormError, InvalidState, NotFound
from workflow_engine.models import SurveyResponse
from workflow_engine.tracking import SKM_CODES, grade_of, ikm_summary, normalise_number

LINEAR_FORM = {"nama_pemohon": "Yakobus Wenda", "jumlah_berkas": 3, "jenis_layanan": "perpanjangan",
               "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"}
ALL_GOOD = {code: 4 for code in SKM_CODES}
# Words that belong to staff or to the case's data and must never reach the applicant's view.
SECRETS = ("petugas_fo", "Maria Kogoya", "petugas_bo", "Yohanes Itlay", "Yakobus Wenda", "perpanjangan",
           "Front Office", "Back Office", "Berkas asli sudah dicek", "DOK/77/2026", "rahasia-data")


@pytest.fixture
def office(engine):
    engine.add_user("petugas_fo", role="staff", lanes=["Front Office"], password_hash="x",
                    full_name="Maria Kogoya")
    engine.add_user("petugas_bo", role="staff", lanes=["Back Office"], password_hash="x",
                    full_name="Yohanes Itlay")
    add_staff(engine, "pemohon", ["Pemohon"])
    return engine


def open_task(engine, case_id, step_id):
    [task] = [t for t in engine.tasks(case_id=case_id) if t["step_id"] == step_id and t["state"] == "ready"]
    return task["id"]


def linear_case(engine, clock, *, until: str = "verifikasi") -> tuple[int, str]:
    """A linear3 case moved on to the named open step ("done" = completed)."""
    case_id = engine.start_case("linear3", actor="petugas_fo", data={"catatan": "rahasia-data"})
    number = engine.case(case_id)["registration_number"]
    engine.comment(case_id, user="petugas_fo", text="Berkas asli sudah dicek")
    clock.advance(minutes=20)
    engine.complete(open_task(engine, case_id, "isi_formulir"), user="petugas_fo", data=LINEAR_FORM)
    if until == "verifikasi":
        engine.claim(open_task(engine, case_id, "verifikasi"), user="petugas_bo")
        return case_id, number
    clock.advance(hours=1)
    engine.complete(open_task(engine, case_id, "verifikasi"), user="petugas_bo")
    clock.advance(hours=1)
    engine.complete(open_task(engine, case_id, "terbitkan"), user="petugas_fo",
                    data={"nomor_dokumen": "DOK/77/2026"})
    return case_id, number


# --- what the applicant sees ----------------------------------------------------------------------

def test_track_shows_the_sop_the_open_step_and_the_promise(office, deploy, clock):
    deploy("linear3.bpmn")
    case_id, number = linear_case(office, clock)
    view = office.track(number)
    assert view["number"] == number
    assert view["sop"] == "Uji linear tiga langkah"
    assert view["status"] == "in_progress"
    assert view["current_steps"] == ["Verifikasi berkas"]
    assert view["applicant_steps"] == [] and view["clock_paused"] is False
    assert view["registered_at"] == office.case(case_id)["started_at"]
    assert view["deadline_at"] == office.case(case_id)["deadline"]
    assert view["completed_at"] is None and view["survey"] is None


def test_track_dict_has_only_the_public_keys(office, deploy, clock):
    deploy("linear3.bpmn")
    _, number = linear_case(office, clock)
    assert set(office.track(number)) == {
        "number", "sop", "status", "status_text", "current_steps", "applicant_steps", "registered_at",
        "clock_started", "deadline_at", "clock_paused", "overdue", "completed_at", "survey", "as_of"}


@pytest.mark.parametrize("until", ["verifikasi", "done"])
def test_track_reveals_no_people_lanes_form_values_or_comments(office, deploy, clock, until):
    deploy("linear3.bpmn")
    _, number = linear_case(office, clock, until=until)
    text = json.dumps(office.track(number), ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in text


def test_track_accepts_lower_case_and_spaces(office, deploy, clock):
    deploy("linear3.bpmn")
    _, number = linear_case(office, clock)
    assert office.track(f"  {number.lower()} ")["number"] == number
    assert office.track(number.replace("-", " "))["number"] == number


@pytest.mark.parametrize("typed", ["LIN-2026-999999", "", "   ", "1", "LIN-2026", "'; DROP TABLE cases;--",
                                   "x" * 5000, "LIN%", "LIN-2026-00000_"])
def test_unknown_or_malformed_numbers_are_not_found(office, deploy, clock, typed):
    deploy("linear3.bpmn")
    linear_case(office, clock)
    assert office.track(typed) is None


def test_a_case_id_is_not_a_tracking_number(office, deploy, clock):
    deploy("linear3.bpmn")
    case_id, _ = linear_case(office, clock)
    assert office.track(str(case_id)) is None and office.track(case_id) is None


def test_practice_cases_are_never_found(office, deploy):
    deploy("linear3.bpmn")
    case_id = office.start_case("linear3", actor="petugas_fo", practice=True)
    number = office.case(case_id)["registration_number"]
    assert number.startswith("LAT-")
    assert office.track(number) is None
    assert office.track(number.removeprefix("LAT-")) is None


def test_a_completed_case_shows_when_it_finished_and_opens_the_survey(office, deploy, clock):
    deploy("linear3.bpmn")
    case_id, number = linear_case(office, clock, until="done")
    view = office.track(number)
    assert view["status"] == "completed" and view["current_steps"] == []
    assert view["completed_at"] == office.case(case_id)["closed_at"]
    assert view["overdue"] is False and view["survey"] == "open"


def test_a_cancelled_case_says_stopped_without_the_reason(office, deploy, clock):
    deploy("linear3.bpmn")
    case_id, number = linear_case(office, clock)
    office.cancel(case_id, user="petugas_fo", reason="Pemohon Yakobus menarik berkas")
    view = office.track(number)
    assert view["status"] == "stopped" and view["deadline_at"] is None and view["current_steps"] == []
    assert "Yakobus" not in json.dumps(view) and view["survey"] is None


def test_a_step_on_the_applicants_side_pauses_the_clock_and_says_what_to_do(office, deploy, clock):
    deploy("rework_loop.bpmn")
    case_id = office.start_case("rework_loop", actor="petugas_fo")
    number = office.case(case_id)["registration_number"]
    add_staff(office, "pemeriksa", ["Front Office", "Pemohon"])
    office.complete(open_task(office, case_id, "periksa"), user="pemeriksa", data={"hasil": "ulang"})
    before = office.track(number)
    clock.advance(hours=5)
    after = office.track(number)
    assert after["status"] == "waiting_for_applicant"
    assert after["applicant_steps"] == ["Perbaiki"] and after["current_steps"] == ["Perbaiki"]
    assert after["clock_paused"] is True
    # While the applicant holds the file the promised time moves with the clock stopped.
    from datetime import datetime
    moved = datetime.fromisoformat(after["deadline_at"]) - datetime.fromisoformat(before["deadline_at"])
    assert moved == timedelta(hours=5)


def test_a_late_open_case_is_overdue(office, deploy, clock):
    deploy("linear3.bpmn")
    _, number = linear_case(office, clock)
    clock.advance(days=2)
    assert office.track(number)["overdue"] is True


def test_the_clock_may_start_later(office, deploy):
    deploy("clock_start.bpmn")
    case_id = office.start_case("clock_start")
    view = office.track(office.case(case_id)["registration_number"])
    assert view["clock_started"] is False and view["deadline_at"] is None


def test_normalise_number_caps_length():
    assert normalise_number("a  b\tc") == "A-B-C"
    assert len(normalise_number("9" * 1000)) == 64
    assert normalise_number(None) == ""


# --- the survey --------------------------------------------------------------------------------

def test_survey_is_stored_once_for_a_completed_case(office, deploy, clock):
    deploy("linear3.bpmn")
    case_id, number = linear_case(office, clock, until="done")
    office.submit_survey(number.lower(), {**ALL_GOOD, "U3": "2"}, "  Cepat dan ramah  ")
    with office.db.read() as s:
        [row] = s.execute(select(SurveyResponse.case_id, SurveyResponse.answers, SurveyResponse.comment)).all()
    assert row.case_id == case_id and row.answers["U3"] == 2 and row.comment == "Cepat dan ramah"
    assert office.track(number)["survey"] == "done"
    with pytest.raises(InvalidState, match="already"):
        office.submit_survey(number, ALL_GOOD, None)


def test_survey_is_refused_before_the_case_is_finished(office, deploy, clock):
    deploy("linear3.bpmn")
    _, number = linear_case(office, clock)
    with pytest.raises(InvalidState, match="not finished"):
        office.submit_survey(number, ALL_GOOD, None)


def test_survey_is_refused_for_a_cancelled_case(office, deploy, clock):
    deploy("linear3.bpmn")
    case_id, number = linear_case(office, clock)
    office.cancel(case_id, user="petugas_fo")
    with pytest.raises(InvalidState):
        office.submit_survey(number, ALL_GOOD, None)


def test_survey_for_unknown_or_practice_numbers_is_not_found(office, deploy):
    deploy("linear3.bpmn")
    practice = office.case(office.start_case("linear3", practice=True))["registration_number"]
    for number in ("LIN-2026-000404", practice, "1"):
        with pytest.raises(NotFound):
            office.submit_survey(number, ALL_GOOD, None)


@pytest.mark.parametrize("answers, field", [
    ({k: v for k, v in ALL_GOOD.items() if k != "U5"}, "U5"),
    ({**ALL_GOOD, "U1": 0}, "U1"),
    ({**ALL_GOOD, "U9": 5}, "U9"),
    ({**ALL_GOOD, "U2": "baik"}, "U2"),
    ({**ALL_GOOD, "U4": 2.5}, "U4"),
    ({**ALL_GOOD, "U10": 3}, "U10"),
])
def test_survey_answers_must_be_the_nine_elements_from_1_to_4(office, deploy, clock, answers, field):
    deploy("linear3.bpmn")
    _, number = linear_case(office, clock, until="done")
    with pytest.raises(FormError) as error:
        office.submit_survey(number, answers, None)
    assert field in error.value.fields
    assert office.track(number)["survey"] == "open"


def test_survey_comment_is_length_limited(office, deploy, clock):
    deploy("linear3.bpmn")
    _, number = linear_case(office, clock, until="done")
    with pytest.raises(FormError) as error:
        office.submit_survey(number, ALL_GOOD, "x" * 1001)
    assert "comment" in error.value.fields
    office.submit_survey(number, ALL_GOOD, "x" * 1000)


def test_an_empty_comment_is_stored_as_none(office, deploy, clock):
    deploy("linear3.bpmn")
    _, number = linear_case(office, clock, until="done")
    office.submit_survey(number, ALL_GOOD, "   ")
    with office.db.read() as s:
        assert s.scalar(select(SurveyResponse.comment)) is None


# --- the IKM -----------------------------------------------------------------------------------

def test_ikm_matches_a_hand_calculation(office, deploy, clock):
    """Three respondents; the element means and the index worked out by hand.

    U1: (4+3+2)/3 = 3.000  U2: (3+3+3)/3 = 3.000  U3: (2+3+4)/3 = 3.000  U4: (4+4+4)/3 = 4.000
    U5: (3+2+2)/3 = 2.333  U6: (4+4+3)/3 = 3.667  U7: (4+3+3)/3 = 3.333  U8: (1+2+3)/3 = 2.000
    U9: (3+3+3)/3 = 3.000  sum of means = 27.333..., /9 = 3.0370..., × 25 = 75.93 → C (Kurang Baik)
    """
    deploy("linear3.bpmn")
    answers = [[4, 3, 2, 4, 3, 4, 4, 1, 3], [3, 3, 3, 4, 2, 4, 3, 2, 3], [2, 3, 4, 4, 2, 3, 3, 3, 3]]
    for row in answers:
        _, number = linear_case(office, clock, until="done")
        office.submit_survey(number, dict(zip(SKM_CODES, row)), None)
    result = office.ikm()
    assert result["responses"] == 3
    assert [e["mean"] for e in result["elements"]] == [3.0, 3.0, 3.0, 4.0, 2.333, 3.667, 3.333, 2.0, 3.0]
    assert result["ikm"] == 75.93
    assert (result["grade"], result["grade_words"]) == ("C", "Kurang Baik")
    assert [e["code"] for e in result["elements"]] == list(SKM_CODES)
    assert result["elements"][0]["name"] == "Persyaratan"
    assert [(p["key"], p["responses"], p["ikm"]) for p in result["per_sop"]] == [("linear3", 3, 75.93)]


def test_ikm_per_sop_and_key_filter(office, deploy, clock):
    deploy("linear3.bpmn")
    deploy("exclusive.bpmn")
    _, number = linear_case(office, clock, until="done")
    office.submit_survey(number, ALL_GOOD, None)
    add_staff(office, "kabid", ["Kepala Bidang", "Front Office"])
    case_id = office.start_case("exclusive")
    office.complete(open_task(office, case_id, "ajukan"), user="kabid", data={"nama_pemohon": "Ani"})
    office.complete(open_task(office, case_id, "putuskan"), user="kabid", data={"keputusan": "tolak"})
    for task in office.tasks(case_id=case_id):
        if task["state"] == "ready":
            office.complete(task["id"], user="kabid")
    office.submit_survey(office.case(case_id)["registration_number"], {c: 1 for c in SKM_CODES}, None)
    result = office.ikm()
    assert result["responses"] == 2 and result["ikm"] == 62.5 and result["grade"] == "D"
    assert {p["key"]: p["ikm"] for p in result["per_sop"]} == {"exclusive": 25.0, "linear3": 100.0}
    only = office.ikm(key="linear3")
    assert only["responses"] == 1 and only["ikm"] == 100.0 and only["grade_words"] == "Sangat Baik"


def test_ikm_period_is_since_inclusive_until_exclusive(office, deploy, clock):
    deploy("linear3.bpmn")
    _, first = linear_case(office, clock, until="done")
    office.submit_survey(first, ALL_GOOD, None)
    boundary = office.now()
    clock.advance(days=1)
    _, second = linear_case(office, clock, until="done")
    office.submit_survey(second, {c: 2 for c in SKM_CODES}, None)
    assert office.ikm(until=boundary)["responses"] == 0
    assert office.ikm(since=boundary)["responses"] == 2
    assert office.ikm(since=boundary + timedelta(seconds=1))["ikm"] == 50.0


def test_ikm_without_answers_has_no_index(office):
    result = office.ikm()
    assert result["responses"] == 0 and result["ikm"] is None and result["grade"] is None
    assert result["per_sop"] == [] and all(e["mean"] is None for e in result["elements"])


@pytest.mark.parametrize("index, grade", [(100, "A"), (88.31, "A"), (88.30, "B"), (76.61, "B"),
                                          (76.60, "C"), (65.00, "C"), (64.99, "D"), (25.0, "D"),
                                          (88.3051, "A"), (76.604, "C")])
def test_grade_boundaries(index, grade):
    assert grade_of(index)[0] == grade


def test_all_answers_at_3_give_75_and_grade_c():
    summary = ikm_summary([{c: 3 for c in SKM_CODES}])
    assert summary["ikm"] == 75.0 and summary["grade"] == "C"
    assert summary["elements"][0]["score"] == 75.0
