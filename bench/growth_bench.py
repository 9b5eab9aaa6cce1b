"""The cost of one completion deep in a rework loop against the same completion in its first round.

A case of the rework loop SOP (`tests/fixtures/bpmn/rework_loop.bpmn`: check, then the applicant
fixes, then check again) is driven to its 100th round; the check completed in round 1 and in round
100 are timed, in several cases, and the ratio of the medians is the figure. The workflow state
grows with every round (SpiffWorkflow keeps the whole task tree), so this shows what that costs.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from workflow_engine import Engine, Settings

from .engine_bench import bench_engine

SOP = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "bpmn" / "rework_loop.bpmn"
DEEP = 100


def _one_case(engine: Engine, key: str, rounds: int) -> dict[int, float]:
    """Seconds of the check's completion per round, for rounds 1..rounds."""
    case_id = engine.start_case(key, actor="bench")
    costs, done = {}, 0
    while done < rounds:
        [task] = engine.tasks(case_id=case_id)
        engine.clock.advance(minutes=5)
        check = task["step_id"] == "periksa"
        t0 = time.perf_counter()
        engine.complete(task["id"], user="bench", data={"hasil": "ulang"} if check else {})
        if check:
            done += 1
            costs[done] = time.perf_counter() - t0
    return costs


def run(cases: int = 5) -> list[dict]:
    workdir = Path(tempfile.mkdtemp(prefix="alur-bench-growth-"))
    engine, key, _ = bench_engine(workdir, "engine.sqlite", Settings.workflow_cache_size, SOP)
    _one_case(engine, key, 2)  # warm the spec cache and the database
    first, deep = [], []
    for _ in range(cases):
        costs = _one_case(engine, key, DEEP)
        first.append(costs[1])
        deep.append(costs[DEEP])
    first_ms, deep_ms = statistics.median(first) * 1000, statistics.median(deep) * 1000
    ratio = deep_ms / first_ms
    return [
        {"name": "growth.complete_round1_ms", "value": first_ms, "unit": "ms", "target": "-"},
        {"name": f"growth.complete_round{DEEP}_ms", "value": deep_ms, "unit": "ms", "target": "-"},
        {"name": "growth.round100_vs_round1", "value": ratio, "unit": "x", "target": "<=2",
         "met": ratio <= 2, "samples": cases},
    ]
