"""Calendars that decide which seconds count towards a service deadline."""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

from functools import lru_cache

import holidays as holidays_lib

UTC = timezone.utc
# The last representable aware moment; 24x7 intervals "never end" here.
END_OF_TIME = datetime.max.replace(tzinfo=UTC)
# A calendar with no working day for this long is misconfigured; stop rather than loop forever.
_MAX_IDLE_DAYS = 3 * 366

__all__ = ["Calendar", "TwentyFourSeven", "WorkingHours", "calendar_for", "require_aware",
           "END_OF_TIME", "KINDS"]


def require_aware(moment: datetime, name: str = "datetime") -> datetime:
    """Return `moment` in UTC, refusing naive datetimes because their zone would be a guess."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _require_seconds(seconds: float) -> float:
    """Return `seconds` as a float, refusing negative or non-finite amounts."""
    seconds = float(seconds)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
    return seconds


class Calendar(Protocol):
    """What the SLA code needs from a calendar."""

    def intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]: ...

    def elapsed(self, start: datetime, end: datetime) -> float: ...

    def add(self, start: datetime, seconds: float) -> datetime: ...

    def is_counted(self, moment: datetime) -> bool: ...


class TwentyFourSeven:
    """A calendar on which every second counts."""

    kind = "24x7"

    def intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Yield the single counted interval from `start` to the end of representable time."""
        start = require_aware(start, "start")
        yield (start, END_OF_TIME)

    def elapsed(self, start: datetime, end: datetime) -> float:
        """Return wall-clock seconds from `start` to `end` (0 if end <= start)."""
        start, end = require_aware(start, "start"), require_aware(end, "end")
        return max(0.0, (end - start).total_seconds())

    def add(self, start: datetime, seconds: float) -> datetime:
        """Return `start + seconds` in UTC; add(start, 0) is start itself."""
        start = require_aware(start, "start")
        return start + timedelta(seconds=_require_seconds(seconds))

    def is_counted(self, moment: datetime) -> bool:
        """Every aware moment counts."""
        require_aware(moment, "moment")
        return True

    def __repr__(self) -> str:
        return "TwentyFourSeven()"


class WorkingHours:
    """Office hours in the office's zone on working days, skipping national and local holidays."""

    kind = "jam-kerja"

    def __init__(self, tz: str = "Asia/Jayapura", weekdays: Iterable[int] = (0, 1, 2, 3, 4),
                 opens: time = time(8, 0), closes: time = time(16, 0),
                 extra_holidays: Iterable[date] = (), country: str = "ID"):
        self.tz = ZoneInfo(tz)
        self.weekdays = frozenset(int(d) for d in weekdays)
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValueError(f"weekdays must be a non-empty subset of 0..6 (Monday=0), got {sorted(self.weekdays)}")
        if opens.tzinfo is not None or closes.tzinfo is not None:
            raise ValueError("opens/closes are local wall times; give them without tzinfo")
        if not opens < closes:
            raise ValueError(f"opens ({opens}) must be before closes ({closes}); overnight shifts are not supported")
        self.opens, self.closes = opens, closes
        self.extra_holidays = frozenset(_as_date(d) for d in extra_holidays)
        self.country = country
        # Year -> holiday dates; filled lazily because the holidays library computes whole years.
        self._holiday_cache: dict[int, frozenset[date]] = {}

    def holidays(self, year: int) -> frozenset[date]:
        """Return national holidays and cuti bersama of `year`, plus the extra local holidays."""
        cached = self._holiday_cache.get(year)
        if cached is None:
            cached = _national_holidays(self.country, year) | {
                d for d in self.extra_holidays if d.year == year}
            self._holiday_cache[year] = cached
        return cached

    def is_working_day(self, day: date) -> bool:
        """True when `day` is a configured weekday and not a holiday."""
        return day.weekday() in self.weekdays and day not in self.holidays(day.year)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        """Return the office-hours window of `day` in UTC (zoneinfo resolves DST, if any)."""
        opens = datetime.combine(day, self.opens, tzinfo=self.tz).astimezone(UTC)
        closes = datetime.combine(day, self.closes, tzinfo=self.tz).astimezone(UTC)
        return opens, closes

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Yield ascending half-open office-hour intervals [open, close) in UTC from `start` on."""
        start = require_aware(start, "start")
        day = self._local_day(start)
        idle = 0
        while True:
            if self.is_working_day(day):
                idle = 0
                opens, closes = self._window(day)
                if closes > start:
                    yield (max(opens, start), closes)
            else:
                idle += 1
                if idle > _MAX_IDLE_DAYS:
                    raise ValueError(f"no working day within {_MAX_IDLE_DAYS} days after {day}")
            day += timedelta(days=1)

    def elapsed(self, start: datetime, end: datetime) -> float:
        """Return counted seconds between `start` and `end` (0 if end <= start), iterating by day."""
        return self.elapsed_delta(start, end).total_seconds()

    def elapsed_delta(self, start: datetime, end: datetime) -> timedelta:
        """Like `elapsed` but exact, as a timedelta (sums of floats would drift)."""
        start, end = require_aware(start, "start"), require_aware(end, "end")
        total = timedelta(0)
        if end <= start:
            return total
        day, last = self._local_day(start), self._local_day(end)
        while day <= last:
            if self.is_working_day(day):
                opens, closes = self._window(day)
                lo, hi = max(opens, start), min(closes, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """Return the moment `seconds` counted seconds after `start`, in UTC.

        For seconds > 0 this is the earliest such moment, so an amount that exactly uses up a
        day lands on closing time (a deadline of Friday 16:00, not Monday 08:00). add(start, 0)
        returns the next counted moment: `start` itself during office hours, else the next opening.
        """
        remaining = timedelta(seconds=_require_seconds(seconds))
        for lo, hi in self.intervals(start):
            if remaining == timedelta(0):
                return lo
            if hi - lo >= remaining:
                return lo + remaining
            remaining -= hi - lo
        raise AssertionError("intervals() never ends")  # pragma: no cover

    def is_counted(self, moment: datetime) -> bool:
        """True when `moment` falls inside office hours [opens, closes) of a working day."""
        moment = require_aware(moment, "moment")
        day = self._local_day(moment)
        if not self.is_working_day(day):
            return False
        opens, closes = self._window(day)
        return opens <= moment < closes

    def __repr__(self) -> str:
        return (f"WorkingHours(tz={self.tz.key!r}, weekdays={tuple(sorted(self.weekdays))}, "
                f"opens={self.opens}, closes={self.closes}, "
                f"extra_holidays={len(self.extra_holidays)} dates, country={self.country!r})")


def _as_date(value: date | str) -> date:
    """Accept dates or ISO strings, since local holidays arrive as data."""
    if isinstance(value, datetime):
        raise TypeError(f"extra_holidays takes dates, not datetimes: {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise TypeError(f"extra_holidays takes dates or ISO date strings, got {value!r}")


@lru_cache(maxsize=256)
def _national_holidays(country: str, year: int) -> frozenset[date]:
    """Return public holidays and joint leave ("government" category: cuti bersama) of one year."""
    # Shared across calendar instances: computing a year takes milliseconds and never changes.
    return frozenset(holidays_lib.country_holidays(country, years=year, categories=("public", "government")))


KINDS = ("24x7", "jam-kerja")


def calendar_for(kind: str, *, tz: str, extra_holidays: Iterable[date] = ()) -> TwentyFourSeven | WorkingHours:
    """Return the calendar an SOP names: "24x7" or "jam-kerja" (office working hours in `tz`)."""
    if kind == "24x7":
        return TwentyFourSeven()
    if kind == "jam-kerja":
        return WorkingHours(tz=tz, extra_holidays=extra_holidays)
    raise ValueError(f"unknown calendar kind {kind!r}; expected one of: {', '.join(KINDS)}")
