"""Completing one user task through the engine against the raw SpiffWorkflow floor.

Floor: deserialize the full state (spec included) + complete the task + run engine steps +
serialize + write the state to SQLite and commit, in the same run, on the same 20-task SOP.
The engine is measured as configured (it keeps the workflows of recently saved cases, so the next
completion in a case skips deserializing) and with that cache off, which is what a completion in a
case no process has touched lately costs.
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


def bench_engine(workdir: Path, name: str, cache: int, sop: Path = SOP) -> tuple[Engine, str, SopInfo]:
    """An engine on a new SQLite file in `workdir` with `sop` deployed and an admin "bench" who may do every step."""
    settings = Settings(database_url=f"sqlite:///{workdir / name}", workflow_cache_size=cache)
    db = Database(settings.database_url)
    db.upgrade()
    engine = Engine(db, FixedClock(datetime(2026, 11, 30, tzinfo=timezone.utc)), settings)
    engine.add_user("bench", role="admin", password_hash="x")
    key = engine.deploy(sop.read_bytes(), sop.name).key
    with db.read() as s:
        return engine, key, engine.version(1, s).info


def run(rounds: int = 5) -> list[dict]:
    workdir = Path(tempfile.mkdtemp(prefix="alur-bench-"))
    engine, key, info = bench_engine(workdir, "engine.sqlite", Settings.workflow_cache_size)
    cold, cold_key, _ = bench_engine(workdir, "engine-uncached.sqlite", 0)

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
    _engine_case(cold, cold_key, info)
    floor, ours, uncached = [], [], []
    for _ in range(rounds):
        floor += _floor_case(serializer, spec, subs, info, conn)
        ours += _engine_case(engine, key, info)
        uncached += _engine_case(cold, cold_key, info)
    floor_ms = statistics.median(floor) * 1000
    ours_ms = statistics.median(ours) * 1000
    uncached_ms = statistics.median(uncached) * 1000
    ratio, cold_ratio = ours_ms / floor_ms, uncached_ms / floor_ms
    return [
        {"name": "engine.complete_floor_ms", "value": floor_ms, "unit": "ms", "target": "-"},
        {"name": "engine.complete_ms", "value": ours_ms, "unit": "ms", "target": "-"},
        {"name": "engine.complete_vs_floor", "value": ratio, "unit": "x", "target": "<=1.3",
         "met": ratio <= 1.3, "samples": len(ours)},
        {"name": "engine.complete_uncached_ms", "value": uncached_ms, "unit": "ms", "target": "-"},
        {"name": "engine.complete_uncached_vs_floor", "value": cold_ratio, "unit": "x", "target": "-",
         "samples": len(uncached)},
    ]
