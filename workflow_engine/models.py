"""Database tables of Alur, as SQLAlchemy 2 typed models."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC; SQLite keeps no zone, so attach UTC on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: every timestamp must carry its zone")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON, float: Float}


class ProcessVersion(Base):
    """One immutable version of an SOP: its BPMN, its parsed spec and its metadata."""

    __tablename__ = "process_versions"
    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_process_versions_key_version"),
        UniqueConstraint("key", "content_hash", name="uq_process_versions_key_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    spec_json: Mapped[str] = mapped_column(Text)
    info: Mapped[dict]
    status: Mapped[str] = mapped_column(String(20), default="published")
    author: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class ProcessDraft(Base):
    """An SOP being edited: any BPMN, even a descriptive one, with what blocks it from running."""

    __tablename__ = "process_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(500))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(500))
    base_version: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Bumped by each save; a save that names an older revision is refused (two analysts, one draft).
    revision: Mapped[int] = mapped_column(Integer, default=1)
    problems: Mapped[list] = mapped_column(default=list)
    executable: Mapped[bool] = mapped_column(Boolean, default=False)


class Case(Base):
    """A running or finished case: one application moving through one SOP version."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_key", "status", "process_key"),
        Index("ix_cases_started_at", "started_at"),
        # Covers weekly compliance: SQLite would otherwise read each row past its large state_json.
        Index("ix_cases_closed", "status", "practice", "process_key", "closed_at", "process_version_id",
              "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_number: Mapped[str] = mapped_column(String(40), unique=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="running")
    state_json: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[dict] = mapped_column(default=dict)
    started_at: Mapped[datetime]
    started_by: Mapped[str | None] = mapped_column(String(100))
    # A practice case (latihan) for learning an SOP: shown as such, never counted in reports.
    practice: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    clock_started_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(100))
    close_reason: Mapped[str | None] = mapped_column(Text)
    # Derived at each save so lists can sort and workers can find due work in SQL.
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    next_timer_at: Mapped[datetime | None] = mapped_column(index=True)
    # When each SLA escalation level fired (escalation.py); each fires once per case. Written with a
    # plain UPDATE that leaves the revision alone, so an escalation never conflicts with staff work.
    escalated_at_risk_at: Mapped[datetime | None]
    escalated_breached_at: Mapped[datetime | None]

    version: Mapped[ProcessVersion] = relationship(lazy="raise")

    # The revision guards the workflow state: an UPDATE that finds another revision fails.
    __mapper_args__ = {"version_id_col": revision}


class TaskRecord(Base):
    """One instance of a user task in a case, with its times and actors."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_state_lane", "state", "lane"),
        Index("ix_tasks_case", "case_id", "state"),
        # Step medians over years of rows: a median is one walk to the middle of its step's entries.
        Index("ix_tasks_completed", "state", "completed_at", "process_version_id", "step_id", "practice",
              "wait_seconds", "work_seconds", "duration_seconds"),
        *(Index(f"ix_tasks_{name}_order", "state", "process_version_id", "step_id", f"{name}_seconds",
                "completed_at", "practice") for name in ("wait", "work", "duration")),
        UniqueConstraint("case_id", "spiff_task_id", name="uq_tasks_case_spiff"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    step_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    lane: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="ready")
    ready_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(100))
    cancelled_at: Mapped[datetime | None]
    budget_seconds: Mapped[int | None] = mapped_column(Integer)
    pauses_clock: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict | None]
    # Copied from the case (neither ever changes), so step reports need no join with cases.
    process_version_id: Mapped[int | None] = mapped_column(Integer)
    practice: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Wall-clock seconds, written at completion: ready -> claimed (or completed when never claimed),
    # claimed -> completed, ready -> completed.
    wait_seconds: Mapped[float | None]
    work_seconds: Mapped[float | None]
    duration_seconds: Mapped[float | None]


class AuditEvent(Base):
    """An append-only record of who did what, when, to which case."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict | None]


class User(Base):
    """A person who signs in: a role and the lanes whose tasks they do."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    lanes: Mapped[list] = mapped_column(default=list)
    language: Mapped[str | None] = mapped_column(String(10))
    # Where escalation notices are emailed (optional; email is off without ALUR_SMTP_HOST).
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Notification(Base):
    """A notice for one person about one case (an SLA escalation), shown in their inbox until read."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "username", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class RegistrationCounter(Base):
    """The last registration number given per prefix and year."""

    __tablename__ = "registration_counters"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class LocalHoliday(Base):
    """A local holiday that the working-hours calendar skips, beside the national ones."""

    __tablename__ = "local_holidays"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class ApiToken(Base):
    """A named token another agency's system uses on /api/v1: stored hashed, scoped, revocable."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the secret
    prefix: Mapped[str] = mapped_column(String(16))  # the secret's first characters, to tell tokens apart
    scopes: Mapped[list] = mapped_column(default=list)
    # The service account whose name the token's actions carry (audit log, task completion).
    acts_as: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Connector(Base):
    """A named call to another agency's HTTP API that BPMN service tasks use; secrets stay in settings."""

    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(1000))
    method: Mapped[str] = mapped_column(String(10), default="POST")
    # [{"field": case data key, "as": name in the request}] and [{"field": answer key, "as": case data key}]
    send: Mapped[list] = mapped_column(default=list)
    receive: Mapped[list] = mapped_column(default=list)
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=10)
    retries: Mapped[int] = mapped_column(Integer, default=3)
    # Name of the ALUR_CONNECTOR_<...> environment variable whose value is sent as the credential.
    credential: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ConnectorJob(Base):
    """One service task waiting on a connector call, done by the worker outside any transaction."""

    __tablename__ = "connector_jobs"
    __table_args__ = (UniqueConstraint("case_id", "spiff_task_id", name="uq_connector_jobs_case_task"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    step_id: Mapped[str] = mapped_column(String(200))
    connector: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    request: Mapped[dict | None]
    response: Mapped[dict | None]
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class SurveyResponse(Base):
    """The applicant's satisfaction survey (SKM, PermenPANRB 14/2017) of one finished case."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    answers: Mapped[dict]  # {"U1": 1..4, ..., "U9": 1..4}
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
