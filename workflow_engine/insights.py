"""The Engine's comparison of SOP versions: static metrics, measured performance and their differences."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from . import performance, sop_metrics, store, store_reports
from .calendars import require_aware
from .errors import InvalidState
from .models import ProcessVersion
from .sop_info import SopInfo
from .sop_refs import parse_ref

class Insights:
    """SOP metrics per version, measured performance per version, and a side-by-side comparison.

    `compare` builds each side from the parts in `compare_parts` (name -> function(key, kind, number,
    **options) returning a JSON-ready dict or None) and each part's delta from `compare_deltas`;
    other features add their parts there.
    """

    def sop_metrics(self, key: str, version: int | None = None) -> dict:
        """Static figures of a version (the latest published one by default), from its stored BPMN."""
        with self.db.read() as s:
            vid = store.version_id(s, key, version)
        cache = self.__dict__.setdefault("_metrics_cache", {})
        if vid not in cache:  # versions never change, so their figures never do
            with self.db.read() as s:
                row = s.get(ProcessVersion, vid)
                xml, info, number, filename = row.bpmn_xml, SopInfo.from_dict(row.info), row.version, row.filename
            cache[vid] = {"version": number, **sop_metrics.metrics_of(xml, key, info, filename)}
        return cache[vid]

    def draft_metrics(self, draft_id: int) -> dict:
        """Static figures of a draft's BPMN."""
        draft = self.draft(draft_id)
        return {"draft": draft_id, **sop_metrics.metrics_of(draft["xml"], draft["key"],
                                                            filename=draft.get("filename") or "draft.bpmn")}

    def measured(self, key: str, version: int | None = None, *, since: datetime | None = None,
                 until: datetime | None = None) -> dict:
        """Measured performance of a version from its recorded cases (practice cases excluded)."""
        since = require_aware(since, "since") if since is not None else None
        until = require_aware(until, "until") if until is not None else None
        metrics = self.sop_metrics(key, version)
        now = self.now()
        with self.db.read() as s:
            vid = store.version_id(s, key, version)
            info = self.version(vid, s).info
            cases = store_reports.version_cases(s, vid, since=since, until=until)
            tasks = store_reports.version_tasks(s, vid, since=since, until=until)
            calendar = self.calendar(info.calendar, s)
            working = self.calendar("jam-kerja", s)
        result = performance.measure(cases, tasks, info=info, loop_steps=metrics["loop_steps"],
                                     calendar=calendar, working=working,
                                     at_risk_share=self.settings.at_risk_share, as_of=now)
        result.update(version=metrics["version"], since=since.isoformat() if since else None,
                      until=until.isoformat() if until else None)
        return result

    # --- the comparison -----------------------------------------------------------------------
    @property
    def compare_parts(self) -> dict[str, Callable]:
        return {"metrics": self._metrics_part, "measured": self._measured_part,
                "forecast": self._forecast_part}

    @property
    def compare_deltas(self) -> dict[str, Callable]:
        return {"metrics": lambda a, b: sop_metrics.delta(a, b),
                "measured": lambda a, b: performance_delta(a, b),
                "forecast": forecast_delta}

    def compare(self, key: str, a, b, **options) -> dict:
        """Both sides of a comparison and their differences (b - a): {"key", "a", "b", "delta"}.

        `a` and `b` are version numbers or references ("2", "v2", "d7" for draft 7). Each side holds
        "version" (or "draft") and one entry per part; options (since, until) go to every part.
        """
        sides = {}
        for name, ref in (("a", a), ("b", b)):
            kind, number = parse_ref(ref)
            side = {"version": number if kind == "version" else None,
                    "draft": number if kind == "draft" else None}
            for part, build in self.compare_parts.items():
                side[part] = build(key, kind, number, **options)
            sides[name] = side
        deltas = {part: fn(sides["a"].get(part), sides["b"].get(part))
                  for part, fn in self.compare_deltas.items()}
        diff = self.diff_versions(key, a, b).to_dict()
        return {"key": key, "a": sides["a"], "b": sides["b"], "delta": deltas, "diff": diff}

    def _metrics_part(self, key: str, kind: str, number: int, **_options) -> dict:
        if kind == "draft":
            figures = self.draft_metrics(number)
            if figures.get("key") != key:
                raise InvalidState(f"draft {number} is for SOP '{figures.get('key')}', not '{key}'")
            return figures
        return self.sop_metrics(key, number)

    def _measured_part(self, key: str, kind: str, number: int, *, since=None, until=None,
                       **_options) -> dict | None:
        if kind == "draft":
            return None  # a draft has run no case; its forecast is the simulation's job
        return self.measured(key, number, since=since, until=until)

    def _forecast_part(self, key: str, kind: str, number: int, *, forecast_cases: int = 1000,
                       seed: int = 0, **_options) -> dict | None:
        if not forecast_cases:
            return None
        return self.simulate(key, f"d{number}" if kind == "draft" else number, cases=forecast_cases, seed=seed)


def performance_delta(a: dict | None, b: dict | None) -> dict:
    """b - a for each comparable measured figure (None where either side has no data)."""
    left, right = performance.scalars(a), performance.scalars(b)
    return {name: None if left[name] is None or right[name] is None else round(right[name] - left[name], 6)
            for name in left}


def forecast_delta(a: dict | None, b: dict | None) -> dict | None:
    """b - a of the simulated share meeting the limit and of the median SLA time (hours)."""
    if a is None or b is None:
        return None

    def minus(left, right, digits):
        return None if left is None or right is None else round(right - left, digits)
    return {"meets_limit_share": minus(a["meets_limit"]["share"], b["meets_limit"]["share"], 6),
            "sla_hours_p50": minus(a["case_hours"]["sla"].get("p50"), b["case_hours"]["sla"].get("p50"), 4)}
