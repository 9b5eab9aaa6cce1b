"""Structural checks on a BPMN tree, run before SpiffWorkflow sees it, each naming element and line."""
from __future__ import annotations

import ast
from datetime import datetime

from .bpmn_xml import (BPMN_NS, EMBEDDED_SUBPROCESSES, PERSON_TASKS, container_of, effective_lanes,
                       is_bpmn, lane_elements, line_of, local_name, xpath)
from .durations import is_iso_duration
from .errors import Problem
from .exchange_bpmn import ELEMENTS as EXCHANGE_ELEMENTS, check_exchange
from .sandbox import refusal

GATEWAYS = ("exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway")
EVENTS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")
FLOW_NODES = GATEWAYS + EVENTS + ("task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask",
                                  "receiveTask", "businessRuleTask", "callActivity") + EMBEDDED_SUBPROCESSES
_ID_NAMESPACES = tuple(f"{{{ns}}}" for ns in (BPMN_NS, "http://www.omg.org/spec/BPMN/20100524/DI",
                                                "http://www.omg.org/spec/DD/20100524/DI"))
UNSUPPORTED = {
    "complexGateway": "complex gateways are not supported; use an exclusive, inclusive or parallel gateway",
    "compensateEventDefinition": "compensation events are not supported (the engine would silently skip them)",
    "adHocSubProcess": "ad-hoc subprocesses are not supported; model the steps with gateways instead",
    "transaction": "transaction subprocesses are not supported; use a normal subprocess",
    "dataStoreReference": "data stores are not supported; keep the data in form fields or data objects",
    "businessRuleTask": "business rule tasks need a DMN decision table, which Alur does not load; "
                        "use an exclusive gateway with conditions",
}
# The database columns ids and names go into (process key and step ids: 200, names: 500).
MAX_ID = 200
MAX_NAME = 500
# A timer cycle repeating more often than this, or a timer further than this away, cannot be meant.
MAX_TIMER_REPEATS = 1000
MAX_TIMER_SECONDS = 10 * 366 * 86400


class Checker:
    """Collects problems found in one parsed BPMN document."""

    def __init__(self, root, file: str | None):
        self.root = root
        self.file = file
        self.problems: list[Problem] = []
        self.by_id: dict[str, object] = {}

    def add(self, message: str, element=None, element_id: str | None = None, severity: str = "error"):
        if element_id is None and element is not None:
            element_id = element.get("id")
        self.problems.append(Problem(message, self.file, element_id, line_of(element) if element is not None
                                     else None, severity))

    # -- document-wide references: run before the XSD check, whose messages for these are cryptic --

    def check_references(self) -> None:
        """Report duplicate ids, flow nodes without ids, and sequence flows pointing nowhere."""
        for element in self.root.iter():
            # Only BPMN and diagram ids must be unique; other tools' extension elements have their own.
            if not isinstance(element.tag, str) or not element.tag.startswith(_ID_NAMESPACES):
                continue
            element_id = element.get("id")
            self._check_lengths(element, element_id)
            if element_id is None:
                if is_bpmn(element, *FLOW_NODES, "sequenceFlow"):
                    self.add(f"a bpmn:{local_name(element)} on line {line_of(element)} has no id; give it one",
                             element)
                continue
            first = self.by_id.setdefault(element_id, element)
            if first is not element:
                self.add(f"id {element_id!r} is used twice (lines {line_of(first)} and {line_of(element)}); "
                         "every id must be unique", element)
        for flow in xpath(self.root, ".//bpmn:sequenceFlow"):
            for attribute in ("sourceRef", "targetRef"):
                self._check_flow_end(flow, attribute)
        for ref in xpath(self.root, ".//bpmn:lane/bpmn:flowNodeRef"):
            if (ref.text or "").strip() not in self.by_id:
                lane = ref.getparent()
                self.add(f"lane {lane.get('name') or lane.get('id')!r} lists {(ref.text or '').strip()[:80]!r}, "
                         "but no element has that id; remove it from the lane", ref, lane.get("id"))
        for event in xpath(self.root, ".//bpmn:boundaryEvent"):
            target = self.by_id.get(event.get("attachedToRef") or "")
            if target is None or container_of(target) is not container_of(event):
                self.add(f"boundary event {event.get('id')!r} is attached to {event.get('attachedToRef')!r}, "
                         "which is not an activity of the same process", event)
        for element in xpath(self.root, ".//*[@default]"):
            if is_bpmn(element):
                flow = self.by_id.get(element.get("default"))
                if flow is None or not is_bpmn(flow, "sequenceFlow") or flow.get("sourceRef") != element.get("id"):
                    self.add(f"the default flow {element.get('default')!r} of {element.get('id')!r} is not one "
                             "of its outgoing sequence flows", element)

    def _check_lengths(self, element, element_id: str | None) -> None:
        # Longer ids and names do not fit the database columns they are stored in.
        what = f"a bpmn:{local_name(element)} on line {line_of(element)}"
        if element_id is not None and len(element_id) > MAX_ID:
            self.add(f"{what} has an id of {len(element_id):,} characters; ids may have at most {MAX_ID}",
                     element, element_id[:40] + "...")
        name = element.get("name")
        if name is not None and len(name) > MAX_NAME:
            self.add(f"{what} has a name of {len(name):,} characters; names may have at most {MAX_NAME} "
                     "(put longer text in the documentation)", element,
                     element_id if element_id is None or len(element_id) <= MAX_ID else element_id[:40] + "...")

    def _check_flow_end(self, flow, attribute: str) -> None:
        ref = (flow.get(attribute) or "").strip()
        end = "source" if attribute == "sourceRef" else "target"
        target = self.by_id.get(ref)
        if not ref:
            self.add(f"sequence flow {flow.get('id')!r} has no {end} ({attribute})", flow)
        elif target is None:
            self.add(f"sequence flow {flow.get('id')!r} points to {ref!r} as its {end}, "
                     "but no element has that id", flow)
        elif not is_bpmn(target, *FLOW_NODES):
            self.add(f"sequence flow {flow.get('id')!r} has {ref!r} as its {end}, which is a "
                     f"{local_name(target)}, not a task, event or gateway", flow)
        elif container_of(target) is not container_of(flow):
            self.add(f"sequence flow {flow.get('id')!r} connects to {ref!r} in another pool or subprocess; "
                     "sequence flows cannot cross that border (use a message flow between pools)", flow)

    # -- checks on what the engine will run --

    def check_document(self) -> None:
        """Report document-level constructs that stop SpiffWorkflow from reading any process."""
        for store in xpath(self.root, ".//bpmn:dataStore"):
            self.add(f"data store {store.get('id')!r} is not supported; remove it "
                     "(the engine refuses the whole file while it is there)", store)

    def check_process(self, process, processes_by_id: dict, scripts_enabled: bool) -> None:
        """Report everything in one executable process that the engine cannot run as intended."""
        self.outgoing: dict[str, list] = {}
        for flow in xpath(process, ".//bpmn:sequenceFlow"):
            self.outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
        for element in process.iter():
            if not is_bpmn(element):
                continue
            name = local_name(element)
            if name in UNSUPPORTED:
                owner = element.get("id") or _owner_id(element)
                what = f"{name} {owner!r}" if element.get("id") else f"{name} in {owner!r}"
                self.add(f"{what}: {UNSUPPORTED[name]}", element, owner)
            if element.get("isForCompensation") == "true":
                self.add(f"activity {element.get('id')!r} is marked for compensation, which is not supported",
                         element)
            if name == "scriptTask" and not scripts_enabled:
                self.add(f"script task {element.get('id')!r}: script tasks are disabled; "
                         "an administrator must enable scripts", element)
            elif name == "scriptTask":
                self._check_script(element)
            elif name == "callActivity":
                self._check_call(element, processes_by_id)
            elif name == "timerEventDefinition":
                self._check_timer(element, scripts_enabled)
            elif name in EXCHANGE_ELEMENTS:
                check_exchange(self, element)  # connectors and messages (exchange_bpmn.py)
            if name in FLOW_NODES:
                self._check_outgoing(element)
            if name in ("dataInputAssociation", "dataOutputAssociation"):
                self._check_data_association(element)
        self._check_lanes(process)

    def _check_outgoing(self, node) -> None:
        outgoing = self.outgoing.get(node.get("id"), [])
        name = local_name(node)
        if len(outgoing) > 1 and name not in GATEWAYS:
            self.add(f"{name} {node.get('id')!r} has {len(outgoing)} outgoing sequence flows; SpiffWorkflow "
                     "cannot split after a task or event: add a parallel gateway (all paths) or an exclusive "
                     "gateway (one path) after it", node)
        for flow in outgoing:
            condition = next(iter(xpath(flow, "./bpmn:conditionExpression")), None)
            text = (condition.text or "").strip() if condition is not None else ""
            if name in ("exclusiveGateway", "inclusiveGateway") and len(outgoing) > 1 \
                    and flow.get("id") != node.get("default") and not text:
                self.add(f"sequence flow {flow.get('id')!r} leaves gateway {node.get('id')!r} without a "
                         "condition; add a condition (a Python expression such as status == 'lengkap') or make "
                         "it the gateway's default flow", flow)
            if text:
                self._check_expression(text, flow, "condition")
                if name not in ("exclusiveGateway", "inclusiveGateway"):
                    self.add(f"the condition on sequence flow {flow.get('id')!r} is ignored: only flows leaving an "
                             "exclusive or inclusive gateway are chosen by condition", flow, severity="warning")

    def _check_expression(self, text: str, element, what: str) -> None:
        try:
            ast.parse(text, mode="eval")
        except SyntaxError as exc:
            self.add(f"the {what} of {element.get('id')!r} is not a valid Python expression ({exc.msg}); "
                     "write Python such as status == 'lengkap' (FEEL and ${...} are not understood)", element)
            return
        except (RecursionError, MemoryError):
            self.add(f"the {what} of {element.get('id')!r} is nested too deeply to compile", element)
            return
        self._sandbox_warning(text, "eval", element, f"the {what} of {element.get('id')!r}")

    def _check_script(self, task) -> None:
        script = next(iter(xpath(task, "./bpmn:script")), None)
        text = script.text or "" if script is not None else ""
        try:
            ast.parse(text, mode="exec")
        except SyntaxError as exc:
            self.add(f"script task {task.get('id')!r}: the script is not valid Python (line {exc.lineno}: "
                     f"{exc.msg})", task)
            return
        except (RecursionError, MemoryError):
            self.add(f"script task {task.get('id')!r}: the script is nested too deeply to compile", task)
            return
        self._sandbox_warning(text, "exec", task, f"script task {task.get('id')!r}")

    def _sandbox_warning(self, text: str, mode: str, element, what: str) -> None:
        # Conditions and scripts run in the sandbox; what it refuses fails every case that gets there.
        # A warning, not an error: the sandbox refuses it again at run time with a ScriptError.
        why = refusal(text, mode)
        if why:
            self.add(f"{what} will fail on every case: {why}", element, severity="warning")

    def _check_call(self, call, processes_by_id: dict) -> None:
        called = (call.get("calledElement") or "").strip()
        target = processes_by_id.get(called)
        if not called:
            self.add(f"call activity {call.get('id')!r} has no calledElement; name the process it calls", call)
        elif target is None:
            self.add(f"call activity {call.get('id')!r} calls process {called!r}, which is not in this file", call)
        elif target.get("isExecutable", "true") != "true":
            self.add(f"call activity {call.get('id')!r} calls process {called!r}, which is marked "
                     "isExecutable=\"false\"", call)

    def _check_timer(self, definition, scripts_enabled: bool) -> None:
        event = definition.getparent()
        owner = event.get("id")
        specs = [c for c in definition if is_bpmn(c, "timeDate", "timeDuration", "timeCycle")]
        if not specs:
            self.add(f"timer event {owner!r} has no time; add a duration such as \"PT24H\" (with the quotes)", event)
            return
        spec = specs[0]
        kind = local_name(spec)
        raw = (spec.text or "").strip()
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = None
        if not raw:
            self.add(f"timer {owner!r}: the {kind} is empty; write a quoted ISO 8601 value such as \"PT24H\"",
                     spec, owner)
            return
        if not isinstance(value, str):
            bare = raw.strip("'\"")
            if _looks_like_iso_time(bare):
                self.add(f"timer {owner!r}: the {kind} {raw!r} must be quoted, like \"{bare}\" (timer values are "
                         "Python expressions, so a bare ISO 8601 text fails when the timer starts)", spec, owner)
            elif not scripts_enabled:
                self.add(f"timer {owner!r}: the {kind} {raw!r} is not a quoted ISO 8601 text such as \"PT24H\"; "
                         "computed timer values need scripts, which are disabled", spec, owner)
            else:
                self._check_expression(raw, event, f"{kind} expression")
            return
        message = _iso_time_problem(kind, value.strip())
        if message:
            self.add(f"timer {owner!r}: {message}", spec, owner)
        elif kind == "timeDate" and _naive(value.strip()):
            self.add(f"timer {owner!r}: the date {value!r} has no time zone and would be read in the server's "
                     "zone; add one, e.g. +09:00 for WIT", spec, owner, severity="warning")

    def _check_data_association(self, association) -> None:
        # SpiffWorkflow loops forever resolving a data object that is neither in the task's own
        # (sub)process nor in the one directly around it, so refuse that before parsing.
        task = association.getparent()
        home = container_of(task)
        if home is None or not is_bpmn(home, *EMBEDDED_SUBPROCESSES):
            return
        refs = xpath(association, "./bpmn:sourceRef" if local_name(association) == "dataInputAssociation"
                     else "./bpmn:targetRef")
        for ref in refs:
            reference = self.by_id.get((ref.text or "").strip())
            if reference is None or not is_bpmn(reference, "dataObjectReference"):
                continue
            data_object = self.by_id.get(reference.get("dataObjectRef") or "")
            visible = (home, container_of(home))
            if data_object is None or not any(container_of(data_object) is c for c in visible):
                self.add(f"{local_name(task)} {task.get('id')!r} uses data object reference {reference.get('id')!r}, "
                         "whose data object is not in the same subprocess or the one directly around it; "
                         "the engine cannot resolve it: move the data object closer", task)

    def _check_lanes(self, process) -> None:
        lanes = effective_lanes(process, self.root)
        has_lanes = bool(lane_elements(process))
        for task in process.iter():
            if not is_bpmn(task, *PERSON_TASKS):
                continue
            label = "user task" if local_name(task) == "userTask" else "manual task"
            if lanes.get(task.get("id")) is not None:
                continue
            if not has_lanes:
                why = "the process has no lanes; add a lane for each actor (Pelaksana) and put the task in one"
            elif _in_unnamed_lane(task, process):
                why = "its lane has no name; name the lane after the actor (Pelaksana)"
            else:
                why = "put it in the lane of the actor (Pelaksana) who does it"
            self.add(f"{label} {task.get('id')!r} is outside any lane: {why}", task)


def _owner_id(element) -> str | None:
    """Return the id of the nearest ancestor with one (event definitions often have none)."""
    parent = element.getparent()
    while parent is not None and parent.get("id") is None:
        parent = parent.getparent()
    return parent.get("id") if parent is not None else None


def _in_unnamed_lane(task, process) -> bool:
    return any(ref.text and ref.text.strip() == task.get("id") and not ref.getparent().get("name")
               for ref in xpath(process, ".//bpmn:laneSet//bpmn:flowNodeRef"))


def _looks_like_iso_time(text: str) -> bool:
    upper = text.upper()
    return upper.startswith(("P", "R")) and any(ch.isdigit() for ch in upper) or \
        (len(upper) >= 10 and upper[:4].isdigit() and upper[4] == "-")


def _iso_time_problem(kind: str, value: str) -> str | None:
    """Return why an ISO 8601 timer value is wrong, or None when it is fine."""
    if kind == "timeDuration":
        if not is_iso_duration(value):
            return f"{value!r} is not an ISO 8601 duration such as PT24H, P2D or PT30M"
        return _too_long(value)
    if kind == "timeDate":
        try:
            datetime.fromisoformat(value)
            return None
        except ValueError:
            return f"{value!r} is not an ISO 8601 date and time such as 2025-01-31T08:00:00+09:00"
    parts = value.upper().split("/")
    if not parts[0].startswith("R") or len(parts) not in (2, 3):
        return f"{value!r} is not an ISO 8601 repeat such as R3/PT8H (count, then interval)"
    count = parts[0][1:]
    if not count:
        return f"{value!r} repeats without end; give a count, e.g. R3/{'/'.join(parts[1:])}"
    if not count.isdigit() or int(count) < 1:
        return f"{value!r} must repeat a positive whole number of times, e.g. R3/PT8H"
    if int(count) > MAX_TIMER_REPEATS:
        return f"{value!r} repeats {int(count):,} times; a timer may repeat at most {MAX_TIMER_REPEATS:,} times"
    durations = [p for p in parts[1:] if p.startswith("P")]
    dates = [p for p in parts[1:] if not p.startswith("P")]
    if len(durations) != 1 or not is_iso_duration(durations[0]):
        return f"{value!r} needs exactly one ISO 8601 interval, e.g. R3/PT8H"
    if _seconds(durations[0]) <= 0:
        return f"{value!r} repeats every {durations[0]}, that is without pause; give an interval such as PT8H"
    if _too_long(durations[0]):
        return _too_long(durations[0])
    for text in dates:
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return f"{value!r} has {text!r}, which is not an ISO 8601 date and time"
    return None


_UNITS = {"Y": 366 * 86400, "M": 31 * 86400, "W": 7 * 86400, "D": 86400}
_TIME_UNITS = {"H": 3600, "M": 60, "S": 1}


def _seconds(duration: str) -> float:
    """The longest length of an ISO 8601 duration in seconds (a year as 366 days, a month as 31)."""
    date_part, _, time_part = duration.upper()[1:].partition("T")
    total = 0.0
    for part, units in ((date_part, _UNITS), (time_part, _TIME_UNITS)):
        number = ""
        for ch in part:
            if ch in units:
                total += float(number.replace(",", ".") or 0) * units[ch]
                number = ""
            else:
                number += ch
    return total


def _too_long(duration: str) -> str | None:
    if _seconds(duration) > MAX_TIMER_SECONDS:
        return (f"{duration!r} is more than 10 years; a timer that far away never fires in practice "
                "(and its due date may not be computable)")
    return None


def _naive(value: str) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is None
    except ValueError:
        return False
