"""A discrete-event token simulation of an SOP model, timed by its history, against its service limit.

How a simulated case runs:
- It starts at a moment drawn from the recorded case starts of the SOP (any version); with no
  history, at an even moment in office hours of four reference weeks (from Monday 6 October 2025).
- Tokens move along flows. A parallel split sends a token down every branch and its join waits
  for all of them (the case goes on at the latest arrival); an inclusive split takes each branch
  with its own share and its join waits while any live token can still reach it; an exclusive or
  event-based split takes one branch.
- Branch shares come from history (sim_history.History.branch_counts). Without at least
  MIN_BRANCH_VISITS recorded passes, or when a branch begins with steps never recorded, the
  no-history rule applies: rework branches (those that lead back to the gateway) share
  NO_HISTORY_REWORK; of the rest the most likely forward branch (no "tolak/tidak/reject" in its
  name or condition, a condition rather than the default, first in the file) gets
  NO_HISTORY_MAIN and the others split what is left. Inclusive splits take each conditioned
  branch with probability 1/2. A gateway passed more than LOOP_CAP times in one case takes
  only forward branches.
- A step's duration is a bootstrap draw from its recorded durations (office working time, or
  calendar time for applicant-side steps and steps mostly finished outside office hours). With
  fewer than MIN_SAMPLES records it is drawn from a lognormal whose median is the step's budget
  (mutu.waktu) and whose sigma is BUDGET_SIGMA (0.5: a tenth of draws below 0.53 x budget, a
  tenth above 1.9 x budget); a person's step without a budget uses 30 minutes (office) or one
  day (applicant); an automatic step takes no time.
- Timer events wait their ISO duration; a boundary timer fires when its step is still open then
  (an interrupting one ends the step there). Message and signal events pass at once.
- The case clock starts at registration or at the completion of the step named in
  sla.mulaiSetelah, pauses while an applicant-side step (sla.jeda) is open, and is counted with
  sla.case_clock on the SOP's calendar, exactly as recorded cases are judged.
Cases are independent: there is no queue of cases competing for staff, so a load far above the
recorded one is not modelled (its waiting time is in the recorded durations).
"""
from __future__ import annotations

import copy
import heapq
import math
import random
import re
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .sim_history import MIN_BRANCH_VISITS, History, StepSource, Timeline, epoch, moment
from .sim_model import END, SopModel
from .sim_summary import summarize
from .sla import case_clock

NO_HISTORY_REWORK = 0.10
NO_HISTORY_MAIN = 0.90
BUDGET_SIGMA = 0.5
DEFAULT_OFFICE_SECONDS = 30 * 60.0
DEFAULT_APPLICANT_SECONDS = 86400.0
LOOP_CAP = 10
MAX_EVENTS = 20_000
REFERENCE_WEEKS = (datetime(2025, 10, 6, tzinfo=UTC), 4)
_NEGATIVE = re.compile(r"\b(tolak|ditolak|tidak|tak|belum|kurang|gagal|batal|reject|rejected|no|not|deny|"
                       r"denied|fail|failed)\b|(^|_)(tidak|tolak|ditolak|belum|kurang)", re.IGNORECASE)


@dataclass
class CaseRun:
    """What one simulated case did."""

    start: float
    end: float
    clock_start: float | None
    pauses: list
    visits: list          # (node_id, ready, done)
    critical: list        # node ids on the critical path
    stuck: bool


class Simulator:
    """Runs cases through one model with one history on the SOP's calendar and the office calendar."""

    def __init__(self, model: SopModel, history: History, sla_calendar, *, at_risk_share: float = 0.75,
                 shares: tuple[dict, dict] | None = None):
        self.model = model
        self.history = history
        self.sla_calendar = sla_calendar
        self.at_risk_share = at_risk_share
        self.office: Timeline = history.office
        self.sources: dict[str, StepSource] = {
            n.id: history.source_for(n, budget_sigma=BUDGET_SIGMA, default_office=DEFAULT_OFFICE_SECONDS,
                                     default_applicant=DEFAULT_APPLICANT_SECONDS) for n in model.tasks}
        self.rework = model.rework_flows()
        # A "what if" run of an edited model may reuse the shares of the gateways it kept.
        self.shares, self.share_sources = shares or self._shares()
        self.reach = {node_id: set(model.reach(node_id)) for node_id in model.nodes}
        self.boundaries = defaultdict(list)
        for node in model.nodes.values():
            if node.kind == "boundary" and node.attached_to and node.timer_seconds is not None:
                self.boundaries[node.attached_to].append(node)
        self.starts = history.starts or self._reference_starts()
        self.zone = history.zone

    # --- branch shares ---------------------------------------------------------------------------
    def _shares(self) -> tuple[dict, dict]:
        counts = self.history.branch_counts(self.model)
        seen_steps = self.history.steps_seen(self.model)
        shares, sources = {}, {}
        for gateway in self.model.gateways:
            if len(gateway.outgoing) < 2 or gateway.gateway == "parallel":
                continue
            flow_counts, passes = counts.get(gateway.id, ({}, 0))
            known = all((self.model.first_tasks(f) - {END}) <= seen_steps for f in gateway.outgoing)
            if passes >= MIN_BRANCH_VISITS and known:
                shares[gateway.id] = {f: flow_counts.get(f, 0.0) / passes for f in gateway.outgoing}
                sources[gateway.id] = {"kind": "history", "n": passes}
            else:
                shares[gateway.id] = self.default_shares(gateway)
                sources[gateway.id] = {"kind": "rule", "n": passes}
        return shares, sources

    def default_shares(self, gateway) -> dict[str, float]:
        """The no-history rule (see the module docstring)."""
        flows = gateway.outgoing
        if gateway.gateway == "inclusive":
            return {f: (0.0 if f == gateway.default else 0.5) for f in flows}
        rework = [f for f in flows if f in self.rework]
        forward = [f for f in flows if f not in self.rework] or flows
        result = {f: 0.0 for f in flows}
        rework_total = NO_HISTORY_REWORK if rework and forward != flows else 0.0
        for f in rework:
            result[f] = rework_total / len(rework)
        main = max(forward, key=lambda f: (self._score(gateway, f), -forward.index(f)))
        rest = [f for f in forward if f != main]
        result[main] = (1 - rework_total) * (NO_HISTORY_MAIN if rest else 1.0)
        for f in rest:
            result[f] = (1 - rework_total) * (1 - NO_HISTORY_MAIN) / len(rest)
        return result

    def _score(self, gateway, flow_id: str) -> float:
        flow = self.model.flows[flow_id]
        text = " ".join(filter(None, (flow.name, flow.condition, self.model.nodes[flow.target].name)))
        score = -2.0 if _NEGATIVE.search(text) else 0.0
        return score - (0.5 if flow_id == gateway.default else 0.0)

    def _reference_starts(self) -> list[float]:
        first, weeks = REFERENCE_WEEKS
        result = []
        for lo, hi in self.office.calendar.intervals(first):
            if lo >= first + timedelta(weeks=weeks):
                break
            result += [epoch(lo) + k * (epoch(hi) - epoch(lo)) / 8 for k in range(8)]
        return result or [epoch(first)]

    # --- one case --------------------------------------------------------------------------------
    def variant(self, model: SopModel | None = None, **changes) -> Simulator:
        """A copy for a "what if" run: another model (same gateways' shares), sources or shares changed."""
        other = Simulator(model, self.history, self.sla_calendar, at_risk_share=self.at_risk_share,
                          shares=(self.shares, self.share_sources)) if model is not None else copy.copy(self)
        for name, value in changes.items():
            setattr(other, name, value)
        return other

    def finish(self, node_id: str, t: float, rng: random.Random) -> float:
        """When a task that became ready at `t` is done."""
        source = self.sources[node_id]
        if source.values:
            value = rng.choice(source.values)
            if isinstance(value, tuple):
                days, clock, seconds, in_office = value
                local = datetime.fromtimestamp(t, self.zone)
                day = self.history.day_after(local.date(), days, in_office)
                done = datetime.combine(day, datetime.min.time(), self.zone).timestamp() + clock
                return done if done >= t else t + seconds
        elif source.median:
            value = source.median * math.exp(rng.gauss(0.0, source.sigma))
        else:
            return t
        return self.office.add(t, value) if source.timebase == "office" else t + value

    def run_case(self, case_seed: int) -> CaseRun:
        """One case; each step and gateway draws from its own stream, so "what if" runs stay comparable."""
        model, nodes = self.model, self.model.nodes
        streams: dict[str, random.Random] = {}

        def stream(node_id: str) -> random.Random:
            found = streams.get(node_id)
            if found is None:
                found = streams[node_id] = random.Random(case_seed * 4_294_967_311 + zlib.crc32(node_id.encode()))
            return found

        start = stream("").choice(self.starts)
        heap, seq = [], 0
        scopes = {0: [0, None, None, start, None]}  # live tokens, sub node, parent scope, last end, last prev
        visits, prevs = [], []
        waiting: dict[tuple, list] = defaultdict(list)
        passes = Counter()
        clock_start = None if model.info.clock_starts_after else start
        pauses, last = [], (start, None)

        def push(t, node_id, prev, scope):
            nonlocal seq
            seq += 1
            scopes[scope][0] += 1
            heapq.heappush(heap, (t, seq, node_id, prev, scope))

        for start_id in model.starts:
            push(start, start_id, None, 0)
        events, stuck = 0, False
        while heap:
            events += 1
            if events > MAX_EVENTS:
                stuck = True
                break
            t, _, node_id, prev, scope = heapq.heappop(heap)
            scopes[scope][0] -= 1
            node = nodes[node_id]
            kind = node.kind
            if kind == "task":
                done = self.finish(node_id, t, stream(node_id))
                index = len(visits)
                for boundary in self.boundaries.get(node_id, ()):
                    fires = t + boundary.timer_seconds
                    if fires < done:
                        for target in model.targets(boundary.id):
                            push(fires, target, index, scope)
                        if boundary.cancel_activity:
                            done = None
                            break
                visits.append((node_id, t, done if done is not None else fires))
                prevs.append(prev)
                if node.pauses_clock:
                    pauses.append((t, visits[-1][2]))
                if done is None:
                    continue
                if clock_start is None and model.info.clock_starts_after == node_id:
                    clock_start = done
                for target in model.targets(node_id):
                    push(done, target, index, scope)
            elif kind in ("sub", "call") and node.inner_starts:
                inner = len(scopes)
                scopes[inner] = [0, node_id, scope, t, prev]
                for inner_start in node.inner_starts:
                    push(t, inner_start, prev, inner)
            elif kind == "gateway":
                self._gateway(node, t, prev, scope, stream(node_id), push, waiting, passes, heap, scopes)
            elif kind == "event" and node.timer_seconds:
                for target in model.targets(node_id):
                    push(t + node.timer_seconds, target, prev, scope)
            elif kind == "end":
                if node.terminate:
                    heap.clear()
                    last = max(last, (t, prev), key=lambda x: x[0])
                    break
                info = scopes[scope]
                if t >= info[3]:
                    info[3], info[4] = t, prev
                if scope == 0:
                    last = max(last, (t, prev), key=lambda x: x[0])
                elif info[0] == 0 and not any(k[1] == scope for k, v in waiting.items() if v):
                    for target in model.targets(info[1]):
                        push(info[3], target, info[4], info[2])
            else:  # start events, plain events, tasks-to-be with no inside: pass the token on
                for target in model.targets(node_id):
                    push(t, target, prev, scope)
            if waiting:
                self._release_inclusive(waiting, heap, scopes, push, stream, passes)
        if any(waiting.values()):
            stuck = True
        end, prev = last
        if visits:
            end = max(end, max(v[2] for v in visits)) if stuck else end
        critical = []
        while prev is not None:
            critical.append(visits[prev][0])
            prev = prevs[prev]
        return CaseRun(start, end, clock_start, pauses, visits, critical, stuck)

    def _gateway(self, node, t, prev, scope, rng, push, waiting, passes, heap, scopes) -> None:
        if len(node.incoming) > 1 and node.gateway in ("parallel", "inclusive"):
            arrived = waiting[(node.id, scope)]
            arrived.append((t, prev))
            scopes[scope][0] += 1
            if node.gateway == "inclusive" or len(arrived) < len(node.incoming):
                return
            t, prev = max(arrived[:len(node.incoming)], key=lambda x: x[0])
            del arrived[:len(node.incoming)]
            scopes[scope][0] -= len(node.incoming)
        self._split(node, t, prev, scope, rng, push, passes)

    def _split(self, node, t, prev, scope, rng, push, passes) -> None:
        flows = node.outgoing
        if len(flows) <= 1 or node.gateway == "parallel":
            chosen = flows
        else:
            passes[node.id] += 1
            shares = dict(self.shares.get(node.id) or {f: 1.0 for f in flows})
            if passes[node.id] > LOOP_CAP and any(f not in self.rework for f in flows):
                shares = {f: (0.0 if f in self.rework else s) for f, s in shares.items()}
                if not any(shares.values()):
                    shares = {f: (0.0 if f in self.rework else 1.0) for f in flows}
            if node.gateway == "inclusive":
                chosen = [f for f in flows if rng.random() < shares[f]]
                if not chosen:
                    chosen = [node.default] if node.default in flows else [max(flows, key=lambda f: shares[f])]
            else:
                weights = [shares[f] for f in flows]
                chosen = rng.choices(flows, weights=weights)[0:1] if sum(weights) > 0 else flows[:1]
        for flow_id in chosen:
            push(t, self.model.flows[flow_id].target, prev, scope)

    def _release_inclusive(self, waiting, heap, scopes, push, stream, passes) -> None:
        for (node_id, scope), arrived in list(waiting.items()):
            node = self.model.nodes[node_id]
            if not arrived or node.gateway != "inclusive":
                continue
            upstream = any(s == scope and node_id in self.reach[n] for _, _, n, _, s in heap) or any(
                other != node_id and s == scope and v and node_id in self.reach[other]
                for (other, s), v in waiting.items())
            if upstream:
                continue
            t, prev = max(arrived, key=lambda x: x[0])
            scopes[scope][0] -= len(arrived)
            arrived.clear()
            self._split(node, t, prev, scope, stream(node_id), push, passes)

    # --- many cases ------------------------------------------------------------------------------
    def run(self, cases: int = 1000, seed: int = 0) -> dict:
        """Simulate `cases` cases and summarise them (see sim_summary.summarize for the keys)."""
        began = time.perf_counter()
        summary = summarize(self, self.results(cases, seed))
        summary["seed"] = seed
        summary["elapsed_seconds"] = round(time.perf_counter() - began, 3)
        return summary

    def results(self, cases: int, seed: int) -> list[tuple]:
        """(CaseRun, SLA-counted seconds, met the limit) for each simulated case."""
        info = self.model.info
        results = []
        for index in range(cases):
            run = self.run_case(seed * 1_000_003 + index)
            closed = moment(run.end)
            clock = case_clock(clock_start=moment(run.clock_start) if run.clock_start is not None else None,
                               limit_seconds=info.limit_seconds, calendar=self.sla_calendar,
                               pauses=[(moment(a), moment(b)) for a, b in run.pauses], as_of=closed,
                               closed_at=closed, at_risk_share=self.at_risk_share)
            results.append((run, clock.used_seconds, clock.state == "met"))
        return results
