"""Drive an SOP version through one path with scripted form data, as the per-SOP tests do."""
from __future__ import annotations

from datetime import timedelta

from workflow_engine import Engine

# One demo user per lane; `office_users` adds them.
LANE_USERS = {"Pemohon": "pemohon", "Front Office": "fo", "Back Office": "bo", "Tim Teknis": "teknis",
              "Kepala Bidang": "kabid", "Kepala Dinas": "kadin"}


def office_users(engine: Engine) -> None:
    for lane, user in LANE_USERS.items():
        engine.add_user(user, role="staff", lanes=[lane], password_hash="x")


def run_path(engine: Engine, key: str, plan: dict, *, version: int | None = None,
             start_data: dict | None = None, step=timedelta(minutes=20), max_steps: int = 200) -> dict:
    """Complete ready tasks (oldest first) until none is left; returns the final case view.

    `plan` maps a step id to its form data, or to a list of form data for its successive
    iterations (the last entry repeats). Steps not in the plan are completed with no data.
    """
    case_id = engine.start_case(key, version=version, data=start_data)
    taken: dict[str, int] = {}
    for _ in range(max_steps):
        ready = sorted(engine.tasks(case_id=case_id), key=lambda t: t["id"])
        if not ready:
            return engine.case(case_id)
        task = ready[0]
        data = plan.get(task["step_id"], {})
        if isinstance(data, list):
            index = taken.get(task["step_id"], 0)
            taken[task["step_id"]] = index + 1
            data = data[min(index, len(data) - 1)]
        engine.clock.advance(step)
        engine.complete(task["id"], user=LANE_USERS[task["lane"]], data=data)
    raise AssertionError(f"case {case_id} of {key} did not end within {max_steps} steps")


def steps_done(view: dict) -> list[str]:
    """The step ids completed in a case, in order."""
    return [t["step_id"] for t in view["tasks"] if t["state"] == "completed"]


def deploy_versions(engine: Engine, folder) -> list:
    """Deploy v1.bpmn, v2.bpmn, ... of one SOP folder in order; returns the deploy results."""
    paths = sorted(folder.glob("v*.bpmn"), key=lambda p: int(p.stem[1:]))
    return [engine.deploy(p.read_bytes(), p.name, author="test") for p in paths]
