"""What the recorded cases of an SOP say for simulation: step durations, branch shares and arrival moments.

Rows come from any version of the SOP (practice cases left out). A model step is matched to
recorded steps by step id, else by its name. Durations of office steps are measured in office
working time (the staff's calendar), those of applicant-side steps and of steps mostly finished
outside office hours in calendar time, so that a simulated step ready at 15:30 finishes the next
morning as it would in the office.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from .sim_model import END, START, SopModel

MIN_SAMPLES = 5          # fewer recorded durations than this for a step: use its budget instead
MIN_BRANCH_VISITS = 5    # fewer recorded passes through a gateway than this: use the no-history rule
OFFICE_SHARE = 0.8       # a step counts in office time when this share of it was finished in office hours


def epoch(moment: datetime) -> float:
    return moment.timestamp()


def moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def norm_name(name: str | None) -> str:
    return " ".join((name or "").lower().split())


class Timeline:
    """Counted-time arithmetic on epoch seconds over a calendar's intervals, fast enough for many cases."""

    def __init__(self, calendar, anchor: float):
        self.calendar = calendar
        self.always = getattr(calendar, "kind", "") == "24x7"
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.cum: list[float] = []      # counted seconds before each interval
        self.cum_end: list[float] = []  # counted seconds at each interval's end
        self._source = None if self.always else calendar.intervals(moment(anchor))
        self.anchor = anchor

    def _extend(self, until_time: float = -math.inf, until_counted: float = -math.inf) -> None:
        while not self.ends or self.ends[-1] <= until_time or self.cum_end[-1] < until_counted:
            lo, hi = next(self._source)
            lo, hi = epoch(lo), epoch(hi)
            self.cum.append(self.cum_end[-1] if self.cum_end else 0.0)
            self.starts.append(lo)
            self.ends.append(hi)
            self.cum_end.append(self.cum[-1] + hi - lo)

    def counted(self, t: float) -> float:
        """Counted seconds from the anchor to `t`."""
        if self.always:
            return t - self.anchor
        self._extend(until_time=t)
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        return self.cum[i] + min(t - self.starts[i], self.ends[i] - self.starts[i])

    def elapsed(self, a: float, b: float) -> float:
        return 0.0 if b <= a else self.counted(b) - self.counted(a)

    def add(self, t: float, seconds: float) -> float:
        """The moment `seconds` counted seconds after `t` (t itself for zero)."""
        if seconds <= 0 or self.always:
            return t + max(0.0, seconds)
        target = self.counted(t) + seconds
        self._extend(until_counted=target)
        j = bisect_right(self.cum_end, target)
        j = min(j, len(self.cum_end) - 1)
        while self.cum_end[j] < target:  # pragma: no cover - _extend guarantees the cover
            j += 1
        return self.starts[j] + (target - self.cum[j])

    def is_counted(self, t: float) -> bool:
        if self.always:
            return True
        self._extend(until_time=t)
        i = bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.ends[i]


@dataclass
class Sample:
    """One recorded completion of a step, measured both ways."""

    case_id: int
    version: int
    step_id: str
    name: str
    budget: int | None
    pauses: bool
    ready: float
    done: float
    office_total: float
    office_wait: float | None   # None when the step was not claimed before it was completed
    office_work: float | None
    calendar_total: float
    in_office: bool
    days: int = 0               # local days from ready to done (working days when done in office hours) ...
    done_clock: float = 0.0     # ... and the local time of day (seconds) it was done


@dataclass
class StepSource:
    """Where a model step's durations come from, and how to draw one."""

    kind: str                       # history, budget or none
    timebase: str                   # office or calendar
    # Office: seconds. Calendar: (days, local time of day done, seconds, done in office hours), or
    # seconds when rescaled.
    values: list = field(default_factory=list, repr=False)
    n: int = 0
    match: str | None = None        # step_id or name
    versions: tuple = ()
    rescaled: bool = False
    median: float | None = None     # lognormal median (budget source)
    sigma: float = 0.0

    def to_dict(self) -> dict:
        return {"kind": self.kind, "timebase": self.timebase, "n": self.n, "match": self.match,
                "versions": list(self.versions), "rescaled": self.rescaled,
                "budget_median_seconds": self.median}


class History:
    """The recorded cases and steps of one SOP, measured on the office calendar."""

    def __init__(self, cases: list[dict], tasks: list[dict], office_calendar):
        # cases: id, version, started_at, status; tasks: case_id, version, step_id, name, ready_at,
        # claimed_at, completed_at, cancelled_at, budget_seconds, pauses_clock (datetimes aware).
        self.cases = {c["id"]: c for c in cases}
        self.tasks = tasks
        moments = [epoch(c["started_at"]) for c in cases] + [epoch(t["ready_at"]) for t in tasks]
        anchor = (min(moments) if moments else datetime(2025, 10, 1, tzinfo=UTC).timestamp()) - 7 * 86400
        self.office = Timeline(office_calendar, anchor)
        self.zone = getattr(office_calendar, "tz", UTC)
        self._working: dict[date, bool] = {}
        self.samples = [self._sample(t) for t in tasks if t.get("completed_at") is not None]
        self.by_id: dict[str, list[Sample]] = defaultdict(list)
        self.by_name: dict[str, list[Sample]] = defaultdict(list)
        for s in self.samples:
            self.by_id[s.step_id].append(s)
            self.by_name[norm_name(s.name)].append(s)
        self.starts = sorted(epoch(c["started_at"]) for c in cases)

    def _sample(self, t: dict) -> Sample:
        ready, done = epoch(t["ready_at"]), epoch(t["completed_at"])
        in_office = self.office.is_counted(done) or self.office.is_counted(done - 1)
        claimed = epoch(t["claimed_at"]) if t.get("claimed_at") is not None else None
        wait = work = None
        if claimed is not None and ready <= claimed < done:
            wait, work = self.office.elapsed(ready, claimed), self.office.elapsed(claimed, done)
        local_ready, local_done = t["ready_at"].astimezone(self.zone), t["completed_at"].astimezone(self.zone)
        return Sample(t["case_id"], t["version"], t["step_id"], t["name"], t.get("budget_seconds"),
                      bool(t.get("pauses_clock")), ready, done, self.office.elapsed(ready, done), wait, work,
                      max(0.0, done - ready), in_office,
                      self.day_steps(local_ready.date(), local_done.date(), in_office),
                      local_done.hour * 3600 + local_done.minute * 60 + local_done.second)

    def is_working_day(self, day: date) -> bool:
        known = self._working.get(day)
        if known is None:
            check = getattr(self.office.calendar, "is_working_day", None)
            known = self._working[day] = check(day) if check else True
        return known

    def day_steps(self, first: date, last: date, working: bool) -> int:
        """Days after `first` up to `last`: working days only when `working`."""
        if not working:
            return (last - first).days
        return sum(self.is_working_day(first + timedelta(days=i)) for i in range(1, (last - first).days + 1))

    def day_after(self, first: date, steps: int, working: bool) -> date:
        """The day `steps` days (working days when `working`) after `first`."""
        day = first
        while steps > 0:
            day += timedelta(days=1)
            if not working or self.is_working_day(day):
                steps -= 1
        return day

    # --- durations -------------------------------------------------------------------------------
    def samples_for(self, step_id: str, name: str | None) -> tuple[list[Sample], str | None]:
        """Recorded completions of a step: by its id, else by its name."""
        if self.by_id.get(step_id):
            return self.by_id[step_id], "step_id"
        if name and self.by_name.get(norm_name(name)):
            return self.by_name[norm_name(name)], "name"
        return [], None

    def chosen_samples(self, node) -> tuple[list[Sample], str | None, bool]:
        """The recorded completions that time a model task: those with its budget when there are enough.

        Returns (samples, how they matched, whether some had another budget and need rescaling).
        """
        found, match = self.samples_for(node.id, node.name)
        same = [s for s in found if s.budget == node.budget_seconds]
        if len(same) >= MIN_SAMPLES:
            return same, match, False
        return found, match, len(same) < len(found)

    def source_for(self, node, *, budget_sigma: float, default_office: float, default_applicant: float) -> StepSource:
        """How to draw the duration of a model task (see the module docstring and simulation.py)."""
        chosen, match, rescaled = self.chosen_samples(node)
        if len(chosen) >= MIN_SAMPLES or (chosen and not node.budget_seconds):
            office = not node.pauses_clock and sum(s.in_office for s in chosen) >= OFFICE_SHARE * len(chosen)
            values = []
            for s in chosen:
                value = s.office_total if office else s.calendar_total
                if rescaled and s.budget and node.budget_seconds and s.budget != node.budget_seconds:
                    value *= node.budget_seconds / s.budget  # a changed budget is taken as a changed step
                elif not office:
                    # Calendar-time steps keep their day count and time of day: an applicant who comes
                    # back to the counter comes back in office hours, not at a random hour.
                    value = (s.days, s.done_clock, value, s.in_office)
                values.append(value)
            return StepSource("history", "office" if office else "calendar", values, len(values), match,
                              tuple(sorted({s.version for s in chosen})), rescaled)
        timebase = "calendar" if node.pauses_clock else "office"
        if node.budget_seconds:
            return StepSource("budget", timebase, median=float(node.budget_seconds), sigma=budget_sigma)
        if node.person:
            median = default_applicant if node.pauses_clock else default_office
            return StepSource("none", timebase, median=median, sigma=budget_sigma)
        return StepSource("none", timebase, median=0.0)

    # --- branches -------------------------------------------------------------------------------
    def branch_counts(self, model: SopModel) -> dict[str, tuple[dict[str, float], int]]:
        """Per diverging gateway: how often each outgoing flow was taken, and how many passes were seen."""
        keys = self._keys(model)
        by_case: dict[int, list[tuple[str, dict]]] = defaultdict(list)
        for t in self.tasks:
            key = keys.get(t["step_id"]) or keys.get("name:" + norm_name(t["name"]))
            by_case[t["case_id"]].append((key, t))
        result = {}
        for gateway in model.gateways:
            if len(gateway.outgoing) < 2 or gateway.gateway == "parallel":
                continue
            before = model.preceding_tasks(gateway.id)
            firsts = {f: model.first_tasks(f) for f in gateway.outgoing}
            counts = {f: 0.0 for f in gateway.outgoing}
            seen = 0
            for case_id, rows in by_case.items():
                for taken in self._passes(case_id, rows, before):
                    matched = [f for f, first in firsts.items() if first & taken]
                    if not matched:
                        continue
                    seen += 1
                    for f in matched:
                        counts[f] += 1.0 if gateway.gateway == "inclusive" else 1.0 / len(matched)
            result[gateway.id] = (counts, seen)
        return result

    def _keys(self, model: SopModel) -> dict[str, str]:
        keys = {}
        for node in model.tasks:
            keys.setdefault("name:" + norm_name(node.name), node.id)
        for node in model.tasks:
            keys[node.id] = node.id
        return keys

    def _passes(self, case_id: int, rows: list[tuple[str, dict]], before: frozenset):
        """For each completion of a step in `before` (or the case start), the set of model steps it made ready."""
        case = self.cases.get(case_id)
        moments = []
        if START in before and case is not None:
            moments.append((case["started_at"], None))
        moments += [(t["completed_at"], t) for key, t in rows if key in before and t.get("completed_at")]
        for at, origin in moments:
            taken = self._next_known(rows, origin, at)
            if not taken:
                still_open = any(t is not origin and t["ready_at"] < at
                                 and (t.get("completed_at") or t.get("cancelled_at") or at + timedelta(1)) > at
                                 for _, t in rows)
                if still_open or case is None or case.get("status") != "completed":
                    continue
                taken = {END}
            yield frozenset(taken)

    @staticmethod
    def _next_known(rows: list[tuple[str, dict]], origin, at) -> set[str]:
        """Model steps made ready at `at`; through recorded steps the model lacks (another version's), onwards."""
        found, frontier, seen = set(), [(origin, at)], set()
        while frontier:
            source, moment_ = frontier.pop()
            for key, t in rows:
                if t is source or id(t) in seen or t["ready_at"] != moment_:
                    continue
                seen.add(id(t))
                if key:
                    found.add(key)
                elif t.get("completed_at") is not None:
                    frontier.append((t, t["completed_at"]))
        return found

    def steps_seen(self, model: SopModel) -> set[str]:
        """The model's tasks that appear in the history (by id or name)."""
        return {n.id for n in model.tasks if self.samples_for(n.id, n.name)[0]}
