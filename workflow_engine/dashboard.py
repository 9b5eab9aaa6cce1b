"""The managers' dashboard: SLA state of open cases, weekly compliance, slow steps and lane workload.

What is counted (the page and the monthly report say the same):

- Practice cases never count. Every figure is "as of" the engine's clock (`now`).
- Open cases by SLA state: running cases now, with the case page's definition (sla.case_clock):
  breached past the deadline, at risk once the office's at-risk share of the limit is used. The
  stored `cases.deadline_at` decides in SQL; a case waiting on the applicant (an open `sla.jeda`
  step) has a stopped clock and a stored deadline that lags, so those few get their exact clock
  and are also counted as `paused`.
- Compliance: completed cases by the office-zone ISO week they closed; met = closed by the deadline
  (or before the clock started), as the case page judges it. Cancelled cases have no outcome.
- Steps: completed steps of real cases, completed in the period; wait, work and duration on the wall
  clock (as the case page shows them), medians per step, against the step's budget (`mutu.waktu`).
- Workload: open steps of open cases per lane, claimed or not, and the oldest.
- Filters: SOP key, version number (with a key), period [since, until) on the moment each figure
  is dated by (closing, completion). Open-case figures are always "now".
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from . import store, store_dashboard as q
from .calendars import require_aware
from .dashboard_report import MonthlyReport
from .errors import InvalidState

STATES = ("on_track", "at_risk", "breached")
# Heatmap levels: a step's median duration against its budget.
NEAR_SHARE = 0.75
EPOCH_MONDAY = date(1970, 1, 5)


def week_label(index: int) -> dict:
    """The ISO week of a week index: {"index", "week": "2026-W48", "start": "2026-11-23"}."""
    monday = EPOCH_MONDAY + timedelta(weeks=index)
    year, number, _ = monday.isocalendar()
    return {"index": index, "week": f"{year}-W{number:02d}", "start": monday.isoformat()}


def heat_level(median: float | None, budget: float | None, pauses: bool) -> str:
    """How a step's median duration stands against its budget: ok, near, over, none (no budget), applicant."""
    if pauses:
        return "applicant"
    if median is None or not budget:
        return "none"
    if median > budget:
        return "over"
    return "near" if median >= NEAR_SHARE * budget else "ok"


def _ms(value) -> float | None:
    return None if value is None else round(float(value), 3)


class Dashboard(MonthlyReport):
    """Engine mixin: the dashboard's figures, each one SQL aggregate over case and task rows."""

    # --- helpers ------------------------------------------------------------------------------
    def _scope(self, s, key: str | None, version: int | None) -> q.Scope:
        if version is not None and key is None:
            raise InvalidState("choose an SOP to filter on one of its versions")
        if key is not None and version is not None:
            return q.Scope(key, store.version_id(s, key, version))
        return q.Scope(key)

    def _zone_offset(self) -> int:
        # Indonesian zones keep one offset all year, so a week boundary is a fixed UTC moment.
        return int(self.zone.utcoffset(self.now().replace(tzinfo=None)).total_seconds())

    def _cutoffs(self, s, version_ids, now: datetime) -> dict[int, datetime]:
        """Per version: deadlines up to this moment mean the at-risk share of the limit is used by now."""
        share = self.settings.at_risk_share
        out = {}
        for vid in version_ids:
            info = self.version(vid, s).info
            out[vid] = self.calendar(info.calendar, s).add(now, (1 - share) * info.limit_seconds)
        return out

    def _exact_states(self, s, rows, now: datetime) -> dict[int, object]:
        """The exact clock of a few cases (those waiting on the applicant), from their pause rows."""
        pauses: dict[int, list] = {row.id: [] for row in rows}
        for t in q.pause_tasks(s, list(pauses)):
            pauses[t.case_id].append(t)
        return {row.id: self.viewer.clock_of(s, row, self.version(row.process_version_id, s).info,
                                             pauses[row.id], now) for row in rows}

    @staticmethod
    def _period(since, until):
        since = require_aware(since, "since") if since is not None else None
        until = require_aware(until, "until") if until is not None else None
        if since is not None and until is not None and until <= since:
            raise InvalidState("the period ends before it starts")
        return since, until

    # --- open cases now -----------------------------------------------------------------------
    def sla_now(self, *, key: str | None = None, version: int | None = None) -> dict:
        """Open cases by SLA state now, in total and per SOP; `paused` counts those waiting on the applicant."""
        now = self.now()
        with self.db.read() as s:
            scope = self._scope(s, key, version)
            cutoffs = self._cutoffs(s, q.open_version_ids(s, scope), now)
            per_sop: dict[str, dict] = {}

            def row(sop):
                return per_sop.setdefault(sop, {"key": sop, **{st: 0 for st in STATES}, "paused": 0, "open": 0})
            for sop, state, count in q.open_by_state(s, scope, now, cutoffs):
                row(sop)[state] += count
                row(sop)["open"] += count
            paused = q.paused_cases(s, scope)
            clocks = self._exact_states(s, paused, now)
            for case in paused:
                entry = row(case.process_key)
                entry[clocks[case.id].state] += 1
                entry["paused"] += 1
                entry["open"] += 1
            names = self._sop_names(s)
        sops = sorted(per_sop.values(), key=lambda r: r["key"])
        for entry in sops:
            entry["name"] = names.get(entry["key"], entry["key"])
        total = {field: sum(r[field] for r in sops) for field in (*STATES, "paused", "open")}
        return {"as_of": now.isoformat(), "total": total, "sops": sops}

    def urgent_cases(self, *, key: str | None = None, version: int | None = None, limit: int = 50) -> list[dict]:
        """Open cases breached or at risk now, most overdue first, with who holds their open steps."""
        now = self.now()
        with self.db.read() as s:
            scope = self._scope(s, key, version)
            cutoffs = self._cutoffs(s, q.open_version_ids(s, scope), now)
            found = [dict(id=r.id, registration_number=r.registration_number, process=r.process_key,
                          version_id=r.process_version_id, deadline=r.deadline_at, state=r.state, paused=False)
                     for r in q.urgent_cases(s, scope, now, cutoffs, limit)]
            paused = q.paused_cases(s, scope)
            clocks = self._exact_states(s, paused, now)
            for case in paused:
                clock = clocks[case.id]
                if clock.state in ("breached", "at_risk"):
                    found.append(dict(id=case.id, registration_number=case.registration_number,
                                      process=case.process_key, version_id=case.process_version_id,
                                      deadline=clock.deadline, state=clock.state, paused=True))
            found.sort(key=lambda c: (c["deadline"], c["id"]))
            found = found[:limit]
            holders: dict[int, list] = {c["id"]: [] for c in found}
            for t in q.open_tasks_of(s, list(holders)):
                holders[t.case_id].append({"step": t.name, "lane": t.lane, "claimed_by": t.claimed_by,
                                           "ready_at": t.ready_at.isoformat()})
            numbers = {c["version_id"]: self.version(c["version_id"], s).number for c in found}
            names = self._sop_names(s)
        for c in found:
            c.update(version=numbers[c.pop("version_id")], process_name=names.get(c["process"], c["process"]),
                     overdue_seconds=round((now - c["deadline"]).total_seconds(), 3),
                     deadline=c["deadline"].isoformat(), holders=holders[c["id"]])
        return found

    def lane_workload(self, *, key: str | None = None, version: int | None = None) -> list[dict]:
        """Open steps of open cases per lane: how many, claimed and unclaimed, and the oldest one's age."""
        now = self.now()
        with self.db.read() as s:
            rows = q.lane_workload(s, self._scope(s, key, version))
        return [{"lane": lane, "open": n, "claimed": int(claimed or 0), "unclaimed": n - int(claimed or 0),
                 "oldest_ready_at": oldest.isoformat() if oldest else None,
                 "oldest_age_seconds": round((now - oldest).total_seconds(), 3) if oldest else None}
                for lane, n, claimed, oldest in rows]

    # --- over a period ------------------------------------------------------------------------
    def compliance_by_week(self, *, key: str | None = None, version: int | None = None,
                           since: datetime | None = None, until: datetime | None = None) -> dict:
        """Met and missed completed cases per SOP per office-zone ISO week of closing, and the office total.

        {"weeks": [{"index", "week", "start"}...], "sops": [{"key", "name", "weeks": [{"met",
        "missed", "share"}...]}], "total": [{"met", "missed", "share"}...]}; one entry per week from
        the first to the last week of the period (or of the data), weeks without closings at zero.
        """
        since, until = self._period(since, until)
        offset = self._zone_offset()
        with self.db.read() as s:
            scope = self._scope(s, key, version)
            counts: dict[tuple[str, int], list[int]] = {}
            for sop, week, met, total in q.weekly_compliance(s, scope, offset, since, until):
                counts[(sop, int(week))] = [int(met or 0), int(total)]
            self._count_after_hours_as_met(s, scope, offset, since, until, counts)
            names = self._sop_names(s)
        indexes = [w for _, w in counts]
        first = self._week_of(since, offset) if since else min(indexes, default=None)
        last = self._week_of(until - timedelta(microseconds=1), offset) if until else max(indexes, default=None)
        weeks = list(range(first, last + 1)) if first is not None and last is not None else []
        sops = []
        for sop in sorted({k for k, _ in counts}):
            cells = [self._cell(*counts.get((sop, w), (0, 0))) for w in weeks]
            sops.append({"key": sop, "name": names.get(sop, sop), "weeks": cells,
                         **self._cell(sum(c["met"] for c in cells), sum(c["met"] + c["missed"] for c in cells))})
        total = [self._cell(sum(r["weeks"][i]["met"] for r in sops),
                            sum(r["weeks"][i]["met"] + r["weeks"][i]["missed"] for r in sops))
                 for i in range(len(weeks))]
        return {"weeks": [week_label(w) for w in weeks], "sops": sops, "total": total,
                "since": since.isoformat() if since else None, "until": until.isoformat() if until else None}

    def _count_after_hours_as_met(self, s, scope, offset, since, until, counts) -> None:
        """On working hours a case closed after hours just past its deadline used no more than its limit."""
        working = [v.id for v in store.version_summaries(s, scope.key)
                   if self.version(v.id, s).info.calendar != "24x7"]
        for sop, week, vid, deadline, closed in q.late_closings(s, scope, working, offset, since, until):
            calendar = self.calendar(self.version(vid, s).info.calendar, s)
            if calendar.elapsed(deadline, closed) == 0:
                counts[(sop, int(week))][0] += 1

    def _week_of(self, moment: datetime, offset: int) -> int:
        seconds = int((moment - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() // 1)
        return (seconds + offset - q.MONDAY_EPOCH) // q.WEEK

    @staticmethod
    def _cell(met: int, completed: int) -> dict:
        return {"met": met, "missed": completed - met,
                "share": round(met / completed, 4) if completed else None}

    def step_times(self, *, key: str | None = None, version: int | None = None, since: datetime | None = None,
                   until: datetime | None = None, by_version: bool = False) -> list[dict]:
        """Median wait, work and duration per step (see the module docstring), slowest against budget first."""
        since, until = self._period(since, until)
        with self.db.read() as s:
            rows = q.step_medians(s, self._scope(s, key, version), since, until, by_version=by_version)
            names = self._sop_names(s)
            numbers = {r[1]: self.version(r[1], s).number for r in rows} if by_version else {}
        out = []
        for r in rows:
            sop, rest = r[0], list(r[1:])
            vid = rest.pop(0) if by_version else None
            step_id, name, lane, budget, pauses, runs, wait, work, duration = rest
            duration = _ms(duration)
            entry = {"process": sop, "process_name": names.get(sop, sop), "step_id": step_id, "name": name,
                     "lane": lane, "runs": int(runs), "budget_seconds": budget, "pauses_clock": bool(pauses),
                     "wait_median": _ms(wait), "work_median": _ms(work), "duration_median": duration,
                     "budget_ratio": round(duration / budget, 4) if budget and duration is not None else None,
                     "level": heat_level(duration, budget, bool(pauses))}
            if by_version:
                entry["version"] = numbers[vid]
            out.append(entry)
        # Office steps over their budget first (by how far), then the rest by median duration.
        out.sort(key=lambda e: (e["pauses_clock"], -(e["budget_ratio"] or 0), -(e["duration_median"] or 0)))
        return out

    def heatmap(self, key: str, version: int | None = None, *, since: datetime | None = None,
                until: datetime | None = None, step_rows: list[dict] | None = None) -> dict:
        """Median step time against budget per step of one SOP version, for colouring its diagram.

        `step_rows`: step_times(by_version=True) of the same period, to reuse instead of asking again.
        """
        with self.db.read() as s:
            vid = store.version_id(s, key, version)
            parsed = self.version(vid, s)
        if step_rows is None:
            step_rows = self.step_times(key=key, version=parsed.number, since=since, until=until, by_version=True)
        measured = {r["step_id"]: r for r in step_rows if r["process"] == key and r["version"] == parsed.number}
        steps = []
        for step_id, step in parsed.info.steps.items():
            r = measured.get(step_id)
            median = r["duration_median"] if r else None
            steps.append({"step_id": step_id, "name": step.name, "lane": getattr(step, "lane", None),
                          "budget_seconds": step.budget_seconds, "runs": r["runs"] if r else 0,
                          "duration_median": median, "wait_median": r["wait_median"] if r else None,
                          "work_median": r["work_median"] if r else None,
                          "level": heat_level(median, step.budget_seconds, bool(step.pauses_clock))
                          if r else ("applicant" if step.pauses_clock else "none")})
        return {"key": key, "version": parsed.number, "calendar": parsed.info.calendar, "steps": steps}

    def dashboard(self, *, key: str | None = None, version: int | None = None, since: datetime | None = None,
                  until: datetime | None = None, weeks: int = 12) -> dict:
        """All the dashboard's figures; without `since` the period is the last `weeks` office-zone weeks.

        Step times are per SOP version (budgets change between versions), so heatmap(step_rows=...) reuses them.
        """
        now = self.now()
        if since is None:
            local = now.astimezone(self.zone)
            monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
            since = (monday - timedelta(weeks=weeks - 1)).astimezone(timezone.utc)
        figures = {"as_of": now.isoformat(), "key": key, "version": version,
                   "since": since.isoformat(), "until": until.isoformat() if until else None,
                   "at_risk_share": self.settings.at_risk_share,
                   "open": self.sla_now(key=key, version=version),
                   "urgent": self.urgent_cases(key=key, version=version),
                   "compliance": self.compliance_by_week(key=key, version=version, since=since, until=until),
                   "steps": self.step_times(key=key, version=version, since=since, until=until, by_version=True),
                   "lanes": self.lane_workload(key=key, version=version)}
        return figures

    def _sop_names(self, s) -> dict[str, str]:
        names = {}
        for row in store.version_summaries(s):
            if row.status == "published" or row.key not in names:
                names[row.key] = row.name
        return names
