"""The Alur engine: deploys SOP versions and moves cases through them, one transaction per operation."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping, NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from . import people, store
from . import escalation, notify
from .bpmn_loader import LoadedProcess, load_bpmn
from .calendars import calendar_for
from .case_view import CaseViewer
from .clock import Clock
from .db import Database
from .errors import AlurError, Conflict, Forbidden, FormError, InvalidState, ScriptError
from .forms import check_start_data, validate_form
from .models import Case, ProcessVersion, TaskRecord, User
from .runtime import SpecCache, StateCodec, guard_depth, running_on
from .task_rows import deadline_may_move, next_timer, sync_task_rows
from .sandbox import script_engine
from .settings import Settings
from .sop_info import SopInfo

class TimerFailed(AlurError):
    """Firing the timers of one case failed; nothing of it was saved. `cause` says why."""

    code = "timer_failed"

    def __init__(self, case_id: int, cause: BaseException):
        self.case_id = case_id
        self.cause = cause
        super().__init__(f"case {case_id}: firing its timer failed: {cause}")


@dataclass(frozen=True)
class DeployResult:
    key: str
    name: str
    version: int
    created: bool
    content_hash: str
    warnings: tuple

    def to_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "version": self.version, "created": self.created,
                "content_hash": self.content_hash, "warnings": [w.to_dict() for w in self.warnings]}


class ParsedVersion(NamedTuple):
    spec: Any
    subprocess_specs: dict
    info: SopInfo
    number: int


@dataclass
class _Loaded:
    """A case opened for change: its row, its SOP version and its live workflow."""

    case: Case
    info: SopInfo
    workflow: BpmnWorkflow
    open_rows: list | None = None  # the case's ready task rows, when already read


class Engine:
    """Receives its collaborators (database, clock, settings) and owns no global state."""

    def __init__(self, db: Database, clock: Clock, settings: Settings):
        self.db = db
        self.clock = clock
        self.settings = settings
        self.codec = StateCodec()
        self._specs = SpecCache()
        self._script_engine = script_engine(settings.script_time_limit)
        self.viewer = CaseViewer(self)
        self._calendars: dict[tuple, Any] = {}

    # --- time ---------------------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def now(self) -> datetime:
        return self.clock.now().astimezone(timezone.utc)

    def calendar(self, kind: str, session: Session | None = None):
        """The calendar an SOP counts its limit on, with the office's local holidays."""
        days: tuple = ()
        if kind != "24x7":
            if session is None:
                with self.db.read() as s:
                    days = tuple(h.day for h in store.local_holidays(s))
            else:
                days = tuple(h.day for h in store.local_holidays(session))
        # Calendars cache their holiday years; keep one per distinct set of local holidays.
        key = (kind, days)
        if key not in self._calendars:
            self._calendars[key] = calendar_for(kind, tz=self.settings.timezone, extra_holidays=days)
        return self._calendars[key]

    # --- SOP versions -------------------------------------------------------------------------
    def load(self, content: bytes, filename: str) -> LoadedProcess:
        """Validate a BPMN file without storing anything."""
        return load_bpmn(content, filename, max_bytes=self.settings.max_bpmn_bytes,
                         scripts_enabled=self.settings.scripts_enabled)

    def deploy(self, content: bytes, filename: str, *, author: str | None = None,
               note: str | None = None) -> DeployResult:
        """Store a BPMN file as the next version of its SOP; identical content changes nothing."""
        loaded = self.load(content, filename)
        now = self.now()
        try:
            with self.db.write() as s:
                existing = store.version_by_hash(s, loaded.key, loaded.content_hash)
                if existing is not None:
                    return DeployResult(loaded.key, existing.name, existing.version, False,
                                        loaded.content_hash, loaded.warnings)
                number = store.next_version_number(s, loaded.key)
                row = ProcessVersion(
                    key=loaded.key, version=number, name=loaded.name,
                    bpmn_xml=loaded.xml.decode("utf-8"), filename=filename,
                    content_hash=loaded.content_hash,
                    spec_json=self.codec.dump_spec(loaded.spec, loaded.subprocess_specs),
                    info=loaded.info.to_dict(), status="published", author=author, note=note,
                    created_at=now)
                s.add(row)
                s.flush()
                store.audit(s, now, "process.deployed", actor=author, key=loaded.key,
                            version=number, content_hash=loaded.content_hash)
                return DeployResult(loaded.key, loaded.name, number, True, loaded.content_hash,
                                    loaded.warnings)
        except IntegrityError as exc:
            raise Conflict(f"another deploy of SOP '{loaded.key}' happened at the same time; "
                           "try again") from exc

    def version(self, version_id: int, session: Session) -> "ParsedVersion":
        """The parsed spec and metadata of a version, parsed once and cached (versions never change)."""
        def parse():
            row = session.get(ProcessVersion, version_id)
            spec, subprocess_specs = self.codec.load_spec(row.spec_json)
            return ParsedVersion(spec, subprocess_specs, SopInfo.from_dict(row.info), row.version)
        return self._specs.get(version_id, parse)

    def set_version_status(self, key: str, number: int, status: str, *, actor: str | None = None) -> None:
        if status not in ("published", "retired"):
            raise InvalidState(f"unknown version status '{status}' (published or retired)")
        with self.db.write() as s:
            row = s.get(ProcessVersion, store.version_id(s, key, number))
            row.status = status
            store.audit(s, self.now(), f"process.{status}", actor=actor, key=key, version=number)

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
            task, person, _ = self._task_for(s, task_id, user)
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
            task, person, _ = self._task_for(s, task_id, user)
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
            task, person, open_rows = self._task_for(s, task_id, user)
            if task.claimed_by and task.claimed_by != user:
                raise Conflict(f"task {task_id} is claimed by {task.claimed_by}")
            loaded = self._open(s, task.case_id, open_rows)
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
            if task.claimed_by is None:
                task.claimed_by, task.claimed_at = user, now
            task.state, task.completed_at, task.completed_by, task.data = "completed", now, user, values
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

    def fire_timers(self, case_id: int) -> bool:
        """Fire the due timers of one case; returns whether anything moved."""
        with self._operation() as s:
            return self._fire_loaded(s, self._open(s, case_id), self.now())

    def _fire_loaded(self, s: Session, loaded: _Loaded, now: datetime) -> bool:
        """Fire the due timers of an opened case inside the caller's transaction."""
        before = loaded.case.state_json
        loaded.workflow.refresh_timers()
        self._advance(loaded.workflow)
        if self.codec.dump_state(loaded.workflow) == before:
            return False
        store.audit(s, now, "case.timers_fired", case_id=loaded.case.id)
        self._save(s, loaded, now)
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
        """Fire timers of every case that has one due now; returns how many cases moved."""
        with self.db.read() as s:
            due = store.due_timer_case_ids(s, self.now(), limit)
        fired = 0
        for case_id in due:
            try:
                fired += self.fire_timers(case_id)
            except Conflict:
                continue  # another process moved this case first; it will be looked at again
        return fired

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

    def may_see_case(self, username: str, case_ref) -> bool:
        """Staff see the cases that pass through their lanes or that they registered; others see all."""
        with self.db.read() as s:
            person = store.user_by_name(s, username)
            case = store.case_by_reference(s, case_ref)
            if person.role != "staff":
                return True
            # A head told about a case by an escalation may open it, whatever lanes it passed.
            return (case.started_by == username or store.case_touches_lanes(s, case.id, person.lanes)
                    or notify.has_notification(s, username, case.id))

    # --- SLA escalations and notifications -----------------------------------------------------
    def run_escalations(self) -> int:
        """Notify the heads of every case whose SLA escalation is due now; returns how many fired.

        Each level (at risk, breached) fires once per case, also with several workers at once;
        see escalation.py. Email and webhook calls follow the commit and never undo it.
        """
        return len(escalation.run_escalations(self))

    def notifications(self, username: str, *, unread_only: bool = False, limit: int = 50) -> list[dict]:
        """A person's notifications, newest first."""
        with self.db.read() as s:
            return [{"id": n.id, "case_id": n.case_id, "registration_number": number, "level": n.level,
                     "message": n.message, "created_at": self.viewer.iso(n.created_at),
                     "read_at": self.viewer.iso(n.read_at)}
                    for n, number in notify.notifications_of(s, username, unread_only=unread_only,
                                                             limit=limit)]

    def mark_read(self, username: str, ids=None) -> int:
        """Mark a person's notifications read (all unread ones, or those of `ids`); returns how many."""
        with self.db.write() as s:
            return notify.mark_read(s, username, self.now(), ids)

    # --- people and holidays -----------------------------------------------------------------
    def add_user(self, username: str, *, role: str, password_hash: str, lanes=(),
                 full_name: str | None = None, actor: str | None = None) -> None:
        """Add a person with a role and the lanes whose tasks they do."""
        with self.db.write() as s:
            people.add_user(s, self.now(), username, role=role, password_hash=password_hash,
                            lanes=lanes, full_name=full_name, actor=actor)

    def add_holiday(self, day, name: str, *, actor: str | None = None) -> None:
        """Record a local holiday that the working-hours calendar skips."""
        with self.db.write() as s:
            people.add_holiday(s, self.now(), day, name, actor=actor)

    def user(self, username: str) -> dict:
        """A person's record, password hash included (for signing in)."""
        with self.db.read() as s:
            return people.user_dict(store.user_by_name(s, username), with_hash=True)

    def users(self) -> list[dict]:
        with self.db.read() as s:
            return [people.user_dict(u) for u in store.list_users(s)]

    def update_user(self, username: str, *, actor: str | None = None, **changes) -> None:
        """Change a person's role, lanes, name, language, email, password hash or active flag."""
        with self.db.write() as s:
            people.update_user(s, self.now(), store.user_by_name(s, username), actor=actor, **changes)

    def holidays(self) -> list[dict]:
        with self.db.read() as s:
            return [{"day": h.day.isoformat(), "name": h.name} for h in store.local_holidays(s)]

    # --- reading ------------------------------------------------------------------------------
    def case(self, case_ref, *, as_of: datetime | None = None, with_tasks: bool = True) -> dict:
        return self.viewer.case(case_ref, as_of=as_of, with_tasks=with_tasks)

    def process_info(self, key: str, number: int | None = None) -> dict:
        """An SOP version's metadata: identity, service limit, lanes and steps with mutu baku."""
        with self.db.read() as s:
            vid = store.version_id(s, key, number)
            row = s.get(ProcessVersion, vid)
            return {"key": row.key, "version": row.version, "status": row.status,
                    "content_hash": row.content_hash, "author": row.author, "note": row.note,
                    "created_at": self.viewer.iso(row.created_at), **row.info}

    def cases(self, **filters) -> list[dict]:
        return self.viewer.cases(**filters)

    def version_xml(self, case_ref) -> str:
        """The BPMN XML of the SOP version a case runs on (for the case page's diagram)."""
        with self.db.read() as s:
            case = store.case_by_reference(s, case_ref)
            return s.get(ProcessVersion, case.process_version_id).bpmn_xml

    def tasks(self, **filters) -> list[dict]:
        return self.viewer.tasks(**filters)

    def processes(self) -> list[dict]:
        return self.viewer.processes()

    # --- the machinery of one operation ---------------------------------------------------------
    @contextmanager
    def _operation(self) -> Iterator[Session]:
        """One write transaction; a concurrent change to the same case becomes a Conflict."""
        try:
            with self.db.write() as s, running_on(self.clock):
                yield s
        except StaleDataError as exc:
            raise Conflict("someone else already changed this case; nothing of yours was saved. "
                           "Reload it and try again") from exc

    def _task_for(self, s: Session, task_id: int, username: str) -> tuple[TaskRecord, User, list]:
        """The task if this user may act on it now, with the case's open tasks."""
        task, person, open_rows = store.task_for_user(s, task_id, username)
        if not person.active:
            raise Forbidden(f"user '{username}' is deactivated")
        if not people.may_act(person, task, s.get(Case, task.case_id)):
            raise Forbidden(f"user '{username}' is not in lane '{task.lane}' of task {task_id}")
        if task.state == "completed":
            raise Conflict(f"task {task_id} was already completed by {task.completed_by} at "
                           f"{task.completed_at.astimezone(self.zone).isoformat()}")
        if task.state != "ready":
            raise InvalidState(f"task {task_id} is {task.state}, not ready")
        return task, person, open_rows

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

    def _open(self, s: Session, case_id: int, open_rows: list | None = None) -> _Loaded:
        case = store.case_by_id(s, case_id)
        if case.status != "running":
            raise InvalidState(f"case {case.registration_number} is {case.status}")
        spec, subprocess_specs, info, _ = self.version(case.process_version_id, s)
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
        guard_depth(workflow, self.settings.max_tree_depth)

    def _save(self, s: Session, loaded: _Loaded, now: datetime) -> None:
        case, workflow, info = loaded.case, loaded.workflow, loaded.info
        # One UPDATE of the case row per operation: its revision moves by exactly one.
        with s.no_autoflush:
            rows = loaded.open_rows if loaded.open_rows is not None else store.open_tasks_of_case(s, case.id)
            sync_task_rows(s, case, workflow, info, rows, now)
            if case.status == "running" and workflow.is_completed():
                case.status = "completed"
                store.audit(s, now, "case.completed", case_id=case.id)
            if case.status != "running" and case.closed_at is None:
                case.closed_at = now
            case.state_json = self.codec.dump_state(workflow)
            case.next_timer_at = next_timer(workflow) if case.status == "running" else None
            if deadline_may_move(s, case):
                case.deadline_at = self.viewer.deadline_for(s, case, info, now)
        # Flushing here runs the revision-checked UPDATE before the commit.
        s.flush()
