"""Task rows follow the workflow: each operation adds the newly ready tasks and closes vanished ones."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .models import Case, TaskRecord
from .sop_info import SopInfo


def sync_task_rows(s: Session, case: Case, workflow: BpmnWorkflow, info: SopInfo,
                   open_rows: list[TaskRecord], now: datetime) -> None:
    """Make the task rows agree with the workflow: new ready tasks in, vanished ones cancelled."""
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    by_spiff_id = {row.spiff_task_id: row for row in open_rows}
    for spiff_id, row in by_spiff_id.items():
        # The row completed in this operation is still 'ready' in the database, not in memory.
        if spiff_id not in ready and row.state == "ready":
            row.state, row.cancelled_at = "cancelled", now
    for spiff_id, spiff_task in ready.items():
        if spiff_id in by_spiff_id:
            continue
        spec = spiff_task.task_spec
        step = info.steps.get(spec.bpmn_id)
        s.add(TaskRecord(
            case_id=case.id, spiff_task_id=spiff_id, step_id=spec.bpmn_id,
            name=" ".join((spec.bpmn_name or spec.bpmn_id).split()), lane=spec.lane,
            state="ready", ready_at=now, process_version_id=case.process_version_id, practice=case.practice,
            budget_seconds=step.budget_seconds if step else None,
            pauses_clock=bool(step and step.pauses_clock)))


def record_completion(row: TaskRecord, user: str, values: dict, now: datetime) -> None:
    """Close a task row as completed by `user` now, with its wait, work and duration in seconds."""
    if row.claimed_by is None:
        row.claimed_by, row.claimed_at = user, now
    row.state, row.completed_at, row.completed_by, row.data = "completed", now, user, values
    row.wait_seconds = (row.claimed_at - row.ready_at).total_seconds()
    row.work_seconds = (now - row.claimed_at).total_seconds()
    row.duration_seconds = (now - row.ready_at).total_seconds()


def next_timer(workflow: BpmnWorkflow) -> datetime | None:
    """The earliest due time of a waiting timer, read from SpiffWorkflow's pending events."""
    due = []
    for event in workflow.waiting_events():
        if event.event_type.endswith("TimerEventDefinition") and event.value:
            try:
                moment = datetime.fromisoformat(str(event.value))
            except ValueError:
                continue  # cycles and other forms we cannot place stay with the worker's poll
            due.append(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
    return min(due) if due else None


def deadline_may_move(s: Session, case: Case) -> bool:
    """The stored deadline changes only when the clock starts or an applicant-side step opens or ends."""
    if case.clock_started_at is None:
        return False
    if case.deadline_at is None:
        return True
    return any(isinstance(obj, TaskRecord) and obj.pauses_clock for obj in (*s.new, *s.dirty))
