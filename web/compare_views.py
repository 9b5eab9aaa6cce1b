"""Compare two versions or drafts of an SOP: the structural diff, side by side, for managers and analysts."""
from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _

from workflow_engine import NotFound
from workflow_engine.bpmn_diff import BpmnDiff, value_text
from workflow_engine.sop_refs import parse_ref

from .auth import roles_required

bp = Blueprint("compare", __name__)

ROLES = ("manager", "analyst", "admin")
_KEY = re.compile(r"[A-Za-z_][\w.-]{0,99}")
# Longest value shown in the list of changes; the whole value is in the element's tooltip.
SHOWN = 200


def engine():
    return current_app.extensions["alur"]


def kind_label(kind: str) -> str:
    return {"userTask": _("Step"), "manualTask": _("Manual step"), "serviceTask": _("Automatic step"),
            "sequenceFlow": _("Flow"), "exclusiveGateway": _("Decision"), "inclusiveGateway": _("Decision"),
            "parallelGateway": _("Parallel branches"), "startEvent": _("Start"), "endEvent": _("End"),
            "lane": _("Lane (actor)"), "participant": _("Pool"), "process": _("SOP"),
            "callActivity": _("Sub-SOP"), "subProcess": _("Sub-process")}.get(kind, _("Element"))


def attribute_label(attribute: str) -> str:
    return {"name": _("Name"), "type": _("Kind"), "lane": _("Lane"), "source": _("From"), "target": _("To"),
            "condition": _("Condition"), "form": _("Form fields"), "budget": _("Time budget"),
            "properties": _("SOP properties"), "documentation": _("Instructions"),
            "camunda": _("Engine settings"), "default": _("Default flow"), "event": _("Event"),
            "process": _("Process"), "other": _("Other details")}.get(attribute, attribute)


def _short(value) -> str:
    text = value_text(value)
    return text if len(text) <= SHOWN else text[:SHOWN - 1] + "…"


def _sop(key: str) -> dict:
    """The SOP's versions (and drafts, when there are any); 404 when the key is unknown."""
    if not _KEY.fullmatch(key):
        abort(404)
    entry = next((p for p in engine().processes() if p["key"] == key), None)
    drafts = [d for d in engine().drafts(key) if d.get("key") == key]
    if entry is None and not drafts:
        abort(404)
    return {"key": key, "name": (entry or drafts[0])["name"], "versions": (entry or {}).get("versions", []),
            "drafts": drafts}


def _ref(value: str | None, fallback: str | None) -> str:
    """A normalized ref ('2', 'd7') from the query string; 400 when it is not one."""
    if not value:
        if fallback is None:
            abort(404)
        return fallback
    try:
        kind, number = parse_ref(value)
    except ValueError:
        abort(400, description=_("Choose a version number (1, 2, …) or a draft (d7)."))
    return str(number) if kind == "version" else f"d{number}"


def _defaults(sop: dict) -> tuple[str | None, str | None]:
    """The newest version against the one before it (or the newest draft against the newest version)."""
    numbers = [str(v["version"]) for v in sop["versions"]]
    drafts = [f"d{d['id']}" for d in sop["drafts"]]
    if len(numbers) >= 2:
        return numbers[-2], numbers[-1]
    refs = numbers + drafts
    return (refs[0], refs[1]) if len(refs) >= 2 else (refs[0] if refs else None,) * 2


def ref_label(ref: str) -> str:
    return _("Draft %(n)s", n=ref[1:]) if ref.startswith("d") else _("Version %(n)s", n=ref)


def changes(result: BpmnDiff) -> list[dict]:
    """The list of changes, one item per element, with what the page needs to mark and select it."""
    pools = result.pools()
    items = []

    def label(element_id: str) -> str:
        element = result.element(element_id)
        if element is not None and not element.name and element.values.get("source"):
            # An unnamed flow reads as where it goes: "Periksa teknis → Selesai".
            return f"{result.label(element.values['source'])} → {result.label(element.values.get('target') or '?')}"
        return result.label(element_id)

    def item(element_id: str, status: str, attributes=()) -> dict:
        element = result.element(element_id)
        return {"id": element_id, "target": pools.get(element_id, element_id), "status": status,
                "label": label(element_id), "kind": kind_label(element.kind if element else ""),
                "in_a": element_id in result.old, "in_b": element_id in result.new,
                "attributes": [{"name": attribute_label(name), "old": _short(old), "new": _short(new)}
                               for name, (old, new) in attributes]}

    items += [item(i, "added") for i in result.added]
    items += [item(i, "removed") for i in result.removed]
    items += [item(i, "changed", attrs.items()) for i, attrs in result.changed.items()]
    items += [item(i, "moved") for i in result.layout_changed]
    return items


def marks(items: list[dict]) -> dict:
    """Element ids to mark in each diagram: removed ones in A, added ones in B, the others in both."""
    found: dict = {"a": {"removed": [], "changed": [], "moved": []}, "b": {"added": [], "changed": [], "moved": []}}
    for entry in items:
        for side in ("a", "b"):
            ids = found[side].get(entry["status"])
            if ids is not None and entry[f"in_{side}"] and entry["target"] not in ids:
                ids.append(entry["target"])
    return found


@bp.get("/sop/<key>/compare")
@roles_required(*ROLES)
def page(key: str):
    sop = _sop(key)
    default_a, default_b = _defaults(sop)
    a, b = _ref(request.args.get("a"), default_a), _ref(request.args.get("b"), default_b)
    try:
        result = engine().diff_versions(key, a, b)
    except NotFound:
        abort(404)
    items = changes(result)
    sections = _sections(key, a, b)
    return render_template("compare/page.html", sop=sop, a=a, b=b, a_label=ref_label(a), b_label=ref_label(b),
                           diff=result, items=items, marks=marks(items), ref_label=ref_label, **sections)


def _sections(key: str, a: str, b: str) -> dict:
    """Metrics, measured performance, forecast and findings of both sides, for the page's partials."""
    cmp = engine().compare(key, a, b)
    sections = {part: {"a": cmp["a"][part], "b": cmp["b"][part], "delta": cmp["delta"][part]}
                for part in ("metrics", "measured", "forecast")}
    sections["findings"] = {side: engine().findings(key, ref) for side, ref in (("a", a), ("b", b))}
    sections["summary"] = {side: summary(sections, side) for side in ("a", "b")}
    return sections


def summary(sections: dict, side: str) -> dict:
    """The few figures a manager reads first, for one side: size, compliance, time, forecast, time sink."""
    metrics, measured, forecast = (sections[part][side] for part in ("metrics", "measured", "forecast"))
    office = [row for row in ((measured or {}).get("time_share") or {}).get("steps", []) if not row["pauses_clock"]]
    sink = max(office, key=lambda row: row["seconds"], default=None)
    return {
        "steps": metrics.get("steps"), "handoffs": metrics.get("handoffs"),
        "met_share": (measured or {}).get("compliance", {}).get("met_share"),
        "completed": (measured or {}).get("cases", {}).get("completed"),
        "median_seconds": ((measured or {}).get("case_time", {}).get("calendar") or {}).get("median"),
        "forecast": forecast["meets_limit"] if forecast else None,
        "sink": sink,
    }


@bp.get("/sop/<key>/compare/<side>.bpmn")
@roles_required(*ROLES)
def model(key: str, side: str):
    """The BPMN XML of one side (a version number or a draft ref), for the page's viewers."""
    if not _KEY.fullmatch(key):
        abort(404)
    try:
        parse_ref(side)
        xml = engine().sop_xml(key, side)
    except (ValueError, NotFound):
        abort(404)
    # An attachment, like every download of uploaded BPMN; the viewers fetch it as data, so they don't mind.
    return Response(xml, mimetype="application/xml", headers={
        "Cache-Control": "private, no-cache",
        "Content-Disposition": f'attachment; filename="{key}-{side}.bpmn"'})
