"""The paths of an SOP as a small graph for simulation: steps, gateways, events, flows, lanes and budgets.

Built from the stored BPMN with the engine's hardened XML parser (no DTD, no entities, no network)
and the SOP facts reader, so a descriptive draft that would not deploy still gets a model. Only
the entry process is modelled, with its embedded subprocesses and the processes it calls in the
same file.
"""
from __future__ import annotations

import copy
import re
from collections import deque
from dataclasses import dataclass, field

from .bpmn_loader import parse_bpmn
from .bpmn_xml import (
    ACTIVITIES,
    EMBEDDED_SUBPROCESSES,
    PERSON_TASKS,
    is_bpmn,
    local_name,
    xpath,
)
from .durations import parse_duration
from .errors import BpmnValidationError, Problem
from .sop_info import SopInfo, read_sop_info

GATEWAYS = {"exclusiveGateway": "exclusive", "inclusiveGateway": "inclusive", "parallelGateway": "parallel",
            "eventBasedGateway": "event", "complexGateway": "inclusive"}
EVENTS = ("intermediateCatchEvent", "intermediateThrowEvent")
START, END = "START", "END"  # markers for "the case began" / "the case ended" in path sets
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STRING = re.compile(r"(\"[^\"]*\"|'[^']*')")
_PYTHON_WORDS = {"and", "or", "not", "in", "is", "None", "True", "False", "if", "else", "len", "int",
                 "str", "float", "bool", "lower", "upper", "strip", "get"}


@dataclass
class Node:
    """One flow node: kind is task, sub, call, gateway, start, end, event or boundary."""

    id: str
    kind: str
    tag: str
    name: str
    scope: str
    lane: str | None = None
    incoming: list = field(default_factory=list)
    outgoing: list = field(default_factory=list)
    gateway: str | None = None          # exclusive, inclusive, parallel, event
    default: str | None = None          # default flow id of a gateway
    budget_seconds: int | None = None
    pauses_clock: bool = False
    person: bool = False                # a user or manual task, done by someone
    fields: tuple = ()                  # form field ids
    options: tuple = ()                 # enum option ids of the form (tells a decision step)
    timer_seconds: int | None = None    # a timer event's duration, when it is a plain ISO duration
    attached_to: str | None = None      # boundary events
    cancel_activity: bool = True
    terminate: bool = False
    inner_starts: tuple = ()            # subprocess / call activity: the start events inside


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str = ""
    condition: str | None = None

    def reads(self) -> set[str]:
        """Variable names the condition reads (string literals and Python words left out)."""
        if not self.condition:
            return set()
        return set(_NAME.findall(_STRING.sub(" ", self.condition))) - _PYTHON_WORDS


@dataclass
class SopModel:
    """The graph plus the SOP's service limit; helpers answer the questions simulation and findings ask."""

    key: str
    name: str
    info: SopInfo
    nodes: dict
    flows: dict
    starts: list
    problems: list = field(default_factory=list)

    # --- facts ---------------------------------------------------------------------------------
    @property
    def tasks(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == "task"]

    @property
    def gateways(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == "gateway"]

    def counts(self) -> dict:
        """How many tasks, gateways by kind, events and flows the model has."""
        result = {"tasks": len(self.tasks), "flows": len(self.flows),
                  "events": sum(n.kind in ("start", "end", "event", "boundary") for n in self.nodes.values())}
        for kind in ("exclusive", "inclusive", "parallel", "event"):
            result[f"{kind}_gateways"] = sum(n.gateway == kind for n in self.gateways)
        return result

    def diverging(self, node: Node) -> bool:
        return len(node.outgoing) > 1

    def parallel_splits(self) -> dict[str, int]:
        """Gateways that run branches side by side (parallel or inclusive splits) and their branch count."""
        return {n.id: len(n.outgoing) for n in self.gateways
                if n.gateway in ("parallel", "inclusive") and len(n.outgoing) > 1}

    def targets(self, node_id: str) -> list[str]:
        return [self.flows[f].target for f in self.nodes[node_id].outgoing]

    def sources(self, node_id: str) -> list[str]:
        return [self.flows[f].source for f in self.nodes[node_id].incoming]

    # --- paths ---------------------------------------------------------------------------------
    def reach(self, start: str, *, avoid: str | None = None) -> dict[str, int]:
        """Nodes reachable from `start` (itself included) with their distance, never passing `avoid`."""
        seen = {start: 0}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for nxt in self._next(current):
                if nxt not in seen and nxt != avoid:
                    seen[nxt] = seen[current] + 1
                    queue.append(nxt)
        return seen

    def _next(self, node_id: str) -> list[str]:
        """Where a token can go next: flows, a subprocess's inside, boundary events, out of a subprocess."""
        node = self.nodes[node_id]
        result = self.targets(node_id) + list(node.inner_starts)
        result += [b.id for b in self.nodes.values() if b.kind == "boundary" and b.attached_to == node_id]
        if node.kind == "end" and node.scope in self.nodes:
            result += self.targets(node.scope)
        return result

    def is_rework(self, flow_id: str) -> bool:
        """A branch that leads back to its gateway before it can lead to an end (a return or rework loop)."""
        flow = self.flows[flow_id]
        gateway = flow.source
        distances = self.reach(flow.target, avoid=gateway)
        back = [self.nodes[p] for p in distances if gateway in self._next(p)]
        if not back:
            return False
        to_gateway = min(distances[p.id] for p in back) + 1
        ends = [d for p, d in distances.items() if self.nodes[p].kind == "end" and self.nodes[p].scope == self.key]
        return not ends or to_gateway < min(ends)

    def rework_flows(self) -> set[str]:
        return {f for g in self.gateways if self.diverging(g) for f in g.outgoing if self.is_rework(f)}

    def first_tasks(self, flow_id: str) -> frozenset:
        """The tasks a branch reaches first, passing gateways and events; END if it reaches an end first."""
        found, seen = set(), set()
        stack = [self.flows[flow_id].target]
        while stack:
            node_id = stack.pop()
            if node_id in seen:
                continue
            seen.add(node_id)
            node = self.nodes[node_id]
            if node.kind == "task":
                found.add(node_id)
            elif node.kind == "end" and node.scope == self.key:
                found.add(END)
            else:
                stack.extend(self._next(node_id))
        return frozenset(found)

    def preceding_tasks(self, node_id: str) -> frozenset:
        """The tasks whose completion can lead straight to `node_id` (through gateways and events only)."""
        found, seen = set(), set()
        stack = list(self.sources(node_id))
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            node = self.nodes[current]
            if node.kind == "task":
                found.add(current)
            elif node.kind == "start" and node.scope == self.key:
                found.add(START)
            else:
                stack.extend(self.sources(current))
                if node.kind == "start" and node.scope in self.nodes:
                    stack.extend(self.sources(node.scope))
        return frozenset(found)

    def next_tasks(self, task_id: str) -> frozenset:
        """The tasks that can follow a task directly (through gateways and events only)."""
        result = set()
        for flow in self.nodes[task_id].outgoing:
            result |= self.first_tasks(flow)
        return frozenset(result)

    def flows_between(self, a: str, b: str) -> list[Flow]:
        """The flows on the gateway-only paths from task `a` to task `b` (conditions read on the way)."""
        found, stack, seen = [], list(self.nodes[a].outgoing), set()
        while stack:
            flow_id = stack.pop()
            if flow_id in seen:
                continue
            seen.add(flow_id)
            flow = self.flows[flow_id]
            found.append(flow)
            target = self.nodes[flow.target]
            if target.kind not in ("task", "end") and target.id != b:
                stack.extend(target.outgoing)
        return found

    # --- edits for "what if" runs ---------------------------------------------------------------
    def without(self, step_ids) -> SopModel:
        """A copy in which each listed task (one flow in, one out) is bypassed."""
        model = copy.deepcopy(self)
        for step_id in step_ids:
            node = model.nodes.get(step_id)
            if node is None or node.kind != "task" or len(node.incoming) != 1 or len(node.outgoing) != 1:
                continue
            out = model.flows.pop(node.outgoing[0])
            incoming = model.flows[node.incoming[0]]
            incoming.target = out.target
            target = model.nodes[out.target]
            target.incoming = [incoming.id if f == out.id else f for f in target.incoming]
            for boundary in [b for b in model.nodes.values() if b.attached_to == step_id]:
                boundary.attached_to = None
            del model.nodes[step_id]
        return model

    def in_parallel(self, first: str, second: str) -> SopModel:
        """A copy in which task `second`, which directly follows `first`, runs beside it instead."""
        model = copy.deepcopy(self)
        a, b = model.nodes[first], model.nodes[second]
        link = model.flows[a.outgoing[0]]
        after = model.flows[b.outgoing[0]]
        split = Node(id=f"{first}__split", kind="gateway", tag="parallelGateway", name="", scope=a.scope,
                     gateway="parallel")
        join = Node(id=f"{first}__join", kind="gateway", tag="parallelGateway", name="", scope=a.scope,
                    gateway="parallel")
        model.nodes[split.id], model.nodes[join.id] = split, join
        into_a = model.flows[a.incoming[0]]
        into_a.target, split.incoming = split.id, [into_a.id]
        del model.flows[link.id]
        new = [Flow(f"{split.id}_a", split.id, first), Flow(f"{split.id}_b", split.id, second),
               Flow(f"{join.id}_a", first, join.id), Flow(f"{join.id}_b", second, join.id)]
        for flow in new:
            model.flows[flow.id] = flow
        split.outgoing = [new[0].id, new[1].id]
        a.incoming, b.incoming = [new[0].id], [new[1].id]
        a.outgoing, b.outgoing = [new[2].id], [new[3].id]
        join.incoming = [new[2].id, new[3].id]
        after.source, join.outgoing = join.id, [after.id]
        return model

    def consecutive(self, a: str) -> str | None:
        """The task that alone follows task `a` through one plain flow, if any (for the edits above)."""
        node = self.nodes[a]
        if len(node.outgoing) != 1 or len(node.incoming) != 1:
            return None
        nxt = self.nodes[self.flows[node.outgoing[0]].target]
        if nxt.kind != "task" or len(nxt.incoming) != 1 or len(nxt.outgoing) != 1:
            return None
        return nxt.id


def build_model(xml: bytes | str, filename: str = "model.bpmn") -> SopModel:
    """Read a BPMN document into an SopModel; BpmnValidationError when it is not safe, readable BPMN."""
    root = parse_bpmn(xml, filename)
    process = _entry(root, filename)
    info = read_sop_info(process, root, filename)
    by_id = {p.get("id"): p for p in xpath(root, "./bpmn:process") if p.get("id")}
    model = SopModel(key=info.key, name=info.name, info=info, nodes={}, flows={}, starts=[],
                     problems=list(info.problems))
    _read_process(model, process, by_id, {process.get("id")})
    # A flow to or from something not modelled (an element of another pool, a missing id) is dropped.
    model.flows = {f: flow for f, flow in model.flows.items()
                   if flow.source in model.nodes and flow.target in model.nodes}
    for flow in model.flows.values():
        model.nodes[flow.source].outgoing.append(flow.id)
        model.nodes[flow.target].incoming.append(flow.id)
    model.starts = [n.id for n in model.nodes.values() if n.kind == "start" and n.scope == model.key]
    if not model.starts:
        raise BpmnValidationError([Problem("the process has no start event, so it cannot be simulated",
                                           filename, model.key)])
    return model


def _entry(root, filename: str):
    """The process a case starts in: the executable one no call activity calls, else the first with steps."""
    processes = xpath(root, "./bpmn:process")
    called = {(c.get("calledElement") or "").strip() for p in processes for c in xpath(p, ".//bpmn:callActivity")}
    ranked = sorted(processes, key=lambda p: (p.get("id") in called, p.get("isExecutable", "true") != "true",
                                              not xpath(p, "./bpmn:startEvent")))
    if not ranked:
        raise BpmnValidationError([Problem("the file holds no bpmn:process", filename)])
    return ranked[0]


def _read_process(model: SopModel, container, by_id: dict, visiting: set, scope: str | None = None) -> list[str]:
    """Add the nodes and flows of a process or subprocess; returns the ids of its start events."""
    scope = scope or container.get("id")
    info, starts = model.info, []
    for element in container:
        if not is_bpmn(element) or not element.get("id"):
            continue
        tag, node_id = local_name(element), element.get("id")
        if tag == "sequenceFlow":
            cond = xpath(element, "./bpmn:conditionExpression")
            text = "".join(cond[0].itertext()).strip() if cond else None
            model.flows[node_id] = Flow(node_id, element.get("sourceRef"), element.get("targetRef"),
                                        element.get("name") or "", text or None)
            continue
        node = _node(element, tag, scope, info)
        if node is None:
            continue
        model.nodes[node_id] = node
        if tag == "startEvent":
            starts.append(node_id)
        if tag in EMBEDDED_SUBPROCESSES:
            node.inner_starts = tuple(_read_process(model, element, by_id, visiting, node_id))
        elif tag == "callActivity":
            called = by_id.get((element.get("calledElement") or "").strip())
            if called is not None and called.get("id") not in visiting:
                node.inner_starts = tuple(_read_process(model, called, by_id, visiting | {called.get("id")},
                                                        node_id))
    return starts


def _node(element, tag: str, scope: str, info: SopInfo) -> Node | None:
    name = " ".join((element.get("name") or "").split())
    step = info.steps.get(element.get("id"))
    lane = step.lane if step is not None else None
    base = dict(id=element.get("id"), tag=tag, name=name or element.get("id"), scope=scope, lane=lane)
    if tag in EMBEDDED_SUBPROCESSES:
        return Node(kind="sub", **base)
    if tag == "callActivity":
        return Node(kind="call", **base)
    if tag in ACTIVITIES:
        return Node(kind="task", person=tag in PERSON_TASKS,
                    budget_seconds=step.budget_seconds if step else None,
                    pauses_clock=bool(step and step.pauses_clock),
                    fields=tuple(f.id for f in step.form) if step else (),
                    options=tuple(o for f in step.form for o, _ in f.options) if step else (), **base)
    if tag in GATEWAYS:
        return Node(kind="gateway", gateway=GATEWAYS[tag], default=element.get("default"), **base)
    if tag == "startEvent":
        return Node(kind="start", **base)
    if tag == "endEvent":
        return Node(kind="end", terminate=bool(xpath(element, "./bpmn:terminateEventDefinition")), **base)
    if tag in EVENTS or tag == "boundaryEvent":
        node = Node(kind="boundary" if tag == "boundaryEvent" else "event", timer_seconds=_timer(element),
                    **base)
        node.attached_to = element.get("attachedToRef")
        node.cancel_activity = element.get("cancelActivity", "true") != "false"
        return node
    return None


def _timer(element) -> int | None:
    """A timer's duration in seconds when it is a literal ISO 8601 duration ("PT2H" or PT2H)."""
    for duration in xpath(element, "./bpmn:timerEventDefinition/bpmn:timeDuration"):
        text = "".join(duration.itertext()).strip().strip("\"'")
        try:
            return parse_duration(text)
        except ValueError:
            return None
    return None

