"""Alur's workflow engine: SOP versions, cases, per-step timing and the 24-hour clock. No web code."""
from __future__ import annotations

from .clock import Clock, FixedClock, SystemClock
from .db import Database, schema_state
from .engine import DeployResult, Engine
from .errors import (AlurError, BpmnValidationError, Conflict, EngineLimitError, Forbidden, FormError,
                     InvalidState, NotFound, Problem, ScriptError)
from .settings import Settings

__all__ = ["AlurError", "BpmnValidationError", "Clock", "Conflict", "Database", "DeployResult", "Engine",
           "EngineLimitError", "FixedClock", "Forbidden", "FormError", "InvalidState", "NotFound",
           "Problem", "ScriptError", "Settings", "SystemClock", "open_engine"]


def open_engine(settings: Settings | None = None, *, clock: Clock | None = None,
                auto_upgrade: bool | None = None) -> Engine:
    """Connect to the configured database, make sure its schema is current, and build an engine."""
    settings = settings or Settings.from_env()
    db = Database(settings.database_url)
    current, head = schema_state(db)
    if current != head:
        # The embedded SQLite of one office PC upgrades itself; a shared server is upgraded on purpose.
        if auto_upgrade if auto_upgrade is not None else db.dialect == "sqlite":
            db.upgrade()
        else:
            raise AlurError(f"the database schema is at {current or 'nothing'}, this Alur needs "
                            f"{head}: run 'alur db upgrade'")
    return Engine(db, clock or SystemClock(), settings)
