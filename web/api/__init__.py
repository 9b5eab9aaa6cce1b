"""The REST API for other agencies' systems: bearer tokens, JSON in and out, errors with a code."""
from __future__ import annotations

import json
import logging
import uuid
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from workflow_engine import AlurError

log = logging.getLogger("alur.api")

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# A request body larger than this is refused before it is read: case data is small.
MAX_BODY_BYTES = 1_000_000

STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "too_large",
                415: "unsupported_media_type", 422: "invalid_request", 500: "internal_error"}
# The engine's error codes and the HTTP status each is answered with.
ENGINE_STATUS = {"not_found": 404, "forbidden": 403, "conflict": 409, "invalid_state": 409,
                 "invalid_form": 422, "script_error": 422, "engine_limit": 409, "invalid_bpmn": 422}


class ApiError(Exception):
    """An answer other than success: HTTP status, a stable code, a message, and optional details."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict | None = None, **extra):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers, self.extra = headers or {}, extra


def engine():
    return current_app.extensions["alur"]


def error_response(status: int, code: str, message: str, headers: dict | None = None, **extra):
    body = {"code": code, "message": message, "request_id": g.get("request_id") or ""}
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(error=body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return error_response(exc.status, exc.code, exc.message, exc.headers, **exc.extra)


@bp.errorhandler(AlurError)
def _engine_error(exc: AlurError):
    fields = getattr(exc, "fields", None)
    return error_response(ENGINE_STATUS.get(exc.code, 409), exc.code, exc.message, fields=fields)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return _http_json(exc)


@bp.errorhandler(Exception)
def _crash(exc: Exception):
    log.exception("API request %s failed", g.get("request_id"))
    return error_response(500, "internal_error", "something went wrong; the error has been logged")


def _http_json(exc: HTTPException):
    status = exc.code or 500
    messages = {404: "no such resource or endpoint", 405: f"{request.method} is not allowed here",
                413: f"the request body is over {MAX_BODY_BYTES} bytes"}
    headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else None
    return error_response(status, STATUS_CODES.get(status, "error"),
                          messages.get(status) or exc.description or "", headers)


@bp.before_app_request
def _routing_errors():
    """An unknown path or method under /api/v1 answers in JSON too, not with an HTML page."""
    exc = request.routing_exception
    if exc is None or isinstance(exc, RequestRedirect):
        return None
    if request.path != bp.url_prefix and not request.path.startswith(bp.url_prefix + "/"):
        return None
    g.request_id = g.get("request_id") or uuid.uuid4().hex[:12]  # the app's own hook runs later
    return _http_json(exc)


@bp.before_request
def _limit_body():
    request.max_content_length = MAX_BODY_BYTES
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", f"the request body is over {MAX_BODY_BYTES} bytes")


@bp.after_request
def _no_store(response):
    # Case data must not linger in shared caches; the spec and docs page may.
    if request.endpoint not in ("api.openapi", "api.docs"):
        response.headers["Cache-Control"] = "no-store"
    return response


def requires(scope: str):
    """Let the view run only for a valid bearer token that carries `scope`; cookies count for nothing."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise ApiError(401, "unauthorized", "send an API token: 'Authorization: Bearer <token>'",
                               headers={"WWW-Authenticate": 'Bearer realm="alur"'})
            token = engine().authenticate_token(secret.strip())
            if token is None:
                raise ApiError(401, "invalid_token", "the token is unknown or revoked, or its service account "
                               "is deactivated", headers={"WWW-Authenticate": 'Bearer realm="alur", '
                                                                              'error="invalid_token"'})
            if scope not in token["scopes"]:
                raise ApiError(403, "insufficient_scope", f"this token lacks the scope '{scope}'",
                               required_scope=scope,
                               headers={"WWW-Authenticate": f'Bearer realm="alur", error="insufficient_scope", '
                                                            f'scope="{scope}"'})
            g.api_token = token
            return view(*args, **kwargs)
        wrapper.required_scope = scope
        return wrapper
    return decorate


def json_body() -> dict:
    """The request's JSON object; an empty body counts as {}."""
    raw = request.get_data(cache=True)  # raises 413 past max_content_length, also without a length
    if not raw.strip():
        return {}
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send JSON with 'Content-Type: application/json'")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    return data


from . import views  # noqa: E402,F401  (registers the routes on bp)
