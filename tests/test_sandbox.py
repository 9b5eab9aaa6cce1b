"""The script sandbox: known escapes fail with ScriptError, ordinary SOP logic works."""
from __future__ import annotations

import sys
import threading
import time
from datetime import date, datetime

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from workflow_engine.errors import ScriptError
from workflow_engine.sandbox import SandboxedEnvironment, _compile, script_engine


@pytest.fixture(scope="module")
def env() -> SandboxedEnvironment:
    return SandboxedEnvironment()


def run(env, script, **data):
    env.execute(script, data)
    return data


# --- ordinary conditions and scripts ------------------------------------------------------------

@pytest.mark.parametrize("status, expected", [("lengkap", True), ("kurang", False)])
def test_equality_condition(env, status, expected):
    assert env.evaluate('status == "lengkap"', {"status": status}) is expected


@pytest.mark.parametrize("amount, kind, expected", [(2000, "a", True), (2000, "c", False), (10, "b", False)])
def test_compound_condition(env, amount, kind, expected):
    assert env.evaluate('amount > 1000 and kind in ["a","b"]', {"amount": amount, "kind": kind}) is expected


def test_condition_does_not_change_data(env):
    data = {"x": 1}
    env.evaluate("x + 1", data)
    assert data == {"x": 1}


def test_simple_assignment(env):
    assert run(env, "total = price * qty", price=1500, qty=3)["total"] == 4500


def test_list_comprehension(env):
    got = run(env, "fees = [f * 2 for f in base if f > 1]", base=[1, 2, 3])
    assert got["fees"] == [4, 6]


def test_dict_updates(env):
    got = run(env, "berkas['ktp'] = True\nberkas.update({'npwp': False})\nberkas['n'] = len(berkas)",
              berkas={})
    assert got["berkas"] == {"ktp": True, "npwp": False, "n": 2}


def test_list_mutation_and_unpacking(env):
    got = run(env, "a, b = pair\nitems.append(a + b)\nfor k, v in sorted(d.items()):\n    items.append(k)",
              pair=(1, 2), items=[], d={"y": 1, "x": 2})
    assert got["items"] == [3, "x", "y"]


def test_augmented_assignment(env):
    got = run(env, "n = 1\nn += 2\nn *= 5\ns = 'ab'\ns += 'c'\nxs = [1]\nxs += [2]", )
    assert (got["n"], got["s"], got["xs"]) == (15, "abc", [1, 2])


def test_helpers_are_available(env):
    expr = ("(len(xs), min(xs), max(xs), sum(xs), sorted(xs)[0], abs(-2), round(2.5), any(xs), all(xs), "
            "str(1), int('2'), float('1.5'), bool(0), list(range(2)), dict(a=1), set([1]), tuple(xs)[:1], "
            "list(enumerate('ab')), list(zip('ab', xs)), isinstance(1, int))")
    assert env.evaluate(expr, {"xs": [3, 1, 2]}) == (
        3, 1, 3, 6, 1, 2, 2, True, True, "1", 2, 1.5, False, [0, 1], {"a": 1}, {1}, (3,),
        [(0, "a"), (1, "b")], [("a", 3), ("b", 1)], True)


def test_dates_are_available(env):
    got = run(env, "due = start + timedelta(days=1)\nsame = due.date() == date(2026, 1, 13)",
              start=datetime(2026, 1, 12, 9))
    assert got["due"] == datetime(2026, 1, 13, 9) and got["same"] is True


def test_functions_and_lambdas_do_not_stay_in_data(env):
    got = run(env, "def fee(n):\n    return n * 10\ndouble = lambda v: v * 2\nx = double(fee(2))")
    assert got == {"x": 40}


def test_no_sandbox_names_stay_in_data(env):
    got = run(env, "a, b = 1, 2\nprint(a)\nfor i, j in [(1, 2)]:\n    c = i + j")
    assert set(got) == {"a", "b", "i", "j", "c"}


def test_task_data_may_shadow_helper_names(env):
    got = run(env, "total = sum + 1", sum=41)
    assert got["total"] == 42


def test_task_data_cannot_replace_builtins_or_guards(env):
    with pytest.raises(ScriptError, match="open"):
        env.evaluate("open('/etc/hostname')", {"__builtins__": {"open": open}})


def test_compiled_code_is_cached(env):
    before = _compile.cache_info().hits
    for _ in range(3):
        env.evaluate("cache_probe_value > 1", {"cache_probe_value": 2})
    assert _compile.cache_info().hits >= before + 2


# --- known escapes ------------------------------------------------------------------------------

ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "__import__('os')",
    "open('/etc/hostname')",
    "getattr(x, '__class__')",
    "'{0.__class__}'.format(1)",
    "'{0.__class__}'.format_map({})",
    "str.mro()",
    "x.__class__",
    "(lambda: 0).__globals__",
    "(i for i in []).gi_frame",
    "eval('1')",
    "exec('x = 1')",
    "globals()",
    "vars()",
    "type(x)",
    "compile('1', 's', 'eval')",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_escape_fails_as_condition(env, expression):
    with pytest.raises(ScriptError) as caught:
        env.evaluate(expression, {"x": 1})
    assert expression in str(caught.value)


@pytest.mark.parametrize("script", ["import os", "from os import system", "import os as o\nx = 1",
                                    "y = ().__class__", "class A:\n    pass", "with x:\n    pass"])
def test_refused_statements(env, script):
    with pytest.raises(ScriptError, match="refused"):
        env.execute(script, {"x": 1})


def test_import_message_is_clear(env):
    with pytest.raises(ScriptError, match="import is not allowed"):
        env.execute("import os", {})


def test_escape_leaves_data_clean(env):
    data = {"x": 1}
    with pytest.raises(ScriptError):
        env.execute("y = 2\nz = open('/etc/hostname')", data)
    assert data == {"x": 1, "y": 2}


# --- time limit ---------------------------------------------------------------------------------

def test_infinite_loop_is_stopped_in_time(env):
    began = time.monotonic()
    with pytest.raises(ScriptError, match="time limit"):
        env.execute("while True: pass", {})
    assert time.monotonic() - began < 2


def test_catching_exception_does_not_escape_the_limit(env):
    began = time.monotonic()
    with pytest.raises(ScriptError, match="time limit"):
        env.execute("try:\n    while True:\n        pass\nexcept Exception:\n    pass", {})
    assert time.monotonic() - began < 2


@pytest.mark.parametrize("script", ["try:\n    x = 1\nfinally:\n    pass",
                                    "try:\n    x = 1\nexcept:\n    pass"])
def test_constructs_that_could_outlive_the_limit_are_refused(env, script):
    with pytest.raises(ScriptError, match="not allowed"):
        env.execute(script, {})


def test_loop_inside_a_generator_is_stopped(env):
    with pytest.raises(ScriptError, match="time limit"):
        env.execute("def g():\n    while True:\n        yield 1\nfor v in g():\n    pass", {})


def test_loop_inside_a_sort_key_is_stopped():
    quick = SandboxedEnvironment(time_limit=0.2)
    began = time.monotonic()
    with pytest.raises(ScriptError, match="0.2 s"):
        quick.evaluate("sorted([2, 1], key=lambda v: [n for n in range(100000) for m in range(100000)])", {})
    assert time.monotonic() - began < 1


def test_time_limit_is_configurable():
    began = time.monotonic()
    with pytest.raises(ScriptError, match="0.1 s time limit"):
        SandboxedEnvironment(time_limit=0.1).execute("while True: pass", {})
    assert time.monotonic() - began < 0.6


def test_time_limit_must_be_positive():
    with pytest.raises(ValueError):
        SandboxedEnvironment(time_limit=0)


def test_time_limit_works_outside_the_main_thread(env):
    outcome = []

    def worker():
        try:
            env.execute("while True: pass", {})
        except ScriptError as exc:
            outcome.append(str(exc))
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(3)
    assert not thread.is_alive() and "time limit" in outcome[0]


def test_previous_trace_function_is_restored(env):
    def tracer(frame, event, arg):
        return None
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        env.evaluate("1 + 1", {})
        with pytest.raises(ScriptError):
            env.execute("while True: pass", {})
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(previous)


def test_finite_loops_run_fine(env):
    assert run(env, "n = 0\nfor i in range(10000):\n    n = n + i")["n"] == sum(range(10000))


# --- size guards --------------------------------------------------------------------------------

BOMBS = [
    "x = 'a' * 10**9",
    "x = 10**9 * [0]",
    "x = 10**10**10",
    "x = pow(10, 10**10)",
    "x = 1 << 10**9",
    "x = 'ab'\nx *= 10**9",
    "x = list(range(10**9))",
    "x = 'a'.ljust(10**9)",
    "x = str.zfill('1', 10**9)",
    "x = ('a' * 1000).replace('a', 'b' * 10000)",
    "x = ('a' * 1000000).join(['b'] * 1000)",
    "x = '%*d' % (10**9, 1)",
    "x = '%999999999d' % 1",
    "x = ['a' * 1000000] * 2\ny = x[0] + x[1]",
    "x = 'a'.expandtabs(10**9)",
]


@pytest.mark.parametrize("script", BOMBS)
def test_size_bombs_are_refused_quickly(env, script):
    began = time.monotonic()
    with pytest.raises(ScriptError):
        env.execute(script, {})
    assert time.monotonic() - began < 0.5


def test_fstring_width_is_refused(env):
    with pytest.raises(ScriptError, match="f-string"):
        env.evaluate("f'{1:>999999999}'", {})


def test_moderate_sizes_still_work(env):
    got = run(env, "a = '-' * 40\nb = 2 ** 64\nc = 'x'.ljust(5)\nd = '%05d' % 42\ne = f'{3.14159:.2f}'\n"
                   "f = ', '.join(['a', 'b'])\ng = list(range(1000))")
    assert (got["a"], got["b"], got["c"], got["d"], got["e"], got["f"]) == (
        "-" * 40, 2 ** 64, "x    ", "00042", "3.14", "a, b")


# --- error messages -----------------------------------------------------------------------------

def test_syntax_error_is_a_script_error_with_line(env):
    with pytest.raises(ScriptError, match=r"Line 2: SyntaxError"):
        env.execute("x = 1\ny = (", {})


def test_syntax_error_in_condition(env):
    with pytest.raises(ScriptError, match="Condition `status ==` was refused"):
        env.evaluate("status ==", {"status": 1})


def test_runtime_error_names_the_line(env):
    with pytest.raises(ScriptError, match=r"line 2 \(`y = x / 0`\): ZeroDivisionError"):
        env.execute("x = 1\ny = x / 0\nz = 3", {})


def test_name_error_in_condition(env):
    with pytest.raises(ScriptError, match="NameError: name 'missing' is not defined"):
        env.evaluate("missing > 1", {})


def test_missing_attribute_raises(env):
    with pytest.raises(ScriptError, match="AttributeError"):
        env.evaluate("x.nope", {"x": 1})


def test_writing_attributes_is_refused(env):
    with pytest.raises(ScriptError, match="cannot modify"):
        env.execute("d.year = 3", {"d": date(2026, 1, 1)})


# --- SpiffWorkflow integration ------------------------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://alur.test">
  <bpmn:process id="izin" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="hitung"/>
    <bpmn:scriptTask id="hitung" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>SCRIPT</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="hitung" targetRef="cek"/>
    <bpmn:exclusiveGateway id="cek" default="f_kecil">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_besar</bpmn:outgoing><bpmn:outgoing>f_kecil</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_besar" sourceRef="cek" targetRef="besar">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">CONDITION</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_kecil" sourceRef="cek" targetRef="kecil"/>
    <bpmn:scriptTask id="besar" scriptFormat="python">
      <bpmn:incoming>f_besar</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>jalur = "besar"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:scriptTask id="kecil" scriptFormat="python">
      <bpmn:incoming>f_kecil</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>jalur = "kecil"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="besar" targetRef="end1"/>
    <bpmn:sequenceFlow id="f4" sourceRef="kecil" targetRef="end2"/>
    <bpmn:endEvent id="end1"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end2"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def run_bpmn(data, *, script="total = price * qty", condition='total &gt; 1000 and kind in ["a", "b"]'):
    parser = CamundaParser()
    parser.add_bpmn_str(BPMN.replace("SCRIPT", script).replace("CONDITION", condition).encode(),
                        filename="izin.bpmn")
    workflow = BpmnWorkflow(parser.get_spec("izin"), script_engine=script_engine())
    workflow.get_tasks(state=TaskState.READY)[0].data.update(data)
    workflow.do_engine_steps()
    return workflow


def test_script_engine_uses_the_sandbox():
    engine = script_engine(time_limit=0.5)
    assert isinstance(engine, PythonScriptEngine)
    assert isinstance(engine.environment, SandboxedEnvironment)
    assert engine.environment.time_limit == 0.5


@pytest.mark.parametrize("price, kind, path", [(600, "a", "besar"), (6, "a", "kecil"), (600, "z", "kecil")])
def test_bpmn_gateway_follows_sandboxed_condition(price, kind, path):
    workflow = run_bpmn({"price": price, "qty": 2, "kind": kind})
    assert workflow.is_completed()
    assert workflow.data["jalur"] == path
    assert workflow.data["total"] == price * 2


def test_bpmn_escape_in_condition_fails_with_script_error():
    with pytest.raises(WorkflowTaskException) as caught:
        run_bpmn({"price": 1, "qty": 1, "kind": "a"}, condition="().__class__.__base__.__subclasses__()")
    assert isinstance(caught.value.__context__, ScriptError)
    assert "__class__" in str(caught.value.__context__)


def test_bpmn_runaway_script_fails_with_clear_message():
    began = time.monotonic()
    with pytest.raises(WorkflowTaskException, match="time limit"):
        run_bpmn({"price": 1, "qty": 1, "kind": "a"}, script="total = 1\nwhile True: pass")
    assert time.monotonic() - began < 2


def test_bpmn_import_is_refused():
    with pytest.raises(WorkflowTaskException, match="import is not allowed"):
        run_bpmn({"price": 1, "qty": 1, "kind": "a"}, script="import os\ntotal = 1")
