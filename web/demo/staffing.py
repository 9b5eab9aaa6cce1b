"""Who works when: the people of every lane, the days heads are away, and who picks a step up."""
from __future__ import annotations

import hashlib
import random
import re
from datetime import date, datetime, timedelta

from workflow_engine import FixedClock, store
from workflow_engine.errors import AlurError
from workflow_engine.sop_info import SopInfo, StepInfo

from .knobs import HEAD_ABSENT, HOUR, OTHER_HEAD_ABSENT, STAFF_PER_LANE, TRIP_WORKING_DAYS, Echo
from .vocabulary import PAPUAN_CLANS, PAPUAN_FIRST, slug

HEAD_LANE = re.compile(r"\b(kepala|pimpinan|camat|sekretaris|bupati|kadis|kabid)\b", re.IGNORECASE)
TOP_HEAD_LANE = re.compile(r"\b(kepala dinas|kepala kantor|kepala badan|kadis|pimpinan|bupati)\b", re.IGNORECASE)
# A step that says it is signed electronically or delegated does not wait for an absent head.
REMOTE_STEP = re.compile(r"\b(tte|tanda tangan elektronik|ditandatangani elektronik|elektronik|"
                         r"didelegasikan|delegasi|plh|plt)\b", re.IGNORECASE)
WET_SIGNATURE_ALLOWED = re.compile(r"\batau\s+(tanda\s+tangan\s+)?basah\b", re.IGNORECASE)


def stable_random(*parts) -> random.Random:
    """A generator that depends only on its parts (for facts such as who is away on which day)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def is_head_lane(lane: str | None) -> bool:
    """Whether the lane is a head's (kepala, pimpinan, camat, ...), who signs and is sometimes away."""
    return bool(lane and HEAD_LANE.search(lane))


def signed_remotely(step: StepInfo | None) -> bool:
    """The step is signed electronically (TTE) or delegated, so an absent head does not block it."""
    if step is None:
        return False
    text = " ".join(filter(None, (step.name, step.documentation, step.note, step.output)))
    return bool(REMOTE_STEP.search(text)) and not WET_SIGNATURE_ALLOWED.search(text)


class Staffing:
    """The people of every lane and the days each head is away."""

    def __init__(self, engine, cal, *, seed: int, days: int, start: datetime, end: datetime, echo: Echo):
        self.engine = engine
        self.cal = cal
        self.zone = engine.zone
        self.seed = seed
        self.days = days
        self.start = start
        self.end = end
        self.echo = echo
        self.absent_cache: dict[tuple[str, date], bool] = {}

    def load(self, infos: dict[tuple[str, int], SopInfo], password_hash: str | None) -> None:
        """Every lane of every SOP gets people: the demo users plus extra clerks on busy lanes."""
        lanes: dict[str, bool] = {}  # lane -> every step in it pauses the clock (applicant side)
        for info in infos.values():
            for step in info.steps.values():
                if step.lane and step.kind.lower().endswith("task"):
                    lanes[step.lane] = lanes.get(step.lane, True) and step.pauses_clock
        with self.engine.db.read() as s:
            users = [(u.username, list(u.lanes or []), u.role, u.active) for u in store.list_users(s)]
        taken = {u[0] for u in users}
        if password_hash is None:
            from werkzeug.security import generate_password_hash
            password_hash = generate_password_hash("demo")
        old_clock = self.engine.clock
        self.engine.clock = FixedClock(self.start - timedelta(days=3))
        name_rng = random.Random(f"{self.seed}:staff")
        self.new_staff: list[str] = []
        try:
            for lane in sorted(lanes):
                members = [u for u in users if lane in u[1] and u[2] != "admin" and u[3]]
                want = 1 if (is_head_lane(lane) or lanes[lane]) else STAFF_PER_LANE
                base = next((u for u in members if u[1] == [lane]), members[0] if members else None)
                stem = base[0] if base else slug(lane)
                extra_lanes = base[1] if base else [lane]
                number = 1 if not base else 2
                while len(members) < want:
                    name = stem if number == 1 else f"{stem}{number}"
                    number += 1
                    if name in taken:
                        continue
                    full = f"{name_rng.choice(PAPUAN_FIRST)} {name_rng.choice(PAPUAN_CLANS)}"
                    self.engine.add_user(name, role="staff", lanes=extra_lanes, password_hash=password_hash,
                                         full_name=full, actor="admin")
                    taken.add(name)
                    members.append((name, extra_lanes, "staff", True))
                    self.new_staff.append(name)
        finally:
            self.engine.clock = old_clock
        if self.new_staff:
            self.echo("More staff for the history (same password): " + ", ".join(self.new_staff))
        with self.engine.db.read() as s:
            users = [(u.username, list(u.lanes or []), u.role, u.active) for u in store.list_users(s)]
        self.members = {lane: sorted(u[0] for u in users if lane in u[1] and u[2] != "admin" and u[3])
                        for lane in sorted(lanes)}
        # Applicant-side lanes: who records a step depends on the hour (counter or online).
        self.only_lane = {lane: [u[0] for u in users if u[1] == [lane] and u[2] != "admin" and u[3]]
                          for lane in sorted(lanes)}
        self.admins = sorted(u[0] for u in users if u[2] == "admin" and u[3])
        self.top_heads = sorted(u for lane in self.members if TOP_HEAD_LANE.search(lane)
                                for u in self.members[lane])
        self.trip_days = self._trip_days()

    def _trip_days(self) -> set[date]:
        """The head of office is away on duty for the last working days before now."""
        if self.days < 5:
            return set()
        days: list[date] = []
        day = self.end.astimezone(self.zone).date()
        for _ in range(14):
            opens = datetime.combine(day, datetime.min.time(), tzinfo=self.zone)
            first = next(iter(self.cal.intervals(opens)))[0]
            if first.astimezone(self.zone).date() == day and first < self.end:
                days.append(day)
            if len(days) >= TRIP_WORKING_DAYS:
                break
            day -= timedelta(days=1)
        return set(days)

    def absent(self, user: str, lane: str | None, day: date) -> bool:
        """Whether a head is away that day: on random days (never more than two working days in a
        row) and, for the head of office, on the duty trip that covers the last days before now."""
        if not is_head_lane(lane):
            return False
        cached = self.absent_cache.get((user, day))
        if cached is None:
            if user in self.top_heads and day in self.trip_days:
                cached = True
            elif day.weekday() >= 5:
                cached = False
            else:
                earlier = [day - timedelta(days=n) for n in range(1, 6)]
                earlier = [d for d in earlier if d.weekday() < 5][:2]
                streak = all(self.absent(user, lane, d) for d in earlier) if earlier[0] >= \
                    self.start.astimezone(self.zone).date() - timedelta(days=7) else False
                share = HEAD_ABSENT if TOP_HEAD_LANE.search(lane) else OTHER_HEAD_ABSENT
                cached = not streak and stable_random(self.seed, "absent", user, day.isoformat()).random() < share
            self.absent_cache[(user, day)] = cached
        return cached

    def next_working_morning(self, moment: datetime) -> datetime:
        """The opening of the first working day after `moment`'s local day."""
        day = moment.astimezone(self.zone).date()
        for lo, _ in self.cal.intervals(moment):
            if lo.astimezone(self.zone).date() > day:
                return lo
        raise AssertionError("the calendar never opens again")  # pragma: no cover

    def pick_user(self, lane: str | None, at: datetime, rng: random.Random,
                  prefer: str | None = None, remote: bool = False) -> tuple[str, datetime]:
        """Someone of the lane who is in at `at`, or the next morning somebody is."""
        members = self.members.get(lane) or (self.admins if lane is None else [])
        if not members:
            raise AlurError(f"nobody works in lane '{lane}'")
        for _ in range(60):
            day = at.astimezone(self.zone).date()
            present = [m for m in members if not self.absent(m, lane, day)]
            if present:
                if prefer in present and rng.random() < 0.85:
                    return prefer, at
                return rng.choice(present), at
            if remote:
                # Signed electronically, or delegated while the head is away: done the same day, only later.
                return rng.choice(members), self.cal.add(at, rng.uniform(0.25, 1.5) * HOUR)
            at = self.cal.add(self.next_working_morning(at), rng.uniform(5, 40) * 60)
        return rng.choice(members), at
