"""XES (IEEE 1849-2016) and CSV writers for event-log rows, written piece by piece so any size fits.

The XES log declares the Concept, Time, Lifecycle and Organizational extensions with their standard
prefixes and URIs, the global attributes every trace and event carries, and two classifiers. A
trace is a case: `concept:name` is its registration number, with plain attributes `sop_key`,
`sop_version` and `case_status`. An event carries `concept:name` (the step's name),
`concept:instance` (the task id), `time:timestamp` (the office's zone, to the millisecond),
`lifecycle:transition`, `org:group` (the lane), `org:resource` (the user, when there is one) and a
plain `step_id`. The CSV file has one line per event with the columns of event_log.COLUMNS.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from functools import lru_cache
from itertools import groupby
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from lxml import etree

__all__ = ["EXTENSIONS", "XES_NAMESPACE", "csv_chunks", "stamp", "xes_chunks"]

XES_NAMESPACE = "http://www.xes-standard.org/"
EXTENSIONS = (("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
              ("Time", "time", "http://www.xes-standard.org/time.xesext"),
              ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
              ("Organizational", "org", "http://www.xes-standard.org/org.xesext"))
# What every event has; a global's value is the default for an element that lacks the key.
EVENT_GLOBALS = (("string", "concept:name", "__INVALID__"), ("string", "concept:instance", "__INVALID__"),
                 ("date", "time:timestamp", "1970-01-01T00:00:00.000+00:00"),
                 ("string", "lifecycle:transition", "complete"))
CLASSIFIERS = (("Activity", "concept:name"), ("Activity and transition", "concept:name lifecycle:transition"))
TRACES_PER_CHUNK = 50
ROWS_PER_CHUNK = 2000
# Characters XML 1.0 cannot carry at all; a name pasted from elsewhere must not break the file.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def stamp(moment: datetime, zone: ZoneInfo) -> str:
    """An xs:dateTime in the office's zone to the millisecond, as ProM and pm4py read it."""
    return moment.astimezone(zone).isoformat(timespec="milliseconds")


@lru_cache(maxsize=4096)
def _text(value) -> str:
    """The value as XML can carry it (names and users repeat, so the answers are kept)."""
    return _NOT_XML.sub("\ufffd", str(value))


def _attribute(parent, kind: str, key: str, value) -> None:
    etree.SubElement(parent, kind, key=key, value=_text(value))


def _plain(parent, kind: str, key: str, value: str) -> None:
    """An attribute whose value Alur made itself (a time, a number, a lifecycle word)."""
    etree.SubElement(parent, kind, key=key, value=value)


class _Sink:
    """A file-like object that keeps what lxml writes until the next piece is taken."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(bytes(data))

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _header(about: dict, zone: ZoneInfo) -> list:
    elements = [etree.Element("extension", name=name, prefix=prefix, uri=uri) for name, prefix, uri in EXTENSIONS]
    trace_globals = etree.Element("global", scope="trace")
    _attribute(trace_globals, "string", "concept:name", "__INVALID__")
    event_globals = etree.Element("global", scope="event")
    for kind, key, value in EVENT_GLOBALS:
        _attribute(event_globals, kind, key, value)
    elements += [trace_globals, event_globals]
    elements += [etree.Element("classifier", name=name, keys=keys) for name, keys in CLASSIFIERS]
    log_attributes = etree.Element("attributes")  # a holder: its children are written one by one
    _attribute(log_attributes, "string", "concept:name", f"{about['name']} ({about['key']})")
    _attribute(log_attributes, "string", "lifecycle:model", "standard")
    _attribute(log_attributes, "string", "source", "Alur")
    _attribute(log_attributes, "string", "sop_key", about["key"])
    if about.get("version") is not None:
        _attribute(log_attributes, "int", "sop_version", about["version"])
    for bound in ("since", "until"):
        if about.get(bound) is not None:
            _attribute(log_attributes, "date", f"period_{bound}", stamp(about[bound], zone))
    _attribute(log_attributes, "string", "cases", "closed and running" if about.get("include_open") else "closed")
    if about.get("exported_at") is not None:
        _attribute(log_attributes, "date", "exported_at", stamp(about["exported_at"], zone))
    return elements + list(log_attributes)


def _trace(case_id: str, events: list[dict], zone: ZoneInfo):
    trace = etree.Element("trace")
    first = events[0]
    _attribute(trace, "string", "concept:name", case_id)
    _attribute(trace, "string", "sop_key", first["sop_key"])
    _attribute(trace, "int", "sop_version", first["sop_version"])
    _attribute(trace, "string", "case_status", first["case_status"])
    for row in events:
        event = etree.SubElement(trace, "event")
        _attribute(event, "string", "concept:name", row["activity"])
        _plain(event, "string", "concept:instance", row["instance"])
        _plain(event, "date", "time:timestamp", stamp(row["timestamp"], zone))
        _plain(event, "string", "lifecycle:transition", row["lifecycle"])
        if row["group"] is not None:
            _attribute(event, "string", "org:group", row["group"])
        if row["resource"] is not None:
            _attribute(event, "string", "org:resource", row["resource"])
        _attribute(event, "string", "step_id", row["step_id"])
    return trace


def xes_chunks(rows: Iterable[dict], about: dict, *, zone: ZoneInfo) -> Iterator[bytes]:
    """The XES document of event-log rows (grouped by case, as event_log gives them), in pieces.

    `about` names the log: key, name, and optionally version, since, until, include_open, exported_at.
    """
    sink = _Sink()
    with etree.xmlfile(sink, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("log", {"xes.version": "1849-2016"}, nsmap={None: XES_NAMESPACE}):
            xf.write("\n")
            for element in _header(about, zone):
                xf.write(element, pretty_print=True)
            xf.flush()
            yield sink.take()
            for count, (case_id, events) in enumerate(groupby(rows, key=lambda r: r["case_id"]), 1):
                xf.write(_trace(case_id, list(events), zone), pretty_print=True)
                if count % TRACES_PER_CHUNK == 0:
                    xf.flush()
                    yield sink.take()
    yield sink.take() + b"\n"


def csv_chunks(rows: Iterable[dict], columns: tuple, *, zone: ZoneInfo) -> Iterator[bytes]:
    """CSV (UTF-8, comma, header line) of event-log rows, in pieces; empty cells where a value is None."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow(columns)
    for count, row in enumerate(rows, 1):
        out.writerow(["" if row[c] is None else stamp(row[c], zone) if c == "timestamp" else row[c]
                      for c in columns])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
