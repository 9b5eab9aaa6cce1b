"""The sequence-flow graph of one process or subprocess, with loops cut so that paths can be measured."""
from __future__ import annotations

from typing import Callable, Iterable

from .bpmn_checks import FLOW_NODES
from .bpmn_xml import is_bpmn, xpath


class FlowGraph:
    """Flow nodes directly inside one container and the flows between them, as a loop-free graph."""

    def __init__(self, container):
        self.container = container
        self.nodes = {c.get("id"): c for c in container if is_bpmn(c, *FLOW_NODES) and c.get("id")}
        self.succ: dict[str, list[str]] = {n: [] for n in self.nodes}
        self.pred: dict[str, list[str]] = {n: [] for n in self.nodes}
        self.flows: dict[str, list] = {n: [] for n in self.nodes}  # outgoing flow elements per node
        self.incoming: dict[str, list] = {n: [] for n in self.nodes}
        for flow in xpath(container, "./bpmn:sequenceFlow"):
            source, target = flow.get("sourceRef"), flow.get("targetRef")
            if source in self.nodes and target in self.nodes:
                self._link(source, target)
                self.flows[source].append(flow)
                self.incoming[target].append(flow)
        self.boundary: dict[str, list[str]] = {}
        for node_id, node in self.nodes.items():
            host = node.get("attachedToRef")
            if is_bpmn(node, "boundaryEvent") and host in self.nodes:
                # A boundary event is another way out of its activity.
                self._link(host, node_id)
                self.boundary.setdefault(host, []).append(node_id)
        self.order, self.dag_pred = self._cut_loops()

    def _link(self, source: str, target: str) -> None:
        self.succ[source].append(target)
        self.pred[target].append(source)

    def _roots(self) -> Iterable[str]:
        starts = [n for n, el in self.nodes.items() if is_bpmn(el, "startEvent")]
        sources = [n for n in self.nodes if not self.pred[n]]
        return list(dict.fromkeys(starts + sources + list(self.nodes)))

    def _cut_loops(self) -> tuple[list[str], dict[str, list[str]]]:
        """Depth-first from the start events; an edge back to a node on the current path is a loop and is dropped."""
        state: dict[str, int] = {}  # 1 on the current path, 2 finished
        postorder: list[str] = []
        back: set[tuple[str, str]] = set()
        for root in self._roots():
            if root in state:
                continue
            state[root] = 1
            stack = [(root, iter(self.succ[root]))]
            while stack:  # iterative: a long SOP must not hit Python's recursion limit
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    stack.pop()
                    state[node] = 2
                    postorder.append(node)
                elif state.get(child) == 1:
                    back.add((node, child))
                elif child not in state:
                    state[child] = 1
                    stack.append((child, iter(self.succ[child])))
        order = postorder[::-1]
        dag_pred = {n: [p for p in self.pred[n] if (p, n) not in back] for n in self.nodes}
        return order, dag_pred

    def sinks(self) -> list[str]:
        has_next = {p for n in self.nodes for p in self.dag_pred[n]}
        return [n for n in self.order if n not in has_next]

    def longest(self, cost: Callable[[str], int]) -> tuple[int, list[str]]:
        """Return the largest sum of node costs along a loop-free path and that path's nodes."""
        best: dict[str, tuple[int, str | None]] = {}
        for node in self.order:
            before = max(((best[p][0], p) for p in self.dag_pred[node] if p in best), default=(0, None))
            best[node] = (before[0] + cost(node), before[1])
        if not best:
            return 0, []
        node = max(self.sinks() or self.order, key=lambda n: best[n][0])
        total, path = best[node][0], []
        while node is not None:
            path.append(node)
            node = best[node][1]
        return total, path[::-1]

    def chains(self, steps: set[str], follows: Callable[[str, str], bool], minimum: int) -> list[list[str]]:
        """Return the longest runs of steps in which each step `follows` the one before it.

        Steps are consecutive when only events and gateways lie between them. A run is kept when it
        has at least `minimum` steps and is not part of a longer run already kept.
        """
        last: dict[str, set[str]] = {}  # the steps met last on the way into each node
        run: dict[str, list[str]] = {}
        for node in self.order:
            before: set[str] = set()
            for p in self.dag_pred[node]:
                before |= {p} if p in steps else last.get(p, set())
            last[node] = before
            if node in steps:
                candidates = [run[p] for p in sorted(before) if p in run and follows(p, node)]
                run[node] = max(candidates, key=len, default=[]) + [node]
        kept: list[list[str]] = []
        for chain in sorted((c for c in run.values() if len(c) >= minimum), key=len, reverse=True):
            if not any(_is_part(chain, longer) or chain[0] == longer[0] or chain[-1] == longer[-1]
                       for longer in kept):
                kept.append(chain)
        return kept


def _is_part(chain: list[str], longer: list[str]) -> bool:
    size = len(chain)
    return any(longer[i:i + size] == chain for i in range(len(longer) - size + 1))
