"""The monthly compliance report: per SOP, cases received, completed, met or missed, case time, still open.

What is counted:

- received: real cases registered in the month (office zone); still open / breached: those of them
  running as of now, and of these the ones past their deadline now (the case page's clock).
- completed, met, missed, share met, median case time: cases completed in the month, judged and
  timed by sla.case_clock as the case page and the compare page do (the SOP's limit and calendar;
  case time is clock start to closing on the calendar, the applicant's paused time left out).
- Practice cases never count. Office totals add the SOPs up; the office median is over all cases.
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timezone

from . import store_dashboard as q
from .calendars import TwentyFourSeven
from .errors import InvalidState
from .performance import percentile
from .sla import case_clock

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_WALL = TwentyFourSeven()
FIELDS = ("received", "completed", "met", "missed", "open", "breached")


def parse_month(text: str) -> tuple[int, int]:
    """(year, month) of "2026-11"; InvalidState with the expected form otherwise."""
    match = _MONTH.fullmatch((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise InvalidState(f"month '{text}' is not in the form YYYY-MM, such as 2026-11")
    return int(match.group(1)), int(match.group(2))


class MonthlyReport:
    """Engine mixin: the figures of the printable monthly compliance report."""

    def month_bounds(self, month: str) -> tuple[datetime, datetime]:
        """The first moment of the month and of the next one, in the office zone, as UTC."""
        year, number = parse_month(month)
        start = datetime(year, number, 1, tzinfo=self.zone)
        end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=self.zone)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)

    def monthly_report(self, month: str, *, key: str | None = None) -> dict:
        """Per SOP and for the office: the month's figures (see the module docstring), as of now."""
        since, until = self.month_bounds(month)
        now = self.now()
        with self.db.read() as s:
            scope = q.Scope(key)
            names = self._sop_names(s)
            limits = {}
            rows = {k: dict.fromkeys(FIELDS, 0) for k in names if key is None or k == key}
            for sop, received, running in q.received_per_sop(s, scope, since, until):
                rows.setdefault(sop, dict.fromkeys(FIELDS, 0))["received"] = int(received)
            times: dict[str, list[float]] = defaultdict(list)
            completed = q.completed_in(s, scope, since, until)
            pauses = self._pauses_of(s, [c.id for c in completed])
            for c in completed:
                info = self.version(c.process_version_id, s).info
                limits.setdefault(c.process_key, (info.limit_seconds, info.calendar))
                args = dict(clock_start=c.clock_started_at, limit_seconds=info.limit_seconds,
                            pauses=pauses[c.id], as_of=max(now, c.closed_at), closed_at=c.closed_at,
                            at_risk_share=self.settings.at_risk_share)
                clock = case_clock(calendar=self.calendar(info.calendar, s), **args)
                row = rows.setdefault(c.process_key, dict.fromkeys(FIELDS, 0))
                row["completed"] += 1
                row[clock.state] += 1  # met or missed
                if c.clock_started_at is not None:
                    times[c.process_key].append(clock.used_seconds if info.calendar == "24x7"
                                                else case_clock(calendar=_WALL, **args).used_seconds)
            still_open = q.open_received_in(s, scope, since, until)
            clocks = self._exact_states(s, still_open, now)
            for c in still_open:
                row = rows.setdefault(c.process_key, dict.fromkeys(FIELDS, 0))
                row["open"] += 1
                row["breached"] += clocks[c.id].state == "breached"
            for vid in {c.process_version_id for c in still_open}:
                info = self.version(vid, s).info
                limits.setdefault(info.key, (info.limit_seconds, info.calendar))
        sops = []
        for sop in sorted(rows, key=lambda k: names.get(k, k)):
            row = rows[sop]
            limit = limits.get(sop)
            sops.append({"key": sop, "name": names.get(sop, sop), **row,
                         "met_share": _share(row["met"], row["met"] + row["missed"]),
                         "median_case_seconds": _round(percentile(times[sop], 0.5)),
                         "limit_seconds": limit[0] if limit else None, "calendar": limit[1] if limit else None})
        total = {field: sum(r[field] for r in sops) for field in FIELDS}
        total.update(met_share=_share(total["met"], total["met"] + total["missed"]),
                     median_case_seconds=_round(percentile([t for v in times.values() for t in v], 0.5)))
        return {"month": "%04d-%02d" % parse_month(month), **self._office(), "since": since.isoformat(), "until": until.isoformat(),
                "as_of": now.isoformat(), "at_risk_share": self.settings.at_risk_share, "sops": sops,
                "total": total}

    def _office(self) -> dict:
        """Who signs the report: the head of office the SOPs name as approver (sop.disahkanOleh), and the office."""
        from collections import Counter

        from . import store
        with self.db.read() as s:
            approvers = Counter(self.version(v.id, s).info.identity.get("disahkanOleh")
                                for v in store.version_summaries(s) if v.status == "published")
        approvers.pop(None, None)
        approver = approvers.most_common(1)[0][0] if approvers else None
        office = approver[len("Kepala "):] if approver and approver.startswith("Kepala ") else None
        return {"office": office, "approver": approver}

    def _pauses_of(self, s, case_ids: list[int]) -> dict[int, list]:
        # As CaseViewer.clock_of: an applicant-side step pauses from ready until completed or cancelled.
        found: dict[int, list] = {cid: [] for cid in case_ids}
        for t in q.pause_tasks(s, case_ids):
            found[t.case_id].append((t.ready_at, t.completed_at or t.cancelled_at))
        return found


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
