"""Event logs of an SOP for process mining (pm4py, ProM, Disco): one row per lifecycle event of a step.

What is in the log (`alur export eventlog --help` and the download say the same):

- One trace per real case of the SOP (all versions, or one with `version`), registered in
  [since, until). Practice cases (latihan) never appear. By default only closed cases (completed or
  cancelled) appear, the same cases whose steps Alur measures; `include_open` adds running cases
  with what they did so far.
- Each user-task instance gives these events (the XES standard lifecycle model):
  `schedule` when it became ready; `start` when it was claimed (a step completed without a claim
  starts when it completes, so its work time is zero, as Alur counts it); `complete` when it was
  done. A task withdrawn by the engine (the case was cancelled, another branch or a timer ended it)
  ends with `withdraw` if nobody had claimed it, else `ate_abort`: tools that pair start with
  complete leave it out, as Alur's step times do.
- So per step instance: wait = schedule -> start, work = start -> complete, exactly Alur's wait and
  work times; a case's first event is its registration when its first step opens then, and its
  last event the completion that closed it.
- resource = the user who claimed (start) or completed (complete); group = the step's lane;
  instance = the task id, which pairs a start with its complete even when a step runs twice.
- Events are ordered by case, then time, then task, then schedule < start < end.
"""
from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from . import store, store_events, xes
from .calendars import require_aware
from .errors import NotFound

__all__ = ["COLUMNS", "EventLogs", "FORMATS", "events_of_task", "parse_bound", "write"]

# The columns of a row, of the CSV file, and (mapped to XES keys) of the XES file.
COLUMNS = ("case_id", "activity", "timestamp", "lifecycle", "resource", "group", "step_id", "instance",
           "sop_key", "sop_version", "case_status")
FORMATS = ("xes", "csv")
_RANK = {"schedule": 0, "start": 1, "complete": 2, "withdraw": 2, "ate_abort": 2}


def parse_bound(text: str | None, zone: str) -> datetime | None:
    """A period bound from YYYY-MM-DD (midnight in the office's zone) or an ISO 8601 moment."""
    if text is None or not str(text).strip():
        return None
    try:
        moment = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a date or moment such as 2026-11-01 or "
                         "2026-11-01T08:00+09:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def events_of_task(row, key: str) -> list[dict]:
    """The lifecycle events of one task row (see the module docstring)."""
    base = {"case_id": row.registration_number, "activity": row.name, "group": row.lane,
            "step_id": row.step_id, "instance": str(row.id), "sop_key": key, "sop_version": row.version,
            "case_status": row.case_status}
    events = [{**base, "timestamp": row.ready_at, "lifecycle": "schedule", "resource": None}]
    if row.completed_at is not None:
        # As performance._steps: an unclaimed step counts as claimed when it was completed.
        events.append({**base, "timestamp": row.claimed_at or row.completed_at, "lifecycle": "start",
                       "resource": row.claimed_by or row.completed_by})
        events.append({**base, "timestamp": row.completed_at, "lifecycle": "complete",
                       "resource": row.completed_by})
        return events
    if row.claimed_at is not None:
        events.append({**base, "timestamp": row.claimed_at, "lifecycle": "start", "resource": row.claimed_by})
    if row.cancelled_at is not None:
        events.append({**base, "timestamp": row.cancelled_at, "resource": None,
                       "lifecycle": "ate_abort" if row.claimed_at is not None else "withdraw"})
    return events


def _ordered(events: list[dict]) -> list[dict]:
    return sorted(events, key=lambda e: (e["timestamp"], int(e["instance"]), _RANK[e["lifecycle"]]))


def _counted(rows: Iterator[dict], stats: dict) -> Iterator[dict]:
    stats.update(events=0, cases=0)
    last = None
    for row in rows:
        stats["events"] += 1
        if row["case_id"] != last:
            stats["cases"], last = stats["cases"] + 1, row["case_id"]
        yield row


class EventLogs:
    """Process-mining exports of an SOP's history (engine mixin)."""

    def event_log(self, key: str, *, since: datetime | None = None, until: datetime | None = None,
                  version: int | None = None, include_open: bool = False) -> list[dict]:
        """Every lifecycle event of the SOP's real cases, as rows with the keys of COLUMNS."""
        return list(self.iter_event_log(key, since=since, until=until, version=version,
                                        include_open=include_open))

    def iter_event_log(self, key: str, *, since: datetime | None = None, until: datetime | None = None,
                       version: int | None = None, include_open: bool = False) -> Iterator[dict]:
        """The rows of `event_log`, streamed; NotFound is raised at once, before any row."""
        self._event_log_sop(key, version)
        bounds = self._event_log_bounds(since, until)
        return self._event_rows(key, version=version, include_open=include_open, **bounds)

    def event_log_export(self, key: str, fmt: str, *, since: datetime | None = None,
                         until: datetime | None = None, version: int | None = None,
                         include_open: bool = False, stats: dict | None = None) -> Iterator[bytes]:
        """The event log as XES or CSV bytes, in pieces; bad arguments fail at once, before any byte.

        `stats`, when given, is filled with the number of events and cases written so far.
        """
        if fmt not in FORMATS:
            raise ValueError(f"format '{fmt}' is not one of {', '.join(FORMATS)}")
        name = self._event_log_sop(key, version)
        bounds = self._event_log_bounds(since, until)
        rows = self._event_rows(key, version=version, include_open=include_open, **bounds)
        if stats is not None:
            rows = _counted(rows, stats)
        zone = self.zone
        if fmt == "csv":
            return xes.csv_chunks(rows, COLUMNS, zone=zone)
        about = {"key": key, "name": name, "version": version, "include_open": include_open,
                 "since": bounds["since"], "until": bounds["until"], "exported_at": self.now()}
        return xes.xes_chunks(rows, about, zone=zone)

    def event_log_filename(self, key: str, fmt: str, *, version: int | None = None) -> str:
        """A file name for a download: eventlog-KEY[-vN]-YYYYMMDD.xes in the office's day."""
        day = self.now().astimezone(self.zone).strftime("%Y%m%d")
        suffix = f"-v{version}" if version is not None else ""
        return f"eventlog-{key}{suffix}-{day}.{fmt}"

    # --- helpers --------------------------------------------------------------------------------
    def _event_log_sop(self, key: str, version: int | None) -> str:
        """The SOP's name (of that version, else the newest); NotFound for an unknown key or version."""
        with self.db.read() as s:
            versions = store.version_summaries(s, key)
        if not versions:
            raise NotFound(f"SOP '{key}' does not exist")
        if version is None:
            return versions[-1].name
        named = [v.name for v in versions if v.version == version]
        if not named:
            raise NotFound(f"SOP '{key}' has no version {version}")
        return named[0]

    @staticmethod
    def _event_log_bounds(since, until) -> dict:
        since = require_aware(since, "since") if since is not None else None
        until = require_aware(until, "until") if until is not None else None
        if since is not None and until is not None and until <= since:
            raise ValueError("the period is empty: 'until' must come after 'since'")
        return {"since": since, "until": until}

    def _event_rows(self, key: str, **query) -> Iterator[dict]:
        # One read transaction for the whole log, so it is one consistent picture of the history.
        with self.db.read() as s:
            rows = store_events.event_task_rows(s, key, **query)
            for _, tasks in groupby(rows, key=lambda r: r.case_pk):
                yield from _ordered([e for row in tasks for e in events_of_task(row, key)])


def write(chunks: Iterable[bytes], target) -> int:
    """Write the pieces to a binary file object; returns the number of bytes written."""
    written = 0
    for chunk in chunks:
        target.write(chunk)
        written += len(chunk)
    return written
