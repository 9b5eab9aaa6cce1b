"""Crash consistency: a child process completing tasks and deploying is SIGKILLed at random moments.

After every kill the database must agree with itself: each case's workflow state, its task rows and
its audit events tell the same story, its revision counts its operations, and every SOP version has
its deploy event. At the end every case must still go on to its end. SQLite and PostgreSQL.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import select
from SpiffWorkflow.util.task import TaskState

from workflow_engine import Database, Engine, Settings
from workflow_engine.clock import SystemClock
from workflow_engine.models import AuditEvent, Case, ProcessVersion, TaskRecord

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
SEED = 20261128
KILLS = 10
STEPS = ("terima", "periksa", "verifikasi", "tanda_tangan")
SOP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://alur.test">
  <bpmn:process id="crash" name="Uji crash VERSION" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l1" name="Back Office">REFS</bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    TASKS
    <bpmn:endEvent id="end"/>
    FLOWS
  </bpmn:process>
</bpmn:definitions>"""


def sop(version: int) -> bytes:
    nodes = ["start", *STEPS, "end"]
    return (SOP.replace("VERSION", str(version))
            .replace("REFS", "".join(f"<bpmn:flowNodeRef>{s}</bpmn:flowNodeRef>" for s in STEPS))
            .replace("TASKS", "".join(f'<bpmn:userTask id="{s}" name="Langkah {s}"/>' for s in STEPS))
            .replace("FLOWS", "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
                                      for i, (a, b) in enumerate(zip(nodes, nodes[1:]))))).encode()


def child(database_url: str, seed: int) -> None:
    """The office at work until killed: start cases, complete tasks, deploy new versions."""
    engine = Engine(Database(database_url), SystemClock(), Settings(database_url=database_url))
    rng = random.Random(seed)
    print("ready", flush=True)
    while True:
        roll = rng.random()
        if roll < 0.08:
            with engine.db.read() as s:
                count = len(s.scalars(select(ProcessVersion.id)).all())
            engine.deploy(sop(count + 1), "crash.bpmn", author="analis")
        elif roll < 0.35:
            engine.start_case("crash", actor="bo")
        else:
            ready = engine.tasks(state="ready", limit=50)
            if ready:
                engine.complete(rng.choice(ready)["id"], user="bo")


def check_agreement(engine, base_revision: int) -> Counter:
    """Every case's state, task rows, audit events and revision agree; returns what was seen.

    `base_revision` is a new case's revision: each completion adds exactly one to it.
    """
    seen = Counter()
    with engine.db.read() as s:
        events = s.scalars(select(AuditEvent)).all()
        completed_events = Counter(e.task_id for e in events if e.action == "task.completed")
        started = Counter(e.case_id for e in events if e.action == "case.started")
        deployed = Counter((e.detail["key"], e.detail["version"]) for e in events if e.action == "process.deployed")
        versions = s.scalars(select(ProcessVersion)).all()
        assert Counter((v.key, v.version) for v in versions) == deployed, "a version without its deploy event"
        for case in s.scalars(select(Case)):
            rows = s.scalars(select(TaskRecord).where(TaskRecord.case_id == case.id)).all()
            spec, subprocess_specs, _, _ = engine.version(case.process_version_id, s)
            workflow = engine.codec.load_state(case.state_json, spec, subprocess_specs, engine._script_engine)
            ready = {str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
            done = {str(t.id) for t in workflow.get_tasks(state=TaskState.COMPLETED, manual=True)}
            assert started[case.id] == 1, f"case {case.id}: {started[case.id]} start events"
            assert {r.spiff_task_id for r in rows if r.state == "ready"} == ready, f"case {case.id}: ready rows"
            assert {r.spiff_task_id for r in rows if r.state == "completed"} == done, f"case {case.id}: completed rows"
            for row in rows:
                assert completed_events[row.id] == (1 if row.state == "completed" else 0), \
                    f"case {case.id}, task {row.id} ({row.state}): {completed_events[row.id]} completion events"
                assert workflow.get_task_from_id(UUID(row.spiff_task_id)) is not None
            assert case.revision == base_revision + len(done), \
                f"case {case.id}: revision {case.revision}, {len(done)} steps done"
            assert (case.status == "completed") == workflow.is_completed(), f"case {case.id}: status {case.status}"
            seen["cases"] += 1
            seen["completed tasks"] += len(done)
        rows_by_id = {r.id for r in s.scalars(select(TaskRecord))}
        assert set(completed_events) <= rows_by_id, "a completion event without its task row"
        seen["versions"] = len(versions)
    return seen


def run_and_kill(database_url: str, rng: random.Random, round_: int) -> float:
    """Start the child, let it work for a random moment, SIGKILL it; returns how long it worked."""
    code = (f"import sys; sys.path.insert(0, {str(HERE)!r}); from test_crash_consistency import child; "
            f"child({database_url!r}, {SEED + round_})")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=HERE.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == b"ready", proc.stderr.read().decode()[-2000:]
        worked = rng.uniform(0.05, 0.8)
        time.sleep(worked)
        assert proc.poll() is None, f"the child died by itself:\n{proc.stderr.read().decode()[-3000:]}"
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    return worked


def test_sigkill_at_random_points_leaves_every_case_consistent_and_able_to_go_on(database_url, clock):
    engine = Engine(Database(database_url), clock, Settings(database_url=database_url))
    try:
        engine.add_user("bo", role="staff", lanes=["Back Office"], password_hash="x")
        engine.deploy(sop(1), "crash.bpmn", author="analis")
        with engine.db.read() as s:
            base_revision = s.get(Case, engine.start_case("crash", actor="bo")).revision
        rng = random.Random(SEED)
        began = time.monotonic()
        for round_ in range(KILLS):
            run_and_kill(database_url, rng, round_)
            seen = check_agreement(engine, base_revision)
        assert seen["cases"] >= KILLS and seen["completed tasks"] >= KILLS, seen
        assert seen["versions"] >= 2, seen
        # Every case can go on: finish each running one.
        with engine.db.read() as s:
            running = s.scalars(select(Case.id).where(Case.status == "running")).all()
        for case_id in running:
            for _ in STEPS:
                ready = engine.tasks(case_id=case_id, state="ready")
                if not ready:
                    break
                engine.complete(ready[0]["id"], user="bo")
            assert engine.case(case_id, with_tasks=False)["status"] == "completed", f"case {case_id}"
        final = check_agreement(engine, base_revision)
        print(f"{KILLS} kills; before finishing: {dict(seen)}; after: {dict(final)}; "
              f"{time.monotonic() - began:.1f} s")
        assert time.monotonic() - began < 60
    finally:
        engine.db.dispose()
