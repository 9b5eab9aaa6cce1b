"""A demo office: the SOP library, one user per role and lane, and a few cases to look at."""
from __future__ import annotations

from pathlib import Path

from werkzeug.security import generate_password_hash

from workflow_engine import Conflict, Engine

PROCESSES = Path(__file__).resolve().parent.parent / "processes"

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


def seed(engine: Engine):
    """Deploy the SOP library and add the demo users; yields a line per thing done."""
    for path in sorted(PROCESSES.rglob("*.bpmn")):
        result = engine.deploy(path.read_bytes(), path.name, author="demo", note="SOP library")
        yield f"SOP {result.key} v{result.version}" + (" deployed" if result.created else "")
    hashed = generate_password_hash(DEMO_PASSWORD)
    for username, role, lanes in DEMO_USERS:
        try:
            engine.add_user(username, role=role, lanes=lanes, password_hash=hashed)
            yield f"user {username} ({role}) password '{DEMO_PASSWORD}'"
        except Conflict:
            pass
    if not engine.cases(limit=1):
        for process in engine.processes():
            case_id = engine.start_case(process["key"], actor="fo")
            yield f"case {engine.case(case_id, with_tasks=False)['registration_number']} started"
