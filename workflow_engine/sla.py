"""The case clock and step timings as pure functions of recorded moments and an `as_of`."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .calendars import Calendar, require_aware

__all__ = ["ClockStatus", "case_clock", "step_status", "merge_pauses", "STATES"]

STATES = ("on_track", "at_risk", "breached", "met", "missed")
_ZERO = timedelta(0)


@dataclass(frozen=True)
class ClockStatus:
    """Where a case stands against its time limit at one evaluation moment."""

    deadline: datetime | None
    limit_seconds: float
    used_seconds: float
    paused_seconds: float
    remaining_seconds: float | None
    used_share: float
    state: str
    paused: bool


def _normalize(pauses: Sequence[tuple[datetime, datetime | None]]) -> list[tuple[datetime, datetime | None]]:
    """Validate pauses and convert them to UTC; an end of None means the pause is still open."""
    result = []
    for index, (start, end) in enumerate(pauses):
        start = require_aware(start, f"pauses[{index}] start")
        if end is not None:
            end = require_aware(end, f"pauses[{index}] end")
            if end < start:
                raise ValueError(f"pauses[{index}] ends ({end.isoformat()}) before it starts ({start.isoformat()})")
        result.append((start, end))
    return result


def merge_pauses(pauses: Sequence[tuple[datetime, datetime | None]], *, lower: datetime,
                 upper: datetime) -> list[tuple[datetime, datetime]]:
    """Clip pauses to [lower, upper], close open ones at `upper`, and merge overlaps (UTC, sorted)."""
    lower, upper = require_aware(lower, "lower"), require_aware(upper, "upper")
    clipped = []
    for start, end in _normalize(pauses):
        start, end = max(start, lower), min(upper if end is None else end, upper)
        if end > start:
            clipped.append((start, end))
    clipped.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in clipped:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(lo: datetime, hi: datetime, pauses: list[tuple[datetime, datetime]]):
    """Yield the parts of [lo, hi) not covered by the sorted, disjoint `pauses`."""
    cursor = lo
    for p_start, p_end in pauses:
        if p_end <= cursor:
            continue
        if p_start >= hi:
            break
        if p_start > cursor:
            yield cursor, p_start
        cursor = max(cursor, p_end)
        if cursor >= hi:
            return
    if cursor < hi:
        yield cursor, hi


def _walk(calendar: Calendar, clock_start: datetime, until: datetime, limit: timedelta,
          pauses: list[tuple[datetime, datetime]]) -> tuple[timedelta, timedelta, datetime]:
    """Return (counted time to `until`, unpaused counted time to `until`, moment the limit is reached)."""
    counted = used = running = _ZERO
    deadline = None
    if limit == _ZERO:
        deadline = clock_start
    for lo, hi in calendar.intervals(clock_start):
        if lo >= until and deadline is not None:
            break
        if lo < until:
            counted += min(hi, until) - lo
        # Pauses only exist up to `until`; afterwards we assume none, so the deadline is a forecast.
        for part_lo, part_hi in _subtract(lo, hi, pauses):
            if part_lo < until:
                used += min(part_hi, until) - part_lo
            if deadline is None:
                if running + (part_hi - part_lo) >= limit:
                    deadline = part_lo + (limit - running)
                else:
                    running += part_hi - part_lo
    return counted, used, deadline


def case_clock(*, clock_start: datetime | None, limit_seconds: float, calendar: Calendar,
               pauses: Sequence[tuple[datetime, datetime | None]], as_of: datetime,
               closed_at: datetime | None = None, at_risk_share: float = 0.75) -> ClockStatus:
    """Return the case clock as of `as_of`: counted, unpaused time since `clock_start` against the limit.

    The evaluation moment is `closed_at` when the case was closed by `as_of`, else `as_of`.
    used/paused seconds are counted on `calendar` (paused = counted time inside merged pauses).
    The deadline assumes no pause after the evaluation moment, so it moves while a pause is open.
    remaining = limit - used and goes negative once the limit is overrun.
    Before the clock starts (clock_start None) deadline and remaining are None and the state is
    "on_track", or "met" if the case was closed without the clock ever starting.
    """
    limit_seconds = float(limit_seconds)
    if not math.isfinite(limit_seconds) or limit_seconds <= 0:
        raise ValueError(f"limit_seconds must be a finite number > 0, got {limit_seconds!r}")
    if not 0 < at_risk_share <= 1:
        raise ValueError(f"at_risk_share must be in (0, 1], got {at_risk_share!r}")
    as_of = require_aware(as_of, "as_of")
    closed = False
    if closed_at is not None:
        closed_at = require_aware(closed_at, "closed_at")
        # A case closed after `as_of` was still open as of `as_of`.
        closed = closed_at <= as_of
    moment = closed_at if closed else as_of

    pauses = _normalize(pauses)  # validate even before the clock starts, so bad records surface early
    paused_now = any(start <= moment and (end is None or end > moment) for start, end in pauses)
    if clock_start is None:
        return ClockStatus(deadline=None, limit_seconds=limit_seconds, used_seconds=0.0,
                           paused_seconds=0.0, remaining_seconds=None, used_share=0.0,
                           state="met" if closed else "on_track", paused=paused_now)
    clock_start = require_aware(clock_start, "clock_start")
    merged = merge_pauses(pauses, lower=clock_start, upper=moment) if moment > clock_start else []
    limit = timedelta(seconds=limit_seconds)
    counted, used, deadline = _walk(calendar, clock_start, moment, limit, merged)
    used_seconds = used.total_seconds()
    paused_seconds = (counted - used).total_seconds()
    used_share = used / limit
    if closed:
        state = "met" if used <= limit else "missed"
    elif moment > deadline:
        state = "breached"
    elif used_share >= at_risk_share:
        state = "at_risk"
    else:
        state = "on_track"
    return ClockStatus(deadline=deadline, limit_seconds=limit_seconds, used_seconds=used_seconds,
                       paused_seconds=paused_seconds,
                       remaining_seconds=(limit - used).total_seconds(),
                       used_share=used_share, state=state, paused=paused_now)


def step_status(*, ready_at: datetime, completed_at: datetime | None, budget_seconds: float | None,
                calendar: Calendar, as_of: datetime) -> dict:
    """Return a step's counted and wall-clock duration as of `as_of`, and whether it is over budget.

    Keys: duration_seconds (counted on `calendar`), wall_seconds, budget_seconds, over_budget
    (None without a budget), completed (completed_at set and <= as_of).
    """
    ready_at = require_aware(ready_at, "ready_at")
    as_of = require_aware(as_of, "as_of")
    completed = False
    if completed_at is not None:
        completed_at = require_aware(completed_at, "completed_at")
        if completed_at < ready_at:
            raise ValueError(f"completed_at ({completed_at.isoformat()}) is before ready_at ({ready_at.isoformat()})")
        completed = completed_at <= as_of
    end = completed_at if completed else as_of
    duration = calendar.elapsed(ready_at, end)
    wall = max(0.0, (end - ready_at).total_seconds())
    if budget_seconds is None:
        over = None
    else:
        budget_seconds = float(budget_seconds)
        if not math.isfinite(budget_seconds) or budget_seconds < 0:
            raise ValueError(f"budget_seconds must be a finite number >= 0, got {budget_seconds!r}")
        over = duration > budget_seconds
    return {"duration_seconds": duration, "wall_seconds": wall, "budget_seconds": budget_seconds,
            "over_budget": over, "completed": completed}
