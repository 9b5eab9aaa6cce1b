"""Pruning a case's task tree never changes what the case does next, and keeps loops from growing it."""
import json
import random

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from conftest import FIXTURES, PROCESSES
from workflow_engine.runtime import StateCodec, tree_depth
from workflow_engine.tree_pruning import prune_history

MODELS = sorted(PROCESSES.glob("*/v*.bpmn")) + [FIXTURES / n for n in (
    "rework_loop.bpmn", "boundary_timer.bpmn", "parallel.bpmn", "inclusive.bpmn", "exclusive.bpmn", "subprocess.bpmn",
    "twenty_steps.bpmn", "linear3.bpmn")]


def _parse(path):
    parser = CamundaParser()
    parser.add_bpmn_file(str(path))
    [process_id] = [p for p in parser.get_process_ids() if parser.get_process_parser(p).process_executable]
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def _answers(task, rng: random.Random) -> dict:
    """Form values with every choice random, so rework and rejection paths are taken too."""
    values = {}
    for field in getattr(getattr(task.task_spec, "form", None), "fields", []):
        if field.type == "enum" and field.options:
            values[field.id] = rng.choice(field.options).id
        elif field.type == "boolean":
            values[field.id] = rng.random() < 0.5
        elif field.type in ("long", "double"):
            values[field.id] = rng.randint(1, 3)
        else:
            values[field.id] = "isian"
    return values


def _ready(workflow) -> list[str]:
    return sorted(t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True))


def _step(workflow, pick: int, values: dict):
    tasks = sorted(workflow.get_tasks(state=TaskState.READY, manual=True), key=lambda t: t.task_spec.bpmn_id)
    task = tasks[pick % len(tasks)]
    task.data.update(values)
    task.run()
    workflow.do_engine_steps()


@pytest.mark.parametrize("path", MODELS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_pruned_case_takes_the_same_path_as_an_unpruned_one(path):
    spec, subs = _parse(path)
    codec = StateCodec()
    for seed in range(6):
        rng = random.Random(seed)
        plain, pruned = BpmnWorkflow(spec, subs), BpmnWorkflow(spec, subs)
        plain.do_engine_steps()
        pruned.do_engine_steps()
        for _ in range(150):
            assert _ready(plain) == _ready(pruned)
            assert plain.is_completed() == pruned.is_completed()
            if not _ready(plain):
                break
            pick, values = rng.randrange(10), None
            ready = sorted(plain.get_tasks(state=TaskState.READY, manual=True), key=lambda t: t.task_spec.bpmn_id)
            values = _answers(ready[pick % len(ready)], rng)
            outcomes = []
            for workflow in (plain, pruned):
                try:
                    _step(workflow, pick, dict(values))
                    outcomes.append(None)
                except Exception as exc:  # a condition on data this random path lacks: both must fail alike
                    outcomes.append(type(exc).__name__)
            assert outcomes[0] == outcomes[1]
            if outcomes[0]:
                break
            prune_history(pruned, at_least=0)
            # What is saved is what runs on: the pruned tree survives the state codec.
            pruned = codec.load_state(codec.dump_state(pruned), spec, subs, None)
        assert plain.data == pruned.data


def test_a_rework_loop_keeps_its_tree_small_past_spiffworkflows_depth_limit():
    spec, subs = _parse(FIXTURES / "rework_loop.bpmn")
    workflow = BpmnWorkflow(spec, subs)
    workflow.do_engine_steps()
    codec = StateCodec()
    sizes = []
    for round_ in range(1, 1201):  # 1200 rounds: about 2400 levels unpruned, SpiffWorkflow sees 1000
        for values in ({"hasil": "ulang"}, {}):
            [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
            task.data.update(values)
            task.run()
            workflow.do_engine_steps()
            prune_history(workflow)
        if round_ in (10, 1200):
            sizes.append(len(codec.dump_state(workflow)))
    assert tree_depth(workflow) < 60
    assert sizes[1] < 2 * sizes[0]
    [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
    task.data.update({"hasil": "selesai"})
    task.run()
    workflow.do_engine_steps()
    assert workflow.is_completed()


def test_the_cut_stays_above_a_split_whose_branches_are_open():
    spec, subs = _parse(FIXTURES / "parallel.bpmn")
    workflow = BpmnWorkflow(spec, subs)
    workflow.do_engine_steps()
    # One branch done and waiting at the join, the other still open.
    first = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                 if t.task_spec.bpmn_id == "cek_administrasi")
    first.run()
    workflow.do_engine_steps()
    split = next(t for t in workflow.tasks.values() if t.task_spec.bpmn_id == "gw_split")
    before = set(workflow.tasks)
    # The split has two unfinished branches, so the deepest possible anchor is the start event above
    # it, which is already the root's only child: nothing may go, least of all the finished branch.
    assert prune_history(workflow, at_least=0) == 0 and set(workflow.tasks) == before
    assert split.parent.task_spec.bpmn_id == "start" and first.id in workflow.tasks
    [other] = workflow.get_tasks(state=TaskState.READY, manual=True)
    other.run()
    workflow.do_engine_steps()
    assert _ready(workflow) == ["tanda_tangan"], "the join still sees both branches"


def test_a_finished_case_keeps_its_whole_tree():
    spec, subs = _parse(FIXTURES / "linear3.bpmn")
    workflow = BpmnWorkflow(spec, subs)
    workflow.do_engine_steps()
    while ready := workflow.get_tasks(state=TaskState.READY, manual=True):
        ready[0].run()
        workflow.do_engine_steps()
    assert workflow.is_completed()
    count = len(workflow.tasks)
    assert prune_history(workflow, at_least=0) == 0 and len(workflow.tasks) == count
    json.loads(StateCodec().dump_state(workflow))
