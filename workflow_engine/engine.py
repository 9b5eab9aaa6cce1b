"""The Alur engine: deploys SOP versions and moves cases through them, one transaction per operation."""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from . import people, store
from .calendars import calendar_for
from .case_view import CaseViewer
from .clock import Clock
from .db import Database
from .errors import AlurError, Conflict, Forbidden, FormError, InvalidState, ScriptError
from .forms import check_start_data, validate_form
from .models import Case, ProcessVersion, TaskRecord, User
from .runtime import SpecCache, StateCodec, WorkflowCache, guard_depth, running_on
from .tree_pruning import prune_history
from .task_rows import deadline_may_move, next_timer, record_completion, sync_task_rows
from .sandbox import script_engine
from .settings import Settings
from .engine_office import Office
from .engine_timers import TimerFailed, Timers
from .engine_versions import DeployResult, ParsedVersion, SopVersions
from .drafts import Drafts
from .insights import Insights
from .event_log import EventLogs
from .dashboard import Dashboard
from .sop_refs import VersionDiffs
from .forecasts import Forecasts
from .tracking import Tracking
from .tokens import Tokens
from .case_pages import CasePages
from .sop_info import SopInfo
from .connectors import Connectors
from .messages import Messages

__all__ = ["DeployResult", "Engine", "ParsedVersion", "TimerFailed"]

# Another process's new local holiday shows here within this many seconds; this one's at once.
HOLIDAYS_TTL = 30.0
# Workflows of saved cases kept in memory (runtime.WorkflowCache) when their state is at most this long.
CACHED_STATE_AT_MOST = 200_000
_SAVED = "alur.saved_workflows"  # Session.info key: workflows to keep once the transaction commits

@dataclass
class _Loaded:
    """A case opened for change: its row, its SOP version and its live workflow."""

    case: Case
    info: SopInfo
    workflow: BpmnWorkflow
    open_rows: list | None = None  # the case's ready task rows, when already read


class Engine(SopVersions, Timers, Office, Drafts, Insights, VersionDiffs, Forecasts, Tracking, Tokens, CasePages,
             Dashboard, EventLogs, Connectors, Messages):
    """Receives its collaborators (database, clock, settings) and owns no global state.

    Its operations are grouped by topic: SOP versions (engine_versions), timers
    (engine_timers), people and notices (engine_office), and cases and tasks here.
    """

    def __init__(self, db: Database, clock: Clock, settings: Settings):
        self.db = db
        self.clock = clock
        self.settings = settings
        self.codec = StateCodec()
        self._specs = SpecCache()
        self._workflows = WorkflowCache(settings.workflow_cache_size)
        self._script_engine = script_engine(settings.script_time_limit)
        self.viewer = CaseViewer(self)
        self._calendars: dict[tuple, Any] = {}
        self._holidays: tuple[float, tuple] | None = None  # (monotonic read time, days)

    # --- time ---------------------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def now(self) -> datetime:
        return self.clock.now().astimezone(timezone.utc)

    def calendar(self, kind: str, session: Session | None = None):
        """The calendar an SOP counts its limit on, with the office's local holidays."""
        days = () if kind == "24x7" else self._local_holidays(session)
        # Calendars cache their holiday years; keep one per distinct set of local holidays.
        key = (kind, days)
        if key not in self._calendars:
            self._calendars[key] = calendar_for(kind, tz=self.settings.timezone, extra_holidays=days)
        return self._calendars[key]

    def _local_holidays(self, session: Session | None) -> tuple:
        """Local holidays, read at most every HOLIDAYS_TTL seconds (lists compute many clocks)."""
        moment = time.monotonic()
        if self._holidays is None or moment - self._holidays[0] > HOLIDAYS_TTL:
            if session is None:
                with self.db.read() as s:
                    days = tuple(h.day for h in store.local_holidays(s))
            else:
                days = tuple(h.day for h in store.local_holidays(session))
            self._holidays = (moment, days)
        return self._holidays[1]

    # --- cases --------------------------------------------------------------------------------
    def start_case(self, key: str, *, version: int | None = None, data: Mapping | None = None,
                   actor: str | None = None, practice: bool = False) -> int:
        """Register a new case on a version (the latest published one by default); returns its id.

        A practice case (latihan) runs the same SOP for learning; it gets its own numbers
        (LAT-REK-2026-000001) and is never counted in reports.
        """
        data = check_start_data(data)
        now = self.now()
        with self._operation() as s:
            vid = store.version_id(s, key, version)
            status = s.get(ProcessVersion, vid).status
            if status != "published":
                raise InvalidState(f"version {version} of SOP '{key}' is {status}: no new cases")
            spec, subprocess_specs, info, _ = self.version(vid, s)
            workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self._script_engine)
            for task in workflow.get_tasks(state=TaskState.READY):
                task.data.update(data)
            self._advance(workflow)
            year = now.astimezone(self.zone).year
            prefix = f"LAT-{info.registration_prefix}" if practice else info.registration_prefix
            number = store.take_registration_number(s, prefix, year)
            case = Case(registration_number=f"{prefix}-{year}-{number:06d}",
                        process_version_id=vid, process_key=key, status="running",
                        state_json="", data=dict(data), started_at=now, started_by=actor,
                        practice=practice,
                        clock_started_at=None if info.clock_starts_after else now)
            s.add(case)
            s.flush()
            store.audit(s, now, "case.started", actor=actor, case_id=case.id,
                        registration_number=case.registration_number, version_id=vid,
                        practice=practice)
            self._save(s, _Loaded(case, info, workflow), now)
            return case.id

    def claim(self, task_id: int, *, user: str) -> None:
        """Take a ready task so that others see who is working on it."""
        with self._operation() as s:
            task, person, _, _ = self._task_for(s, task_id, user)
            if task.claimed_by == user:
                return
            if task.claimed_by:
                raise Conflict(f"task {task_id} is already claimed by {task.claimed_by}")
            now = self.now()
            task.claimed_by, task.claimed_at = user, now
            store.audit(s, now, "task.claimed", actor=user, case_id=task.case_id, task_id=task.id)

    def release(self, task_id: int, *, user: str) -> None:
        """Give a claimed task back to the lane."""
        with self._operation() as s:
            task, person, _, _ = self._task_for(s, task_id, user)
            if task.claimed_by is None:
                return
            if task.claimed_by != user and person.role != "admin":
                raise Forbidden(f"task {task_id} is claimed by {task.claimed_by}; only they or an "
                                "admin can release it")
            task.claimed_by, task.claimed_at = None, None
            store.audit(s, self.now(), "task.released", actor=user, case_id=task.case_id,
                        task_id=task.id)

    def complete(self, task_id: int, *, user: str, data: Mapping | None = None) -> int:
        """Complete a ready task with form data and run the engine on; returns the case id."""
        with self._operation() as s:
            task, person, open_rows, case = self._task_for(s, task_id, user)
            if task.claimed_by and task.claimed_by != user:
                raise Conflict(f"task {task_id} is claimed by {task.claimed_by}")
            loaded = self._open(s, task.case_id, open_rows, case)
            step = loaded.info.steps.get(task.step_id)
            values = validate_form(step.form if step else (), data or {})
            spiff_task = loaded.workflow.get_task_from_id(UUID(task.spiff_task_id))
            if spiff_task is None or spiff_task.state != TaskState.READY:
                raise Conflict(f"task {task_id} is no longer ready in case "
                               f"{loaded.case.registration_number}; reload the case")
            now = self.now()
            spiff_task.data.update(values)
            self._run(spiff_task.run)
            self._advance(loaded.workflow)
            record_completion(task, user, values, now)
            loaded.case.data = {**loaded.case.data, **values}
            if loaded.info.clock_starts_after == task.step_id and loaded.case.clock_started_at is None:
                loaded.case.clock_started_at = now
            store.audit(s, now, "task.completed", actor=user, case_id=task.case_id, task_id=task.id,
                        step_id=task.step_id)
            self._save(s, loaded, now)
            return task.case_id

    def cancel(self, case_ref, *, user: str | None = None, reason: str | None = None) -> int:
        """Stop a running case; its open tasks are cancelled, its history kept."""
        with self._operation() as s:
            case = store.case_by_reference(s, case_ref)
            loaded = self._open(s, case.id)
            now = self.now()
            loaded.workflow.cancel()
            loaded.case.status, loaded.case.closed_by, loaded.case.close_reason = "cancelled", user, reason
            store.audit(s, now, "case.cancelled", actor=user, case_id=case.id, reason=reason)
            self._save(s, loaded, now)
            return case.id

    def comment(self, case_ref, *, user: str, text: str) -> None:
        """Add a comment to a case's timeline."""
        text = (text or "").strip()
        if not text:
            raise FormError({"comment": "wajib diisi"})
        if len(text) > 2000:
            raise FormError({"comment": "maksimal 2000 karakter"})
        with self.db.write() as s:
            case = store.case_by_reference(s, case_ref)
            store.audit(s, self.now(), "case.commented", actor=user, case_id=case.id, text=text)

    # --- reading ------------------------------------------------------------------------------
    def case(self, case_ref, *, as_of: datetime | None = None, with_tasks: bool = True) -> dict:
        view = self.viewer.case(case_ref, as_of=as_of, with_tasks=with_tasks)
        if with_tasks:  # calls to other agencies, each failed one with a sentence saying why
            # Only SOPs with service tasks have any: the task page of every other SOP reads nothing more.
            jobs = self.connector_jobs(view["id"]) if self.calls_agencies(view["process"], view["version"]) else []
            view["connector_jobs"] = [j for j in jobs if as_of is None or j["created_at"] <= view["as_of"]]
        return view

    def cases(self, **filters) -> list[dict]:
        return self.viewer.cases(**filters)

    def tasks(self, **filters) -> list[dict]:
        return self.viewer.tasks(**filters)

    # --- the machinery of one operation ---------------------------------------------------------
    @contextmanager
    def _operation(self) -> Iterator[Session]:
        """One write transaction; a concurrent change to the same case becomes a Conflict."""
        try:
            with self.db.write() as s, running_on(self.clock):
                yield s
                saved = s.info.pop(_SAVED, ())
        except StaleDataError as exc:
            raise Conflict("someone else already changed this case; nothing of yours was saved. "
                           "Reload it and try again") from exc
        for case_id, revision, workflow in saved:  # committed: the next operation may start from these
            self._workflows.put(case_id, revision, workflow)

    def _task_for(self, s: Session, task_id: int, username: str) -> tuple[TaskRecord, User, list, Case]:
        """The task if this user may act on it now, with the case's open tasks and the case (one snapshot)."""
        task, person, open_rows, case = store.task_for_user(s, task_id, username)
        if not person.active:
            raise Forbidden(f"user '{username}' is deactivated")
        if not people.may_act(person, task, case):
            raise Forbidden(f"user '{username}' is not in lane '{task.lane}' of task {task_id}")
        if task.state == "completed":
            raise Conflict(f"task {task_id} was already completed by {task.completed_by} at "
                           f"{task.completed_at.astimezone(self.zone).isoformat()}")
        if task.state != "ready":
            raise InvalidState(f"task {task_id} is {task.state}, not ready")
        return task, person, open_rows, case

    def task(self, task_id: int, *, username: str | None = None) -> dict:
        """A task's few facts, and whether `username` may see it and act on it."""
        with self.db.read() as s:
            task = store.task_by_id(s, task_id)
            case = s.get(Case, task.case_id)
            facts = {"id": task.id, "case_id": task.case_id, "step_id": task.step_id, "lane": task.lane,
                     "state": task.state, "claimed_by": task.claimed_by,
                     "completed_by": task.completed_by, "completed_at": self.viewer.iso(task.completed_at),
                     "registration_number": case.registration_number, "practice": case.practice}
            if username is not None:
                person = store.user_by_name(s, username)
                facts["may_act"] = person.active and people.may_act(person, task, case)
                facts["may_see"] = facts["may_act"] or person.role != "staff"
            return facts

    def _open(self, s: Session, case_id: int, open_rows: list | None = None, case: Case | None = None) -> _Loaded:
        # With open_rows, pass the case read with them: the revision check then covers both.
        case = case if case is not None else store.case_by_id(s, case_id)
        if case.status != "running":
            raise InvalidState(f"case {case.registration_number} is {case.status}")
        spec, subprocess_specs, info, _ = self.version(case.process_version_id, s)
        workflow = self._workflows.take(case.id, case.revision)
        if workflow is None:
            workflow = self.codec.load_state(case.state_json, spec, subprocess_specs, self._script_engine)
        return _Loaded(case, info, workflow, open_rows)

    def _run(self, action) -> None:
        try:
            action()
        except AlurError:
            raise
        except WorkflowException as exc:
            # SpiffWorkflow wraps a failed condition in a vague message; the sandbox's is clearer.
            cause = exc.__cause__ or exc.__context__
            detail = cause if isinstance(cause, ScriptError) else exc
            raise ScriptError(f"the SOP failed while running: {detail}") from exc

    def _advance(self, workflow: BpmnWorkflow) -> None:
        self._run(workflow.do_engine_steps)
        prune_history(workflow)  # loops would otherwise grow the state (and its cost) every round
        guard_depth(workflow, self.settings.max_tree_depth)

    def _save(self, s: Session, loaded: _Loaded, now: datetime, state_json: str | None = None) -> None:
        case, workflow, info = loaded.case, loaded.workflow, loaded.info
        # One UPDATE of the case row per operation: its revision moves by exactly one.
        with s.no_autoflush:
            rows = loaded.open_rows if loaded.open_rows is not None else store.open_tasks_of_case(s, case.id)
            sync_task_rows(s, case, workflow, info, rows, now)
            self._sync_connector_jobs(s, loaded, now)  # service tasks queue their calls (connectors.py)
            if case.status == "running" and workflow.is_completed():
                case.status = "completed"
                store.audit(s, now, "case.completed", case_id=case.id)
            if case.status != "running" and case.closed_at is None:
                case.closed_at = now
            case.state_json = state_json or self.codec.dump_state(workflow)
            case.next_timer_at = next_timer(workflow) if case.status == "running" else None
            if deadline_may_move(s, case):
                case.deadline_at = self.viewer.deadline_for(s, case, info, now)
        # Flushing here runs the revision-checked UPDATE before the commit.
        s.flush()
        if case.status == "running" and len(case.state_json) <= CACHED_STATE_AT_MOST:
            s.info.setdefault(_SAVED, []).append((case.id, case.revision, workflow))
