"""SOP facts read from camunda:properties, lanes and forms; ISO 8601 durations."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from workflow_engine.durations import format_duration, is_iso_duration, parse_duration
from workflow_engine.sop_info import FormField, SopInfo, StepInfo, default_prefix, read_sop_info

GOOD = Path(__file__).resolve().parent / "fixtures" / "loader" / "good_sop.bpmn"
NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"')


def info_of(process_xml: str, extra: str = "", file: str = "sop.bpmn") -> SopInfo:
    """Read the SopInfo of the first process in a small document."""
    root = etree.fromstring(f'<bpmn:definitions {NS} id="d">{extra}{process_xml}</bpmn:definitions>'.encode())
    process = root.find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process")
    return read_sop_info(process, root, file)


def props(**pairs: str) -> str:
    items = "".join(f'<camunda:property name="{k.replace("__", ".")}" value="{v}"/>' for k, v in pairs.items())
    return f"<bpmn:extensionElements><camunda:properties>{items}</camunda:properties></bpmn:extensionElements>"


def process(body: str = "", *, pid: str = "izin_reklame", name: str | None = "Izin Reklame", ext: str = "") -> str:
    name_attr = f' name="{name}"' if name else ""
    return f'<bpmn:process id="{pid}"{name_attr}>{ext}{body}</bpmn:process>'


def errors(info: SopInfo) -> list[str]:
    return [p.message for p in info.errors]


# --- durations -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("PT24H", 86400), ("P1D", 86400), ("P1DT2H", 93600), ("PT30M", 1800), ("PT45S", 45), ("P1W", 604800),
    ("P2W3D", 1468800), ("PT1.5H", 5400), ("PT0,5M", 30), ("  pt2h  ", 7200), ("PT0S", 0), ("P1DT1H1M1S", 90061),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text, words", [
    ("", "empty"), ("   ", "empty"), ("-PT1H", "negative"), ("P1Y", "years or months"), ("P2M", "years or months"),
    ("P", "not an ISO 8601"), ("PT", "not an ISO 8601"), ("P1DT", "not an ISO 8601"), ("24 jam", "not an ISO 8601"),
    ("PT1H30", "not an ISO 8601"), ("T1H", "not an ISO 8601"), ("PT1.5H30M", "last number"),
])
def test_parse_duration_refuses_with_a_clear_message(text, words):
    with pytest.raises(ValueError, match=words):
        parse_duration(text)


def test_parse_duration_refuses_non_text():
    with pytest.raises(ValueError):
        parse_duration(24)  # type: ignore[arg-type]


@pytest.mark.parametrize("seconds, text", [
    (0, "PT0S"), (45, "PT45S"), (1800, "PT30M"), (86400, "P1D"), (90061, "P1DT1H1M1S"), (7200, "PT2H"),
    (172800, "P2D"), (3660, "PT1H1M"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", [-1, "PT1H", True, None])
def test_format_duration_refuses_bad_input(bad):
    with pytest.raises(ValueError):
        format_duration(bad)


def test_is_iso_duration_accepts_calendar_units():
    assert is_iso_duration("P1M") and is_iso_duration("P1Y2M3DT4H") and is_iso_duration("PT1H")
    assert not is_iso_duration("P") and not is_iso_duration("1 hour") and not is_iso_duration("PT")


# --- defaults and identity -------------------------------------------------------------------------

@pytest.mark.parametrize("key, prefix", [
    ("izin_reklame", "IR"), ("izinMendirikanBangunan", "IMB"), ("reklame", "REK"), ("Process_1", "PRO"),
    ("a", "SOP"), ("", "SOP"), ("izin-usaha-mikro-kecil-menengah-daerah-tolikara", "IUMKMD"), ("SIUP", "SIU"),
])
def test_default_prefix(key, prefix):
    assert default_prefix(key) == prefix


def test_defaults_when_the_sop_says_nothing():
    info = info_of(process())
    assert (info.key, info.name, info.identity) == ("izin_reklame", "Izin Reklame", {})
    assert (info.registration_prefix, info.limit_seconds, info.calendar) == ("IR", 86400, "24x7")
    assert info.clock_starts_after is None and info.lanes == () and info.steps == {} and info.problems == ()


def test_name_falls_back_to_the_pool_then_the_key():
    pool = '<bpmn:collaboration id="c"><bpmn:participant id="pp" name="Pool Reklame" processRef="izin_reklame"/></bpmn:collaboration>'
    assert info_of(process(name=None), extra=pool).name == "Pool Reklame"
    assert info_of(process(name=None)).name == "izin_reklame"


def test_identity_keys_are_read_without_prefix():
    ext = props(sop__nomor="SOP/1/2024", sop__dasarHukum="Perda 5/2020", sop__peringatan="Hati-hati",
                sop__kodeRegistrasi="REKL", sla__batasWaktu="P3D", sla__kalender="JAM-KERJA", other__key="x")
    info = info_of(process(ext=ext))
    assert info.identity == {"nomor": "SOP/1/2024", "dasarHukum": "Perda 5/2020", "peringatan": "Hati-hati",
                             "kodeRegistrasi": "REKL"}
    assert (info.registration_prefix, info.limit_seconds, info.calendar) == ("REKL", 259200, "jam-kerja")
    assert info.problems == ()


@pytest.mark.parametrize("key, value, words", [
    ("sla__batasWaktu", "24 jam", "sla.batasWaktu"),
    ("sla__batasWaktu", "P1M", "years or months"),
    ("sla__batasWaktu", "PT0S", "longer than zero"),
    ("sla__kalender", "weekdays", "'24x7'"),
    ("sop__kodeRegistrasi", "rek", "capital letters"),
    ("sop__kodeRegistrasi", "R", "capital letters"),
    ("sop__kodeRegistrasi", "REKLAME", "capital letters"),
    ("sla__mulaiSetelah", "tidak_ada", "not a user task"),
])
def test_bad_process_properties_become_problems(key, value, words):
    info = info_of(process(ext=props(**{key: value})))
    assert len(info.errors) == 1 and words in info.errors[0].message
    assert info.errors[0].element_id == "izin_reklame" and info.errors[0].file == "sop.bpmn"
    # the bad value falls back to the default instead of stopping the reading
    assert info.limit_seconds == 86400 and info.calendar == "24x7" and info.registration_prefix == "IR"


def test_clock_start_must_be_a_user_task():
    body = '<bpmn:userTask id="verifikasi"/><bpmn:manualTask id="arsip"/>'
    assert info_of(process(body, ext=props(sla__mulaiSetelah="verifikasi"))).clock_starts_after == "verifikasi"
    info = info_of(process(body, ext=props(sla__mulaiSetelah="arsip")))
    assert info.clock_starts_after is None and "verifikasi" in errors(info)[0]


def test_misspelt_and_misplaced_keys_are_warnings_with_hints():
    ext = props(sop__nomr="1", mutu__waktu="PT1H")
    info = info_of(process(ext=ext))
    assert info.errors == ()
    messages = [w.message for w in info.warnings]
    assert any("did you mean 'sop.nomor'" in m for m in messages)
    assert any("belongs on a task" in m for m in messages)


# --- steps and lanes -------------------------------------------------------------------------------

TASK = ('<bpmn:userTask id="{id}" name="{name}"><bpmn:documentation>Lakukan.</bpmn:documentation>{ext}'
        '</bpmn:userTask>')


def test_task_properties_become_step_info():
    ext = props(mutu__kelengkapan="KTP", mutu__waktu="PT2H", mutu__output="Berita acara",
                mutu__keterangan="Catatan", sla__jeda="TRUE")
    step = info_of(process(TASK.format(id="t", name="Survei", ext=ext))).steps["t"]
    assert step == StepInfo(id="t", name="Survei", kind="userTask", lane=None, documentation="Lakukan.",
                            budget_seconds=7200, requirements="KTP", output="Berita acara", note="Catatan",
                            pauses_clock=True, form=())


@pytest.mark.parametrize("key, value, words", [("mutu__waktu", "2 jam", "mutu.waktu"), ("sla__jeda", "ya", "sla.jeda")])
def test_bad_task_properties_become_problems_naming_the_task(key, value, words):
    info = info_of(process(TASK.format(id="t", name="x", ext=props(**{key: value}))))
    assert [(p.element_id, words in p.message) for p in info.errors] == [("t", True)]
    assert info.errors[0].line == 1


def test_every_activity_is_a_step_but_events_and_gateways_are_not():
    body = ('<bpmn:startEvent id="s"/><bpmn:task id="a"/><bpmn:serviceTask id="b"/><bpmn:manualTask id="c"/>'
            '<bpmn:exclusiveGateway id="g"/><bpmn:subProcess id="sp"><bpmn:userTask id="inner"/></bpmn:subProcess>')
    steps = info_of(process(body)).steps
    assert {k: v.kind for k, v in steps.items()} == {"a": "task", "b": "serviceTask", "c": "manualTask",
                                                     "sp": "subProcess", "inner": "userTask"}


def test_person_tasks_without_documentation_or_budget_are_warned():
    info = info_of(process('<bpmn:userTask id="u"/><bpmn:manualTask id="m"/><bpmn:task id="t"/>'))
    assert sorted((w.element_id, "documentation" in w.message) for w in info.warnings) == \
        [("m", False), ("m", True), ("u", False), ("u", True)]


def test_nested_lanes_give_the_innermost_lane_and_list_actors():
    lanes = ('<bpmn:laneSet id="ls"><bpmn:lane id="l_dinas" name="Dinas">'
             '<bpmn:flowNodeRef>a</bpmn:flowNodeRef><bpmn:flowNodeRef>b</bpmn:flowNodeRef>'
             '<bpmn:childLaneSet id="cls"><bpmn:lane id="l_fo" name="Front Office"><bpmn:flowNodeRef>a</bpmn:flowNodeRef>'
             '</bpmn:lane><bpmn:lane id="l_bo" name="Back Office"><bpmn:flowNodeRef>b</bpmn:flowNodeRef></bpmn:lane>'
             '</bpmn:childLaneSet></bpmn:lane><bpmn:lane id="l_kadis" name="Kepala Dinas">'
             '<bpmn:flowNodeRef>c</bpmn:flowNodeRef></bpmn:lane><bpmn:lane id="l_empty" name="Cadangan"/></bpmn:laneSet>')
    info = info_of(process(lanes + '<bpmn:userTask id="a"/><bpmn:userTask id="b"/><bpmn:userTask id="c"/>'))
    assert {k: s.lane for k, s in info.steps.items()} == {"a": "Front Office", "b": "Back Office", "c": "Kepala Dinas"}
    assert info.lanes == ("Front Office", "Back Office", "Kepala Dinas", "Cadangan")


def test_called_process_steps_are_included():
    caller = process('<bpmn:callActivity id="call" calledElement="sub"/>')
    sub = '<bpmn:process id="sub"><bpmn:userTask id="in_sub"/><bpmn:callActivity id="back" calledElement="izin_reklame"/></bpmn:process>'
    root = etree.fromstring(f'<bpmn:definitions {NS} id="d">{caller}{sub}</bpmn:definitions>'.encode())
    info = read_sop_info(root[0], root, "f.bpmn")
    assert set(info.steps) == {"call", "in_sub", "back"}  # the call back into the caller does not loop


# --- forms -----------------------------------------------------------------------------------------

def form_task(fields: str) -> str:
    return (f'<bpmn:userTask id="t"><bpmn:extensionElements><camunda:formData>{fields}</camunda:formData>'
            f'</bpmn:extensionElements></bpmn:userTask>')


def test_form_fields_of_every_type():
    fields = ('<camunda:formField id="nama" label="Nama" type="string"/>'
              '<camunda:formField id="catatan" type="text"/>'
              '<camunda:formField id="jumlah" type="long" defaultValue="2"/>'
              '<camunda:formField id="luas" type="double"/>'
              '<camunda:formField id="ok" type="boolean" defaultValue="true"/>'
              '<camunda:formField id="tgl" type="date" defaultValue="31/12/2024"/>'
              '<camunda:formField id="jenis" type="enum"><camunda:value id="a" name="Papan"/>'
              '<camunda:value id="b"/></camunda:formField>'
              '<camunda:formField id="tanpa_tipe"/>')
    form = {f.id: f for f in info_of(process(form_task(fields))).steps["t"].form}
    assert {k: f.type for k, f in form.items()} == {"nama": "string", "catatan": "text", "jumlah": "long",
                                                    "luas": "double", "ok": "boolean", "tgl": "date",
                                                    "jenis": "enum", "tanpa_tipe": "string"}
    assert form["nama"].label == "Nama" and form["catatan"].label == "catatan"
    assert (form["jumlah"].default, form["ok"].default, form["tgl"].default) == (2, True, "2024-12-31")
    assert form["jenis"].options == (("a", "Papan"), ("b", "b"))


def test_form_constraints_are_typed():
    fields = ('<camunda:formField id="n" type="long"><camunda:validation><camunda:constraint name="required"/>'
              '<camunda:constraint name="min" config="1"/><camunda:constraint name="max" config="10"/>'
              '</camunda:validation></camunda:formField>'
              '<camunda:formField id="d" type="date"><camunda:validation>'
              '<camunda:constraint name="min" config="2024-01-01"/></camunda:validation></camunda:formField>'
              '<camunda:formField id="s" type="string"><camunda:validation><camunda:constraint name="readonly"/>'
              '<camunda:constraint name="maxlength" config="5"/></camunda:validation></camunda:formField>')
    form = {f.id: f for f in info_of(process(form_task(fields))).steps["t"].form}
    assert form["n"].required and form["n"].constraints == {"min": 1, "max": 10}
    assert form["d"].constraints == {"min": "2024-01-01"}
    assert form["s"].readonly and form["s"].constraints == {"readonly": True, "maxlength": 5}


@pytest.mark.parametrize("field, words", [
    ('<camunda:formField id="x" type="file"/>', "has type 'file'"),
    ('<camunda:formField id="x" type="enum"/>', "needs values"),
    ('<camunda:formField id="1x" type="string"/>', "must be a name"),
    ('<camunda:formField id="x" type="long" defaultValue="dua"/>', "default value"),
    ('<camunda:formField id="x"><camunda:validation><camunda:constraint name="validator" config="a.b"/>'
     '</camunda:validation></camunda:formField>', "not supported"),
    ('<camunda:formField id="x"><camunda:validation><camunda:constraint name="min" config="1"/>'
     '</camunda:validation></camunda:formField>', "number and date fields"),
    ('<camunda:formField id="x" type="long"><camunda:validation><camunda:constraint name="minlength" config="1"/>'
     '</camunda:validation></camunda:formField>', "text fields"),
    ('<camunda:formField id="x"><camunda:validation><camunda:constraint name="maxlength" config="lima"/>'
     '</camunda:validation></camunda:formField>', "whole number"),
    ('<camunda:formField id="x" type="long"><camunda:validation><camunda:constraint name="max" config="1.5"/>'
     '</camunda:validation></camunda:formField>', "max value"),
    ('<camunda:formField id="x"/><camunda:formField id="x"/>', "appears twice"),
])
def test_bad_form_definitions_become_problems(field, words):
    info = info_of(process(form_task(field)))
    assert len(info.errors) == 1 and words in info.errors[0].message and info.errors[0].element_id == "t"


# --- round trip ------------------------------------------------------------------------------------

def test_to_dict_from_dict_round_trip_through_json():
    from workflow_engine.bpmn_loader import read_bpmn_file

    info = read_bpmn_file(GOOD).info
    data = json.loads(json.dumps(info.to_dict()))
    again = SopInfo.from_dict(data)
    assert again == info
    assert list(again.steps) == list(info.steps)
    assert again.steps["periksa_berkas"].form == info.steps["periksa_berkas"].form


def test_form_field_and_step_round_trip():
    field = FormField(id="jenis", label="Jenis", type="enum", required=True, options=(("a", "A"),),
                      constraints={"readonly": True}, default="a")
    assert FormField.from_dict(json.loads(json.dumps(field.to_dict()))) == field
    step = StepInfo(id="s", name="S", kind="userTask", lane="FO", budget_seconds=60, form=(field,))
    assert StepInfo.from_dict(json.loads(json.dumps(step.to_dict()))) == step


def test_frozen_dataclasses_are_hashable_and_immutable():
    field = FormField(id="a", label="A")
    hash(field)
    hash(StepInfo(id="s", name="S", kind="task", form=(field,)))
    with pytest.raises(AttributeError):
        field.id = "b"  # type: ignore[misc]
