"""ISO 8601 durations as whole seconds, for SOP time budgets and service limits."""
from __future__ import annotations

import re

# Years and months are refused because a budget must have one fixed length; weeks and days are
# taken as 7 × 24 h and 24 h (the working-hours calendar is applied later, not here).
_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?"
)
# The same grammar with years and months, only to recognise calendar durations (e.g. in timers).
_CALENDAR_DURATION = re.compile(
    r"P(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?(?:\d+(?:[.,]\d+)?D)?"
    r"(?:T(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?"
)
_UNIT_SECONDS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
_EXAMPLE = "use a form such as PT24H, P2D, PT30M or P1DT4H"


def parse_duration(text: str) -> int:
    """Return the number of seconds in an ISO 8601 duration such as ``PT24H`` or ``P1DT2H``."""
    if not isinstance(text, str):
        raise ValueError(f"a duration must be text, not {type(text).__name__}")
    value = text.strip().upper()
    if not value:
        raise ValueError(f"the duration is empty; {_EXAMPLE}")
    if value.startswith("-"):
        raise ValueError(f"the duration {text.strip()!r} is negative; durations must be positive")
    match = _DURATION.fullmatch(value)
    if match is None or value in ("P", "PT") or value.endswith("T"):
        if is_iso_duration(value):
            raise ValueError(
                f"the duration {text.strip()!r} uses years or months, which have no fixed length; "
                "count in days instead (e.g. P30D)")
        raise ValueError(f"{text.strip()!r} is not an ISO 8601 duration; {_EXAMPLE}")
    parts = {unit: amount for unit, amount in match.groupdict().items() if amount is not None}
    # ISO 8601 allows a decimal fraction only on the smallest unit written (PT1.5H, not PT1.5H30M).
    fractional = [unit for unit, amount in parts.items() if "." in amount or "," in amount]
    if fractional and fractional[-1] != list(parts)[-1] or len(fractional) > 1:
        raise ValueError(f"in {text.strip()!r} only the last number may have a decimal fraction")
    total = sum(float(amount.replace(",", ".")) * _UNIT_SECONDS[unit] for unit, amount in parts.items())
    return int(round(total))


def is_iso_duration(text: str) -> bool:
    """Tell whether the text is any ISO 8601 duration, years and months included."""
    value = (text or "").strip().upper()
    return value not in ("P", "PT") and not value.endswith("T") and bool(_CALENDAR_DURATION.fullmatch(value))


def format_duration(seconds: int) -> str:
    """Return the ISO 8601 form of a number of seconds, e.g. 90000 → ``P1DT1H``."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ValueError(f"seconds must be a number, not {type(seconds).__name__}")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    remaining = int(round(seconds))
    days, remaining = divmod(remaining, 86400)
    hours, remaining = divmod(remaining, 3600)
    minutes, secs = divmod(remaining, 60)
    date_part = f"{days}D" if days else ""
    time_part = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    if not date_part and not time_part:
        return "PT0S"
    return "P" + date_part + (("T" + time_part) if time_part else "")
