"""The API's public shapes of cases and tasks, made from the engine's views: no staff names, no comments."""
from __future__ import annotations

import base64
import json
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import url_for

from . import ApiError

SUMMARY_KEYS = ("id", "registration_number", "process", "process_name", "version", "status", "practice",
                "started_at", "clock_started_at", "deadline", "closed_at", "sla_state", "sla")
STEP_KEYS = ("step_id", "name", "lane", "state", "iteration", "ready_at", "claimed_at", "completed_at",
             "cancelled_at", "duration_seconds", "budget_seconds", "over_budget")


def case_summary(view: dict) -> dict:
    summary = {key: view[key] for key in SUMMARY_KEYS}
    summary["links"] = {"self": url_for("api.case", ref=view["registration_number"])}
    return summary


def form_fields(step: dict | None) -> list[dict]:
    """A step's form as the API shows it: what `data` a completion must carry."""
    fields = []
    for f in (step or {}).get("form") or []:
        if (f.get("constraints") or {}).get("readonly"):
            continue
        fields.append({"id": f["id"], "label": f["label"], "type": f["type"], "required": f["required"],
                       "options": [{"id": o["id"], "label": o["label"]} for o in f.get("options") or []]})
    return fields


def case_detail(view: dict, info: dict, account: dict | None) -> dict:
    """A case with its steps and open tasks; `may_complete` says whether the token's account may do each."""
    steps = {s["id"]: s for s in info.get("steps") or []}
    may_all = account is not None and account["role"] == "admin"
    lanes = set(account["lanes"]) if account else set()
    detail = case_summary(view)
    detail["data"] = view.get("data") or {}
    detail["steps"] = [{"task_id": t["id"], **{k: t[k] for k in STEP_KEYS}} for t in view["tasks"]]
    detail["open_tasks"] = [{
        "id": t["id"], "step_id": t["step_id"], "name": t["name"], "lane": t["lane"],
        "ready_at": t["ready_at"], "claimed": t["claimed_by"] is not None,
        "budget_seconds": t["budget_seconds"], "over_budget": t["over_budget"],
        "documentation": t["documentation"],
        "may_complete": may_all or t["lane"] in lanes,
        "form": form_fields(steps.get(t["step_id"])),
        "links": {"complete": url_for("api.complete_task", task_id=t["id"])},
    } for t in view["tasks"] if t["state"] == "ready"]
    return detail


def task_result(task: dict) -> dict:
    return {"id": task["id"], "step_id": task["step_id"], "lane": task["lane"], "state": task["state"],
            "completed_at": task["completed_at"]}


# --- query parameters -----------------------------------------------------------------------------
def bad_parameter(name: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", f"{name}: {message}", fields={name: message})


def moment_parameter(name: str, value: str | None, zone: str) -> datetime | None:
    """An ISO 8601 date or date-time; one without a zone is read in the office's zone."""
    if value is None or value == "":
        return None
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), time())
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_parameter(name, "not an ISO 8601 date or date-time such as 2026-11-30 or "
                                  "2026-11-30T08:00:00+09:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def int_parameter(name: str, value: str | None, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise bad_parameter(name, f"a whole number from {low} to {high}")
    return int(value)


def encode_cursor(after: tuple[datetime, int] | None) -> str | None:
    if after is None:
        return None
    raw = json.dumps([after[0].astimezone(timezone.utc).isoformat(), after[1]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> tuple[datetime, int] | None:
    if not value:
        return None
    try:
        moment, case_id = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None or not isinstance(case_id, int):
            raise ValueError
    except (ValueError, TypeError, UnicodeDecodeError):
        raise bad_parameter("cursor", "not a cursor this API gave out; start again without one") from None
    return moment, case_id
