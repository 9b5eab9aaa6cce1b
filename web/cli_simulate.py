"""`alur simulate`: forecast an SOP version or draft by simulating cases, with simplification findings."""
from __future__ import annotations

import click

from .cli_common import Context, emit, friendly, json_option, pass_ctx


def _hours(value) -> str:
    return "-" if value is None else f"{value:.1f} h"


def render(result: dict, findings: list | None) -> str:
    """The forecast as readable lines."""
    meets, hours = result["meets_limit"], result["case_hours"]
    side = f"draft {result['draft']}" if result.get("draft") is not None else f"v{result['version']}"
    lines = [
        (f"{result['key']} {side}: {result['cases']} simulated cases (seed {result['seed']}, "
         f"{result['elapsed_seconds']:.2f} s)"),
        (f"Meets the {result['limit_hours']:g}-hour limit ({result['calendar']}): {meets['share']:.1%} "
         f"(95% interval {meets['low']:.1%} to {meets['high']:.1%}, Wilson)"),
    ]
    for label, key in (("Case time, clock (SLA)", "sla"), ("Case time, calendar", "calendar")):
        d = hours[key]
        lines.append(f"{label}: p10 {_hours(d['p10'])}, median {_hours(d['p50'])}, p90 {_hours(d['p90'])}, "
                     f"mean {_hours(d['mean'])}")
    lines.append("Steps (expected time per case; source):")
    for step in sorted(result["steps"], key=lambda s: -s["expected_seconds_per_case"]):
        source = step["source"]
        origin = f"history n={source['n']}" if source["kind"] == "history" else source["kind"]
        lines.append(f"  {step['expected_seconds_per_case'] / 3600:7.2f} h  {step['critical_share']:5.0%} critical  "
                     f"{step['id']} ({origin}, {source['timebase']} time)")
    if result.get("stuck_cases"):
        lines.append(f"warning: {result['stuck_cases']} simulated cases could not finish (a join that never "
                     "gets all its branches)")
    if findings is not None:
        lines.append("Findings (most time saved first):" if findings else "Findings: none")
        for finding in findings:
            lines.append(f"  -{finding['estimated_saving_seconds'] / 3600:.1f} h  [{finding['code']}] "
                         f"{finding['element_id']}: {finding['message']}")
    return "\n".join(lines)


@click.command("simulate")
@click.argument("key")
@click.option("--version", "version", type=int, default=None, help="The SOP version to simulate.")
@click.option("--draft", "draft", type=int, default=None, help="The draft (its id) to simulate.")
@click.option("--cases", default=1000, show_default=True, type=click.IntRange(1, 20000))
@click.option("--seed", default=0, show_default=True, type=int, help="Makes the forecast repeatable.")
@click.option("--findings", "with_findings", is_flag=True, help="Add the simplification findings.")
@json_option
@pass_ctx
@friendly
def simulate(ctx: Context, key, version, draft, cases, seed, with_findings, as_json):
    """Forecast an SOP version or draft: simulated cases timed by the recorded ones."""
    if (version is None) == (draft is None):
        raise click.UsageError("give exactly one of --version N or --draft ID")
    ref = f"d{draft}" if draft is not None else version
    result = ctx.engine.simulate(key, ref, cases=cases, seed=seed)
    findings = ctx.engine.findings(key, ref, seed=seed) if with_findings else None
    if as_json:
        emit({**result, "findings": findings} if with_findings else result, True)
    else:
        emit(None, False, render(result, findings))
