"""The few scripted files that leave every open SLA state (on track, at risk, breached) visible now."""
from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from workflow_engine.sop_info import SopInfo

from .arrivals import Arrivals
from .decisions import has_return
from .records import Plan, SimCase, SimTask
from .staffing import is_head_lane


def scripted_arrivals(arrivals: Arrivals, infos: dict[tuple[str, int], SopInfo], *, seed: int, cases: int,
                      days: int) -> list[Plan]:
    """A few files whose fate leaves every open SLA state visible now, whatever the hour."""
    if cases < 12 or days < 3:
        return []
    rng, end, plans = random.Random(f"{seed}:scripted"), arrivals.end, []
    versions, cal = arrivals.versions, arrivals.cal
    returnable = [k for k in sorted(versions) if has_return(infos[(k, versions[k][-1])])]
    # Breached: files stuck on a signer's desk for days.
    stuck = arrivals.office_windows(max(arrivals.start, end - timedelta(days=10)), end - timedelta(days=4))
    for _ in range(max(2, round(cases * 0.004))):
        at = arrivals.moment_in(stuck, rng)
        if at:
            plans.append(arrivals.make_plan(at, hold="head", clean=True))
    # At risk, clock running: files that came in 18.5-23.5 hours ago and wait for a clerk.
    at_risk_window = arrivals.office_windows(end - timedelta(hours=23.5), end - timedelta(hours=18.5))
    for _ in range(2):
        at = arrivals.moment_in(at_risk_window, rng)
        if at:
            plans.append(arrivals.make_plan(at, hold="handoff", clean=True))
    # On track: files that came in during the last hours.
    recent = arrivals.office_windows(end - timedelta(hours=3), end - timedelta(minutes=20))
    for _ in range(2):
        at = arrivals.moment_in(recent, rng)
        if at:
            plans.append(arrivals.make_plan(at))
    if returnable:
        # At risk, clock paused: received one afternoon, checked next morning ~20 hours
        # later, returned, and the applicant has not come back yet.
        for at, check in late_checks(arrivals, rng, 2):
            plans.append(arrivals.make_plan(at, key=rng.choice(returnable), return_at=check, clean=True))
        # On track, clock paused: returned within the hour on the last working day.
        last = arrivals.office_windows(end - timedelta(days=4), end - timedelta(minutes=90))
        if last:
            lo, hi = last[-1]
            at = lo + (hi - lo) * rng.uniform(0.1, 0.6)
            check = min(cal.add(at, rng.uniform(25, 70) * 60), end - timedelta(minutes=5))
            if check > at:
                plans.append(arrivals.make_plan(at, key=rng.choice(returnable), return_at=check, clean=True))
    return plans


def late_checks(arrivals: Arrivals, rng: random.Random, count: int) -> list[tuple[datetime, datetime]]:
    """Afternoon arrivals checked ~20 hours later, the next working morning, on recent days."""
    cal, zone, end = arrivals.cal, arrivals.zone, arrivals.end
    found, day = [], end.astimezone(zone).date()
    for _ in range(14):
        day -= timedelta(days=1)
        at = datetime.combine(day, time(13, 50), tzinfo=zone) + timedelta(minutes=rng.uniform(0, 60))
        check = at + timedelta(hours=rng.uniform(19.5, 21.5))
        if check.astimezone(zone).date() != day + timedelta(days=1) or check > end - timedelta(minutes=5):
            continue
        if cal.is_counted(at) and cal.is_counted(check) and at > arrivals.start:
            found.append((at.astimezone(UTC), check.astimezone(UTC)))
            if len(found) == count:
                break
    return found


def holds_here(case: SimCase, task: SimTask, now: datetime, end: datetime) -> bool:
    """Where a scripted file gets stuck until after now."""
    if case.plan.hold == "head":
        # On a signer's desk, old enough to be past its deadline now; near the end, on any desk.
        left = end - now
        if left < timedelta(hours=25):
            return False
        return is_head_lane(task.lane) or (left < timedelta(hours=48) and task.lane != case.first_lane)
    return task.lane != case.first_lane  # "handoff": the first step outside the front desk
