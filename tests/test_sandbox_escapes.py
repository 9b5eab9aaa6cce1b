"""Known sandbox escapes, run as a real SOP's script task or gateway condition: ScriptError, nothing saved.

tests/test_sandbox.py tests the sandbox on its own; here each attack goes through deploy, a case and
a task completion on SQLite and PostgreSQL, and the case must be exactly as it was before.
"""
from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import func, select

from conftest import add_staff
from workflow_engine import Database, Engine, ScriptError, Settings
from workflow_engine.models import AuditEvent, Case, TaskRecord

SOP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="http://alur.test">
  <bpmn:process id="retribusi" name="Hitung retribusi" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l1" name="Back Office">
      <bpmn:flowNodeRef>isi</bpmn:flowNodeRef><bpmn:flowNodeRef>setuju</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>tolak</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="isi" name="Isi data"/>
    <bpmn:scriptTask id="hitung" name="Hitung" scriptFormat="python"><bpmn:script>SCRIPT</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="cek" default="f_tolak"/>
    <bpmn:userTask id="setuju" name="Setujui"/>
    <bpmn:userTask id="tolak" name="Tolak"/>
    <bpmn:endEvent id="end1"/><bpmn:endEvent id="end2"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="isi"/>
    <bpmn:sequenceFlow id="f2" sourceRef="isi" targetRef="hitung"/>
    <bpmn:sequenceFlow id="f3" sourceRef="hitung" targetRef="cek"/>
    <bpmn:sequenceFlow id="f_setuju" sourceRef="cek" targetRef="setuju">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">CONDITION</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_tolak" sourceRef="cek" targetRef="tolak"/>
    <bpmn:sequenceFlow id="f4" sourceRef="setuju" targetRef="end1"/>
    <bpmn:sequenceFlow id="f5" sourceRef="tolak" targetRef="end2"/>
  </bpmn:process>
</bpmn:definitions>"""

TIME_LIMIT = 0.3


def sop(script: str = "biaya = luas * 25000", condition: str = "biaya &gt; 100000") -> bytes:
    escape = script.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return SOP.replace("SCRIPT", escape).replace("CONDITION", condition.replace("<", "&lt;")).encode()


@pytest.fixture
def office(database_url, clock, tmp_path):
    """Scripts enabled by the administrator, with a short time limit."""
    settings = Settings(database_url=database_url, scripts_enabled=True, script_time_limit=TIME_LIMIT)
    engine = Engine(Database(database_url), clock, settings)
    add_staff(engine, "bo", ["Back Office"])
    yield engine
    engine.db.dispose()


def snapshot(engine, case_id: int) -> tuple:
    with engine.db.read() as s:
        case = s.get(Case, case_id)
        tasks = [(t.step_id, t.state, t.completed_by) for t in
                 s.scalars(select(TaskRecord).where(TaskRecord.case_id == case_id).order_by(TaskRecord.id))]
        events = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id))
        return case.revision, case.state_json, dict(case.data), case.status, tasks, events


def attempt(engine, content: bytes) -> tuple[int, ScriptError]:
    """Deploy, start a case, complete its first task: the script and condition run then."""
    engine.deploy(content, "retribusi.bpmn")
    case_id = engine.start_case("retribusi", data={"luas": 12})
    [task] = engine.tasks(case_id=case_id)
    before = snapshot(engine, case_id)
    with pytest.raises(ScriptError) as caught:
        engine.complete(task["id"], user="bo")
    assert snapshot(engine, case_id) == before, "something of the refused step was saved"
    return case_id, caught.value


def test_the_sop_runs_when_nothing_is_wrong(office):
    office.deploy(sop(), "retribusi.bpmn")
    case_id = office.start_case("retribusi", data={"luas": 12})
    office.complete(office.tasks(case_id=case_id)[0]["id"], user="bo")
    # 12 × 25,000 > 100,000: the script ran and the condition sent the case to approval.
    assert [t["step_id"] for t in office.tasks(case_id=case_id)] == ["setuju"]


ESCAPES = {
    "subclasses": "x = ().__class__.__base__.__subclasses__()",
    "subclasses-via-str": "x = ''.__class__.__mro__[1].__subclasses__()",
    "import-statement": "import os",
    "from-import": "from subprocess import run",
    "dunder-import": "x = __import__('os')",
    "builtins-dict": "x = __builtins__['open']",
    "getattr-globals": "f = lambda: 0\nx = getattr(f, '__globals__')",
    "getattr-class": "x = getattr(luas, '__class__')",
    "getattr-mro": "x = getattr(str, 'mro')()",
    "format-attribute": "x = '{0.__class__}'.format(luas)",
    "format-globals": "f = lambda: 0\nx = '{0.__globals__}'.format(f)",
    "format-map": "x = '{a.__class__}'.format_map({'a': luas})",
    "unbound-format": "x = str.format('{0.__class__}', luas)",
    "type-call": "x = type(luas)",
    "type-three-args": "x = type('A', (object,), {})",
    "class-statement": "class A:\n    pass",
    "generator-frame": "g = (i for i in [1])\nx = g.gi_frame.f_globals",
    "generator-code": "g = (i for i in [1])\nx = g.gi_code",
    "function-code": "f = lambda: 0\nx = f.__code__",
    "vars": "x = vars()",
    "globals": "x = globals()",
    "locals": "x = locals()",
    "dir": "x = dir()",
    "exec": "exec('import os')",
    "eval": "x = eval('1 + 1')",
    "compile": "x = compile('1', 's', 'eval')",
    "breakpoint": "breakpoint()",
    "input": "x = input()",
    "help": "help()",
    "open-file": "x = open('/etc/hostname').read()",
    "operator-attrgetter": "x = operator.attrgetter('__class__')(luas)",
    "import-operator": "import operator\nx = operator.attrgetter('__class__')(luas)",
    "sys-modules": "x = sys.modules",
    "setattr": "setattr(luas, 'real', 1)",
    "attribute-write": "d = date(2026, 1, 1)\nd.year = 3",
    "with-statement": "with luas:\n    pass",
    "try-finally": "try:\n    x = 1\nfinally:\n    x = 2",
    "reduce-ex": "x = luas.__reduce_ex__(2)",
    "dunder-dict": "x = str.__dict__",
    "underscore-name": "_secret = 1",
}
TIME_AND_MEMORY = {
    "while-true": "while True:\n    pass",
    "while-true-caught": "try:\n    while True:\n        pass\nexcept Exception:\n    pass",
    "nested-ranges": "n = 0\nfor i in range(100000):\n    for j in range(100000):\n        n = n + 1",
    "string-multiplication": "x = 'a' * 10**9",
    "list-multiplication": "x = [0] * 10**9",
    "power-tower": "x = 10**10**10",
    "left-shift": "x = 1 << 10**9",
    "huge-range": "x = list(range(10**9))",
    "padding": "x = 'a'.ljust(10**9)",
    "replace-growth": "x = ('a' * 1000).replace('a', 'b' * 10000)",
    "deep-recursion": "def f(n):\n    return f(n + 1)\nx = f(0)",
    "shared-references": "s = 'a' * 1000000\nx = [s] * 1000",
    "reference-loop": "s = 'a' * 1000000\nx = []\nfor i in range(10000):\n    x.append(s)",
    "int-from-huge-text": "x = int('9' * 100000)",
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escape_in_a_script_task_is_refused(office, name):
    _, error = attempt(office, sop(script=ESCAPES[name]))
    assert "Script" in str(error) or "script" in str(error)


@pytest.mark.parametrize("name", sorted(TIME_AND_MEMORY))
def test_runaway_script_is_stopped(office, name):
    began = time.monotonic()
    attempt(office, sop(script=TIME_AND_MEMORY[name]))
    assert time.monotonic() - began < 5


CONDITIONS = {
    "subclasses": "().__class__.__base__.__subclasses__()",
    "dunder-import": "__import__('os').system('true')",
    "getattr-globals": "getattr(lambda: 0, '__globals__')",
    "format-attribute": "'{0.__class__}'.format(luas)",
    "format-map": "'{a.__class__}'.format_map({'a': luas})",
    "type": "type(luas) == int",
    "generator-frame": "(i for i in [1]).gi_frame.f_globals",
    "vars": "vars()",
    "globals": "globals()",
    "eval": "eval('True')",
    "exec": "exec('x = 1')",
    "compile": "compile('1', 's', 'eval')",
    "breakpoint": "breakpoint()",
    "open": "open('/etc/hostname').read() != ''",
    "operator": "operator.attrgetter('__class__')(luas)",
    "endless": "any(True for i in range(100000) for j in range(100000) if j < 0)",
    "memory": "len('a' * 10**9) > 0",
    "recursion": "(lambda f: f(f))(lambda f: f(f))",
}


@pytest.mark.parametrize("name", sorted(CONDITIONS))
def test_escape_in_a_gateway_condition_is_refused(office, name):
    began = time.monotonic()
    _, error = attempt(office, sop(condition=CONDITIONS[name].replace("&", "&amp;")))
    assert "Condition" in str(error) or "condition" in str(error)
    assert time.monotonic() - began < 5


def test_the_case_goes_on_after_a_refused_script(office):
    """A refused step leaves the case as it was: it can be worked on once the SOP is fixed."""
    case_id, _ = attempt(office, sop(script="x = open('/etc/hostname').read()"))
    assert office.case(case_id)["status"] == "running"
    assert [t["step_id"] for t in office.tasks(case_id=case_id)] == ["isi"]


def test_the_file_is_never_read(office, tmp_path):
    secret = f"SENTINEL-{uuid.uuid4().hex}"
    path = tmp_path / "rahasia.txt"
    path.write_text(secret)
    for script in (f"x = open({str(path)!r}).read()", f"x = __import__('io').open({str(path)!r}).read()",
                   f"x = ().__class__.__base__.__subclasses__()[0]({str(path)!r})"):
        _, error = attempt(office, sop(script=script))
        assert secret not in str(error)
    with office.db.read() as s:
        assert not any(secret in (c.state_json + str(c.data)) for c in s.scalars(select(Case)))
