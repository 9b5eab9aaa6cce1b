"""The figures a forecast reports: share meeting the limit with its interval, case times, steps, branches."""
from __future__ import annotations

import math
from collections import Counter

Z95 = 1.959963984540054
HOUR = 3600.0
BINS_PER_LIMIT = 6     # histogram bins are limit / 6 wide (4 h for 24 h) ...
LIMITS_SHOWN = 3       # ... up to three times the limit, then one open bin


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a share (95 % by default); (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, round(centre - half, 12)), min(1.0, round(centre + half, 12))


def percentile(sorted_values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) with linear interpolation between ranks."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q
    lo = math.floor(position)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (position - lo)


def distribution(hours: list[float]) -> dict:
    values = sorted(hours)
    return {"p10": _r(percentile(values, 0.1)), "p50": _r(percentile(values, 0.5)),
            "p90": _r(percentile(values, 0.9)), "mean": _r(sum(values) / len(values)) if values else None}


def histogram(limit_hours: float, series: dict[str, list[float]]) -> dict:
    """Counts per bin of `limit_hours / 6` hours up to three limits, the last bin open-ended."""
    width = limit_hours / BINS_PER_LIMIT
    edges = [round(width * i, 3) for i in range(BINS_PER_LIMIT * LIMITS_SHOWN + 1)]
    result = {"unit": "hours", "edges": edges, "open_last": True}
    for name, hours in series.items():
        counts = [0] * len(edges)
        for h in hours:
            counts[min(int(h // width) if width > 0 else 0, len(edges) - 1)] += 1
        result[name] = counts
    return result


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def summarize(sim, results: list) -> dict:
    """The forecast dict of simulate(); `results` holds (CaseRun, SLA seconds, met) per case."""
    model, info = sim.model, sim.model.info
    n = len(results)
    met = sum(1 for _, _, ok in results if ok)
    low, high = wilson(met, n)
    calendar_hours = [(run.end - run.start) / HOUR for run, _, _ in results]
    sla_hours = [used / HOUR for _, used, _ in results]
    visits, seconds, critical = Counter(), Counter(), Counter()
    for run, _, _ in results:
        for node_id, ready, done in run.visits:
            visits[node_id] += 1
            seconds[node_id] += done - ready
        for node_id in set(run.critical):
            critical[node_id] += 1
    steps = []
    for node in model.tasks:
        count = visits[node.id]
        steps.append({
            "id": node.id, "name": node.name, "lane": node.lane, "budget_seconds": node.budget_seconds,
            "pauses_clock": node.pauses_clock,
            "visits_per_case": _r(count / n, 3) if n else 0.0,
            "mean_seconds_per_visit": _r(seconds[node.id] / count, 1) if count else None,
            "expected_seconds_per_case": _r(seconds[node.id] / n, 1) if n else 0.0,
            "critical_share": _r(critical[node.id] / n, 3) if n else 0.0,
            "source": sim.sources[node.id].to_dict(),
        })
    branches = []
    for gateway_id, shares in sim.shares.items():
        gateway = model.nodes[gateway_id]
        branches.append({
            "gateway": gateway_id, "name": gateway.name, "kind": gateway.gateway,
            "source": sim.share_sources[gateway_id],
            "flows": [{"flow": f, "name": model.flows[f].name, "target": model.flows[f].target,
                       "share": _r(share, 4), "rework": f in sim.rework} for f, share in shares.items()],
        })
    on_path = sorted(({"id": node_id, "name": model.nodes[node_id].name, "share": _r(c / n, 3)}
                      for node_id, c in critical.items()), key=lambda item: (-item["share"], item["id"]))
    limit_hours = info.limit_seconds / HOUR
    from_history = [s for s in steps if s["source"]["kind"] == "history"]
    return {
        "key": model.key, "name": model.name, "cases": n,
        "limit_hours": _r(limit_hours, 3), "calendar": info.calendar,
        "clock_starts_after": info.clock_starts_after,
        "meets_limit": {"share": _r(met / n, 4) if n else None, "low": _r(low, 4), "high": _r(high, 4),
                        "met": met, "method": "wilson", "confidence": 0.95},
        "case_hours": {"calendar": distribution(calendar_hours), "sla": distribution(sla_hours)},
        "histogram": histogram(limit_hours, {"calendar": calendar_hours, "sla": sla_hours}),
        "steps": steps,
        "critical_path": on_path,
        "branches": branches,
        "stuck_cases": sum(1 for run, _, _ in results if run.stuck),
        "sources": {"history_steps": len(from_history), "budget_steps": len(steps) - len(from_history),
                    "history_cases": len(sim.history.cases), "history_tasks": len(sim.history.samples)},
    }
