"""Script tasks: refused unless enabled; when enabled they run in the sandbox."""
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from conftest import add_staff
from workflow_engine import BpmnValidationError, ScriptError
from workflow_engine.models import Case

SCRIPTED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://alur.test">
  <bpmn:process id="hitung" name="Hitung retribusi" isExecutable="true">
    <bpmn:extensionElements><camunda:properties>
      <camunda:property name="sop.kodeRegistrasi" value="HIT"/>
    </camunda:properties></bpmn:extensionElements>
    <bpmn:laneSet id="ls"><bpmn:lane id="l1" name="Back Office">
      <bpmn:flowNodeRef>periksa</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="hitung_biaya"/>
    <bpmn:scriptTask id="hitung_biaya" name="Hitung biaya" scriptFormat="python">
      <bpmn:script>SCRIPT</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="hitung_biaya" targetRef="periksa"/>
    <bpmn:userTask id="periksa" name="Periksa biaya"/>
    <bpmn:sequenceFlow id="f3" sourceRef="periksa" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def _bpmn(script: str) -> bytes:
    return SCRIPTED.replace("SCRIPT", script).encode()


def test_script_tasks_are_refused_by_default(engine):
    with pytest.raises(BpmnValidationError, match="(?i)script"):
        engine.deploy(_bpmn("biaya = luas * 25000"), "hitung.bpmn")


@pytest.fixture
def scripting(engine):
    engine.settings = replace(engine.settings, scripts_enabled=True)
    add_staff(engine, "bo", ["Back Office"])
    return engine


def test_enabled_scripts_compute_case_data(scripting):
    scripting.deploy(_bpmn("biaya = luas * 25000"), "hitung.bpmn")
    case_id = scripting.start_case("hitung", data={"luas": 12})
    [task] = scripting.tasks(case_id=case_id)
    scripting.complete(task["id"], user="bo")
    assert scripting.case(case_id)["status"] == "completed"


@pytest.mark.parametrize("attack", [
    "import os",
    "x = ().__class__.__base__.__subclasses__()",
    "x = open('/etc/hostname').read()",
    "x = __import__('os')",
])
def test_escapes_fail_and_no_case_is_stored(scripting, attack):
    scripting.deploy(_bpmn(attack), "hitung.bpmn")
    with pytest.raises(ScriptError):
        scripting.start_case("hitung", data={"luas": 12})
    with scripting.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
