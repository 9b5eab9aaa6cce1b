"""Simplification findings: concrete suggestions from an SOP's model and its recorded cases, most time saved first.

Each candidate is checked by a "what if" simulation of the same cases (every step and gateway
draws from its own random stream, so the two runs differ only by the change), and its
estimated_saving_seconds is the mean drop in SLA-counted case time. Candidates that save no time
are left out, and so are those saving less than 1 % of the service limit. The rules:

- waiting: an office step whose median wait (ready -> claimed, office hours) is at least
  WAIT_RATIO times its median work (claimed -> completed) and at least WAIT_MIN; only steps
  claimed before completion count. What if: the wait is halved.
- signoff_chain: SIGNOFF_STEPS or more approval steps in a row on the likeliest path (the same
  test as the SOP checks: a word of the name or a "Kepala ..." lane). What if: only the last one
  stays.
- parallel: two office steps in a row in different lanes, neither an approval, where the second
  can do without the first: no form field of the first is in the second's form, and no condition
  on the way between them reads one (an approximation: documents passed on paper are not seen).
  What if: they run side by side between a parallel split and join.
- over_budget: a step whose median recorded duration, counted on the SOP's calendar as the case
  page counts it, is over its budget (mutu.waktu). What if: its durations shrink so that the
  median meets the budget.
- rework: a gateway whose return or rework branch took more than REWORK_SHARE of the passes.
  What if: half as many files go back.
"""
from __future__ import annotations

import statistics
from dataclasses import replace

from .sim_model import SopModel
from .sop_simplify import SIGNOFF_STEPS
from .sop_words import is_signoff_name

WAIT_RATIO = 3.0
WAIT_MIN = 30 * 60.0
REWORK_SHARE = 0.20
MIN_SAVING_SHARE = 0.01  # a finding must save at least 1 % of the service limit (about 14 min of 24 h)
MAX_PER_RULE = 5
MAX_FINDINGS = 12


def find(sim, *, cases: int = 400, seed: int = 0) -> list[dict]:
    """The ranked findings of a simulator's model and history (see the module docstring)."""
    base = sim.results(cases, seed)
    found = []
    for candidate in (_waiting(sim) + _signoff_chains(sim) + _parallel(sim) + _over_budget(sim)
                      + _rework(sim)):
        variant = candidate.pop("variant")
        other = variant.results(cases, seed)
        saving = statistics.fmean(b[1] - o[1] for b, o in zip(base, other))
        if saving < max(60.0, MIN_SAVING_SHARE * sim.model.info.limit_seconds):
            continue
        candidate["estimated_saving_seconds"] = round(saving)
        candidate["evidence"].update(
            met_share=round(sum(ok for *_, ok in base) / cases, 4),
            met_share_after=round(sum(ok for *_, ok in other) / cases, 4), simulated_cases=cases)
        found.append(candidate)
    found.sort(key=lambda f: (-f["estimated_saving_seconds"], f["code"], f["element_id"]))
    return found[:MAX_FINDINGS]


def _finding(code: str, node, message: str, evidence: dict, variant) -> dict:
    return {"code": code, "element_id": node.id, "element_name": node.name, "message": message,
            "evidence": evidence, "variant": variant}


def _office_samples(sim, node) -> list:
    samples, _, _ = sim.history.chosen_samples(node)
    return samples if not node.pauses_clock else []


def _waiting(sim) -> list[dict]:
    found = []
    for node in sim.model.tasks:
        claimed = [s for s in _office_samples(sim, node) if s.office_wait is not None]
        if len(claimed) < 5 or sim.sources[node.id].timebase != "office":
            continue
        wait = statistics.median(s.office_wait for s in claimed)
        work = statistics.median(s.office_work for s in claimed)
        if wait < WAIT_MIN or wait < WAIT_RATIO * work:
            continue
        source = _copy_source(sim.sources[node.id], [s.office_wait / 2 + s.office_work for s in claimed])
        message = (f"'{node.name}' waits a median of {human(wait)} before anyone picks it up, against "
                   f"{human(work)} of work: send it straight to a named person, or set the lane a pick-up "
                   f"target (estimate: the wait halved)")
        found.append(_finding("waiting", node, message, {
            "median_wait_seconds": round(wait), "median_work_seconds": round(work), "samples": len(claimed),
            "lane": node.lane}, sim.variant(sources={**sim.sources, node.id: source})))
    return found[:MAX_PER_RULE]


def main_next(sim, task_id: str) -> str | None:
    """The step that follows a task on its likeliest branch; None at a parallel split or the end."""
    model = sim.model
    node = model.nodes[task_id]
    if len(node.outgoing) != 1:
        return None
    current = model.flows[node.outgoing[0]].target
    for _ in range(len(model.nodes)):
        nxt = model.nodes[current]
        if nxt.kind == "task":
            return current
        if nxt.kind != "gateway" or not nxt.outgoing or (nxt.gateway == "parallel" and len(nxt.outgoing) > 1):
            return None
        shares = sim.shares.get(current) or {nxt.outgoing[0]: 1.0}
        current = model.flows[max(nxt.outgoing, key=lambda f: shares.get(f, 0.0))].target
    return None


def _signoff_chains(sim) -> list[dict]:
    model, found, used = sim.model, [], set()
    approvals = {n.id for n in model.tasks if n.person and not n.pauses_clock and is_signoff_name(n.name, n.id)}
    for first in [n for n in model.tasks if n.id in approvals]:
        if first.id in used:
            continue
        chain = [first.id]
        while (nxt := main_next(sim, chain[-1])) in approvals and nxt not in chain:
            chain.append(nxt)
        if len(chain) < SIGNOFF_STEPS or any(c in used for c in chain):
            continue
        used.update(chain)
        names = ", ".join(f"'{model.nodes[c].name}' ({model.nodes[c].lane or '-'})" for c in chain)
        message = (f"{len(chain)} approvals in a row: {names}. Let the last signer sign once (electronic "
                   f"signature, TTE) or delegate, instead of passing the file up the chain")
        found.append(_finding("signoff_chain", first, message, {
            "steps": chain, "names": [model.nodes[c].name for c in chain],
            "lanes": [model.nodes[c].lane for c in chain]},
            sim.variant(model.without(chain[:-1]))))
    return found[:MAX_PER_RULE]


def _independent(model: SopModel, a, b) -> bool:
    """The second step needs nothing the first records (see the module docstring)."""
    fields = set(a.fields)
    if not fields:
        return True
    read = set(b.fields)
    for flow in model.flows_between(a.id, b.id):
        read |= flow.reads()
    return not fields & read


def _parallel(sim) -> list[dict]:
    model, found = sim.model, []
    for a in model.tasks:
        b_id = model.consecutive(a.id)
        if b_id is None:
            continue
        b = model.nodes[b_id]
        office = all(n.person and not n.pauses_clock and not is_signoff_name(n.name, n.id) for n in (a, b))
        if not office or a.lane == b.lane or not _independent(model, a, b):
            continue
        message = (f"'{b.name}' ({b.lane or '-'}) waits for '{a.name}' ({a.lane or '-'}) but reads nothing "
                   f"it records: run both side by side (a parallel gateway) if it needs no paper from it")
        found.append(_finding("parallel", a, message, {"steps": [a.id, b.id], "names": [a.name, b.name],
                                                       "lanes": [a.lane, b.lane]},
                              sim.variant(model.in_parallel(a.id, b.id))))
    return found[:MAX_PER_RULE]


def _over_budget(sim) -> list[dict]:
    found = []
    counted = sim.sla_calendar.kind == "24x7"
    for node in sim.model.tasks:
        samples = _office_samples(sim, node)
        source = sim.sources[node.id]
        if not node.budget_seconds or len(samples) < 5 or source.kind != "history":
            continue
        durations = [s.calendar_total if counted else s.office_total for s in samples]
        median = statistics.median(durations)
        if median <= node.budget_seconds:
            continue
        # What if it kept its budget as the case page counts it: durations on the SOP's calendar, scaled.
        factor = node.budget_seconds / median
        changed = replace(source, values=[d * factor for d in durations], n=len(durations),
                          timebase="calendar" if counted else "office", rescaled=True)
        over = sum(d > node.budget_seconds for d in durations) / len(durations)
        message = (f"'{node.name}' takes a median of {human(median)} against its budget of "
                   f"{human(node.budget_seconds)} ({over:.0%} of runs over): find out what holds it up, or "
                   f"give it a budget it can keep")
        found.append(_finding("over_budget", node, message, {
            "median_seconds": round(median), "budget_seconds": node.budget_seconds,
            "over_budget_share": round(over, 4), "samples": len(samples)},
            sim.variant(sources={**sim.sources, node.id: changed})))
    found.sort(key=lambda f: -f["evidence"]["median_seconds"] / f["evidence"]["budget_seconds"])
    return found[:MAX_PER_RULE]


def _rework(sim) -> list[dict]:
    found = []
    for gateway_id, shares in sim.shares.items():
        if sim.share_sources[gateway_id]["kind"] != "history":
            continue
        back = [f for f in shares if f in sim.rework]
        share = sum(shares[f] for f in back)
        if not back or share <= REWORK_SHARE:
            continue
        forward = [f for f in shares if f not in sim.rework]
        forward_total = sum(shares[f] for f in forward) or 1.0
        changed = {f: (shares[f] / 2 if f in sim.rework else shares[f] + (share / 2) * shares[f] / forward_total)
                   for f in shares}
        node = sim.model.nodes[gateway_id]
        targets = ", ".join(sorted({sim.model.nodes[sim.model.flows[f].target].name for f in back}))
        message = (f"{share:.0%} of the files at '{node.name}' go back ({targets}): a checklist the applicant "
                   f"gets beforehand, or checking at the counter, would send fewer back (estimate: half as many)")
        found.append(_finding("rework", node, message, {
            "return_share": round(share, 4), "passes": sim.share_sources[gateway_id]["n"],
            "flows": back, "names": sorted({sim.model.nodes[sim.model.flows[f].target].name for f in back})}, sim.variant(shares={**sim.shares, gateway_id: changed})))
    return found[:MAX_PER_RULE]


def _copy_source(source, values: list):
    return replace(source, values=values, n=len(values))


def human(seconds: float) -> str:
    """A duration for a message: '2 h 30 min', '45 min', '3 d 4 h'."""
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days >= 3:
        return f"{days} d {hours} h" if hours else f"{days} d"
    hours += days * 24
    return " ".join(p for p in (f"{hours} h" if hours else "", f"{mins} min" if mins else "") if p) or "0 min"

