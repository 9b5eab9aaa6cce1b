"""Warnings that point at a simpler SOP: long paths, hand-off chains, steps that could merge, sign-off chains."""
from __future__ import annotations

from .bpmn_xml import EMBEDDED_SUBPROCESSES, is_bpmn, line_of, xpath
from .errors import Problem
from .sop_graph import FlowGraph
from .sop_info import SopInfo
from .sop_words import is_signoff_name

# Steps are the activities a person does; plain tasks count too, since other tools draw steps with them.
STEP_KINDS = ("userTask", "manualTask", "task")
HANDOFF_CHANGES = 3   # this many lane changes in a row is a hand-off chain
SIGNOFF_STEPS = 3     # this many approvals in a row is a sign-off chain
_MAX_EACH = 10  # reports per rule, so a huge model does not bury the list


def simplification_warnings(root, process, info: SopInfo, filename: str | None) -> list[Problem]:
    """Return the simplification warnings for the main process and its subprocesses."""
    lint = _Lint(root, process, info, filename)
    lint.path_over_limit()
    for container in [process] + xpath(process, ".//*"):
        if container is process or is_bpmn(container, *EMBEDDED_SUBPROCESSES):
            graph = FlowGraph(container)
            lint.handoff_chains(graph)
            lint.merge_candidates(graph)
            lint.signoff_chains(graph)
    return lint.problems


def human(seconds: int) -> str:
    """A duration for a message: '26 h', '1 h 30 min', '45 min', '2 d 4 h'."""
    minutes = int(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days and days * 24 + hours > 72:
        parts = [f"{days} d", f"{hours} h" if hours else ""]
    else:
        parts = [f"{days * 24 + hours} h" if days or hours else "", f"{mins} min" if mins else ""]
    return " ".join(p for p in parts if p) or f"{int(seconds)} s"


class _Lint:
    def __init__(self, root, process, info: SopInfo, filename: str | None):
        self.root, self.process, self.info, self.file = root, process, info, filename
        self.problems: list[Problem] = []
        self.processes = {p.get("id"): p for p in xpath(root, "./bpmn:process") if p.get("id")}

    def add(self, code: str, message: str, element) -> None:
        if sum(1 for p in self.problems if p.code == code) < _MAX_EACH:
            self.problems.append(Problem(message, self.file, element.get("id"), line_of(element), "warning", code))

    def name(self, node_id: str, element=None) -> str:
        step = self.info.steps.get(node_id)
        if step is not None:
            return step.name
        label = " ".join(((element.get("name") if element is not None else None) or "").split())
        return label or node_id

    def lane(self, node_id: str) -> str | None:
        step = self.info.steps.get(node_id)
        return step.lane if step is not None else None

    def steps_of(self, graph: FlowGraph) -> set[str]:
        return {n for n, el in graph.nodes.items() if is_bpmn(el, *STEP_KINDS)}

    # -- the longest path against the service limit --------------------------------------------------
    def path_over_limit(self) -> None:
        total, steps = self._longest(self.process, set())
        if total <= self.info.limit_seconds:
            return
        listed = ", ".join(f"\"{name}\" {human(sec)}" for name, sec in steps)
        self.add("path-over-limit", f"the longest path needs {human(total)} of step budgets, more than the service "
                 f"limit of {human(self.info.limit_seconds)}: {listed}; shorten budgets, drop steps or run "
                 "checks side by side", self.process)

    def _longest(self, container, visiting: set) -> tuple[int, list[tuple[str, int]]]:
        """The costliest loop-free path through a container, counting budgets of office-side steps."""
        graph = FlowGraph(container)
        inner: dict[str, tuple[int, list]] = {}

        def cost(node_id: str) -> int:
            element = graph.nodes[node_id]
            if is_bpmn(element, *EMBEDDED_SUBPROCESSES):
                inner[node_id] = self._longest(element, visiting)
            elif is_bpmn(element, "callActivity"):
                called = self.processes.get((element.get("calledElement") or "").strip())
                key = id(called)
                if called is not None and key not in visiting:
                    inner[node_id] = self._longest(called, visiting | {key})
            else:
                step = self.info.steps.get(node_id)
                # Applicant-side steps pause the clock, so they do not spend the service limit.
                return step.budget_seconds or 0 if step is not None and not step.pauses_clock else 0
            return inner.get(node_id, (0, []))[0]

        total, path = graph.longest(cost)
        steps: list[tuple[str, int]] = []
        for node_id in path:
            if node_id in inner:
                steps += inner[node_id][1]
            else:
                seconds = cost(node_id)
                if seconds:
                    steps.append((self.name(node_id, graph.nodes[node_id]), seconds))
        return total, steps

    # -- lanes and steps ---------------------------------------------------------------------------------
    def handoff_chains(self, graph: FlowGraph) -> None:
        def follows(before: str, after: str) -> bool:
            lane_a, lane_b = self.lane(before), self.lane(after)
            return bool(lane_a and lane_b and lane_a != lane_b)

        for chain in graph.chains(self.steps_of(graph), follows, HANDOFF_CHANGES + 1):
            route = " -> ".join(f"\"{self.name(n)}\" ({self.lane(n)})" for n in chain)
            self.add("handoff-chain", f"the file changes hands {len(chain) - 1} times in a row: {route}; "
                     "let one lane do neighbouring steps where it can", graph.nodes[chain[0]])

    def merge_candidates(self, graph: FlowGraph) -> None:
        next_of: dict[str, str] = {}
        for node_id, element in graph.nodes.items():
            if not is_bpmn(element, "userTask") or len(graph.flows[node_id]) != 1:
                continue
            flow = graph.flows[node_id][0]
            target = flow.get("targetRef")
            after = graph.nodes.get(target)
            if after is None or target == node_id or not is_bpmn(after, "userTask"):
                continue
            if len(graph.incoming[target]) != 1 or xpath(flow, "./bpmn:conditionExpression"):
                continue
            if graph.boundary.get(node_id) or graph.boundary.get(target):
                continue  # a timer or error on one of them would lose its meaning in a merged step
            first, second = self.info.steps.get(node_id), self.info.steps.get(target)
            if first is None or second is None or not first.lane or first.lane != second.lane \
                    or first.pauses_clock != second.pauses_clock:
                continue
            next_of[node_id] = target
        for start in [n for n in next_of if n not in next_of.values()]:
            run = [start]
            while run[-1] in next_of and next_of[run[-1]] not in run:
                run.append(next_of[run[-1]])
            names = _and(f"\"{self.name(n)}\"" for n in run)
            self.add("merge-candidates", f"steps {names} follow each other in lane \"{self.lane(start)}\"; "
                     "consider merging them into one step", graph.nodes[start])

    def signoff_chains(self, graph: FlowGraph) -> None:
        approvals = {n for n in self.steps_of(graph) if is_signoff_name(self.name(n), n)}

        def follows(before: str, after: str) -> bool:
            return before in approvals and after in approvals

        for chain in graph.chains(self.steps_of(graph), follows, SIGNOFF_STEPS):
            names = _and(f"\"{self.name(n)}\"" for n in chain)
            self.add("signoff-chain", f"{len(chain)} sign-offs in a row: {names}; two are usually enough "
                     "(one check, one signature)", graph.nodes[chain[0]])


def _and(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
