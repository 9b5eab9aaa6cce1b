"""Completing one user task through the engine against the raw SpiffWorkflow floor.

Floor: deserialize the full state (spec included) + complete the task + run engine steps +
serialize + write the state to SQLite and commit, in the same run, on the same 20-task SOP.
"""
from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as CAMUNDA_CONFIG
from SpiffWorkflow.util.task import TaskState

from workflow_engine import Database, Engine, FixedClock, Settings
from workflow_engine.sop_info import SopInfo

from .autofill import form_values

SOP = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "bpmn" / "twenty_steps.bpmn"
PROCESS_ID = "twenty_steps"


def _floor_case(serializer, spec, subs, info: SopInfo, conn) -> list[float]:
    """Drive one case with raw SpiffWorkflow, timing each completion as the floor defines it."""
    wf = BpmnWorkflow(spec, subs)
    wf.do_engine_steps()
    state = serializer.serialize_json(wf)
    conn.execute("INSERT INTO state(id, body) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET body=excluded.body",
                 (state,))
    conn.commit()
    costs = []
    while True:
        t0 = time.perf_counter()
        wf = serializer.deserialize_json(state)
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        task = ready[0]
        step = info.steps.get(task.task_spec.bpmn_id)
        task.data.update(form_values(step.form if step else ()))
        task.run()
        wf.do_engine_steps()
        state = serializer.serialize_json(wf)
        conn.execute("UPDATE state SET body = ? WHERE id = 1", (state,))
        conn.commit()
        costs.append(time.perf_counter() - t0)
    return costs


def _engine_case(engine: Engine, key: str, info: SopInfo) -> list[float]:
    case_id = engine.start_case(key, actor="bench")
    costs = []
    while True:
        ready = engine.tasks(case_id=case_id)
        if not ready:
            break
        task = ready[0]
        step = info.steps.get(task["step_id"])
        values = form_values(step.form if step else ())
        engine.clock.advance(minutes=5)
        t0 = time.perf_counter()
        engine.complete(task["id"], user="bench", data=values)
        costs.append(time.perf_counter() - t0)
    return costs


def run(rounds: int = 5) -> list[dict]:
    workdir = Path(tempfile.mkdtemp(prefix="alur-bench-"))
    settings = Settings(database_url=f"sqlite:///{workdir / 'engine.sqlite'}")
    db = Database(settings.database_url)
    db.upgrade()
    engine = Engine(db, FixedClock(datetime(2026, 11, 30, tzinfo=timezone.utc)), settings)
    engine.add_user("bench", role="admin", password_hash="x")
    key = engine.deploy(SOP.read_bytes(), SOP.name).key
    with db.read() as s:
        info = engine.version(1, s).info

    parser = CamundaParser()
    parser.add_bpmn_file(str(SOP))
    spec, subs = parser.get_spec(PROCESS_ID), parser.get_subprocess_specs(PROCESS_ID)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    conn = sqlite3.connect(workdir / "floor.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE state (id INTEGER PRIMARY KEY, body TEXT)")
    conn.isolation_level = ""

    # Warm both sides, then interleave them so machine noise hits both alike.
    _floor_case(serializer, spec, subs, info, conn)
    _engine_case(engine, key, info)
    floor, ours = [], []
    for _ in range(rounds):
        floor += _floor_case(serializer, spec, subs, info, conn)
        ours += _engine_case(engine, key, info)
    floor_ms = statistics.median(floor) * 1000
    ours_ms = statistics.median(ours) * 1000
    ratio = ours_ms / floor_ms
    return [
        {"name": "engine.complete_floor_ms", "value": floor_ms, "unit": "ms", "target": "-"},
        {"name": "engine.complete_ms", "value": ours_ms, "unit": "ms", "target": "-"},
        {"name": "engine.complete_vs_floor", "value": ratio, "unit": "x", "target": "<=1.5",
         "met": ratio <= 1.5, "samples": len(ours)},
    ]
