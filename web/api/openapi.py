"""The OpenAPI 3.1 description of /api/v1, written by hand as Python data (a test holds it to the code)."""
from __future__ import annotations

from functools import lru_cache

from workflow_engine.case_pages import CASE_STATUSES, PAGE_MAX
from workflow_engine.sla import STATES
from workflow_engine.tokens import SCOPES

from . import MAX_BODY_BYTES

JSON = "application/json"
TIME = {"type": "string", "format": "date-time"}
TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
SECONDS_OR_NULL = {"type": ["number", "null"], "minimum": 0}
REF = {"name": "ref", "in": "path", "required": True,
       "description": "The case's id or its registration number (e.g. LIN-2026-000001).",
       "schema": {"type": "string", "minLength": 1}}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, *, required=None, description: str | None = None) -> dict:
    schema = {"type": "object", "properties": properties,
              "required": list(properties) if required is None else list(required),
              "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


def body(name: str, description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": ref(name)}}}


def error(description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": ref("Error")}}}


ERRORS = {
    400: error("The query or body is malformed (code invalid_json, invalid_parameter or bad_request)."),
    401: error("No token, or an unknown or revoked one (code unauthorized or invalid_token). Cookies of the "
               "web pages never count here."),
    403: error("The token lacks the scope (insufficient_scope), or its service account may not act on this "
               "task: the task's lane is not one of the account's lanes (forbidden)."),
    404: error("No such case, task, SOP or version (not_found)."),
    409: error("The case or task is not in a state for this (invalid_state), or someone changed it first "
               "(conflict): reload and decide again."),
    413: error(f"The body is over {MAX_BODY_BYTES} bytes (too_large)."),
    415: error("The body is not sent as application/json (unsupported_media_type)."),
    422: error("The body's members or the step's form data are invalid; `fields` maps each to its message "
               "(invalid_request, invalid_form, script_error)."),
}


def responses(ok: int, description: str, schema: str, *statuses: int) -> dict:
    answers = {str(ok): body(schema, description)}
    answers.update({str(s): ERRORS[s] for s in sorted({401, 403, *statuses})})
    return answers


def operation(op_id: str, summary: str, scope: str | None, answers: dict, *, tag: str,
              description: str = "", parameters=(), request: str | None = None) -> dict:
    op = {"operationId": op_id, "summary": summary, "tags": [tag], "responses": answers}
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = list(parameters)
    if request:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(request)}}}
    if scope:
        op["security"] = [{"bearer": [scope]}]
        op["x-required-scope"] = scope
    else:
        op["security"] = []
    return op


def schemas() -> dict:
    sla = obj({"limit_seconds": {"type": "number"}, "used_seconds": {"type": "number"},
               "paused_seconds": {"type": "number"}, "remaining_seconds": SECONDS_OR_NULL,
               "used_share": {"type": "number"}, "paused": {"type": "boolean"},
               "calendar": {"type": "string", "description": "24x7 or working hours (e.g. 'kerja')."}},
              description="The case's 24-hour clock: what is used, paused and left of the service limit.")
    summary_props = {
        "id": {"type": "integer"},
        "registration_number": {"type": "string", "examples": ["LIN-2026-000001"]},
        "process": {"type": "string", "description": "The SOP's key."},
        "process_name": {"type": "string"},
        "version": {"type": "integer", "description": "The SOP version the case runs on."},
        "status": {"enum": list(CASE_STATUSES)},
        "practice": {"type": "boolean", "description": "A training case (never counted in reports)."},
        "started_at": TIME, "clock_started_at": TIME_OR_NULL,
        "deadline": {**TIME_OR_NULL, "description": "When the service promise runs out (null until the clock starts)."},
        "closed_at": TIME_OR_NULL,
        "sla_state": {"enum": [*STATES, None], "description": "null for a cancelled case."},
        "sla": ref("Sla"),
        "links": obj({"self": {"type": "string"}}),
    }
    field = obj({"id": {"type": "string"}, "label": {"type": "string"},
                 "type": {"enum": ["string", "text", "long", "double", "boolean", "date", "enum"]},
                 "required": {"type": "boolean"},
                 "options": {"type": "array", "items": obj({"id": {"type": "string"}, "label": {"type": "string"}})}},
                description="One field of the step's form; send its value in `data` under its id.")
    step = obj({"task_id": {"type": "integer"}, "step_id": {"type": "string"}, "name": {"type": "string"},
                "lane": {"type": ["string", "null"]}, "state": {"enum": ["ready", "completed", "cancelled"]},
                "iteration": {"type": "integer", "minimum": 1}, "ready_at": TIME, "claimed_at": TIME_OR_NULL,
                "completed_at": TIME_OR_NULL, "cancelled_at": TIME_OR_NULL,
                "duration_seconds": {"type": "number"}, "budget_seconds": {"type": ["integer", "null"]},
                "over_budget": {"type": "boolean"}},
               description="One step the case went through or is in, with its times.")
    open_task = obj({
        "id": {"type": "integer"}, "step_id": {"type": "string"}, "name": {"type": "string"},
        "lane": {"type": ["string", "null"]}, "ready_at": TIME, "claimed": {"type": "boolean"},
        "budget_seconds": {"type": ["integer", "null"]}, "over_budget": {"type": "boolean"},
        "documentation": {"type": ["string", "null"]},
        "may_complete": {"type": "boolean", "description": "Whether this token's service account may complete it."},
        "form": {"type": "array", "items": ref("FormField")},
        "links": obj({"complete": {"type": "string"}})})
    case = {**obj({**summary_props, "data": {"type": "object"}, "steps": {"type": "array", "items": ref("Step")},
                   "open_tasks": {"type": "array", "items": ref("OpenTask")}}),
            "description": "A case with its data, every step so far and the tasks open now."}
    version = obj({"version": {"type": "integer"}, "name": {"type": "string"},
                   "status": {"enum": ["published", "retired"]}, "created_at": TIME,
                   "note": {"type": ["string", "null"]}})
    process = obj({"key": {"type": "string"}, "name": {"type": "string"},
                   "latest_version": {"type": ["integer", "null"],
                                      "description": "The published version new cases start on."},
                   "versions": {"type": "array", "items": version}})
    problem = {"type": "object", "additionalProperties": {"type": "string"}}
    return {
        "Sla": sla,
        "CaseSummary": obj(summary_props),
        "Case": case,
        "Step": step,
        "OpenTask": open_task,
        "FormField": field,
        "Process": process,
        "ProcessList": obj({"items": {"type": "array", "items": ref("Process")}}),
        "CaseList": obj({"items": {"type": "array", "items": ref("CaseSummary")},
                         "next_cursor": {"type": ["string", "null"],
                                         "description": "Pass as `cursor` for the next page; null on the last."},
                         "links": obj({"next": {"type": ["string", "null"]}})}),
        "StartCase": obj({"process": {"type": "string", "minLength": 1, "description": "The SOP's key."},
                          "version": {"type": "integer", "minimum": 1,
                                      "description": "A published version; the latest one if left out."},
                          "data": {"type": "object", "description": "Case data; names must be identifiers."}},
                         required=["process"]),
        "CompleteTask": obj({"data": {"type": "object", "description": "Values of the step's form fields."}},
                            required=[]),
        "CompletedTask": obj({"task": obj({"id": {"type": "integer"}, "step_id": {"type": "string"},
                                           "lane": {"type": ["string", "null"]}, "state": {"const": "completed"},
                                           "completed_at": TIME}),
                              "case": ref("Case")}),
        "Message": obj({"payload": {"type": "object", "description": "Data the message carries into the case."}},
                       required=[]),
        "Error": obj({"error": obj({
            "code": {"type": "string", "examples": ["insufficient_scope"]},
            "message": {"type": "string"},
            "request_id": {"type": "string", "description": "Quote it when asking the office about a failure."},
            "fields": {**problem, "description": "Per field or parameter, what is wrong with it."},
            "required_scope": {"enum": list(SCOPES)}}, required=["code", "message", "request_id"])}),
    }


LIST_PARAMETERS = [
    {"name": "process", "in": "query", "schema": {"type": "string"}, "description": "Only this SOP's cases."},
    {"name": "status", "in": "query", "schema": {"enum": list(CASE_STATUSES)}},
    {"name": "sla_state", "in": "query", "schema": {"enum": list(STATES)},
     "description": "The SLA state now (computed, so a page may hold fewer cases than `limit`)."},
    {"name": "since", "in": "query", "schema": {"type": "string"},
     "description": "Registered at or after this ISO 8601 date or date-time (office zone if none given)."},
    {"name": "until", "in": "query", "schema": {"type": "string"}, "description": "Registered before this."},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_MAX, "default": 50}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"},
     "description": "`next_cursor` of the previous page. Pages continue after the last case seen, so new "
                    "cases never shift them."},
]


@lru_cache(maxsize=1)
def _spec() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Alur API", "version": "1.0.0",
            "description": "Start licensing cases, follow their steps and deadlines, and complete tasks as a "
                           "service account. Every call but this description needs a token created by the "
                           "office's admin (Admin → API tokens, or `alur tokens create`), sent as "
                           "`Authorization: Bearer <token>`. Errors are JSON: "
                           "`{\"error\": {\"code\", \"message\", \"request_id\"}}`. Times are ISO 8601 in "
                           "the office's zone.",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [{"name": "SOPs"}, {"name": "Cases"}, {"name": "Tasks"}, {"name": "About"}],
        "paths": {
            "/processes": {"get": operation(
                "listProcesses", "List the SOPs and their versions", "cases:read",
                responses(200, "The SOPs.", "ProcessList"), tag="SOPs")},
            "/cases": {
                "post": operation(
                    "startCase", "Register a case on an SOP", "cases:write",
                    {**responses(201, "The new case; its address is in Location.", "Case", 400, 404, 409, 413, 415, 422)},
                    tag="Cases", request="StartCase",
                    description="The case is registered on behalf of the token's service account."),
                "get": operation(
                    "listCases", "List cases, newest first, page by page", "cases:read",
                    responses(200, "One page of cases.", "CaseList", 400), tag="Cases",
                    parameters=LIST_PARAMETERS,
                    description="Practice cases are left out."),
            },
            "/cases/{ref}": {"get": operation(
                "getCase", "Read a case: status, steps, open tasks, deadline", "cases:read",
                responses(200, "The case.", "Case", 404), tag="Cases", parameters=[REF])},
            "/cases/{ref}/messages/{name}": {"post": operation(
                "deliverMessage", "Deliver a message a case waits for (another agency's answer)",
                "messages:write",
                responses(200, "The case after the message moved it on.", "Case", 400, 404, 409, 413, 415, 422),
                tag="Cases", request="Message",
                parameters=[REF, {"name": "name", "in": "path", "required": True,
                                  "description": "The BPMN message's name.", "schema": {"type": "string"}}])},
            "/tasks/{task_id}/complete": {"post": operation(
                "completeTask", "Complete an open task as the service account", "tasks:complete",
                responses(200, "The completed task and its case, moved on to its next step.", "CompletedTask",
                          400, 404, 409, 413, 415, 422),
                tag="Tasks", request="CompleteTask",
                parameters=[{"name": "task_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                description="The task's lane must be one of the service account's lanes. An unclaimed task is "
                            "claimed for the account in the same step; one claimed by a person answers 409.")},
            "/openapi.json": {"get": {
                "operationId": "getOpenApi", "summary": "This description", "tags": ["About"], "security": [],
                "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                      "content": {JSON: {"schema": {"type": "object"}}}}}}},
            "/docs": {"get": {
                "operationId": "getDocs", "summary": "The interactive page for this description",
                "tags": ["About"], "security": [],
                "responses": {"200": {"description": "An HTML page.",
                                      "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        },
        "components": {
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "An API token. Scopes: " + ", ".join(SCOPES) + "."}},
            "schemas": schemas(),
        },
        "security": [{"bearer": []}],
    }


def spec() -> dict:
    return _spec()
