"""A realistic case history for the demo office, made through the engine's own API.

`generate_history` runs a discrete-event simulation on an injected clock: it moves a `FixedClock`
from event to event (case arrivals, task claims, task completions, due timers, cancellations) and
at each one calls the engine as the office would (`start_case`, `claim`, `complete`,
`fire_due_timers`, `cancel`). No row is written behind the engine's back; the simulation only reads
a case's open task rows after each operation to learn what became ready. The office it imitates is
described in `knobs`.

The same seed and the same `now` give the same registration numbers, decisions, actors and times.
"""
from __future__ import annotations

import time as _time
from contextlib import contextmanager
from datetime import UTC, datetime

from .knobs import Echo
from .records import Plan
from .scripted import scripted_arrivals
from .simulation import Simulation


def generate_history(engine, *, seed: int, days: int = 90, cases: int = 1000, echo: Echo = print,
                     now: datetime | None = None, password_hash: str | None = None) -> dict:
    """Make `cases` cases over the `days` days before `now` through the engine's API and return a summary."""
    # `now` defaults to the real current moment, read once. The engine's clock is a FixedClock moved
    # from event to event and is given back as it was at the end. Extra clerks per lane get
    # `password_hash` (default: the hash of "demo").
    if cases < 0 or days < 1:
        raise ValueError("cases must be >= 0 and days >= 1")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    began = _time.perf_counter()
    sim = Simulation(engine, seed=seed, days=days, cases=cases, echo=echo, now=now)
    sim.load(password_hash)
    plans = plan_arrivals(sim)
    old_clock = engine.clock
    engine.clock = sim.clock
    try:
        with progress(echo, len(plans)) as advance:
            sim.run(plans, advance)
        sim.reach_end()
        return summary(sim, _time.perf_counter() - began)
    finally:
        engine.clock = old_clock


def plan_arrivals(sim: Simulation) -> list[Plan]:
    """Every arrival of the period in time order: files spread over office hours, and the scripted few."""
    arrivals = sim.arrivals
    intervals = arrivals.office_windows(sim.start, sim.end)
    if not intervals or not sim.n_cases:
        if sim.n_cases:
            sim.echo(f"The counter was not open in the {sim.days} day(s) before now: no cases made.")
        return []
    # The scripted files count towards `cases`, so they are planned first.
    scripted = scripted_arrivals(arrivals, sim.infos, seed=sim.seed, cases=sim.n_cases, days=sim.days)
    plans = arrivals.natural(intervals, max(0, sim.n_cases - len(scripted)))
    plans.extend(scripted)
    plans.sort(key=lambda p: p.at)
    return plans


@contextmanager
def progress(echo: Echo, total: int):
    """A click progress bar when printing through click, else a line at every quarter."""
    import click

    if echo is click.echo and total:
        with click.progressbar(length=total, label="Making the case history", show_pos=True) as bar:
            yield lambda: bar.update(1)
        return
    done = 0

    def advance() -> None:
        nonlocal done
        done += 1
        if done * 4 // total != (done - 1) * 4 // total:
            echo(f"history: {done}/{total} cases")
    yield advance


def summary(sim: Simulation, elapsed: float) -> dict:
    """Print a line per SOP version and the open cases per SLA state now, and return the counts."""
    # The summary holds the cases, met and missed counts and `met_share` per SOP version
    # (`by_version`), the open cases per SLA state now (`open_by_state`), and counts of what was done.
    views = sim.engine.cases(limit=max(1, sim.started + 10), as_of=sim.end)
    by_version: dict[tuple[str, int], dict] = {}
    open_states = {"on_track": 0, "at_risk": 0, "breached": 0}
    for view in views:
        entry = by_version.setdefault((view["process"], view["version"]), {
            "process": view["process"], "version": view["version"], "cases": 0, "completed": 0,
            "met": 0, "missed": 0, "cancelled": 0, "open": 0})
        entry["cases"] += 1
        if view["status"] == "completed":
            entry["completed"] += 1
            entry[view["sla_state"]] += 1
        elif view["status"] == "cancelled":
            entry["cancelled"] += 1
        else:
            entry["open"] += 1
            open_states[view["sla_state"]] = open_states.get(view["sla_state"], 0) + 1
    rows = []
    for key in sorted(by_version):
        entry = by_version[key]
        closed = entry["met"] + entry["missed"]
        entry["met_share"] = round(entry["met"] / closed, 4) if closed else None
        rows.append(entry)
        share = f"{entry['met_share']:.0%}" if closed else "-"
        sim.echo(f"{entry['process']} v{entry['version']}: {entry['cases']} cases, "
                 f"{share} met the 24-hour limit ({entry['open']} open)")
    sim.echo("open cases now: " + ", ".join(f"{k} {v}" for k, v in open_states.items()))
    return {
        "seed": sim.seed, "days": sim.days,
        "period": {"start": sim.start.isoformat(), "end": sim.end.isoformat(),
                   "switch": sim.switch.isoformat()},
        "cases": sim.started, "by_version": rows, "open_by_state": open_states,
        "tasks_completed": sim.completed, "tasks_claimed": sim.claimed,
        "cases_cancelled": sim.cancelled, "timer_fires": sim.timer_fires,
        "new_staff": list(sim.staff.new_staff), "invalid_forms": sim.forms.invalid_forms,
        "seconds": round(elapsed, 1),
    }
