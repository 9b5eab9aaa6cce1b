"""A demo office: the SOP library, one user per role and lane, and a history of cases to look at."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from werkzeug.security import generate_password_hash

from workflow_engine import Engine, FixedClock, Settings, SystemClock, open_engine

from .history import generate_history
from .library import deploy_library, history_period

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "PROCESSES", "deploy_library", "generate_history", "history_period",
           "make_demo"]

PROCESSES = Path(__file__).resolve().parents[2] / "processes"

DEMO_PASSWORD = "demo"
DEMO_USERS = [
    ("admin", "admin", []),
    ("analis", "analyst", []),
    ("pimpinan", "manager", []),
    ("pemohon", "staff", ["Pemohon"]),
    ("fo", "staff", ["Front Office", "Pemohon"]),
    ("bo", "staff", ["Back Office"]),
    ("teknis", "staff", ["Tim Teknis"]),
    ("kabid", "staff", ["Kepala Bidang"]),
    ("kadin", "staff", ["Kepala Dinas"]),
]


def make_demo(settings: Settings, path: Path, *, seed: int, days: int, cases: int, echo=print) -> Engine:
    """Make the demo database afresh and return an engine on it, running on the real clock."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = open_engine(settings, auto_upgrade=True)
    # The history ends now; SOP versions and people date from before it (v2 from its switch-over).
    now = datetime.now(timezone.utc)
    engine.clock = FixedClock(history_period(now, days)[0] - timedelta(days=7))
    deploy_library(engine, PROCESSES, now=now, days=days, echo=echo)
    hashed = generate_password_hash(DEMO_PASSWORD)
    echo(f"Logins (password '{DEMO_PASSWORD}' for all):")
    for username, role, lanes in DEMO_USERS:
        engine.add_user(username, role=role, lanes=lanes, password_hash=hashed)
        echo(f"  {username:<9} {role:<8} {', '.join(lanes)}")
    generate_history(engine, seed=seed, days=days, cases=cases, echo=echo, now=now, password_hash=hashed)
    engine.clock = FixedClock(now)
    # The analyst's next round: each SOP's current version opened as a draft, so the workbench and the
    # comparison (forecast of a draft against what was measured) have something to show.
    for sop in engine.catalogue():
        if sop["published_version"]:
            engine.draft_from_version(sop["key"], sop["published_version"], author="analis")
    engine.clock = SystemClock()
    return engine
