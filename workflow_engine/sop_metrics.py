"""Static figures of an SOP version read from its BPMN: steps, actors, hand-offs, sign-offs, planned time.

Definitions (they are what the compare page and `alur compare` show):

- steps: user and manual tasks (work a person does), anywhere in the process.
- actors: the SOP's lanes (SopInfo.lanes).
- loops: a flow that leads back to a node already on the way from the start event (a DFS back
  edge) closes a loop; such flows are never followed by the paths below. `loop_steps` are the steps
  on a loop (they may run more than once: rework, returned files).
- main path (the typical path): from the start event, every exclusive, inclusive, event-based or
  complex split follows one branch: not a loop; preferably not a refusal (a flow named, or when
  unnamed conditioned, with words such as "tidak", "tolak", "kembali", "perbaikan", "no", "reject",
  or leading only to end events named so); then preferably an approving one ("ya", "setuju",
  "lengkap", "layak", "sesuai", "yes", "approve"...); then the gateway's default flow; then the first
  in document order. Parallel splits (and tasks with several outgoing flows) follow every branch.
  Boundary events are not on the main path.
- hand-offs: the steps of the main path in order, where two consecutive steps in different lanes
  are one hand-off. A parallel block (from a split to the node where all its branches meet) counts
  once: it reads as its longest branch by planned time, entered in the lane of that branch's first
  step and left in the lane of its last; hand-offs inside the block are not counted. This is how
  the SOP library's READMEs count them ("a parallel block counts once").
- sign-off steps: `is_signoff` (paraf, signature, approval by name or id).
- decision points: exclusive, inclusive, event-based and complex gateways with two or more outgoing
  flows. parallel branches: the outgoing flows of parallel gateways that split.
- complexity: Cardoso's control-flow complexity (CFC), the sum over splits of: XOR (exclusive,
  event-based) = fan-out, OR (inclusive, complex) = 2^n - 1, AND (parallel) = 1. A task with
  several outgoing flows is an implicit AND split, or OR if any of them has a condition.
- planned time: sums of `mutu.waktu` of office-side steps (applicant-side `sla.jeda` steps pause the
  clock and are left out; `main_path_applicant_seconds` gives theirs) along the main path and along
  the longest loop-free path to any end; parallel branches count as their longest branch. An embedded
  subprocess costs its own main or longest path.
"""
from __future__ import annotations

import re
from itertools import pairwise

from .bpmn_checks import FLOW_NODES
from .bpmn_loader import parse_bpmn
from .bpmn_xml import CONTAINERS, EMBEDDED_SUBPROCESSES, PERSON_TASKS, is_bpmn, local_name, xpath
from .errors import BpmnValidationError, Problem
from .sop_info import SopInfo, StepInfo, read_sop_info
from .sop_words import is_signoff_name, words

__all__ = ["SCALARS", "delta", "is_signoff", "metrics_of"]

XOR = ("exclusiveGateway", "eventBasedGateway")
OR = ("inclusiveGateway", "complexGateway")
CHOICES = XOR + OR
NEGATIVE = frozenset("""tidak tolak ditolak menolak penolakan kembali kembalikan dikembalikan perbaikan
    perbaiki revisi batal dibatalkan gagal kurang belum no not reject rejected refuse refused deny denied
    return returned rework cancel cancelled canceled fail failed incomplete invalid""".split())
POSITIVE = frozenset("""ya setuju disetujui lengkap layak sesuai memenuhi lulus sah valid terima diterima
    lanjut benar yes approve approved ok accept accepted complete pass passed""".split())
# The scalar figures the comparison subtracts (b - a).
SCALARS = ("steps", "actors", "handoffs", "signoffs", "decision_points", "parallel_branches",
           "complexity", "main_path_steps", "main_path_seconds", "longest_path_seconds",
           "main_path_applicant_seconds")


def _words(text: str | None) -> set[str]:
    return words(text)


def is_signoff(step: StepInfo) -> bool:
    """True when a step is a paraf, a signature or an approval, judged by its name or id."""
    if step.kind not in PERSON_TASKS:
        return False
    return is_signoff_name(step.name, step.id)


class _Graph:
    """The flow nodes and sequence flows directly inside one process or embedded subprocess."""

    def __init__(self, container, steps: dict[str, StepInfo]):
        self.steps = steps
        self.nodes: dict[str, object] = {}
        for child in container:
            if is_bpmn(child, *FLOW_NODES) and child.get("id"):
                self.nodes[child.get("id")] = child
        self.out: dict[str, list[tuple[str, object]]] = {n: [] for n in self.nodes}
        for flow in xpath(container, "./bpmn:sequenceFlow"):
            src, dst = flow.get("sourceRef"), flow.get("targetRef")
            if src in self.nodes and dst in self.nodes:
                self.out[src].append((dst, flow))
        self.boundary: dict[str, list[str]] = {}
        for node_id, el in self.nodes.items():
            if local_name(el) == "boundaryEvent" and el.get("attachedToRef") in self.nodes:
                self.boundary.setdefault(el.get("attachedToRef"), []).append(node_id)
        has_incoming = {dst for edges in self.out.values() for dst, _ in edges}
        self.starts = [n for n, el in self.nodes.items()
                       if local_name(el) == "startEvent" and n not in has_incoming]
        self.back = self._back_edges()
        self._chosen: dict[str, list[str]] = {}

    def kind(self, node: str) -> str:
        return local_name(self.nodes[node])

    def forward(self, node: str) -> list[tuple[str, object]]:
        return [(dst, flow) for dst, flow in self.out[node] if (node, dst) not in self.back]

    def _back_edges(self) -> set[tuple[str, str]]:
        """Flows that close a loop: DFS from the start events, preferred branches first."""
        back: set[tuple[str, str]] = set()
        state: dict[str, int] = {}  # 1 on the stack, 2 done
        for start in self.starts:
            if start in state:
                continue
            stack = [(start, iter(self._successors_all(start)))]
            state[start] = 1
            while stack:
                node, successors = stack[-1]
                nxt = next(successors, None)
                if nxt is None:
                    state[node] = 2
                    stack.pop()
                elif state.get(nxt) == 1:
                    back.add((node, nxt))
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(self._successors_all(nxt))))
        return back

    def _successors_all(self, node: str) -> list[str]:
        ordered = [dst for dst, _ in sorted(self.out[node], key=lambda e: self._rank(node, e[1]))]
        return ordered + self.boundary.get(node, [])

    def _rank(self, gateway: str, flow) -> tuple:
        """Sort key of a branch for the main path: not a refusal, approving, default, document order."""
        name = flow.get("name")
        if name and name.strip():
            words = _words(name)
        else:
            condition = xpath(flow, "./bpmn:conditionExpression")
            words = {w for lit in re.findall(r"[\"']([^\"']*)[\"']", condition[0].text or "")
                     for w in _words(lit)} if condition else set()
        negative = bool(words & NEGATIVE) or self._refusal_only(flow.get("targetRef"))
        default = self.nodes[gateway].get("default") == flow.get("id")
        index = [f for _, f in self.out[gateway]].index(flow)
        return (negative, not (words & POSITIVE), not default, index)

    def _refusal_only(self, node: str) -> bool:
        """True when every end reachable from `node` is named as a refusal."""
        seen, queue, ends = {node}, [node], []
        while queue:
            current = queue.pop()
            if not self.out[current]:
                ends.append(current)
            for dst, _ in self.out[current]:
                if dst not in seen:
                    seen.add(dst)
                    queue.append(dst)
        return bool(ends) and all(_words(self.nodes[e].get("name")) & NEGATIVE for e in ends)

    def chosen(self, node: str) -> list[str]:
        """The successors the main path follows from `node`."""
        if node not in self._chosen:
            edges = self.forward(node)
            if self.kind(node) in CHOICES and len(edges) > 1:
                self._chosen[node] = [min(edges, key=lambda e: self._rank(node, e[1]))[0]]
            else:
                self._chosen[node] = [dst for dst, _ in edges]
        return self._chosen[node]

    def topological(self, successors) -> list[str]:
        """Nodes reachable from the starts through `successors`, in topological order (Kahn)."""
        reach, queue = set(self.starts), list(self.starts)
        while queue:
            for nxt in successors(queue.pop()):
                if nxt not in reach:
                    reach.add(nxt)
                    queue.append(nxt)
        indegree = {n: 0 for n in reach}
        for n in reach:
            for nxt in successors(n):
                indegree[nxt] += 1
        order, ready = [], [n for n in self.nodes if n in reach and indegree[n] == 0]
        while ready:
            n = ready.pop(0)
            order.append(n)
            for nxt in successors(n):
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    ready.append(nxt)
        return order


class _Analysis:
    """Paths and figures of one container; embedded subprocesses are analysed recursively."""

    def __init__(self, container, steps: dict[str, StepInfo]):
        self.g = _Graph(container, steps)
        self.steps = steps
        self.inner = {n: _Analysis(el, steps) for n, el in self.g.nodes.items()
                      if local_name(el) in EMBEDDED_SUBPROCESSES}

    def cost(self, node: str, path: str, applicant: bool = False) -> int:
        if node in self.inner:
            return self.inner[node].critical(path, applicant)[0]
        step = self.steps.get(node)
        if step is None or step.pauses_clock != applicant:
            return 0
        return step.budget_seconds or 0

    def successors(self, path: str):
        if path == "main":
            return self.g.chosen
        return lambda n: [dst for dst, _ in self.g.forward(n)] + self.g.boundary.get(n, [])

    def critical(self, path: str, applicant: bool = False) -> tuple[int, list[str]]:
        """(seconds, node chain) of the costliest way from a start to an end along `path`'s flows."""
        successors = self.successors(path)
        order = self.g.topological(successors)
        best: dict[str, tuple[int, str | None]] = {}
        for node in order:
            here = best.get(node, (0, None))[0] + self.cost(node, path, applicant)
            best[node] = (here, best.get(node, (0, None))[1])
            for nxt in successors(node):
                if nxt not in best or best[nxt][0] < here:
                    best[nxt] = (here, node)
        # An end is a node with no outgoing flow at all: a loop's last node is no end.
        ends = [n for n in order if not self.g.out[n]] or [n for n in order if not successors(n)]
        if not ends:
            return 0, []
        end = max(ends, key=lambda n: (best[n][0], -order.index(n)))
        chain, node = [], end
        while node is not None:
            chain.append(node)
            node = best[node][1]
        return best[end][0], chain[::-1]

    def path_steps(self, path: str) -> list[str]:
        """Person steps of the path: all of the main path's, or the longest path's chain."""
        if path == "main":
            nodes = self.g.topological(self.g.chosen)
        else:
            nodes = self.critical(path)[1]
        found = []
        for node in nodes:
            if node in self.inner:
                found.extend(self.inner[node].path_steps(path))
            elif node in self.steps and self.steps[node].kind in PERSON_TASKS:
                found.append(node)
        return found

    def loop_nodes(self) -> set[str]:
        """Nodes on a loop: those from a back edge's target that reach its source again."""
        preds: dict[str, list[str]] = {}
        for n, edges in self.g.out.items():
            for d, _ in edges:
                preds.setdefault(d, []).append(n)
        on_loop: set[str] = set()
        for src, dst in self.g.back:
            on_loop |= (self._reach(dst, lambda n: [d for d, _ in self.g.out[n]])
                        & self._reach(src, lambda n: preds.get(n, [])))
        for inner in self.inner.values():
            on_loop |= inner.loop_nodes()
        return on_loop

    @staticmethod
    def _reach(node: str, successors) -> set[str]:
        seen, queue = {node}, [node]
        while queue:
            for nxt in successors(queue.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return seen

    def units(self) -> list[tuple[str, str]]:
        """The main path as (entry lane, exit lane) units: one per step, one per parallel block."""
        units: list[tuple[str, str]] = []
        node = self.g.starts[0] if self.g.starts else None
        seen: set[str] = set()
        while node is not None and node not in seen:
            seen.add(node)
            nxt = self.g.chosen(node)
            if len(nxt) > 1:
                # A parallel block reads as its longest branch, like one step: the file waits for it.
                join = self._join(nxt)
                chains = [self._chain(branch, join) for branch in nxt]
                chain = max(chains, key=lambda c: (c[0], -chains.index(c)))[1]
                lanes = [lane for lane in map(self._lane, chain) if lane is not None]
                if lanes:
                    units.append((lanes[0], lanes[-1]))
                node = join
                continue
            lane = self._lane(node)
            if lane is not None:
                units.append((lane, lane))
            node = nxt[0] if nxt else None
        return units

    def _chain(self, start: str, stop: str | None) -> tuple[int, list[str]]:
        """(planned seconds, nodes) of the costliest main-path way from `start` up to `stop` (excluded)."""
        best: dict[str, tuple[int, str | None]] = {start: (self.cost(start, "main"), None)}
        for node in self.g.topological(self.g.chosen):
            if node not in best or node == stop:
                continue
            for nxt in self.g.chosen(node):
                value = best[node][0] + (0 if nxt == stop else self.cost(nxt, "main"))
                if nxt not in best or best[nxt][0] < value:
                    best[nxt] = (value, node)
        end = stop if stop in best else max(best, key=lambda n: best[n][0])
        chain, node = [], (best[end][1] if end == stop else end)
        while node is not None:
            chain.append(node)
            node = best[node][1]
        return best[end][0], chain[::-1]

    def _lane(self, node: str) -> str | None:
        step = self.steps.get(node)
        if node in self.inner or (step is not None and step.kind in PERSON_TASKS):
            return step.lane if step is not None else None
        return None

    def _join(self, branches: list[str]) -> str | None:
        """The first node (topologically) that every branch reaches on the main path."""
        common = None
        for branch in branches:
            reach = self._reach(branch, self.g.chosen)
            common = reach if common is None else common & reach
        order = self.g.topological(self.g.chosen)
        return next((n for n in order if n in (common or ())), None)


def _handoffs(units: list[tuple[str, str]]) -> int:
    return sum(1 for before, after in pairwise(units) if before[1] != after[0])


def _splits(process) -> tuple[int, int, int]:
    """(decision points, parallel branches, control-flow complexity) over the whole process tree."""
    decisions = branches = cfc = 0
    for container in [process] + xpath(process, ".//bpmn:subProcess | .//bpmn:transaction | .//bpmn:adHocSubProcess"):
        flows = xpath(container, "./bpmn:sequenceFlow")
        for el in container:
            if not is_bpmn(el) or not el.get("id"):
                continue
            outgoing = [f for f in flows if f.get("sourceRef") == el.get("id")]
            fan = len(outgoing)
            if fan < 2:
                continue
            kind = local_name(el)
            if kind in XOR:
                decisions += 1
                cfc += fan
            elif kind in OR:
                decisions += 1
                cfc += 2 ** fan - 1
            elif kind == "parallelGateway":
                branches += fan
                cfc += 1
            elif kind not in CONTAINERS:
                conditional = any(xpath(f, "./bpmn:conditionExpression") for f in outgoing)
                cfc += 2 ** fan - 1 if conditional else 1
    return decisions, branches, cfc


def metrics_of(xml: bytes | str, key: str | None = None, info: SopInfo | None = None,
               filename: str = "model.bpmn") -> dict:
    """The static figures of the process `key` (default: the first executable one) of a BPMN file."""
    root = parse_bpmn(xml, filename)
    processes = xpath(root, "./bpmn:process")
    if key is not None:
        processes = [p for p in processes if p.get("id") == key]
    else:
        processes = [p for p in processes if p.get("isExecutable", "true") == "true"] or processes
    if not processes:
        raise BpmnValidationError([Problem(f"the file has no process '{key}'" if key else
                                           "the file has no process", filename)])
    process = processes[0]
    info = info or read_sop_info(process, root, filename)
    analysis = _Analysis(process, info.steps)
    people = {sid: s for sid, s in info.steps.items() if s.kind in PERSON_TASKS}
    main_steps = analysis.path_steps("main")
    main_seconds = analysis.critical("main")[0]
    longest_seconds = analysis.critical("longest")[0]
    decisions, branches, cfc = _splits(process)
    signoffs = [sid for sid, s in people.items() if is_signoff(s)]
    return {
        "key": info.key, "name": info.name,
        "limit_seconds": info.limit_seconds, "calendar": info.calendar,
        "steps": len(people), "actors": len(info.lanes), "lanes": list(info.lanes),
        "handoffs": _handoffs(analysis.units()),
        "signoffs": len(signoffs), "signoff_steps": signoffs,
        "decision_points": decisions, "parallel_branches": branches, "complexity": cfc,
        "main_path": main_steps, "main_path_steps": len(main_steps),
        "main_path_seconds": main_seconds,
        "main_path_applicant_seconds": analysis.critical("main", applicant=True)[0],
        "longest_path": analysis.path_steps("longest"), "longest_path_seconds": longest_seconds,
        "loop_steps": [sid for sid in people if sid in analysis.loop_nodes()],
        "step_info": {sid: {"name": s.name, "lane": s.lane, "budget_seconds": s.budget_seconds,
                            "pauses_clock": s.pauses_clock} for sid, s in people.items()},
    }


def delta(a: dict | None, b: dict | None, keys=SCALARS) -> dict:
    """b - a for each scalar figure both sides have (None where either lacks it)."""
    out = {}
    for key in keys:
        left, right = (a or {}).get(key), (b or {}).get(key)
        out[key] = None if left is None or right is None else round(right - left, 6)
    return out
