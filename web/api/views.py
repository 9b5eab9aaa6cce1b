"""The /api/v1 endpoints: SOPs, cases, task completion, messages, and the API's own description."""
from __future__ import annotations

from flask import g, jsonify, render_template, request, url_for

from workflow_engine import NotFound
from workflow_engine.case_pages import CASE_STATUSES, PAGE_MAX
from workflow_engine.sla import STATES

from . import ApiError, bp, engine, json_body, requires
from .shapes import (bad_parameter, case_detail, case_summary, decode_cursor, encode_cursor, int_parameter,
                     moment_parameter, task_result)

PAGE_DEFAULT = 50


def _account() -> dict | None:
    """Role and lanes of the token's service account (they decide which tasks it may complete)."""
    try:
        person = engine().user(g.api_token["acts_as"])
    except NotFound:
        return None
    return {"role": person["role"], "lanes": person["lanes"]}


def _case_detail(ref) -> dict:
    view = engine().case(ref)
    info = engine().process_info(view["process"], view["version"])
    return case_detail(view, info, _account())


def _text(data: dict, name: str, *, required: bool = False, max_length: int = 200) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise ApiError(422, "invalid_request", f"'{name}' must be a non-empty string of at most {max_length} "
                       "characters", fields={name: "required text"})
    return value.strip()


def _object(data: dict, name: str) -> dict:
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(422, "invalid_request", f"'{name}' must be a JSON object", fields={name: "must be an object"})
    return value


def _unknown_members(data: dict, allowed: tuple) -> None:
    extra = sorted(set(data) - set(allowed))
    if extra:
        raise ApiError(422, "invalid_request", f"unknown member(s) {', '.join(extra)}; expected "
                       f"{', '.join(allowed)}", fields={name: "unknown member" for name in extra})


# --- SOPs ------------------------------------------------------------------------------------------
@bp.get("/processes")
@requires("cases:read")
def processes():
    items = []
    for p in engine().processes():
        items.append({"key": p["key"], "name": p["name"], "latest_version": p["latest_version"],
                      "versions": [{"version": v["version"], "name": v["name"], "status": v["status"],
                                    "created_at": v["created_at"], "note": v["note"]} for v in p["versions"]]})
    return jsonify(items=items)


# --- cases -----------------------------------------------------------------------------------------
@bp.post("/cases")
@requires("cases:write")
def start_case():
    data = json_body()
    _unknown_members(data, ("process", "version", "data"))
    process = _text(data, "process", required=True)
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise ApiError(422, "invalid_request", "'version' must be a whole number from 1",
                       fields={"version": "must be a whole number from 1"})
    case_id = engine().start_case(process, version=version, data=_object(data, "data"),
                                  actor=g.api_token["acts_as"])
    detail = _case_detail(case_id)
    response = jsonify(detail)
    response.status_code = 201
    response.headers["Location"] = detail["links"]["self"]
    return response


@bp.get("/cases")
@requires("cases:read")
def cases():
    args = request.args
    unknown = sorted(set(args) - {"process", "status", "sla_state", "since", "until", "limit", "cursor"})
    if unknown:
        raise ApiError(400, "invalid_parameter", f"unknown query parameter(s) {', '.join(unknown)}",
                       fields={name: "unknown parameter" for name in unknown})
    for name, allowed in (("status", CASE_STATUSES), ("sla_state", STATES)):
        if args.get(name) and args[name] not in allowed:
            raise bad_parameter(name, f"one of {', '.join(allowed)}")
    zone = engine().settings.timezone
    page = engine().case_page(
        process=args.get("process") or None, status=args.get("status") or None,
        sla_state=args.get("sla_state") or None,
        since=moment_parameter("since", args.get("since"), zone),
        until=moment_parameter("until", args.get("until"), zone),
        limit=int_parameter("limit", args.get("limit"), PAGE_DEFAULT, 1, PAGE_MAX),
        after=decode_cursor(args.get("cursor")))
    next_cursor = encode_cursor(page["next"])
    links = {"next": url_for("api.cases", **{**args.to_dict(), "cursor": next_cursor}) if next_cursor else None}
    return jsonify(items=[case_summary(v) for v in page["items"]], next_cursor=next_cursor, links=links)


@bp.get("/cases/<ref>")
@requires("cases:read")
def case(ref: str):
    return jsonify(_case_detail(ref))


@bp.post("/cases/<ref>/messages/<name>")
@requires("messages:write")
def message(ref: str, name: str):
    data = json_body()
    _unknown_members(data, ("payload",))
    payload = _object(data, "payload")
    result = engine().deliver_message(ref, name, payload, actor=g.api_token["acts_as"])
    return jsonify(_case_detail(result["id"]))


# --- tasks -----------------------------------------------------------------------------------------
@bp.post("/tasks/<int:task_id>/complete")
@requires("tasks:complete")
def complete_task(task_id: int):
    data = json_body()
    _unknown_members(data, ("data",))
    values = _object(data, "data")
    account = g.api_token["acts_as"]
    # The engine claims an unclaimed task for the account in the same transaction, so a refused
    # form never leaves the task claimed by a machine in front of the office's staff.
    case_id = engine().complete(task_id, user=account, data=values)
    detail = _case_detail(case_id)
    done = next(s for s in detail["steps"] if s["task_id"] == task_id)
    return jsonify(task=task_result({**done, "id": task_id}), case=detail)


# --- the API's description -------------------------------------------------------------------------
@bp.get("/openapi.json")
def openapi():
    from .openapi import spec

    return jsonify(spec())


@bp.get("/docs")
def docs():
    return render_template("api/docs.html", spec_url=url_for("api.openapi"))
