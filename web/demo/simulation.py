"""The discrete-event run: a heap of events, each an engine call made at its moment on an injected clock."""
from __future__ import annotations

import heapq
import math
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select

from workflow_engine import FixedClock
from workflow_engine.errors import AlurError, Conflict, InvalidState, NotFound
from workflow_engine.models import Case, TaskRecord

from .arrivals import Arrivals
from .decisions import returns_here
from .forms import FormFiller
from .knobs import (
    ABANDON_AFTER_DAYS,
    ABANDON_SHARE,
    CASE_SIGMA,
    CLAIM_SHARE,
    COUNTER_SHARE,
    DAY,
    HOUR,
    Echo,
)
from .library import history_period, published_sops
from .records import Plan, SimCase, SimTask
from .scripted import holds_here
from .staffing import Staffing, signed_remotely
from .timing import applicant_seconds, urgency, wait_seconds, waking, work_seconds

FRONT_DESK = re.compile(r"\b(front|loket|pendaftaran|penerimaan|pelayanan|counter|cs)\b", re.IGNORECASE)


class Simulation:
    """One run of the office over the period; `generate_history` is its front door."""

    def __init__(self, engine, *, seed: int, days: int, cases: int, echo: Echo, now: datetime):
        self.engine = engine
        self.seed = seed
        self.days = days
        self.n_cases = cases
        self.echo = echo
        self.end = now.astimezone(UTC)
        self.start, self.switch = history_period(self.end, days)
        self.rng = random.Random(seed)
        self.cal = engine.calendar("jam-kerja")
        self.zone = engine.zone
        self.clock = FixedClock(self.start)
        self.heap: list = []
        self.seq = 0
        self.completed = 0
        self.claimed = 0
        self.cancelled = 0
        self.started = 0
        self.timer_fires = 0
        self.staff = Staffing(engine, self.cal, seed=seed, days=days, start=self.start, end=self.end, echo=echo)
        self.forms = FormFiller(self.clock, self.zone, self.staff.next_working_morning)
        # One read per engine operation: the case's status, next timer and open tasks.
        cases, tasks = Case.__table__, TaskRecord.__table__
        self.open_tasks_query = (
            select(cases.c.status, cases.c.next_timer_at, cases.c.deadline_at, tasks.c.id.label("task_id"),
                   tasks.c.step_id,
                   tasks.c.lane)
            .select_from(cases.outerjoin(tasks, (tasks.c.case_id == cases.c.id) & (tasks.c.state == "ready")))
            .where(cases.c.id == bindparam("case_id")).order_by(tasks.c.id))

    def load(self, password_hash: str | None) -> None:
        """Read the published SOPs and staff every lane they use."""
        self.versions, self.infos, weights = published_sops(self.engine, self.rng)
        self.staff.load(self.infos, password_hash)
        self.arrivals = Arrivals(self.rng, self.cal, self.zone, start=self.start, end=self.end,
                                 switch=self.switch, versions=self.versions, weights=weights)

    # --- the loop -------------------------------------------------------------------------------
    def push(self, when: datetime, kind: str, payload) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, kind, payload))

    def run(self, plans: list[Plan], advance: Callable[[], None]) -> None:
        """Play every event up to now, calling `advance` at each arrival."""
        for plan in plans:
            self.push(plan.at, "arrive", plan)
        while self.heap and self.heap[0][0] <= self.end:
            self.when, _, kind, payload = heapq.heappop(self.heap)
            if kind == "arrive":
                self.arrive(payload)
                advance()
            elif kind == "claim":
                self.claim(payload)
            elif kind == "complete":
                self.complete(payload)
            elif kind == "timer":
                self.fire_timers(payload)
            elif kind == "cancel":
                self.cancel(payload)

    def reach_end(self) -> None:
        """Move the clock to now and fire the timers due by then."""
        self.clock.set(self.end)
        self.timer_fires += self.engine.fire_due_timers()

    # --- planning a task ------------------------------------------------------------------------
    def sync(self, case: SimCase) -> None:
        """Learn the case's open tasks and next timer after an engine operation, and plan them."""
        with self.engine.db.engine.connect() as conn:
            rows = conn.execute(self.open_tasks_query, {"case_id": case.id}).all()
        if not rows or rows[0].status != "running":
            case.done = True
            return
        timer_at, deadline = rows[0].next_timer_at, rows[0].deadline_at
        case.deadline = deadline if deadline is None or deadline.tzinfo else deadline.replace(tzinfo=UTC)
        if timer_at is not None:
            timer_at = timer_at if timer_at.tzinfo else timer_at.replace(tzinfo=UTC)
            if timer_at != case.timer_at and timer_at < self.end:
                # SpiffWorkflow fires a timer once the clock is past its due moment, not at it.
                case.timer_at = timer_at
                self.push(max(timer_at, self.clock.now()) + timedelta(seconds=1), "timer", case)
        for row in rows:
            if row.task_id is None or row.task_id in case.known:
                continue
            case.known.add(row.task_id)
            self.plan_task(SimTask(row.task_id, case, case.info.steps.get(row.step_id), row.lane))

    def plan_task(self, task: SimTask) -> None:
        """Decide who claims and completes an office step, and when."""
        case, rng, step = task.case, task.case.plan.rng, task.step
        now = self.clock.now()
        if step is not None and step.pauses_clock:
            self.plan_applicant_step(task, rng)
            return
        plan = case.plan
        if plan.return_at is not None and not case.returned and returns_here(step):
            # The scripted late check: claimed a little before and completed at the set moment.
            done = max(plan.return_at, self.cal.add(now, 60))
            task.force_return = True
            task.user, _ = self.staff.pick_user(task.lane, done, rng, prefer=case.registrar)
            claim = max(now, done - timedelta(minutes=rng.uniform(10, 25)))
            if claim < done:
                self.push(claim, "claim", task)
            self.push(done, "complete", task)
            return
        prefer = case.registrar if task.lane == case.first_lane else None
        work = work_seconds(case, step, rng)
        if plan.return_at is not None and not case.returned:
            work = min(work, rng.uniform(5, 12) * 60)  # the first steps of a scripted file go quickly
        if not case.intake_planned and task.lane == case.first_lane and FRONT_DESK.search(task.lane or ""):
            # The applicant stands at the counter: the intake is served now, even near closing time.
            case.intake_planned = True
            task.user = prefer or self.staff.pick_user(task.lane, now, rng)[0]
            claim = now + timedelta(minutes=rng.uniform(0, 8))
            done = claim + timedelta(seconds=min(work, 45 * 60))
        else:
            wait = wait_seconds(task.lane, rng) * urgency(case, now)
            if plan.return_at is not None and not case.returned:
                wait = rng.uniform(1, 5) * 60
            claim = self.cal.add(now, wait)
            remote = signed_remotely(step)
            task.user, claim = self.staff.pick_user(task.lane, claim, rng, prefer=prefer, remote=remote)
            done = self.cal.add(claim, work)
        if plan.hold and not case.held and holds_here(case, task, now, self.end):
            case.held = True
            if plan.hold == "handoff":
                claim = self.cal.add(now, rng.uniform(10, 40) * 60)  # picked up, then set aside
            if claim < self.end:
                self.push(claim, "claim", task)
            return  # never completed before now
        if rng.random() < CLAIM_SHARE:
            self.push(claim, "claim", task)
        self.push(done, "complete", task)

    def plan_applicant_step(self, task: SimTask, rng: random.Random) -> None:
        """Decide when the applicant's side of a step is done, at the counter or online, or never."""
        case, now = task.case, self.clock.now()
        if case.plan.return_at is not None and case.returned:
            return  # the scripted applicant has not come back yet
        if not case.plan.clean and case.returned and rng.random() < ABANDON_SHARE:
            lo = now + timedelta(days=ABANDON_AFTER_DAYS)
            when = self.cal.add(lo, rng.uniform(0.2, 6) * HOUR)
            self.push(when, "cancel", case)
            return
        seconds = applicant_seconds(rng) if not case.plan.hold else rng.uniform(0.2, 0.6) * DAY
        done = now + timedelta(seconds=seconds)
        lane = task.lane
        members, only_lane = self.staff.members, self.staff.only_lane
        staff = [m for m in members.get(lane, []) if m not in only_lane.get(lane, [])]
        online = only_lane.get(lane, [])
        if staff and (rng.random() < COUNTER_SHARE or not online):
            # The applicant comes back to the counter; a clerk records it.
            if not self.cal.is_counted(done):
                done = self.cal.add(done, rng.uniform(0, 3) * HOUR)
            pool = staff
        else:
            done = waking(done, self.zone, rng)  # uploaded or paid online, at any waking hour
            pool = online or members.get(lane, [])
        if not pool:
            raise AlurError(f"nobody works in lane '{lane}'")
        task.user = rng.choice(sorted(pool))
        self.push(done, "complete", task)

    # --- the engine calls -----------------------------------------------------------------------
    def arrive(self, plan: Plan) -> SimCase:
        self.clock.set(plan.at)
        info = self.infos[(plan.key, plan.version)]
        first_lane = next((s.lane for s in info.steps.values()
                           if s.lane and not s.pauses_clock and s.kind.lower().endswith("task")), None)
        registrar, _ = self.staff.pick_user(first_lane, plan.at, plan.rng) if first_lane in self.staff.members \
            else (None, None)
        case_id = self.engine.start_case(plan.key, version=plan.version, actor=registrar)
        self.started += 1
        case = SimCase(id=case_id, plan=plan, info=info, registrar=registrar, first_lane=first_lane,
                       factor=math.exp(plan.rng.gauss(0, CASE_SIGMA)))
        self.sync(case)
        return case

    def claim(self, task: SimTask) -> None:
        if task.gone or task.case.done:
            return
        self.clock.set(self.when)
        try:
            self.engine.claim(task.id, user=task.user)
            self.claimed += 1
        except (InvalidState, Conflict, NotFound):
            task.gone = True  # a timer or another branch closed it meanwhile

    def complete(self, task: SimTask) -> None:
        if task.gone or task.case.done:
            return
        self.clock.set(self.when)
        data = self.forms.form_data(task)
        try:
            self.engine.complete(task.id, user=task.user, data=data)
        except (InvalidState, Conflict, NotFound):
            task.gone = True
            return
        self.completed += 1
        self.sync(task.case)

    def cancel(self, case: SimCase) -> None:
        if case.done:
            return
        self.clock.set(self.when)
        user, _ = self.staff.pick_user(case.first_lane, self.when, case.plan.rng) \
            if case.first_lane in self.staff.members else (None, None)
        try:
            self.engine.cancel(case.id, user=user,
                               reason=f"Berkas tidak dilengkapi pemohon dalam {ABANDON_AFTER_DAYS} hari")
        except (InvalidState, Conflict):
            return
        case.done = True
        self.cancelled += 1

    def fire_timers(self, case: SimCase) -> None:
        if case.done:
            return
        self.clock.set(self.when)
        self.timer_fires += self.engine.fire_due_timers()
        self.sync(case)  # a timer that is still due is looked at again only when it changes
