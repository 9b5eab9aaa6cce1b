"""A test client for /api/v1 that checks every answer against the OpenAPI document's schema for its status."""
from __future__ import annotations

import re
from functools import lru_cache

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.exceptions import HTTPException

from web.api.openapi import spec

BASE = "urn:alur-api"
PREFIX = "/api/v1"
# (path, method, status) every API test met, for the report.
SEEN: set[tuple[str, str, str]] = set()


def openapi_path(rule: str) -> str:
    """'/api/v1/tasks/<int:task_id>/complete' -> '/tasks/{task_id}/complete'."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.removeprefix(PREFIX))


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@lru_cache(maxsize=None)
def _validator(pointer: str) -> Draft202012Validator:
    registry = Registry().with_resource(BASE, Resource.from_contents(spec(), default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": BASE + pointer}, registry=registry, format_checker=FormatChecker())


def check_against_spec(app, method: str, url: str, response) -> None:
    """Fail unless the spec documents this status for the route and the body fits its schema."""
    path_only = url.split("?")[0]
    try:
        rule, _ = app.url_map.bind("localhost").match(path_only, method=method, return_rule=True)
    except HTTPException:
        rule = None  # an unknown path or method: the answer must still be the documented error shape
    status = str(response.status_code)
    if rule is None or not rule.endpoint.startswith("api."):
        assert response.is_json, f"{method} {url}: {status} is not JSON"
        errors = sorted(_validator(_pointer("components", "schemas", "Error")).iter_errors(response.get_json()),
                        key=str)
        assert not errors, f"{method} {url} {status}: {errors[0].message}"
        return
    path = openapi_path(rule.rule)
    operation = spec()["paths"].get(path, {}).get(method.lower())
    assert operation is not None, f"{method} {path} is not in the OpenAPI document"
    answer = operation["responses"].get(status)
    assert answer is not None, f"{method} {path} answered {status}, which the OpenAPI document does not list"
    SEEN.add((path, method.upper(), status))
    content = answer.get("content") or {}
    assert response.mimetype in content, f"{method} {path} {status}: {response.mimetype} not in {list(content)}"
    if response.mimetype == "application/json":
        pointer = _pointer("paths", path, method.lower(), "responses", status, "content", "application/json",
                           "schema")
        errors = sorted(_validator(pointer).iter_errors(response.get_json()), key=lambda e: list(e.path))
        assert not errors, (f"{method} {path} {status} does not fit the OpenAPI schema at "
                            f"{list(errors[0].absolute_path)}: {errors[0].message}")


class ApiClient:
    """Flask's test client with a bearer token, checking each answer against the OpenAPI document."""

    def __init__(self, app, secret: str | None = None):
        self.app, self.secret = app, secret
        self.client = app.test_client()

    def with_token(self, secret: str | None) -> "ApiClient":
        return ApiClient(self.app, secret)

    def open(self, method: str, url: str, *, headers: dict | None = None, **kwargs):
        sent = dict(headers or {})
        if self.secret is not None:
            sent.setdefault("Authorization", f"Bearer {self.secret}")
        response = self.client.open(url, method=method, headers=sent, **kwargs)
        check_against_spec(self.app, method, url, response)
        return response

    def get(self, url: str, **kwargs):
        return self.open("GET", url, **kwargs)

    def post(self, url: str, **kwargs):
        return self.open("POST", url, **kwargs)
