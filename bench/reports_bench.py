"""Reports over the office-years database: weekly compliance per SOP and per-step durations, on each database.

Each report is asked of a fresh engine (nothing remembered) over the whole history, five times; the
figure is the median. The dashboard as a manager first sees it (its default 12 weeks) is measured
the same way, in the engine, without HTTP.
"""
from __future__ import annotations

import statistics
import time

from sqlalchemy import func, select

from workflow_engine import Settings, open_engine
from workflow_engine.models import Case, TaskRecord

TIMES = 5


def _median_s(call) -> tuple[float, object]:
    seconds, result = [], None
    for _ in range(TIMES):
        t0 = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - t0)
    return statistics.median(seconds), result


def run(database_url: str, label: str) -> list[dict]:
    engine = open_engine(Settings(database_url=database_url))
    try:
        with engine.db.read() as s:
            cases = s.scalar(select(func.count()).select_from(Case))
            rows = s.scalar(select(func.count()).select_from(TaskRecord))
        weekly, result = _median_s(engine.compliance_by_week)
        weeks = len(result["weeks"])
        steps, result = _median_s(lambda: engine.step_times(by_version=True))
        step_rows = len(result)
        per_sop, _ = _median_s(engine.step_times)
        dashboard, _ = _median_s(engine.dashboard)
    finally:
        engine.db.dispose()
    facts = {"cases": cases, "task_rows": rows}
    return [
        {"name": f"reports.weekly_compliance_s.{label}", "value": weekly, "unit": "s", "target": "<=1",
         "met": weekly <= 1, "weeks": weeks, **facts},
        {"name": f"reports.step_durations_s.{label}", "value": steps, "unit": "s", "target": "<=1",
         "met": steps <= 1, "steps": step_rows, "per": "SOP version and step", **facts},
        {"name": f"reports.step_durations_per_sop_s.{label}", "value": per_sop, "unit": "s", "target": "<=1",
         "met": per_sop <= 1, "per": "SOP and step, versions merged", **facts},
        {"name": f"engine.dashboard_ms.{label}", "value": dashboard * 1000, "unit": "ms", "target": "-",
         "period": "12 weeks", **facts},
    ]
