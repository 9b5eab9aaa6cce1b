"""The BPMN loader refuses every bad upload with a located, readable Problem and loads good SOPs."""
from __future__ import annotations

import hashlib
import signal
from pathlib import Path

import pytest

from workflow_engine.bpmn_loader import LoadedProcess, load_bpmn, read_bpmn_file
from workflow_engine.errors import BpmnValidationError

HERE = Path(__file__).resolve().parent
LOADER_FIXTURES = HERE / "fixtures" / "loader"
from corpus import MIWG  # noqa: E402
GOOD = LOADER_FIXTURES / "good_sop.bpmn"

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://alur.test">\n')
LANE = '<bpmn:laneSet id="ls"><bpmn:lane id="lane1" name="Front Office">{refs}</bpmn:lane></bpmn:laneSet>\n'


def doc(body: str, *, lane_nodes=("ut",), process_id="p", executable="true", after: str = "",
        before: str = "", extensions: str = "") -> bytes:
    """Build a small BPMN document: one process holding `body`, a lane listing `lane_nodes`."""
    lanes = LANE.format(refs="".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in lane_nodes)) \
        if lane_nodes else ""
    return (HEAD + before + f'<bpmn:process id="{process_id}" name="Proses" isExecutable="{executable}">\n'
            + extensions + lanes + body + "\n</bpmn:process>\n" + after + "</bpmn:definitions>\n").encode()


LINEAR = """<bpmn:startEvent id="start"/>
<bpmn:userTask id="ut" name="Periksa"><bpmn:documentation>Periksa berkas.</bpmn:documentation></bpmn:userTask>
<bpmn:endEvent id="end"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ut"/>
<bpmn:sequenceFlow id="f2" sourceRef="ut" targetRef="end"/>"""


def refused(content: bytes, **kw) -> BpmnValidationError:
    """Load `content`, expecting a BpmnValidationError and nothing else."""
    with pytest.raises(BpmnValidationError) as info:
        load_bpmn(content, "sop.bpmn", **kw)
    error = info.value
    assert error.problems, "a refusal must say why"
    assert all(p.file == "sop.bpmn" for p in error.problems)
    return error


def problem_for(error: BpmnValidationError, element_id: str):
    matches = [p for p in error.problems if p.element_id == element_id]
    assert matches, f"no problem names {element_id!r}: {[str(p) for p in error.problems]}"
    return matches[0]


def line_of(content: bytes, needle: str) -> int:
    for number, text in enumerate(content.decode().splitlines(), start=1):
        if needle in text:
            return number
    raise AssertionError(needle)


# --- the good SOP ---------------------------------------------------------------------------------

def test_minimal_linear_process_loads():
    loaded = load_bpmn(doc(LINEAR), "sop.bpmn")
    assert isinstance(loaded, LoadedProcess)
    assert (loaded.key, loaded.name) == ("p", "Proses")
    assert "ut" in loaded.spec.task_specs
    assert loaded.info.steps["ut"].lane == "Front Office"


def test_good_sop_loads_with_its_sop_facts():
    loaded = read_bpmn_file(GOOD)
    info = loaded.info
    assert (loaded.key, loaded.name) == ("izin_reklame", "Izin Reklame")
    assert info.identity["nomor"] == "SOP/DPMPTSP/012/2024"
    assert info.identity["dasarHukum"] == "Perda No. 5 Tahun 2020"
    assert info.identity["disahkanOleh"] == "Kepala DPMPTSP"
    assert (info.registration_prefix, info.limit_seconds, info.calendar) == ("REK", 86400, "jam-kerja")
    assert info.clock_starts_after == "periksa_berkas"
    assert info.lanes == ("Front Office", "Tim Teknis", "Kepala Dinas")


def test_good_sop_steps_have_lanes_budgets_and_pause_flags():
    steps = read_bpmn_file(GOOD).info.steps
    assert set(steps) == {"periksa_berkas", "lengkapi_berkas", "survei", "tanda_tangan"}
    check = steps["periksa_berkas"]
    assert check.name == "Periksa kelengkapan berkas"  # the line break of the modeler is gone
    assert (check.lane, check.budget_seconds, check.pauses_clock) == ("Front Office", 1800, False)
    assert check.requirements == "KTP, NPWP, desain reklame"
    assert (check.output, check.note) == ("Berkas terverifikasi", "Cek keaslian NPWP")
    assert check.documentation == "Periksa KTP, NPWP dan desain reklame."
    assert (steps["lengkapi_berkas"].pauses_clock, steps["lengkapi_berkas"].budget_seconds) == (True, 172800)
    assert steps["survei"].lane == "Tim Teknis"
    assert steps["tanda_tangan"].budget_seconds is None


def test_good_sop_form_fields_are_typed():
    form = {f.id: f for f in read_bpmn_file(GOOD).info.steps["periksa_berkas"].form}
    assert list(form) == ["nama_pemohon", "alamat", "luas", "jumlah", "tanggal_pasang", "lengkap", "setuju",
                          "nomor_register"]
    assert form["nama_pemohon"].required and form["nama_pemohon"].constraints == {"minlength": 3, "maxlength": 100}
    assert form["luas"].type == "double" and form["luas"].constraints == {"min": 0.5, "max": 100.0}
    assert form["jumlah"].default == 1 and form["jumlah"].constraints == {"min": 1}
    assert form["lengkap"].options == (("ya", "Ya"), ("tidak", "Tidak")) and form["lengkap"].default == "ya"
    assert form["alamat"].type == "text" and form["setuju"].type == "boolean"
    assert form["nomor_register"].readonly


def test_good_sop_warns_about_missing_instruction_and_budget():
    warnings = read_bpmn_file(GOOD).warnings
    assert {(w.element_id, w.severity) for w in warnings} == {("survei", "warning"), ("tanda_tangan", "warning")}
    assert any("documentation" in w.message for w in warnings)
    assert any("mutu.waktu" in w.message for w in warnings)


def test_content_hash_is_the_sha256_of_the_bytes_and_stable():
    content = GOOD.read_bytes()
    first, second = load_bpmn(content, "a.bpmn"), load_bpmn(content, "b.bpmn")
    assert first.content_hash == second.content_hash == hashlib.sha256(content).hexdigest()
    assert first.xml == content
    changed = content.replace(b"Izin Reklame", b"Izin Reklame Baru")
    assert load_bpmn(changed, "a.bpmn").content_hash != first.content_hash


def test_read_bpmn_file_names_the_file_by_its_name(tmp_path):
    path = tmp_path / "rusak.bpmn"
    path.write_bytes(b"<not-closed")
    with pytest.raises(BpmnValidationError) as info:
        read_bpmn_file(path)
    assert info.value.problems[0].file == "rusak.bpmn"


def test_missing_file_is_a_validation_error(tmp_path):
    with pytest.raises(BpmnValidationError, match="cannot be read"):
        read_bpmn_file(tmp_path / "nope.bpmn")


def test_called_process_in_the_same_file_is_a_subprocess_not_a_second_entry():
    called = ('<bpmn:process id="sub" isExecutable="true"><bpmn:laneSet id="ls2"><bpmn:lane id="l2" name="Tim">'
              '<bpmn:flowNodeRef>ut2</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>'
              '<bpmn:startEvent id="s2"/><bpmn:userTask id="ut2"/><bpmn:endEvent id="e2"/>'
              '<bpmn:sequenceFlow id="g1" sourceRef="s2" targetRef="ut2"/>'
              '<bpmn:sequenceFlow id="g2" sourceRef="ut2" targetRef="e2"/></bpmn:process>\n')
    body = LINEAR.replace('targetRef="end"/>', 'targetRef="call"/>') + \
        '<bpmn:callActivity id="call" calledElement="sub"/>' \
        '<bpmn:sequenceFlow id="f3" sourceRef="call" targetRef="end"/>'
    loaded = load_bpmn(doc(body, after=called), "sop.bpmn")
    assert loaded.key == "p"
    assert "sub" in loaded.subprocess_specs
    assert loaded.info.steps["ut2"].lane == "Tim"


def test_user_task_inside_embedded_subprocess_takes_the_subprocess_lane():
    body = """<bpmn:startEvent id="start"/>
<bpmn:subProcess id="sp"><bpmn:startEvent id="ss"/><bpmn:userTask id="inner"/><bpmn:endEvent id="se"/>
<bpmn:sequenceFlow id="s1" sourceRef="ss" targetRef="inner"/><bpmn:sequenceFlow id="s2" sourceRef="inner" targetRef="se"/>
</bpmn:subProcess><bpmn:endEvent id="end"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sp"/><bpmn:sequenceFlow id="f2" sourceRef="sp" targetRef="end"/>"""
    loaded = load_bpmn(doc(body, lane_nodes=("start", "sp", "end")), "sop.bpmn")
    assert loaded.info.steps["inner"].lane == "Front Office"
    assert loaded.subprocess_specs["sp"].task_specs["inner"].lane == "Front Office"


# --- malformed and hostile XML ---------------------------------------------------------------------

def test_malformed_xml_reports_the_line():
    content = doc(LINEAR).replace(b'<bpmn:endEvent id="end"/>', b'<bpmn:endEvent id="end">')
    error = refused(content)
    assert "well-formed" in error.problems[0].message
    assert error.problems[0].line and error.problems[0].line > 1
    assert "XMLSyntaxError" not in str(error)


def test_empty_file_is_refused():
    assert "empty" in refused(b"   ").problems[0].message


def test_text_that_is_not_xml_is_refused():
    assert "well-formed" in refused(b"PK\x03\x04 this is a zip file").problems[0].message


XXE_FILE = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'
            + HEAD.split("\n", 1)[1].encode() + b'<bpmn:documentation>&xxe;</bpmn:documentation></bpmn:definitions>')
XXE_PARAMETER = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>\n'
                 + HEAD.split("\n", 1)[1].encode() + b'</bpmn:definitions>')
XXE_HTTP = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/secret">]>\n'
            + HEAD.split("\n", 1)[1].encode() + b'<bpmn:documentation>&xxe;</bpmn:documentation></bpmn:definitions>')


def _billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
    return (f'<?xml version="1.0"?>\n<!DOCTYPE d [{"".join(entities)}]>\n'.encode()
            + HEAD.split("\n", 1)[1].encode() + b'<bpmn:documentation>&lol9;</bpmn:documentation></bpmn:definitions>')


def _quadratic_blowup() -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY a "{"x" * 50_000}">]>\n'.encode()
            + HEAD.split("\n", 1)[1].encode() + b"<bpmn:documentation>" + b"&a;" * 50_000
            + b"</bpmn:documentation></bpmn:definitions>")


@pytest.mark.parametrize("content", [XXE_FILE, XXE_PARAMETER, XXE_HTTP, _billion_laughs(), _quadratic_blowup()],
                         ids=["xxe-file", "xxe-parameter", "xxe-http", "billion-laughs", "quadratic-blowup"])
def test_entity_attacks_are_refused_without_expanding_anything(content):
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else "\0"
    error = refused(content)
    assert "DOCTYPE" in str(error)
    assert hostname not in str(error) and "root:" not in str(error)


def test_over_size_limit_is_refused_before_parsing():
    error = refused(b"<" * 2_000, max_bytes=1_000)
    assert "2,000 bytes" in error.problems[0].message and "1,000" in error.problems[0].message


def test_default_size_limit_is_five_megabytes():
    content = doc(LINEAR).replace(b"<bpmn:startEvent", b"<!--" + b"x" * 5_000_000 + b"-->\n<bpmn:startEvent")
    assert "limit is 5,000,000" in refused(content).problems[0].message


def test_wrong_namespace_root_is_refused_with_a_hint():
    content = doc(LINEAR).replace(b"http://www.omg.org/spec/BPMN/20100524/MODEL", b"http://schema.omg.org/spec/BPMN/2.0")
    message = refused(content).problems[0].message
    assert "namespace" in message and "http://www.omg.org/spec/BPMN/20100524/MODEL" in message


def test_root_that_is_not_definitions_is_refused():
    message = refused(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>').problems[0].message
    assert "not a BPMN 2.0 file" in message


# --- XSD -------------------------------------------------------------------------------------------

def test_unknown_element_fails_the_schema_with_line_and_readable_names():
    content = doc(LINEAR + '\n<bpmn:bogusTask id="bogus"/>')
    problem = refused(content).problems[0]
    assert "BPMN 2.0 schema" in problem.message and "bpmn:bogusTask" in problem.message
    assert "{http" not in problem.message
    assert (problem.element_id, problem.line) == ("bogus", line_of(content, "bogusTask"))


def test_documentation_after_extension_elements_fails_the_schema():
    body = LINEAR.replace('<bpmn:documentation>Periksa berkas.</bpmn:documentation>',
                          '<bpmn:extensionElements/><bpmn:documentation>x</bpmn:documentation>')
    assert "order" in refused(doc(body)).problems[0].message


# --- structure -------------------------------------------------------------------------------------

def test_no_executable_process():
    message = refused(doc(LINEAR, executable="false")).problems[0].message
    assert "no executable process" in message


def test_several_executable_processes_are_listed():
    second = doc(LINEAR).decode().split('<bpmn:process', 1)[1].split('</bpmn:process>')[0]
    other = ('<bpmn:process' + second + '</bpmn:process>\n').replace('id="p"', 'id="q"')
    for old in ('"start"', '"ut"', '"end"', '"f1"', '"f2"', '"ls"', '"lane1"'):
        other = other.replace(old, old[:-1] + '_q"')
    other = other.replace(">start<", ">start_q<").replace(">ut<", ">ut_q<")
    other = other.replace('sourceRef="start"', 'sourceRef="start_q"').replace('targetRef="ut"', 'targetRef="ut_q"')
    other = other.replace('sourceRef="ut"', 'sourceRef="ut_q"').replace('targetRef="end"', 'targetRef="end_q"')
    message = refused(doc(LINEAR, after=other)).problems[0].message
    assert "'p'" in message and "'q'" in message and "2 executable processes" in message


def test_dangling_sequence_flow_names_the_flow_and_line():
    content = doc(LINEAR.replace('targetRef="end"', 'targetRef="nowhere"'))
    error = refused(content)
    problem = problem_for(error, "f2")
    assert "'nowhere'" in problem.message and problem.line == line_of(content, 'id="f2"')
    assert "perhaps a form" not in str(error)


def test_sequence_flow_without_source_is_refused():
    content = doc(LINEAR.replace('sourceRef="start" ', ''))
    assert "no source" in problem_for(refused(content), "f1").message


def test_sequence_flow_into_another_pool_is_refused():
    other = ('<bpmn:process id="q" isExecutable="false"><bpmn:task id="elsewhere"/></bpmn:process>\n')
    content = doc(LINEAR.replace('targetRef="end"', 'targetRef="elsewhere"'), after=other)
    assert "message flow" in problem_for(refused(content), "f2").message


def test_duplicate_ids_name_both_lines():
    content = doc(LINEAR.replace('<bpmn:endEvent id="end"/>', '<bpmn:endEvent id="end"/>\n<bpmn:task id="ut"/>'))
    problem = refused(content).problems[0]
    assert problem.element_id == "ut" and "used twice" in problem.message
    assert str(line_of(content, 'userTask id="ut"')) in problem.message


def test_complex_gateway_is_refused():
    body = LINEAR + '\n<bpmn:complexGateway id="cx"/>'
    content = doc(body)
    problem = problem_for(refused(content), "cx")
    assert "complex gateway" in problem.message and problem.line == line_of(content, "complexGateway")


def test_compensation_boundary_event_is_refused():
    body = LINEAR + ('\n<bpmn:boundaryEvent id="comp" attachedToRef="ut">'
                     '<bpmn:compensateEventDefinition id="compdef"/></bpmn:boundaryEvent>')
    content = doc(body)
    problem = problem_for(refused(content), "compdef")
    assert "compensation" in problem.message and problem.line == line_of(content, "compensateEventDefinition")


def test_activity_for_compensation_is_refused():
    body = LINEAR + '\n<bpmn:task id="undo" isForCompensation="true"/>'
    assert "compensation" in problem_for(refused(doc(body)), "undo").message


@pytest.mark.parametrize("element, word", [
    ('<bpmn:adHocSubProcess id="x"><bpmn:task id="x1"/></bpmn:adHocSubProcess>', "ad-hoc"),
    ('<bpmn:transaction id="x"><bpmn:startEvent id="x1"/></bpmn:transaction>', "transaction"),
    ('<bpmn:dataStoreReference id="x"/>', "data store"),
    ('<bpmn:businessRuleTask id="x"/>', "DMN"),
])
def test_other_unsupported_elements_are_refused(element, word):
    assert word in problem_for(refused(doc(LINEAR + "\n" + element)), "x").message


def test_data_store_definition_is_refused():
    content = doc(LINEAR, before='<bpmn:dataStore id="ds" name="Arsip"/>\n')
    assert "data store" in problem_for(refused(content), "ds").message


def test_user_task_outside_any_lane():
    content = doc(LINEAR + '\n<bpmn:userTask id="stray"/>')
    problem = problem_for(refused(content), "stray")
    assert "user task 'stray' is outside any lane" in problem.message
    assert problem.line == line_of(content, 'id="stray"')


def test_process_with_user_tasks_and_no_lanes_is_refused():
    problem = problem_for(refused(doc(LINEAR, lane_nodes=())), "ut")
    assert "outside any lane" in problem.message and "no lanes" in problem.message


def test_manual_task_outside_any_lane_is_refused():
    assert "manual task" in problem_for(refused(doc(LINEAR + '\n<bpmn:manualTask id="m"/>')), "m").message


def test_user_task_in_a_lane_without_name_is_refused():
    content = doc(LINEAR).replace(b' name="Front Office"', b"")
    assert "no name" in problem_for(refused(content), "ut").message


SCRIPT = LINEAR.replace('targetRef="end"/>', 'targetRef="calc"/>') + """
<bpmn:scriptTask id="calc" scriptFormat="python"><bpmn:script>total = 1</bpmn:script></bpmn:scriptTask>
<bpmn:sequenceFlow id="f3" sourceRef="calc" targetRef="end"/>"""


def test_script_task_is_refused_unless_scripts_are_enabled():
    problem = problem_for(refused(doc(SCRIPT)), "calc")
    assert "script tasks are disabled; an administrator must enable scripts" in problem.message


def test_script_task_is_accepted_when_scripts_are_enabled():
    loaded = load_bpmn(doc(SCRIPT), "sop.bpmn", scripts_enabled=True)
    assert "calc" in loaded.spec.task_specs


GATEWAY = """<bpmn:startEvent id="start"/>
<bpmn:userTask id="ut"><bpmn:documentation>x</bpmn:documentation></bpmn:userTask>
<bpmn:exclusiveGateway id="gw" {default}/>
<bpmn:endEvent id="end_a"/><bpmn:endEvent id="end_b"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ut"/>
<bpmn:sequenceFlow id="f2" sourceRef="ut" targetRef="gw"/>
<bpmn:sequenceFlow id="fa" sourceRef="gw" targetRef="end_a">{cond_a}</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="fb" sourceRef="gw" targetRef="end_b">{cond_b}</bpmn:sequenceFlow>"""
COND = '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{}</bpmn:conditionExpression>'


def test_gateway_branch_without_condition_is_refused():
    content = doc(GATEWAY.format(default="", cond_a=COND.format("ok == True"), cond_b=""))
    problem = problem_for(refused(content), "fb")
    assert "without a condition" in problem.message and "default" in problem.message
    assert problem.line == line_of(content, 'id="fb"')


def test_gateway_with_default_flow_loads():
    loaded = load_bpmn(doc(GATEWAY.format(default='default="fb"', cond_a=COND.format("ok == True"), cond_b="")),
                       "sop.bpmn")
    assert "gw" in loaded.spec.task_specs


def test_condition_that_is_not_python_is_refused():
    content = doc(GATEWAY.format(default='default="fb"', cond_a=COND.format("${ok}"), cond_b=""))
    assert "not a valid Python expression" in problem_for(refused(content), "fa").message


def test_gateway_default_that_is_not_its_flow_is_refused():
    content = doc(GATEWAY.format(default='default="f1"', cond_a=COND.format("ok"), cond_b=COND.format("not ok")))
    assert "default flow" in problem_for(refused(content), "gw").message


def test_task_with_two_outgoing_flows_suggests_a_gateway():
    body = LINEAR + '\n<bpmn:endEvent id="end2"/><bpmn:sequenceFlow id="f3" sourceRef="ut" targetRef="end2"/>'
    problem = problem_for(refused(doc(body, lane_nodes=("ut",))), "ut")
    assert "2 outgoing" in problem.message and "parallel gateway" in problem.message


def timer_doc(kind: str, text: str) -> bytes:
    body = LINEAR + (f'\n<bpmn:boundaryEvent id="tm" attachedToRef="ut" cancelActivity="false">'
                     f'<bpmn:timerEventDefinition id="tmdef"><bpmn:{kind}>{text}</bpmn:{kind}>'
                     f'</bpmn:timerEventDefinition></bpmn:boundaryEvent>\n<bpmn:endEvent id="tm_end"/>'
                     f'<bpmn:sequenceFlow id="ft" sourceRef="tm" targetRef="tm_end"/>')
    return doc(body)


def test_unquoted_timer_is_refused_with_advice_to_quote_it():
    content = timer_doc("timeDuration", "PT24H")
    problem = problem_for(refused(content), "tm")
    assert "must be quoted" in problem.message and '"PT24H"' in problem.message
    assert problem.line == line_of(content, "timeDuration")


@pytest.mark.parametrize("kind, text", [("timeDuration", '"PT24H"'), ("timeDuration", "'P2D'"),
                                        ("timeCycle", '"R3/PT8H"'), ("timeDate", '"2030-01-31T08:00:00+09:00"')])
def test_quoted_timers_load(kind, text):
    assert "tm" in load_bpmn(timer_doc(kind, text), "sop.bpmn").spec.task_specs


def test_repeat_without_count_is_refused():
    assert "without end" in problem_for(refused(timer_doc("timeCycle", '"R/PT1H"')), "tm").message


@pytest.mark.parametrize("kind, text, words", [
    ("timeDuration", '"24 jam"', "not an ISO 8601 duration"),
    ("timeDate", '"besok pagi"', "not an ISO 8601 date"),
    ("timeCycle", '"R0/PT1H"', "positive"),
    ("timeDuration", "", "empty"),
    ("timeDuration", "batas_waktu", "scripts"),
])
def test_bad_timer_values_are_refused(kind, text, words):
    assert words in problem_for(refused(timer_doc(kind, text)), "tm").message


def test_timer_date_without_zone_is_a_warning():
    loaded = load_bpmn(timer_doc("timeDate", '"2030-01-31T08:00:00"'), "sop.bpmn")
    assert any(w.element_id == "tm" and "time zone" in w.message for w in loaded.warnings)


def test_call_to_a_process_not_in_the_file_is_refused():
    body = LINEAR.replace('targetRef="end"/>', 'targetRef="call"/>') + \
        '<bpmn:callActivity id="call" calledElement="elsewhere"/><bpmn:sequenceFlow id="f3" sourceRef="call" targetRef="end"/>'
    assert "not in this file" in problem_for(refused(doc(body)), "call").message


def test_property_problems_are_all_reported_together():
    props = ('<bpmn:extensionElements><camunda:properties>'
             '<camunda:property name="sla.batasWaktu" value="P1M"/>'
             '<camunda:property name="sla.kalender" value="weekdays"/>'
             '<camunda:property name="sla.mulaiSetelah" value="start"/>'
             '<camunda:property name="sop.kodeRegistrasi" value="rek"/>'
             '</camunda:properties></bpmn:extensionElements>')
    error = refused(doc(LINEAR, extensions=props))
    text = " | ".join(p.message for p in error.problems)
    for key in ("sla.batasWaktu", "sla.kalender", "sla.mulaiSetelah", "sop.kodeRegistrasi"):
        assert key in text
    assert all(p.element_id == "p" and p.line for p in error.problems)


# --- errors that only SpiffWorkflow finds, translated ----------------------------------------------

def test_subprocess_without_start_event_is_translated():
    body = """<bpmn:startEvent id="start"/><bpmn:subProcess id="sp"><bpmn:task id="inner"/></bpmn:subProcess>
<bpmn:endEvent id="end"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sp"/><bpmn:sequenceFlow id="f2" sourceRef="sp" targetRef="end"/>"""
    content = doc(body, lane_nodes=())
    problem = refused(content).problems[0]
    assert problem.message == "subprocess 'sp' needs exactly one start event (it has 0)"
    assert (problem.element_id, problem.line) == ("sp", line_of(content, 'subProcess id="sp"'))


def test_error_event_with_unknown_error_is_translated_not_a_type_error():
    body = LINEAR + ('\n<bpmn:boundaryEvent id="be" attachedToRef="ut"><bpmn:errorEventDefinition id="ed" '
                     'errorRef="missing"/></bpmn:boundaryEvent><bpmn:endEvent id="be_end"/>'
                     '<bpmn:sequenceFlow id="fe" sourceRef="be" targetRef="be_end"/>')
    error = refused(doc(body))
    assert "not defined in this file" in error.problems[0].message
    assert "TypeError" not in str(error)


def test_process_without_start_event_is_translated():
    body = '<bpmn:userTask id="ut"><bpmn:documentation>x</bpmn:documentation></bpmn:userTask>'
    assert "has no start event" in refused(doc(body)).problems[0].message


def test_data_object_two_levels_up_is_refused_instead_of_hanging():
    body = """<bpmn:dataObject id="berkas"/><bpmn:dataObjectReference id="berkas_ref" dataObjectRef="berkas"/>
<bpmn:startEvent id="start"/>
<bpmn:subProcess id="sp1"><bpmn:startEvent id="s1"/>
  <bpmn:subProcess id="sp2"><bpmn:startEvent id="s2"/>
    <bpmn:task id="deep"><bpmn:dataOutputAssociation id="doa"><bpmn:targetRef>berkas_ref</bpmn:targetRef></bpmn:dataOutputAssociation></bpmn:task>
    <bpmn:endEvent id="e2"/>
    <bpmn:sequenceFlow id="q1" sourceRef="s2" targetRef="deep"/><bpmn:sequenceFlow id="q2" sourceRef="deep" targetRef="e2"/>
  </bpmn:subProcess><bpmn:endEvent id="e1"/>
  <bpmn:sequenceFlow id="r1" sourceRef="s1" targetRef="sp2"/><bpmn:sequenceFlow id="r2" sourceRef="sp2" targetRef="e1"/>
</bpmn:subProcess><bpmn:endEvent id="end"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sp1"/><bpmn:sequenceFlow id="f2" sourceRef="sp1" targetRef="end"/>"""
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the loader hung"))
    signal.alarm(10)
    try:
        assert "data object" in problem_for(refused(doc(body, lane_nodes=())), "deep").message
    finally:
        signal.alarm(0)


def test_very_long_chain_is_refused_not_a_recursion_error():
    n = 700
    nodes = "".join(f'<bpmn:task id="t{i}"/>' for i in range(n))
    flows = "".join(f'<bpmn:sequenceFlow id="x{i}" sourceRef="t{i}" targetRef="t{i + 1}"/>' for i in range(n - 1))
    body = (f'<bpmn:startEvent id="start"/>{nodes}<bpmn:endEvent id="end"/>{flows}'
            f'<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="t0"/>'
            f'<bpmn:sequenceFlow id="b" sourceRef="t{n - 1}" targetRef="end"/>')
    assert "too long" in refused(doc(body, lane_nodes=())).problems[0].message


# --- robustness ------------------------------------------------------------------------------------

@pytest.mark.parametrize("cut", range(100, 7_200, 333))
def test_truncated_files_only_ever_raise_validation_errors(cut):
    refused(GOOD.read_bytes()[:cut])


@pytest.mark.parametrize("attribute", [b'sourceRef="start"', b'targetRef="end"', b'attachedToRef="survei"',
                                       b'id="periksa_berkas"', b'isExecutable="true"', b'default="flow_tidak"',
                                       b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'])
def test_files_missing_an_attribute_only_ever_raise_validation_errors(attribute):
    content = GOOD.read_bytes().replace(attribute, b"", 1)
    try:
        load_bpmn(content, "sop.bpmn")
    except BpmnValidationError as error:
        assert error.problems


MIWG_FILES = sorted(MIWG.glob("*.bpmn")) if MIWG.is_dir() else []


@pytest.mark.skipif(not MIWG_FILES, reason="the MIWG reference corpus is not at ../shared/corpus/miwg-reference")
@pytest.mark.parametrize("path", MIWG_FILES, ids=[p.name for p in MIWG_FILES])
def test_miwg_reference_models_load_or_are_refused_cleanly(path):
    try:
        loaded = read_bpmn_file(path)
    except BpmnValidationError as error:
        for problem in error.problems:
            assert problem.file == path.name and problem.message
            assert "Traceback" not in problem.message and "perhaps a form" not in problem.message
            if problem.element_id:
                assert problem.line, f"{problem} names an element but no line"
    else:
        assert loaded.spec is not None and loaded.info.key == loaded.key
