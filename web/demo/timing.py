"""How long things take: work on a step, the wait in an inbox, the applicant's side, waking hours."""
from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from workflow_engine.sop_info import StepInfo

from .knobs import DAY, DEFAULT_BUDGET, HEAD_WAIT_MEDIAN, HOUR, WAIT_MEDIAN, WAIT_SIGMA, WORK_MEDIAN, WORK_SIGMA
from .records import SimCase
from .staffing import is_head_lane


def work_seconds(case: SimCase, step: StepInfo | None, rng: random.Random) -> float:
    """Working seconds a step takes: a lognormal share of its time budget, scaled by the file's difficulty."""
    budget = float(step.budget_seconds) if step and step.budget_seconds else DEFAULT_BUDGET
    draw = budget * WORK_MEDIAN * case.factor * math.exp(rng.gauss(0, WORK_SIGMA))
    return max(60.0, min(draw, budget * 6))


def urgency(case: SimCase, now: datetime) -> float:
    """Inboxes list the nearest deadline first, so a file with little time left waits less."""
    if case.deadline is None:
        return 1.0
    left = (case.deadline - now).total_seconds() / DAY
    return 0.3 + 0.7 * min(1.0, max(0.0, left))


def wait_seconds(lane: str | None, rng: random.Random) -> float:
    """Working seconds a step lies in an inbox before somebody picks it up."""
    median = HEAD_WAIT_MEDIAN if is_head_lane(lane) else WAIT_MEDIAN
    return max(30.0, min(median * math.exp(rng.gauss(0, WAIT_SIGMA)), 2 * 8 * HOUR))


def applicant_seconds(rng: random.Random) -> float:
    """Calendar seconds the applicant takes over their side of a step."""
    return rng.triangular(0.5, 3.0, 0.9) * DAY


def waking(moment: datetime, zone: ZoneInfo, rng: random.Random) -> datetime:
    """People act between 07:00 and 21:00 local time: a night moment moves to the next morning."""
    local = moment.astimezone(zone)
    if 7 <= local.hour < 21:
        return moment
    morning = local.replace(hour=7, minute=0, second=0, microsecond=0)
    if local.hour >= 21:
        morning += timedelta(days=1)
    return (morning + timedelta(minutes=rng.uniform(0, 180))).astimezone(UTC)
