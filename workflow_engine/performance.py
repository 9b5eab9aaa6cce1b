"""Measured performance of one SOP version from its recorded cases, as plain numbers.

What is counted (the compare page and `alur compare` say the same):

- Practice cases (latihan) are never counted. `since`/`until` select cases by registration time.
- cases: started (all counted cases), completed, cancelled, open (still running).
- compliance: met / (met + missed) over completed cases, judged by sla.case_clock with the same
  inputs as the case page (the SOP's limit and calendar, applicant-side steps pausing the clock), so
  each case counts as its page shows it. Cancelled and open cases have no outcome and are left out.
- case_time: completed cases whose clock started; the time from clock start to closing with the
  applicant's paused time taken out, on a 24x7 calendar ("calendar") and on office working hours
  ("working"). lead_time: registration to closing on the wall clock, the applicant's time included.
- steps: completed tasks of closed (completed or cancelled) cases. wait = ready -> claimed, work =
  claimed -> completed (wall clock, as on the case page); duration = ready -> completed counted on
  the SOP's calendar, and over budget when it exceeds `mutu.waktu` (sla.step_status).
- rework: over closed cases, the share where a step ran more than once; returned: the share that
  went through an applicant-side step on a loop of the model (a file sent back to be completed).
- time_share: where the time of completed cases goes. Each moment from registration to closing is
  split equally among the steps open then (parallel steps share it); moments with no open step are
  "idle". paused_share is the part spent in applicant-side steps.
- Percentiles interpolate linearly between the closest ranks (the median of an even count is the
  mean of the two middle values).
"""
from __future__ import annotations

import math
from collections import defaultdict

from .calendars import TwentyFourSeven
from .sla import case_clock, step_status

__all__ = ["HISTOGRAM_BINS", "SCALARS", "measure", "percentile", "scalars"]

HISTOGRAM_BINS = 12  # case-time histogram: 12 equal bins up to twice the limit, then one open bin
_WALL = TwentyFourSeven()


def percentile(values, q: float) -> float | None:
    """The q-quantile (0..1) of `values` by linear interpolation between closest ranks; None if empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _summary(values: list[float]) -> dict:
    median, p90 = percentile(values, 0.5), percentile(values, 0.9)
    return {"n": len(values), "median": None if median is None else round(median, 3),
            "p90": None if p90 is None else round(p90, 3)}


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _histogram(values: list[float], limit: float) -> dict:
    width = 2 * limit / HISTOGRAM_BINS
    counts = [0] * (HISTOGRAM_BINS + 1)
    for value in values:
        counts[min(int(value // width), HISTOGRAM_BINS)] += 1
    return {"edges_seconds": [round(i * width, 3) for i in range(HISTOGRAM_BINS + 1)], "counts": counts}


def _pauses(tasks) -> list[tuple]:
    # As CaseViewer.clock_of: an applicant-side step pauses from ready until completed or cancelled.
    return [(t.ready_at, t.completed_at or t.cancelled_at) for t in tasks if t.pauses_clock]


def measure(cases, tasks, *, info, loop_steps=(), calendar, working, at_risk_share: float,
            as_of) -> dict:
    """Measured figures of one version from its case rows and task rows (see the module docstring)."""
    by_case: dict[int, list] = defaultdict(list)
    for t in tasks:
        by_case[t.case_id].append(t)
    completed = [c for c in cases if c.status == "completed"]
    closed = [c for c in cases if c.status in ("completed", "cancelled")]
    met = missed = 0
    net_calendar, net_working, lead = [], [], []
    for case in completed:
        pauses = _pauses(by_case[case.id])
        args = dict(clock_start=case.clock_started_at, limit_seconds=info.limit_seconds, pauses=pauses,
                    as_of=max(as_of, case.closed_at), closed_at=case.closed_at, at_risk_share=at_risk_share)
        clock = case_clock(calendar=calendar, **args)
        met, missed = met + (clock.state == "met"), missed + (clock.state == "missed")
        lead.append((case.closed_at - case.started_at).total_seconds())
        if case.clock_started_at is None:
            continue  # closed before its clock started: met, but it has no case time
        wall = clock if calendar.kind == "24x7" else case_clock(calendar=_WALL, **args)
        net_calendar.append(wall.used_seconds)
        net_working.append(clock.used_seconds if calendar is working else
                           case_clock(calendar=working, **args).used_seconds)
    return {
        "as_of": as_of.isoformat(),
        "basis": {"practice_cases": "excluded", "compliance": "completed cases",
                  "case_time": "completed cases, applicant's paused time excluded",
                  "steps": "completed steps of closed cases"},
        "cases": {"started": len(cases), "completed": len(completed),
                  "cancelled": sum(c.status == "cancelled" for c in cases),
                  "open": sum(c.status == "running" for c in cases)},
        "compliance": {"met": met, "missed": missed, "met_share": _share(met, met + missed),
                       "limit_seconds": info.limit_seconds, "calendar": info.calendar},
        "case_time": {"calendar": _summary(net_calendar), "working": _summary(net_working),
                      "histogram": _histogram(net_calendar, info.limit_seconds)},
        "lead_time": _summary(lead),
        "steps": _steps(closed, by_case, info, calendar),
        "rework": _rework(closed, by_case, info, set(loop_steps)),
        "time_share": _time_share(completed, by_case, info),
    }


def _step_order(info, seen) -> list[str]:
    """The SOP's steps in model order, then any recorded step the version no longer names."""
    return [s for s in info.steps if s in seen] + sorted(s for s in seen if s not in info.steps)


def _steps(closed, by_case, info, calendar) -> list[dict]:
    waits, works, durations = defaultdict(list), defaultdict(list), defaultdict(list)
    over, budgeted, lanes, budgets = defaultdict(int), defaultdict(int), {}, {}
    for case in closed:
        for t in by_case[case.id]:
            if t.state != "completed" or t.completed_at is None:
                continue
            claimed = t.claimed_at or t.completed_at
            waits[t.step_id].append((claimed - t.ready_at).total_seconds())
            works[t.step_id].append((t.completed_at - claimed).total_seconds())
            timing = step_status(ready_at=t.ready_at, completed_at=t.completed_at,
                                 budget_seconds=t.budget_seconds, calendar=calendar, as_of=t.completed_at)
            durations[t.step_id].append(timing["duration_seconds"])
            lanes.setdefault(t.step_id, t.lane)
            budgets.setdefault(t.step_id, t.budget_seconds)
            if timing["over_budget"] is not None:
                budgeted[t.step_id] += 1
                over[t.step_id] += bool(timing["over_budget"])
    rows = []
    for step_id in _step_order(info, waits.keys()):
        step = info.steps.get(step_id)
        rows.append({
            "step_id": step_id, "name": step.name if step else step_id, "lane": lanes[step_id],
            "runs": len(waits[step_id]), "budget_seconds": budgets[step_id],
            "pauses_clock": bool(step and step.pauses_clock),
            "wait_median": _summary(waits[step_id])["median"],
            "work_median": _summary(works[step_id])["median"],
            "duration_median": _summary(durations[step_id])["median"],
            "over_budget_share": _share(over[step_id], budgeted[step_id]),
        })
    return rows


def _rework(closed, by_case, info, loop_steps: set[str]) -> dict:
    reworked = returned = 0
    for case in closed:
        runs: dict[str, int] = defaultdict(int)
        for t in by_case[case.id]:
            runs[t.step_id] += 1
        reworked += any(n > 1 for n in runs.values())
        returned += any(s in loop_steps and info.steps.get(s) is not None and info.steps[s].pauses_clock
                        for s in runs)
    return {"cases": len(closed), "reworked": reworked, "rework_share": _share(reworked, len(closed)),
            "returned": returned, "returned_share": _share(returned, len(closed))}


def _time_share(completed, by_case, info) -> dict:
    seconds: dict[str, float] = defaultdict(float)
    total = idle = 0.0
    for case in completed:
        start, end = case.started_at, case.closed_at
        total += (end - start).total_seconds()
        events = []
        for t in by_case[case.id]:
            lo, hi = max(t.ready_at, start), min(t.completed_at or t.cancelled_at or end, end)
            if hi > lo:
                events += [(lo, 1, t.step_id), (hi, -1, t.step_id)]
        events.sort(key=lambda e: (e[0], e[1]))
        open_steps: list[str] = []
        cursor = start
        for moment, kind, step_id in events:
            span = (moment - cursor).total_seconds()
            if span > 0:
                if open_steps:
                    for s in open_steps:
                        seconds[s] += span / len(open_steps)
                else:
                    idle += span
            cursor = moment
            if kind == 1:
                open_steps.append(step_id)
            else:
                open_steps.remove(step_id)
        idle += max(0.0, (end - cursor).total_seconds())
    rows = [{"step_id": s, "name": info.steps[s].name if s in info.steps else s,
             "pauses_clock": bool(s in info.steps and info.steps[s].pauses_clock),
             "seconds": round(seconds[s], 3), "share": _share(seconds[s], total)}
            for s in _step_order(info, seconds.keys())]
    paused = sum(r["seconds"] for r in rows if r["pauses_clock"])
    return {"total_seconds": round(total, 3), "steps": rows, "paused_share": _share(paused, total),
            "idle_share": _share(idle, total)}


# The scalar figures the comparison subtracts (b - a), as (name, path into the measured dict).
SCALARS = (
    ("cases_started", ("cases", "started")), ("cases_completed", ("cases", "completed")),
    ("met_share", ("compliance", "met_share")),
    ("case_time_calendar_median", ("case_time", "calendar", "median")),
    ("case_time_calendar_p90", ("case_time", "calendar", "p90")),
    ("case_time_working_median", ("case_time", "working", "median")),
    ("case_time_working_p90", ("case_time", "working", "p90")),
    ("lead_time_median", ("lead_time", "median")),
    ("rework_share", ("rework", "rework_share")), ("returned_share", ("rework", "returned_share")),
    ("paused_share", ("time_share", "paused_share")),
)


def scalars(measured: dict | None) -> dict:
    """The comparable single numbers of a measured dict, flat (None where there is no data)."""
    out = {}
    for name, path in SCALARS:
        value = measured
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        out[name] = value
    return out
