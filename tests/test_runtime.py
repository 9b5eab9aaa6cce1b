"""SpiffWorkflow adapters: state without spec, spec once per version, timers on our clock, depth."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from conftest import FIXTURES
from workflow_engine import EngineLimitError, FixedClock
from workflow_engine.runtime import StateCodec, guard_depth, running_on, tree_depth


def _parse(name, process_id):
    parser = CamundaParser()
    parser.add_bpmn_file(str(FIXTURES / name))
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def _run_first(workflow):
    workflow.do_engine_steps()
    task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    task.run()
    workflow.do_engine_steps()


def test_state_leaves_the_spec_out_and_round_trips():
    codec = StateCodec()
    spec, subs = _parse("parallel.bpmn", "parallel")
    workflow = BpmnWorkflow(spec, subs)
    _run_first(workflow)
    text = codec.dump_state(workflow)
    assert "spec" not in json.loads(text) and "task_specs" not in text
    restored = codec.load_state(text, spec, subs, None)
    assert {t.task_spec.bpmn_id for t in restored.get_tasks(state=TaskState.READY, manual=True)} == \
        {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    assert codec.dump_state(restored) == text


def test_spec_json_round_trips_to_an_equivalent_spec():
    codec = StateCodec()
    spec, subs = _parse("call_activity.bpmn", "call_activity")
    again, again_subs = codec.load_spec(codec.dump_spec(spec, subs))
    assert set(again.task_specs) == set(spec.task_specs)
    assert set(again_subs) == set(subs)


def test_timers_read_the_clock_of_the_running_operation():
    spec, subs = _parse("boundary_timer.bpmn", "boundary_timer")
    clock = FixedClock(datetime(2030, 1, 1, tzinfo=timezone.utc))
    workflow = BpmnWorkflow(spec, subs)
    with running_on(clock):
        workflow.do_engine_steps()
    [event] = [e for e in workflow.waiting_events() if "Timer" in e.event_type]
    assert datetime.fromisoformat(event.value) == clock.now() + timedelta(hours=2)
    with running_on(clock):
        clock.advance(hours=3)
        workflow.refresh_timers()
        workflow.do_engine_steps()
    ready = {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    assert ready == {"eskalasi_rekomendasi"}


def test_tree_depth_grows_with_a_loop():
    spec, subs = _parse("rework_loop.bpmn", "rework_loop")
    workflow = BpmnWorkflow(spec, subs)
    workflow.do_engine_steps()
    start = tree_depth(workflow)
    for _ in range(5):
        [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
        task.data["hasil"] = "ulang"
        task.run()
        workflow.do_engine_steps()
    assert tree_depth(workflow) > start + 5


def test_the_depth_guard_refuses_a_tree_deeper_than_its_limit():
    spec, subs = _parse("rework_loop.bpmn", "rework_loop")
    workflow = BpmnWorkflow(spec, subs)
    workflow.do_engine_steps()
    for _ in range(20):
        [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
        task.data["hasil"] = "ulang"
        task.run()
        workflow.do_engine_steps()
    guard_depth(workflow, tree_depth(workflow))
    with pytest.raises(EngineLimitError, match="too many times"):
        guard_depth(workflow, tree_depth(workflow) - 1)
