"""Settings the engine receives; read from ALUR_* environment variables with safe defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_database_url() -> str:
    """SQLite file in the user's data folder: the embedded default for one office PC."""
    base = Path(os.environ.get("ALUR_HOME", Path.home() / ".local" / "share" / "alur"))
    return f"sqlite:///{base / 'alur.sqlite'}"


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on", "ya")


@dataclass(frozen=True)
class Settings:
    """Everything configurable about the engine."""

    database_url: str = field(default_factory=default_database_url)
    timezone: str = "Asia/Jayapura"
    language: str = "id"
    at_risk_share: float = 0.75
    scripts_enabled: bool = False
    script_time_limit: float = 1.0
    max_bpmn_bytes: int = 5_000_000
    # The task tree of SpiffWorkflow hides tasks deeper than 1000 levels; stop well before.
    max_tree_depth: int = 950
    # Workflows of recently changed cases kept deserialized per engine (0: always read the stored state).
    workflow_cache_size: int = 64
    # SLA escalations (escalation.py): whose lane heads hear of an at-risk case, and who of a breach.
    # escalate_to: a head lane for every lane ("Kepala Bidang"), or "Lane=Head lane; ...; *=default".
    escalate_to: str = "Kepala Bidang"
    head_of_office_lane: str = "Kepala Dinas"
    # Email of escalation notices; off without a host. smtp_tls: "", "starttls" or "ssl".
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "alur@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_tls: str = ""
    smtp_timeout: float = 10.0

    @classmethod
    def from_env(cls, environ=None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        values = dict(
            database_url=env.get("ALUR_DATABASE_URL") or default_database_url(),
            timezone=env.get("ALUR_TIMEZONE") or cls.timezone,
            language=env.get("ALUR_LANGUAGE") or cls.language,
            at_risk_share=float(env.get("ALUR_AT_RISK_SHARE") or cls.at_risk_share),
            scripts_enabled=_flag(env.get("ALUR_SCRIPTS_ENABLED"), cls.scripts_enabled),
            script_time_limit=float(env.get("ALUR_SCRIPT_TIME_LIMIT") or cls.script_time_limit),
            max_bpmn_bytes=int(env.get("ALUR_MAX_BPMN_BYTES") or cls.max_bpmn_bytes),
            workflow_cache_size=int(env.get("ALUR_WORKFLOW_CACHE_SIZE") or cls.workflow_cache_size),
            escalate_to=env.get("ALUR_ESCALATE_TO") or cls.escalate_to,
            head_of_office_lane=env.get("ALUR_HEAD_OF_OFFICE_LANE") or cls.head_of_office_lane,
            smtp_host=env.get("ALUR_SMTP_HOST") or None,
            smtp_port=int(env.get("ALUR_SMTP_PORT") or cls.smtp_port),
            smtp_from=env.get("ALUR_SMTP_FROM") or cls.smtp_from,
            smtp_user=env.get("ALUR_SMTP_USER") or None,
            smtp_password=env.get("ALUR_SMTP_PASSWORD") or None,
            smtp_tls=(env.get("ALUR_SMTP_TLS") or "").strip().lower(),
        )
        values.update(overrides)
        return cls(**values)
