"""Time budgets of an SOP version: the longest office-side path through its BPMN, and budget sums of a run."""
from __future__ import annotations

from pathlib import Path

from lxml import etree

from workflow_engine.durations import parse_duration

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
APPLICANT_LANE = "Pemohon"


def office_longest_path(path: Path, end: str | None = None) -> tuple[int, list[str]]:
    """Return (seconds, user task ids) of the longest path by `mutu.waktu` from the start event to `end`
    (any end event when None), counting office-side user tasks only: not in the Pemohon lane and not
    `sla.jeda`. A loop is followed once: a node already on the path is not entered again."""
    root = etree.parse(str(path)).getroot()
    process = root.find(f"{BPMN}process")
    lane_of = {ref.text.strip(): lane.get("name") for lane in process.iter(f"{BPMN}lane")
               for ref in lane.findall(f"{BPMN}flowNodeRef")}
    succ: dict[str, list[str]] = {}
    for flow in process.iter(f"{BPMN}sequenceFlow"):
        succ.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    kinds = {el.get("id"): el.tag.removeprefix(BPMN) for el in process if el.get("id")}
    cost = {}
    for task in process.iter(f"{BPMN}userTask"):
        props = {p.get("name"): p.get("value")
                 for p in task.findall(f"{BPMN}extensionElements/{CAMUNDA}properties/{CAMUNDA}property")}
        office = lane_of.get(task.get("id")) != APPLICANT_LANE and props.get("sla.jeda") != "true"
        cost[task.get("id")] = parse_duration(props["mutu.waktu"]) if office else 0

    def best(node: str, on_path: frozenset) -> tuple[int, list[str]] | None:
        if kinds[node] == "endEvent":
            return (0, []) if end in (None, node) else None
        tails = [best(nxt, on_path | {node}) for nxt in succ.get(node, []) if nxt not in on_path]
        tails = [t for t in tails if t is not None]
        if not tails:
            return None
        seconds, steps = max(tails, key=lambda t: t[0])
        here = cost.get(node, 0)
        return seconds + here, ([node] if here else []) + steps

    start = next(el.get("id") for el in process.iter(f"{BPMN}startEvent"))
    found = best(start, frozenset())
    assert found is not None, f"no path from {start} to {end or 'an end event'} in {path}"
    return found


def office_budget_of_run(view: dict) -> int:
    """Sum of the time budgets of the office-side steps a case completed (parallel steps all count)."""
    return sum(t["budget_seconds"] or 0 for t in view["tasks"]
               if t["state"] == "completed" and t["lane"] != APPLICANT_LANE and not t["pauses_clock"])


def assert_applicant_time_paused(view: dict) -> None:
    """The clock paused exactly when the case passed through an applicant-side (sla.jeda) step."""
    waited = [t for t in view["tasks"] if t["pauses_clock"] and t["state"] == "completed"]
    if waited:
        expected = sum(t["elapsed_seconds"] for t in waited)  # 24x7 calendar: paused time is wall time
        assert expected > 0 and abs(view["sla"]["paused_seconds"] - expected) < 1
    else:
        assert view["sla"]["paused_seconds"] == 0
