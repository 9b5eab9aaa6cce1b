"""Acceptance: a case of a BPMN with 20 user tasks, a parallel split, a rework loop and an
applicant-side step runs to its end through the CLI, and `alur cases show --json` gives every
step's times, actors and budget and the right deadline and state, also `--as-of` a later moment.

The CLI reads the wall clock, so nothing here injects time: the expected deadline and states are
computed from the moments the CLI itself reports. Runs on SQLite and (with ALUR_TEST_POSTGRES_URL)
on PostgreSQL through conftest's `database_url` fixture.
"""
from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

from cli_run import ok, ok_json

ROOT = Path(__file__).resolve().parent.parent
BPMN = ROOT / "tests" / "fixtures" / "bpmn" / "twenty_steps.bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn"}
LIMIT = timedelta(hours=24)
USERS = {"Pemohon": "pemohon", "Front Office": "fo", "Back Office": "bo", "Tim Teknis": "teknis",
         "Kepala Bidang": "kabid"}
APPLICANT_STEPS = {"t03", "t15"}  # sla.jeda: the clock pauses while they are open
CLAIM_FIRST = {"t03", "t09"}  # claimed before completing; the others are claimed by completing


# --- helpers -----------------------------------------------------------------------------------
def at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def iso_duration(text: str) -> int:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", text)
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def bpmn_steps() -> dict[str, dict]:
    """Read twenty_steps.bpmn itself: each user task's lane and mutu.waktu budget in seconds."""
    root = ET.parse(BPMN).getroot()
    process = root.find("bpmn:process", NS)
    lane_of = {ref.text.strip(): lane.get("name")
               for lane in process.iterfind(".//bpmn:lane", NS) for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    steps = {}
    for task in process.iterfind("bpmn:userTask", NS):
        props = {p.get("name"): p.get("value") for p in task.iterfind(".//camunda:property", NS)}
        steps[task.get("id")] = {"lane": lane_of[task.get("id")], "budget": iso_duration(props["mutu.waktu"]),
                                 "pauses": props.get("sla.jeda") == "true"}
    return steps


def merged_pause(tasks: list[dict], as_of: datetime) -> timedelta:
    """Total time inside [ready_at, completed_at] of applicant-side tasks up to as_of, overlaps merged."""
    spans = sorted((at(t["ready_at"]), min(at(t["completed_at"]) or as_of, as_of))
                   for t in tasks if t["pauses_clock"] and at(t["ready_at"]) <= as_of)
    total, current = timedelta(0), None
    for start, end in spans:
        if current and start <= current[1]:
            current = (current[0], max(current[1], end))
            continue
        if current:
            total += current[1] - current[0]
        current = (start, end)
    return total + (current[1] - current[0] if current else timedelta(0))


def expected_deadline(view: dict, as_of: datetime) -> datetime:
    return at(view["clock_started_at"]) + LIMIT + merged_pause(view["tasks"], as_of)


def form_for(step_id: str, rework_done: bool) -> dict:
    if step_id == "t01":
        return {"nama_pemohon": "Maria Yoku"}
    if step_id == "t02":
        return {"hasil": "lengkap" if rework_done else "tidak_lengkap"}
    return {}


def next_task(view: dict) -> dict:
    """The task that has waited longest; among equals the higher step, so parallel branches interleave."""
    ready = [t for t in view["tasks"] if t["state"] == "ready"]
    assert ready, f"case {view['registration_number']} is {view['status']} with nothing ready"
    oldest = min(at(t["ready_at"]) for t in ready)
    return max((t for t in ready if at(t["ready_at"]) == oldest), key=lambda t: t["step_id"])


def setup_office(env: dict) -> None:
    for lane, user in USERS.items():
        ok(["users", "add", user, "--role", "staff", "--lanes", lane], env)
    ok(["processes", "deploy", BPMN], env)


def drive_to_the_end(env: dict, view: dict) -> tuple[list[str], dict | None]:
    """Complete every task with the user of its lane, taking the rework loop once.

    Returns the steps in completion order and the case view taken while t15 (the payment by the
    applicant) was open.
    """
    order, rework_done, during_payment = [], False, None
    for _ in range(40):
        if view["status"] != "running":
            break
        task = next_task(view)
        step, user = task["step_id"], USERS[task["lane"]]
        if step == "t15":
            during_payment = view
        if step in CLAIM_FIRST:
            ok(["tasks", "claim", task["id"], "--user", user], env)
        view = ok_json(["tasks", "complete", task["id"], "--user", user,
                        "--data", json.dumps(form_for(step, rework_done))], env)
        rework_done = rework_done or step == "t02"
        order.append(step)
    assert view["status"] == "completed", order
    return order, during_payment


# --- checks ------------------------------------------------------------------------------------
def check_every_step(view: dict) -> None:
    """Times, actors and budget of every task, against the BPMN."""
    steps = bpmn_steps()
    assert len(steps) == 20
    tasks = view["tasks"]
    assert len(tasks) == 21  # 19 on the happy path + t02 and t03 once more for the rework
    assert sorted({t["step_id"] for t in tasks}) == sorted(steps)
    for t in tasks:
        step = steps[t["step_id"]]
        ready, claimed, completed = at(t["ready_at"]), at(t["claimed_at"]), at(t["completed_at"])
        assert t["state"] == "completed", t
        assert ready <= claimed <= completed, t
        assert t["lane"] == step["lane"]
        assert t["completed_by"] == t["claimed_by"] == USERS[step["lane"]], t
        assert t["budget_seconds"] == step["budget"], t
        assert t["pauses_clock"] is step["pauses"], t
        assert abs(t["duration_seconds"] - (completed - ready).total_seconds()) < 0.002, t
        assert t["over_budget"] is False
    for t in tasks:
        if t["step_id"] in CLAIM_FIRST:
            assert at(t["claimed_at"]) < at(t["completed_at"]), t
        else:
            assert t["claimed_at"] == t["completed_at"], t


def check_rework_loop(view: dict) -> None:
    by_step: dict[str, list[dict]] = {}
    for t in view["tasks"]:
        by_step.setdefault(t["step_id"], []).append(t)
    first, second = by_step["t02"]
    [rework] = by_step["t03"]
    assert (first["iteration"], second["iteration"]) == (1, 2)
    assert (first["data"], second["data"]) == ({"hasil": "tidak_lengkap"}, {"hasil": "lengkap"})
    assert rework["ready_at"] == first["completed_at"] and rework["completed_by"] == "pemohon"
    assert second["ready_at"] == rework["completed_at"]
    assert by_step["t04"][0]["ready_at"] == second["completed_at"]


def check_parallel_split(view: dict) -> None:
    t = {task["step_id"]: task for task in view["tasks"]}
    assert t["t09"]["ready_at"] == t["t12"]["ready_at"] == t["t08"]["completed_at"]
    # Both branches were open at once: one branch's step finished while the other was still running.
    assert at(t["t09"]["completed_at"]) < at(t["t13"]["completed_at"])
    assert at(t["t12"]["completed_at"]) < at(t["t11"]["completed_at"])
    assert at(t["t14"]["ready_at"]) == max(at(t["t11"]["completed_at"]), at(t["t13"]["completed_at"]))


def check_completed_case(view: dict) -> None:
    last = max(at(t["completed_at"]) for t in view["tasks"])
    assert (view["status"], view["sla_state"]) == ("completed", "met")
    assert at(view["closed_at"]) == last
    assert view["clock_started_at"] == view["started_at"]
    assert at(view["deadline"]) == expected_deadline(view, last)
    pause = merged_pause(view["tasks"], last)
    assert pause > timedelta(0)
    assert abs(view["sla"]["paused_seconds"] - pause.total_seconds()) < 0.002
    counted = (last - at(view["clock_started_at"]) - pause).total_seconds()
    assert abs(view["sla"]["used_seconds"] - counted) < 0.002
    assert view["sla"]["paused"] is False and view["sla"]["limit_seconds"] == LIMIT.total_seconds()


def check_as_of_midway(env: dict, final: dict) -> None:
    """As it stood just after the 5th completion: running, later steps not there or not done."""
    completions = sorted(at(t["completed_at"]) for t in final["tasks"])
    as_of = completions[4] + timedelta(milliseconds=1)
    assert as_of < completions[5]
    then = ok_json(["cases", "show", final["registration_number"], "--as-of", as_of.isoformat()], env)
    assert (then["status"], then["sla_state"], then["closed_at"]) == ("running", "on_track", None)
    assert at(then["as_of"]) == as_of
    expected = [t for t in final["tasks"] if at(t["ready_at"]) <= as_of]
    assert [t["id"] for t in then["tasks"]] == [t["id"] for t in expected]
    assert len(then["tasks"]) == 6
    for before, now in zip(then["tasks"], expected):
        if at(now["completed_at"]) <= as_of:
            assert (before["state"], before["completed_at"], before["completed_by"]) == (
                "completed", now["completed_at"], now["completed_by"])
        else:
            assert (before["state"], before["completed_at"], before["completed_by"], before["data"]) == (
                "ready", None, None, None)
            assert before["claimed_at"] is None or at(before["claimed_at"]) <= as_of
    assert sum(t["state"] == "completed" for t in then["tasks"]) == 5
    assert at(then["deadline"]) == expected_deadline(then, as_of)


def check_while_the_applicant_pays(env: dict, during: dict) -> None:
    """While t15 is open the clock is paused and the deadline moves with it."""
    t15 = next(t for t in during["tasks"] if t["step_id"] == "t15")
    as_of = at(t15["ready_at"]) + timedelta(milliseconds=1)
    then = ok_json(["cases", "show", during["id"], "--as-of", as_of.isoformat()], env)
    assert then["status"] == "running" and then["sla"]["paused"] is True
    assert at(then["deadline"]) == expected_deadline(then, as_of)
    assert [t["state"] for t in then["tasks"] if t["step_id"] == "t15"] == ["ready"]


def check_open_case_breaches(env: dict) -> None:
    """A second case left open, seen 30 hours after it started: breached."""
    started = ok_json(["cases", "start", "twenty_steps", "--data", '{"asal": "loket"}'], env)
    assert started["registration_number"].endswith("-000002")
    as_of = at(started["started_at"]) + timedelta(hours=30)
    then = ok_json(["cases", "show", started["id"], "--as-of", as_of.isoformat()], env)
    assert (then["status"], then["sla_state"]) == ("running", "breached")
    assert at(then["deadline"]) == at(started["started_at"]) + LIMIT
    assert abs(then["sla"]["remaining_seconds"] + 6 * 3600) < 0.002
    [t01] = then["tasks"]
    assert (t01["step_id"], t01["state"], t01["over_budget"]) == ("t01", "ready", True)
    assert abs(t01["duration_seconds"] - 30 * 3600) < 0.002


# --- the scenario ------------------------------------------------------------------------------
def test_twenty_step_case_runs_to_its_end_through_the_cli(database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_DATABASE_URL=database_url, ALUR_PASSWORD="rahasia-uji", ALUR_HOME=str(tmp_path))
    setup_office(env)
    case = ok_json(["cases", "start", "twenty_steps"], env)
    assert case["registration_number"].startswith("TWS-")

    order, during_payment = drive_to_the_end(env, case)
    assert order.count("t02") == 2 and order.count("t03") == 1 and "t15" in order
    assert order[order.index("t08") + 1:order.index("t14")] == ["t12", "t09", "t13", "t10", "t11"]

    final = ok_json(["cases", "show", case["id"]], env)
    check_every_step(final)
    check_rework_loop(final)
    check_parallel_split(final)
    check_completed_case(final)
    check_as_of_midway(env, final)
    check_while_the_applicant_pays(env, during_payment)
    check_open_case_breaches(env)
