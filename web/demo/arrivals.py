"""When files arrive: the hours the counter is open, busiest in the morning, and the SOP version each follows."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .knobs import COUNTER_CLOSES, DAY, HOUR, OVERLAP_DAYS, OVERLAP_OLD_SHARE
from .records import Plan


class Arrivals:
    """Plans arrivals over the period, drawing on the run's random generator."""

    def __init__(self, rng: random.Random, cal, zone: ZoneInfo, *, start: datetime, end: datetime,
                 switch: datetime, versions: dict[str, list[int]], weights: dict[str, float]):
        self.rng = rng
        self.cal = cal
        self.zone = zone
        self.start = start
        self.end = end
        self.switch = switch
        self.versions = versions
        self.weights = weights

    def natural(self, intervals: list[tuple[datetime, datetime]], count: int) -> list[Plan]:
        """`count` files that come in while the counter is open, more on Mondays and in the morning."""
        weekday_weight = {0: 1.15, 1: 1.05, 2: 1.0, 3: 1.0, 4: 0.8}
        weights = [weekday_weight.get(lo.astimezone(self.zone).weekday(), 1.0) * (hi - lo).total_seconds()
                   for lo, hi in intervals]
        plans = []
        for lo, hi in self.rng.choices(intervals, weights=weights, k=count):
            length = (hi - lo).total_seconds()
            # Most applicants come in the morning (busiest around 09:30).
            share = self.rng.betavariate(1.3, 2.6) if length >= 6.9 * HOUR else self.rng.random()
            at = lo + timedelta(seconds=share * length)
            plans.append(self.make_plan(at))
        return plans

    def make_plan(self, at: datetime, *, key: str | None = None, **fate) -> Plan:
        """An arrival at `at` for an SOP drawn by how often it is asked for (or `key`)."""
        keys = sorted(self.versions)
        key = key or self.rng.choices(keys, weights=[self.weights[k] for k in keys])[0]
        return Plan(at=at, key=key, version=self.version_for(key, at),
                    rng=random.Random(self.rng.getrandbits(64)), **fate)

    def version_for(self, key: str, at: datetime) -> int:
        """The version a file follows: the first before the switch, then the newest after a week's overlap."""
        numbers = self.versions[key]
        if len(numbers) == 1 or at < self.switch:
            return numbers[0]
        into = (at - self.switch).total_seconds() / DAY
        if into < OVERLAP_DAYS and self.rng.random() < OVERLAP_OLD_SHARE * (1 - into / OVERLAP_DAYS):
            return numbers[-2]
        return numbers[-1]

    def office_windows(self, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
        """The moments in [lo, hi) when the counter takes new files."""
        out = []
        for a, b in self.cal.intervals(lo):
            if a >= hi:
                break
            closes = datetime.combine(a.astimezone(self.zone).date(), COUNTER_CLOSES, tzinfo=self.zone)
            b = min(b, hi, closes.astimezone(UTC))
            if b > a:
                out.append((a, b))
        return out

    @staticmethod
    def moment_in(windows: list[tuple[datetime, datetime]], rng: random.Random) -> datetime | None:
        """A moment drawn evenly over the windows; None if they hold no time."""
        total = sum((b - a).total_seconds() for a, b in windows)
        if total <= 0:
            return None
        pick = rng.random() * total
        for a, b in windows:
            length = (b - a).total_seconds()
            if pick <= length:
                return a + timedelta(seconds=pick)
            pick -= length
        return windows[-1][1]
