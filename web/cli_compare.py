"""`alur compare`: two versions of an SOP side by side, by structure and by measured performance."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click

from .cli_common import Context, emit, friendly, json_option, pass_ctx

# (label, part, key, kind) of the rows of the readable table; kind picks the formatting.
METRIC_ROWS = (
    ("Steps (user tasks)", "steps", "n"), ("Actors (lanes)", "actors", "n"),
    ("Hand-offs on the main path", "handoffs", "n"), ("Sign-off steps", "signoffs", "n"),
    ("Decision points", "decision_points", "n"), ("Parallel branches", "parallel_branches", "n"),
    ("Control-flow complexity (CFC)", "complexity", "n"),
    ("Planned office time, main path", "main_path_seconds", "t"),
    ("Planned office time, longest path", "longest_path_seconds", "t"),
)
MEASURED_ROWS = (
    ("Cases started", "cases_started", "n"), ("Cases completed", "cases_completed", "n"),
    ("Met the time limit", "met_share", "%"),
    ("Case time, median (calendar)", "case_time_calendar_median", "t"),
    ("Case time, 90th pct (calendar)", "case_time_calendar_p90", "t"),
    ("Case time, median (working hours)", "case_time_working_median", "t"),
    ("Case time, 90th pct (working hours)", "case_time_working_p90", "t"),
    ("Registration to close, median", "lead_time_median", "t"),
    ("Rework (a step ran again)", "rework_share", "%"), ("Returned to the applicant", "returned_share", "%"),
    ("Time waiting on the applicant", "paused_share", "%"),
)

FORECAST_ROWS = (
    ("Forecast: meets the time limit", lambda f: f["meets_limit"]["share"], "%"),
    ("Forecast: clock time, median", lambda f: _hours(f["case_hours"]["sla"].get("p50")), "t"),
    ("Forecast: clock time, 90th pct", lambda f: _hours(f["case_hours"]["sla"].get("p90")), "t"),
)


def _hours(value):
    return None if value is None else value * 3600


def _duration(seconds) -> str:
    seconds = int(round(abs(seconds)))
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    if hours >= 100:  # days read better only for long times; planned times stay in hours
        return f"{hours // 24} d {hours % 24} h"
    return f"{hours} h {minutes} m" if hours else f"{minutes} m"


def _cell(value, kind: str, signed: bool = False) -> str:
    if value is None:
        return "-"
    sign = ("+" if value > 0 else "-" if value < 0 else "") if signed else ("-" if value < 0 else "")
    if kind == "%":
        return f"{sign}{abs(value) * 100:.1f}{' pt' if signed else ' %'}"
    if kind == "t":
        return sign + _duration(value)
    return f"{sign}{abs(value):g}"


def _side_name(side: dict) -> str:
    return f"draft {side['draft']}" if side.get("draft") is not None else f"v{side['version']}"


def render_table(result: dict) -> str:
    """The comparison as a plain-text table: figure, A, B and B - A."""
    from workflow_engine.performance import scalars

    a, b = result["a"], result["b"]
    measured = {name: scalars(side.get("measured")) for name, side in (("a", a), ("b", b))}
    rows = [("", _side_name(a), _side_name(b), "B - A")]
    for label, key, kind in METRIC_ROWS:
        rows.append((label, _cell(a["metrics"].get(key), kind), _cell(b["metrics"].get(key), kind),
                     _cell(result["delta"]["metrics"].get(key), kind, signed=True)))
    rows.append(("", "", "", ""))
    for label, key, kind in MEASURED_ROWS:
        rows.append((label, _cell(measured["a"][key], kind), _cell(measured["b"][key], kind),
                     _cell(result["delta"]["measured"].get(key), kind, signed=True)))
    if a.get("forecast") and b.get("forecast"):
        rows.append(("", "", "", ""))
        for label, pick, kind in FORECAST_ROWS:
            left, right = pick(a["forecast"]), pick(b["forecast"])
            change = None if left is None or right is None else right - left
            rows.append((label, _cell(left, kind), _cell(right, kind), _cell(change, kind, signed=True)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"SOP {result['key']}: {_side_name(a)} against {_side_name(b)}"]
    for row in rows:
        lines.append("  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]).rstrip())
    if result.get("diff"):
        diff = result["diff"]
        lines.append(f"Structure: {len(diff['added'])} added, {len(diff['removed'])} removed, "
                     f"{len(diff['changed'])} changed, {len(diff['layout_changed'])} moved only")
    lines.append("Measured from recorded cases without practice cases; times from completed cases, "
                 "the applicant's paused time left out; main path = approving branches, no loops.")
    return "\n".join(lines)


def _moment(value: str | None, zone: str, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date or moment such as 2026-11-01 or "
                                 "2026-11-01T08:00+09:00", param_hint=name)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


@click.command("compare")
@click.argument("key")
@click.argument("a")
@click.argument("b")
@click.option("--since", default=None, help="Count only cases registered from this date (YYYY-MM-DD or ISO moment).")
@click.option("--until", default=None, help="Count only cases registered before this date.")
@click.option("--forecast-cases", type=click.IntRange(0, 20_000), default=1000, show_default=True,
              help="Simulated cases per side for the forecast (0 leaves the forecast out).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulation.")
@json_option
@pass_ctx
@friendly
def compare(ctx: Context, key, a, b, since, until, forecast_cases, seed, as_json):
    """Compare two versions of SOP KEY: A and B are version numbers (1, 2) or drafts (d7).

    Shows the SOP metrics of each version (steps, lanes, hand-offs, sign-offs, decisions, planned
    time, complexity) and what its recorded cases measured (share meeting the time limit, case
    times, rework), with the difference B - A.
    """
    zone = ctx.settings.timezone
    result = ctx.engine.compare(key, a, b, since=_moment(since, zone, "--since"),
                                until=_moment(until, zone, "--until"), forecast_cases=forecast_cases,
                                seed=seed)
    emit(result, as_json, render_table(result))
