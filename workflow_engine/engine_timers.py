"""BPMN timers: fire the due ones, one case per transaction, row-locked where the database can."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from . import store
from .errors import AlurError, InvalidState
from .task_rows import next_timer

if TYPE_CHECKING:
    from .engine import _Loaded


class TimerFailed(AlurError):
    """Firing the timers of one case failed; nothing of it was saved. `cause` says why."""

    code = "timer_failed"

    def __init__(self, case_id: int, cause: BaseException):
        self.case_id = case_id
        self.cause = cause
        super().__init__(f"case {case_id}: firing its timer failed: {cause}")


class Timers:
    """The Engine's operations on BPMN timers."""

    def fire_timers(self, case_id: int) -> bool:
        """Fire the due timers of one case; returns whether anything moved."""
        with self._operation() as s:
            return self._fire_loaded(s, self._open(s, case_id), self.now())

    def _fire_loaded(self, s: Session, loaded: _Loaded, now: datetime) -> bool:
        """Fire the due timers of an opened case inside the caller's transaction."""
        before = loaded.case.state_json
        loaded.workflow.refresh_timers()
        self._advance(loaded.workflow)
        after = self.codec.dump_state(loaded.workflow)
        if after == before:
            return False
        store.audit(s, now, "case.timers_fired", case_id=loaded.case.id)
        self._save(s, loaded, now, state_json=after)
        return True

    def fire_next_due_timer(self, *, exclude=()) -> int | None:
        """Claim one case whose timer is due and fire it, in one transaction; returns its id.

        None when no case (outside `exclude`) has a timer due. The claim locks the case row
        (PostgreSQL: FOR UPDATE SKIP LOCKED, so workers side by side each take another case; SQLite:
        the write transaction's BEGIN IMMEDIATE serialises them), and the case's new next_timer_at is
        written in the same commit as the firing: nothing fires twice, nothing is missed. A failure
        rolls everything back and is raised as TimerFailed, which names the case.
        """
        case_id = None
        try:
            with self._operation() as s:
                now = self.now()
                case = store.lock_next_due_timer_case(
                    s, now, skip_locked=self.db.dialect == "postgresql", exclude=exclude)
                if case is None:
                    return None
                case_id = case.id
                loaded = self._open(s, case_id)
                if not self._fire_loaded(s, loaded, now):
                    # Nothing was due after all: keep next_timer_at truthful so the case is not
                    # claimed again and again.
                    upcoming = next_timer(loaded.workflow)
                    if upcoming is not None and upcoming < now:
                        raise InvalidState(f"its timer due at {upcoming.isoformat()} did not fire")
                    case.next_timer_at = upcoming
                return case_id
        except (OperationalError, InterfaceError):
            raise  # the database, not the case: nothing to pin on it
        except Exception as exc:
            if case_id is None:
                raise
            raise TimerFailed(case_id, exc) from exc

    def next_timer_due(self, *, exclude=()) -> datetime | None:
        """When the earliest timer of a running case (outside `exclude`) is due; one indexed query."""
        with self.db.read() as s:
            return store.next_timer_due(s, exclude=exclude)

    def fire_due_timers(self, limit: int = 100) -> int:
        """Fire the timers of every case due now, one case per transaction; returns how many fired.

        The same claim as the worker's (fire_next_due_timer); a case that fails is left as it was.
        """
        fired, failed = 0, set()
        for _ in range(limit):
            try:
                case_id = self.fire_next_due_timer(exclude=failed)
            except TimerFailed as exc:
                failed.add(exc.case_id)
                continue
            if case_id is None:
                break
            fired += 1
        return fired
