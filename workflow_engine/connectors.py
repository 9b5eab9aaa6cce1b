"""Service tasks that call other agencies: connectors set up by an admin, and the jobs the worker runs.

When a case reaches a service task, SpiffWorkflow leaves the task STARTED and the operation's save
records a ConnectorJob (pending, due now) in the same transaction; nothing calls out while a case
row is being written. The worker (worker.py) claims a due job in a short transaction (row-locked
with FOR UPDATE SKIP LOCKED on PostgreSQL, serialised by BEGIN IMMEDIATE on SQLite) that moves
its next_attempt_at a lease ahead, makes the HTTP call outside any transaction
(connector_calls.py), and then completes the service task in one engine operation with the answer
fields merged into the case data. A failed call is tried again after 30 s, 60 s, 120 s, ... up to
the connector's `retries`; then the job is `failed`, the case says why, and an admin may retry it.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from SpiffWorkflow.util.task import TaskState

from . import store
from .connector_calls import (Answer, CallError, ConnectorSpec, call, clean_connector, credential_header,
                              describe, failure_message, outgoing)
from .errors import AlurError, Conflict, InvalidState, NotFound
from .models import Case, Connector, ConnectorJob, ProcessVersion

log = logging.getLogger("alur.connectors")

# Retries on a case conflict while applying an answer (staff completed a parallel step meanwhile).
_APPLY_TRIES = 3


@dataclass
class _Claim:
    """A job taken by one worker for one attempt, with everything the call needs."""

    job_id: int
    attempt: int
    connector: str
    spec: ConnectorSpec | None
    payload: dict = field(default_factory=dict)
    header: tuple[str, str] | None = None
    error: CallError | None = None


def _spec(row: Connector) -> ConnectorSpec:
    return ConnectorSpec(name=row.name, url=row.url, method=row.method,
                         send=tuple((m["field"], m["as"]) for m in row.send or ()),
                         receive=tuple((m["field"], m["as"]) for m in row.receive or ()),
                         timeout_seconds=row.timeout_seconds, retries=row.retries, credential=row.credential)


class Connectors:
    """The Engine's operations on connectors and connector jobs."""

    # The first retry waits this long, each next one twice as long, never longer than the maximum.
    BACKOFF_SECONDS = 30.0
    MAX_BACKOFF_SECONDS = 1800.0
    # Where credentials are read from (only ALUR_CONNECTOR_* names); None means the process environment.
    connector_environ: Mapping | None = None

    # --- connectors (admin) --------------------------------------------------------------------
    def connectors(self) -> list[dict]:
        """Every connector, by name, with the SOP steps that name it."""
        with self.db.read() as s:
            used = self._connector_usage(s)
            return [self._connector_dict(row, used.get(row.name, []))
                    for row in s.scalars(select(Connector).order_by(Connector.name))]

    def connector(self, name: str) -> dict:
        with self.db.read() as s:
            row = self._connector_row(s, name)
            return self._connector_dict(row, self._connector_usage(s).get(row.name, []))

    def save_connector(self, values: Mapping, *, actor: str | None = None, original: str | None = None) -> dict:
        """Add a connector, or change the one named `original`; ConnectorInputError names wrong fields."""
        clean = clean_connector(values)
        now = self.now()
        try:
            with self.db.write() as s:
                if original is None:
                    if s.scalar(select(Connector.id).where(Connector.name == clean["name"])) is not None:
                        raise Conflict(f"a connector named '{clean['name']}' already exists")
                    row = Connector(created_at=now, updated_at=now, **clean)
                    s.add(row)
                else:
                    row = self._connector_row(s, original)
                    if clean["name"] != original and s.scalar(
                            select(Connector.id).where(Connector.name == clean["name"])) is not None:
                        raise Conflict(f"a connector named '{clean['name']}' already exists")
                    for key, value in clean.items():
                        setattr(row, key, value)
                    row.updated_at = now
                s.flush()
                # The credential's name is audited, never a value (there is none here to leak).
                store.audit(s, now, "connector.saved", actor=actor, connector=row.name, previous=original,
                            url=row.url, method=row.method, credential=row.credential)
                return self._connector_dict(row, [])
        except IntegrityError as exc:
            raise Conflict(f"a connector named '{clean['name']}' already exists") from exc

    def remove_connector(self, name: str, *, actor: str | None = None) -> None:
        """Delete a connector; calls that still need it fail with a clear message until it is back."""
        with self.db.write() as s:
            s.delete(self._connector_row(s, name))
            store.audit(s, self.now(), "connector.removed", actor=actor, connector=name)

    @staticmethod
    def _connector_row(s: Session, name: str) -> Connector:
        row = s.scalar(select(Connector).where(Connector.name == (name or "").strip()))
        if row is None:
            raise NotFound(f"no connector named '{name}'")
        return row

    def _connector_dict(self, row: Connector, used_by: list[dict]) -> dict:
        return {"id": row.id, "name": row.name, "url": row.url, "method": row.method,
                "send": list(row.send or ()), "receive": list(row.receive or ()),
                "timeout_seconds": row.timeout_seconds, "retries": row.retries, "credential": row.credential,
                # Whether the credential is there, never what it is.
                "credential_set": bool(row.credential and (self._environ().get(row.credential) or "").strip()),
                "created_at": self.viewer.iso(row.created_at), "updated_at": self.viewer.iso(row.updated_at),
                "used_by": used_by}

    def _connector_usage(self, s: Session) -> dict[str, list[dict]]:
        """connector name -> the published SOP versions' steps that call it."""
        used: dict[str, list[dict]] = {}
        rows = s.execute(select(ProcessVersion.key, ProcessVersion.version, ProcessVersion.info)
                         .where(ProcessVersion.status == "published"))
        for key, version, info in rows:
            for step in (info or {}).get("steps") or ():
                if step.get("connector"):
                    used.setdefault(step["connector"], []).append(
                        {"key": key, "version": version, "step_id": step["id"], "step": step.get("name")})
        return used

    def _environ(self) -> Mapping:
        return self.connector_environ if self.connector_environ is not None else os.environ

    # --- jobs appear and vanish with the service tasks of a case ----------------------------------
    def _sync_connector_jobs(self, s: Session, loaded, now: datetime) -> None:
        """Queue a job for each service task the workflow left STARTED; cancel those whose task went."""
        service_steps = {k: v for k, v in loaded.info.steps.items() if v.kind == "serviceTask"}
        if not service_steps:
            return  # the usual SOP: no query at all
        started = {str(t.id): t for t in loaded.workflow.get_tasks(state=TaskState.STARTED)
                   if t.task_spec.bpmn_id in service_steps}
        jobs = {j.spiff_task_id: j for j in s.scalars(
            select(ConnectorJob).where(ConnectorJob.case_id == loaded.case.id))}
        for spiff_id, task in started.items():
            if spiff_id not in jobs:
                step = service_steps[task.task_spec.bpmn_id]
                s.add(ConnectorJob(case_id=loaded.case.id, spiff_task_id=spiff_id, step_id=step.id,
                                   connector=step.connector or "", state="pending", attempts=0,
                                   next_attempt_at=now, created_at=now))
        for spiff_id, job in jobs.items():
            if job.state in ("pending", "failed") and spiff_id not in started:
                # The case was cancelled, or a boundary event took the service task away.
                job.state, job.finished_at, job.next_attempt_at = "cancelled", now, None

    # --- the worker's part ---------------------------------------------------------------------
    def run_connector_jobs(self, limit: int = 20, *, stop=None) -> int:
        """Run due connector calls one after another (at most `limit`); returns how many were tried.

        A connector whose agency did not answer (timeout, no connection) is not called again in
        the same pass: an agency that is down costs one timeout per pass, not one per case.
        """
        due = self.next_connector_job_due()
        if due is None or due > self.now():
            return 0  # the usual pass: one read, no write lock
        done, down = 0, set()
        while done < limit and not (stop is not None and stop.is_set()):
            ran = self._run_one(down)
            if ran is None:
                break
            done += 1
            connector, error = ran
            if error is not None and error.kind in ("timeout", "network"):
                down.add(connector)
        return done

    def run_next_connector_job(self) -> int | None:
        """Claim one due call, make it, and complete its step or record the failure; returns its id."""
        claim = self._claim_connector_job()
        if claim is None:
            return None
        self._call_and_settle(claim)
        return claim.job_id

    def _run_one(self, skip: set) -> tuple[str, CallError | None] | None:
        claim = self._claim_connector_job(skip)
        if claim is None:
            return None
        return claim.connector, self._call_and_settle(claim)

    def _call_and_settle(self, claim: _Claim) -> CallError | None:
        error = claim.error
        if error is None:
            try:
                answer = call(claim.spec, claim.payload, claim.header)
            except CallError as exc:
                error = exc
            except Exception as exc:  # a bug in the call must not stop the worker; it fails this job
                log.exception("connector job %s: the call failed unexpectedly", claim.job_id)
                error = CallError("network", type(exc).__name__)
            else:
                error = self._apply_answer(claim, answer)
        if error is not None:
            self._record_failure(claim, error)
        return error

    def next_connector_job_due(self) -> datetime | None:
        """When the earliest pending call of a running case is due; one indexed query."""
        with self.db.read() as s:
            return s.scalar(select(func.min(ConnectorJob.next_attempt_at))
                            .join(Case, Case.id == ConnectorJob.case_id)
                            .where(ConnectorJob.state == "pending", Case.status == "running"))

    def _claim_connector_job(self, skip=()) -> _Claim | None:
        with self.db.write() as s:
            now = self.now()
            query = (select(ConnectorJob).join(Case, Case.id == ConnectorJob.case_id)
                     .where(ConnectorJob.state == "pending", ConnectorJob.next_attempt_at <= now,
                            Case.status == "running")
                     .order_by(ConnectorJob.next_attempt_at, ConnectorJob.id).limit(1))
            if skip:
                query = query.where(ConnectorJob.connector.not_in(list(skip)))
            if self.db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True, of=ConnectorJob)
            job = s.scalar(query)
            if job is None:
                return None
            row = s.scalar(select(Connector).where(Connector.name == job.connector))
            spec = _spec(row) if row is not None else None
            job.attempts += 1
            # The lease: no other worker takes this job while this call may still be running.
            lease = (spec.timeout_seconds if spec else 10) * 2 + 60
            job.next_attempt_at = now + timedelta(seconds=lease)
            claim = _Claim(job.id, job.attempts, job.connector, spec)
            if spec is None:
                claim.error = CallError("no_connector", job.connector or "?", retryable=False)
                return claim
            job.request = {"method": spec.method, "url": spec.url, "fields": [r for _, r in spec.send]}
            try:
                claim.payload = outgoing(spec, s.scalar(select(Case.data).where(Case.id == job.case_id)) or {})
                claim.header = credential_header(spec, self._environ())
            except CallError as exc:
                claim.error = exc
            return claim

    def _locked_job(self, s: Session, claim: _Claim) -> ConnectorJob | None:
        """The claimed job, locked, if it is still this worker's attempt."""
        job = s.scalar(select(ConnectorJob).where(ConnectorJob.id == claim.job_id).with_for_update()
                       .execution_options(populate_existing=True))
        if job is None or job.state != "pending" or job.attempts != claim.attempt:
            log.warning("connector job %s moved on during attempt %s; its result is dropped",
                        claim.job_id, claim.attempt)
            return None
        return job

    def _apply_answer(self, claim: _Claim, answer: Answer) -> CallError | None:
        """Complete the service task with the answer in one operation; a CallError if that cannot be."""
        for _ in range(_APPLY_TRIES):
            try:
                with self._operation() as s:
                    job = self._locked_job(s, claim)
                    if job is not None:
                        self._complete_service_task(s, job, answer)
                return None
            except Conflict:
                continue
            except AlurError as exc:  # the SOP after the service task failed: trying the call again won't help
                return CallError("apply", str(exc), retryable=False)
        return CallError("apply", "the case kept changing", retryable=True)

    def _complete_service_task(self, s: Session, job: ConnectorJob, answer: Answer) -> None:
        now = self.now()
        case = s.get(Case, job.case_id)
        task = None
        if case.status == "running":
            loaded = self._open(s, job.case_id)
            task = loaded.workflow.get_task_from_id(UUID(job.spiff_task_id))
        if task is None or task.state != TaskState.STARTED:
            job.state, job.finished_at, job.next_attempt_at = "cancelled", now, None
            return
        task.data.update(answer.values)
        self._run(task.complete)
        self._advance(loaded.workflow)
        loaded.case.data = {**loaded.case.data, **answer.values}
        job.state, job.finished_at, job.next_attempt_at, job.last_error = "done", now, None, None
        job.response = {"status": answer.status, "values": answer.values}
        store.audit(s, now, "connector.done", case_id=job.case_id, job_id=job.id, step_id=job.step_id,
                    connector=job.connector, attempts=job.attempts, fields=sorted(answer.values))
        self._save(s, loaded, now)

    def _record_failure(self, claim: _Claim, error: CallError) -> None:
        """Schedule the next attempt with backoff, or mark the job failed for good."""
        language = self.settings.language
        with self.db.write() as s:
            job = self._locked_job(s, claim)
            if job is None:
                return
            now = self.now()
            text = describe(error, language)
            job.last_error = text
            retries = claim.spec.retries if claim.spec is not None else 0
            detail = dict(case_id=job.case_id, job_id=job.id, step_id=job.step_id, connector=job.connector,
                          attempt=job.attempts, kind=error.kind, error=text)
            if error.retryable and job.attempts <= retries:
                pause = min(self.BACKOFF_SECONDS * 2 ** (job.attempts - 1), self.MAX_BACKOFF_SECONDS)
                job.next_attempt_at = now + timedelta(seconds=pause)
                store.audit(s, now, "connector.attempt_failed", **detail,
                            next_attempt_at=self.viewer.iso(job.next_attempt_at))
                log.warning("connector job %s (%s) attempt %s failed, again in %.0f s: %s", job.id,
                            job.connector, job.attempts, pause, text)
                return
            job.state, job.finished_at, job.next_attempt_at = "failed", now, None
            host = claim.spec.host if claim.spec is not None else "?"
            message = failure_message(job.connector, host, text, job.attempts, language)
            store.audit(s, now, "connector.failed", **detail, message=message)
            log.error("connector job %s of case %s failed for good: %s", job.id, job.case_id, message)

    # --- reading and retrying ------------------------------------------------------------------
    def calls_agencies(self, key: str, number: int) -> bool:
        """Whether version `number` of SOP `key` has a service task; versions never change, so kept."""
        known = self.__dict__.setdefault("_calls_agencies", {})
        if (key, number) not in known:
            with self.db.read() as s:
                info = self.version(store.version_id(s, key, number), s).info
            known[(key, number)] = any(step.kind == "serviceTask" for step in info.steps.values())
        return known[(key, number)]

    def connector_jobs(self, case_ref=None, *, state: str | None = None, limit: int = 200) -> list[dict]:
        """Connector calls (of one case, or all), newest first, each with a sentence saying what went wrong."""
        with self.db.read() as s:
            query = select(ConnectorJob, Case.registration_number, Case.process_version_id).join(
                Case, Case.id == ConnectorJob.case_id)
            if case_ref is not None:
                query = query.where(ConnectorJob.case_id == store.case_by_reference(s, case_ref).id)
            if state is not None:
                query = query.where(ConnectorJob.state == state)
            rows = s.execute(query.order_by(ConnectorJob.created_at.desc(), ConnectorJob.id.desc()).limit(limit))
            hosts = {c.name: _spec(c).host for c in s.scalars(select(Connector))}
            return [self._job_dict(s, job, number, vid, hosts) for job, number, vid in rows]

    def _job_dict(self, s: Session, job: ConnectorJob, number: str, version_id: int, hosts: dict) -> dict:
        step = self.version(version_id, s).info.steps.get(job.step_id)
        host = hosts.get(job.connector, "?")
        failed = job.state == "failed"
        return {"id": job.id, "case_id": job.case_id, "registration_number": number, "step_id": job.step_id,
                "step_name": step.name if step else job.step_id, "connector": job.connector, "host": host,
                "state": job.state, "attempts": job.attempts, "last_error": job.last_error,
                "message": failure_message(job.connector, host, job.last_error or "?", job.attempts,
                                           self.settings.language) if failed else None,
                "next_attempt_at": self.viewer.iso(job.next_attempt_at) if job.state == "pending" else None,
                "created_at": self.viewer.iso(job.created_at), "finished_at": self.viewer.iso(job.finished_at),
                "received": sorted((job.response or {}).get("values") or {})}

    def retry_connector_job(self, job_id: int, *, actor: str | None = None) -> dict:
        """Try a failed call again now (after the other agency or the connector was fixed)."""
        with self.db.write() as s:
            job = s.scalar(select(ConnectorJob).where(ConnectorJob.id == job_id).with_for_update())
            if job is None:
                raise NotFound(f"connector call {job_id} does not exist")
            case = s.get(Case, job.case_id)
            if job.state != "failed":
                raise InvalidState(f"the call {job_id} is {job.state}; only a failed call can be tried again")
            if case.status != "running":
                raise InvalidState(f"case {case.registration_number} is {case.status}")
            now = self.now()
            job.state, job.attempts, job.next_attempt_at, job.finished_at = "pending", 0, now, None
            store.audit(s, now, "connector.retried", actor=actor, case_id=job.case_id, job_id=job.id,
                        step_id=job.step_id, connector=job.connector)
            s.flush()
            hosts = {c.name: _spec(c).host for c in s.scalars(select(Connector))}
            return self._job_dict(s, job, case.registration_number, case.process_version_id, hosts)
