"""SpiffWorkflow adapters: state without the spec, specs parsed once per version, timers on our clock."""
from __future__ import annotations

import contextvars
import json
import threading
from collections import OrderedDict
from contextlib import contextmanager
from datetime import datetime, timezone
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as CAMUNDA_CONFIG

from .errors import EngineLimitError


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Serializes a workflow without its spec: the spec is stored once per SOP version."""

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore(self, dct, spec, subprocess_specs, script_engine):
        workflow = self.target_class(spec, subprocess_specs, script_engine=script_engine,
                                     deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StateCodec:
    """Turns specs and workflow states into JSON text and back."""

    def __init__(self):
        # Camunda's config omits service tasks, which Alur runs through connectors (connectors.py).
        self.registry = BpmnWorkflowSerializer.configure({**CAMUNDA_CONFIG, ServiceTask: BpmnTaskSpecConverter})
        self._serializer = BpmnWorkflowSerializer(self.registry)
        self._converter = _SpeclessWorkflowConverter(BpmnWorkflow, self.registry)
        self._lock = threading.Lock()

    def dump_spec(self, spec, subprocess_specs) -> str:
        return json.dumps({
            "spec": self.registry.convert(spec),
            "subprocess_specs": {k: self.registry.convert(v) for k, v in subprocess_specs.items()},
        }, separators=(",", ":"))

    def load_spec(self, text: str):
        dct = json.loads(text)
        spec = self.registry.restore(dct["spec"])
        subprocess_specs = {k: self.registry.restore(v) for k, v in dct["subprocess_specs"].items()}
        return spec, subprocess_specs

    def dump_state(self, workflow: BpmnWorkflow) -> str:
        # The registry's encoder mode is a flag on a shared object: serialise dumps across threads.
        with self._lock:
            self.registry._encoder_mode = True
            try:
                dct = self._converter.to_dict(workflow)
                dct["serializer_version"] = SERIALIZER_VERSION
                return json.dumps(dct, cls=self._serializer._encoder_cls, separators=(",", ":"))
            finally:
                self.registry._encoder_mode = False

    def load_state(self, text: str, spec, subprocess_specs, script_engine) -> BpmnWorkflow:
        dct = json.loads(text)
        version = dct.pop("serializer_version", SERIALIZER_VERSION)
        if version != SERIALIZER_VERSION:
            raise EngineLimitError(f"case state was saved by serializer {version}, "
                                   f"this engine reads {SERIALIZER_VERSION}")
        return self._converter.restore(dct, spec, subprocess_specs, script_engine)


class SpecCache:
    """Parsed versions by id, least recently used dropped first; versions never change."""

    def __init__(self, size: int = 64):
        self._size = size
        self._items: OrderedDict[int, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version_id: int, factory) -> tuple:
        with self._lock:
            item = self._items.get(version_id)
            if item is not None:
                self._items.move_to_end(version_id)
                return item
        item = factory()
        with self._lock:
            self._items[version_id] = item
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return item


class WorkflowCache:
    """Workflows of recently saved cases by case id and revision, so the next operation need not deserialize.

    `take` removes what it returns: an operation works on its own object, and a failed one (never
    put back) cannot leave a half-changed workflow behind. Another process's change moves the
    revision, so a stale entry is never used.
    """

    def __init__(self, size: int = 64):
        self._size = size
        self._items: OrderedDict[int, tuple[int, BpmnWorkflow]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, case_id: int, revision: int) -> BpmnWorkflow | None:
        with self._lock:
            item = self._items.pop(case_id, None)
        return item[1] if item is not None and item[0] == revision else None

    def put(self, case_id: int, revision: int, workflow: BpmnWorkflow) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._items[case_id] = (revision, workflow)
            self._items.move_to_end(case_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


# --- Timers on the engine's clock -------------------------------------------------------------
# SpiffWorkflow's timer module calls datetime.now(timezone.utc) directly; we replace the name
# `datetime` in that module with a subclass whose now() asks the clock of the running operation.
_current_clock: contextvars.ContextVar = contextvars.ContextVar("alur_clock", default=None)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        clock = _current_clock.get()
        moment = clock.now() if clock is not None else datetime.now(timezone.utc)
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)


spiff_timer.datetime = _ClockedDatetime


@contextmanager
def running_on(clock):
    """Make SpiffWorkflow's timers read `clock` for the duration of the block."""
    token = _current_clock.set(clock)
    try:
        yield
    finally:
        _current_clock.reset(token)


# --- The task-tree depth guard -----------------------------------------------------------------
def tree_depth(workflow: BpmnWorkflow) -> int:
    """The depth of the deepest task, counting into subprocesses, without recursion."""
    deepest = 0
    stack = [(workflow.task_tree, 0)]
    subprocesses = workflow.subprocesses
    while stack:
        task, depth = stack.pop()
        if depth > deepest:
            deepest = depth
        sub = subprocesses.get(task.id)
        if sub is not None:
            stack.append((sub.task_tree, depth + 1))
        for child_id in task._children:
            child = task.workflow.tasks.get(child_id)
            if child is not None:
                stack.append((child, depth + 1))
    return deepest


def guard_depth(workflow: BpmnWorkflow, limit: int) -> None:
    """Fail loudly before SpiffWorkflow's 1000-level limit silently hides tasks."""
    if len(workflow.tasks) + sum(len(sp.tasks) for sp in workflow.subprocesses.values()) <= limit:
        return  # a tree cannot be deeper than it has tasks: no walk needed
    depth = tree_depth(workflow)
    if depth > limit:
        raise EngineLimitError(
            f"the case's task tree is {depth} levels deep (limit {limit}): a loop in this SOP has "
            "run too many times for the engine to continue safely; nothing was saved. "
            "Cancel the case and start a new one, or change the SOP to bound the loop.")
