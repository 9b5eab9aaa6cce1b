"""Forecasting: 1,000 simulated cases of each library SOP's current version, on the office-years database.

A fresh engine each time, so the figure includes reading the SOP's history (the latest cases of each
version) as well as the simulation; the figure is the slowest SOP.
"""
from __future__ import annotations

import time

from workflow_engine import Settings, open_engine


def run(database_url: str) -> list[dict]:
    seconds = {}
    probe = open_engine(Settings(database_url=database_url))
    sops = [(s["key"], s["published_version"]) for s in probe.catalogue() if s["published_version"]]
    probe.db.dispose()
    for key, version in sops:
        engine = open_engine(Settings(database_url=database_url))
        try:
            t0 = time.perf_counter()
            engine.simulate(key, version, cases=1000)
            seconds[f"{key} v{version}"] = round(time.perf_counter() - t0, 3)
        finally:
            engine.db.dispose()
    worst = max(seconds.values())
    return [{"name": "simulation.cases_1000_s", "value": worst, "unit": "s", "target": "<=5", "met": worst <= 5,
             "per_sop": seconds}]
