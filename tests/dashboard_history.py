"""A hand-built office history on rework_loop for the dashboard tests, with every time known.

Monday 30 November 2026 08:00 WIT is offset 0; "now" is offset 31 h (Tuesday 15:00 WIT). Limit 24 h, 24x7.

closed:  c1 done at 30 m (met); c2 returned to the applicant 1 h-5 h, done at 6 h (met, 2 h used);
         c3 done at 30 h (missed); c5 returned, then cancelled at 3 h (no outcome).
open:    ok (registered 30 h: on track); risk (registered 12 h: 19 h used, at risk);
         late (registered 1 h, claimed by fo at 2 h: breached); paused (with the applicant since 2 h,
         2 h used: on track and paused, though its stored deadline says breached); paused_late (with
         the applicant since 25 h: breached before the pause, and paused).
practice: one done at 10 m, one open and breached; neither counts.
"""
from __future__ import annotations

from datetime import timedelta

from conftest import MONDAY_MORNING, add_staff

H, M = 3600, 60
NOW = 31 * H


def at(engine, seconds: float) -> None:
    engine.clock.set(MONDAY_MORNING + timedelta(seconds=seconds))


def ready_task(engine, case_id: int, step_id: str) -> int:
    return next(t["id"] for t in engine.tasks(case_id=case_id) if t["step_id"] == step_id)


def build(engine, deploy) -> dict:
    """Run the history through the engine; returns the case ids by name, the clock left at NOW."""
    for name, lanes in (("fo", ["Front Office"]), ("pemohon", ["Pemohon"])):
        if name not in {u["username"] for u in engine.users()}:
            add_staff(engine, name, lanes)
    deploy("rework_loop.bpmn")
    ids: dict[str, int] = {}

    def start(name, practice=False):
        ids[name] = engine.start_case("rework_loop", practice=practice, actor="fo")

    def periksa(name, result, user="fo"):
        engine.complete(ready_task(engine, ids[name], "periksa"), user=user, data={"hasil": result})

    def claim(name):
        engine.claim(ready_task(engine, ids[name], "periksa"), user="fo")

    steps = [
        (0, lambda: [start(n) for n in ("c1", "c2", "c3", "c5", "paused", "paused_late")]),
        (0, lambda: (start("practice_done", True), start("practice_open", True))),
        (10 * M, lambda: (claim("c1"), periksa("practice_done", "selesai"))),
        (30 * M, lambda: periksa("c1", "selesai")),
        (1 * H, lambda: (periksa("c2", "ulang"), start("late"))),
        (2 * H, lambda: (periksa("c5", "ulang"), periksa("paused", "ulang"), claim("late"))),
        (3 * H, lambda: engine.cancel(ids["c5"], user="fo", reason="test")),
        (5 * H, lambda: engine.complete(ready_task(engine, ids["c2"], "perbaiki"), user="pemohon")),
        (5 * H + 30 * M, lambda: claim("c2")),
        (6 * H, lambda: periksa("c2", "selesai")),
        (12 * H, lambda: start("risk")),
        (25 * H, lambda: periksa("paused_late", "ulang")),
        (29 * H, lambda: claim("c3")),
        (30 * H, lambda: (periksa("c3", "selesai"), start("ok"))),
    ]
    for offset, action in steps:
        at(engine, offset)
        action()
    at(engine, NOW)
    return ids
