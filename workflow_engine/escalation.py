"""SLA escalations: tell the lane's head when a case is at risk, and the head of office when it is late.

Two levels, each fired once per case:

- ``at_risk``: the case has used the SOP's ``sla.eskalasiPada`` share of its limit (default: the
  office's at-risk share, 0.75). The heads of the lanes holding the case's open tasks are told: staff
  in the head lane that ``Settings.escalate_to`` maps each lane to (default "Kepala Bidang").
- ``breached``: the case is open past its deadline. Staff in ``Settings.head_of_office_lane``
  (default "Kepala Dinas") and every manager are told.

Finding due work is SQL over case rows, never a workflow: a cheap filter on ``cases.deadline_at``
picks candidates, the engine's case clock decides for those few, and the firing transaction locks
their rows (PostgreSQL: ``FOR NO KEY UPDATE SKIP LOCKED``, which other workers respect but which
does not block staff adding rows that refer to the case; SQLite: the write transaction's
``BEGIN IMMEDIATE``) and checks again, so several workers never notify twice. The level's time is stored on the case row in the same transaction as the inbox rows
and the audit event; email and webhook follow after the commit (notify.Delivery).

The stored ``deadline_at`` is never later than the true deadline (it assumes no pause after it was
computed, and pauses only move a deadline later), so the filter can pick a case too early, which
the exact check rejects, but never too late.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from . import store
from .models import Case, TaskRecord, User
from .notify import Delivery, Escalation, Recipient, add_notifications
from .sop_info import SopInfo

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger("alur.escalation")

LEVELS = ("at_risk", "breached")
COLUMNS = {"at_risk": Case.escalated_at_risk_at, "breached": Case.escalated_breached_at}
BATCH = 50


def head_lanes(mapping: str, lanes: Iterable[str | None]) -> list[str]:
    """The head lanes for a case's open lanes: `mapping` is "Head" or "Lane=Head; ...; *=Head"."""
    table: dict[str, str] = {}
    default = None
    for entry in (mapping or "").split(";"):
        if not entry.strip():
            continue
        if "=" in entry:
            lane, head = (part.strip() for part in entry.split("=", 1))
            if lane == "*":
                default = head or None
            elif lane:
                table[lane] = head
        else:
            default = entry.strip()
    heads = {table.get(lane, default) for lane in lanes if lane} or {default}
    return sorted(h for h in heads if h)


class Escalator:
    """Runs one escalation pass for an engine."""

    def __init__(self, engine: "Engine"):
        self.engine = engine
        self.settings = engine.settings

    def share(self, info: SopInfo) -> float:
        return info.escalate_share if info.escalate_share is not None else self.settings.at_risk_share

    # --- the pass -----------------------------------------------------------------------------
    def run(self, batch: int = BATCH) -> list[Escalation]:
        """Fire every due escalation; returns what fired (email and webhook already attempted)."""
        now = self.engine.now()
        with self.engine.db.read() as s:
            due = self._due(s, self._candidates(s, now), now)
        fired: list[Escalation] = []
        delivery = Delivery(self.engine)
        for start in range(0, len(due), batch):
            done = self._fire(due[start:start + batch], now)
            fired += done
            for escalation in done:  # after the commit: never part of the escalation's transaction
                delivery.deliver(escalation)
        return fired

    # --- finding due work: SQL over case rows -------------------------------------------------------
    def _pending(self):
        return and_(Case.status == "running", Case.practice.is_(False), Case.deadline_at.is_not(None),
                    or_(Case.escalated_at_risk_at.is_(None), Case.escalated_breached_at.is_(None)))

    def _candidates(self, s: Session, now: datetime) -> list[int]:
        """Ids of cases that may be due: per SOP version, deadline_at within the unused share of now."""
        version_ids = list(s.scalars(select(Case.process_version_id).where(self._pending()).distinct()))
        if not version_ids:
            return []
        per_version = []
        for vid in version_ids:
            info = self.engine.version(vid, s).info
            calendar = self.engine.calendar(info.calendar, s)
            # At risk once the counted time left to the deadline is at most (1 - share) of the limit.
            cutoff = calendar.add(now, (1 - self.share(info)) * info.limit_seconds)
            per_version.append(and_(Case.process_version_id == vid, or_(
                and_(Case.escalated_at_risk_at.is_(None), Case.deadline_at <= cutoff),
                and_(Case.escalated_breached_at.is_(None), Case.deadline_at <= now))))
        return list(s.scalars(select(Case.id).where(self._pending(), or_(*per_version))
                              .order_by(Case.deadline_at, Case.id)))

    def _levels(self, s: Session, case: Case, tasks: list[TaskRecord], now: datetime):
        """The levels due for a case now, with its clock; none while the applicant has the file."""
        info = self.engine.version(case.process_version_id, s).info
        clock = self.engine.viewer.clock_of(s, case, info, tasks, now)
        if clock.deadline is None or clock.paused:
            return [], clock, info
        levels = []
        breached = clock.state == "breached"
        if case.escalated_at_risk_at is None and (breached or clock.used_share >= self.share(info)):
            levels.append("at_risk")
        if case.escalated_breached_at is None and breached:
            levels.append("breached")
        return levels, clock, info

    def _due(self, s: Session, ids: list[int], now: datetime) -> list[int]:
        due = []
        for start in range(0, len(ids), 200):
            chunk = ids[start:start + 200]
            tasks = store.tasks_for_cases(s, chunk)
            for case in s.scalars(select(Case).where(Case.id.in_(chunk))):
                try:
                    levels, _, _ = self._levels(s, case, tasks[case.id], now)
                except Exception:  # one broken case must not stop the others' escalations
                    log.exception("could not compute the clock of case %s", case.registration_number)
                    continue
                if levels:
                    due.append(case.id)
        return sorted(due)

    # --- firing: one transaction per batch, rows locked ---------------------------------------------
    def _fire(self, ids: list[int], now: datetime) -> list[Escalation]:
        fired: list[Escalation] = []
        with self.engine.db.write() as s:
            cases = list(s.scalars(
                select(Case).where(Case.id.in_(ids), self._pending())
                .order_by(Case.id).with_for_update(skip_locked=True, key_share=True)
                .execution_options(populate_existing=True)))
            if not cases:
                return []
            tasks = store.tasks_for_cases(s, [c.id for c in cases])
            people = list(s.scalars(select(User).where(User.active.is_(True),
                                                       User.role.in_(("staff", "manager")))
                                    .order_by(User.username)))
            for case in cases:
                levels, clock, info = self._levels(s, case, tasks[case.id], now)
                if not levels:
                    continue  # moved on since it was picked: completed, paused, another worker
                open_tasks = [t for t in tasks[case.id] if t.state == "ready"]
                for level in levels:
                    fired.append(self._escalate(s, case, info, clock, level, open_tasks, people, now))
                # A plain UPDATE: the case's revision stays, so no one's task completion conflicts.
                s.execute(update(Case.__table__).where(Case.__table__.c.id == case.id)
                          .values({COLUMNS[level].key: now for level in levels}))
        return fired

    def _recipients(self, level: str, open_tasks: list[TaskRecord], people: list[User]):
        if level == "at_risk":
            heads = head_lanes(self.settings.escalate_to, [t.lane for t in open_tasks])
            chosen = [p for p in people if p.role == "staff" and set(p.lanes or ()) & set(heads)]
        else:
            heads = [self.settings.head_of_office_lane]
            chosen = [p for p in people if p.role == "manager"
                      or (p.role == "staff" and heads[0] in (p.lanes or ()))]
        language = self.settings.language
        return heads, [Recipient(p.username, p.email, p.language or language) for p in chosen]

    def _escalate(self, s: Session, case: Case, info: SopInfo, clock, level: str,
                  open_tasks: list[TaskRecord], people: list[User], now: datetime) -> Escalation:
        heads, recipients = self._recipients(level, open_tasks, people)
        escalation = Escalation(
            case_id=case.id, registration_number=case.registration_number, process=case.process_key,
            process_name=info.name, level=level, at=now, deadline=clock.deadline,
            sla_state=clock.state, used_share=clock.used_share,
            open_steps=[(t.name, t.lane) for t in open_tasks], recipients=recipients,
            webhook=info.webhook)
        add_notifications(s, escalation, self.engine.zone)
        if not recipients:
            log.warning("escalation %s of case %s reaches no one: nobody active in %s",
                        level, case.registration_number, ", ".join(heads) or "any head lane")
        store.audit(s, now, "case.escalated", case_id=case.id, level=level,
                    recipients=[r.username for r in recipients], lanes=heads,
                    open_lanes=sorted({t.lane for t in open_tasks if t.lane}),
                    used_share=round(clock.used_share, 4),
                    deadline=clock.deadline.astimezone(self.engine.zone).isoformat() if clock.deadline else None,
                    webhook=info.webhook)
        return escalation


def run_escalations(engine: "Engine") -> list[Escalation]:
    return Escalator(engine).run()
