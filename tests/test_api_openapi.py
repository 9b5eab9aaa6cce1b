"""The OpenAPI document describes exactly the API there is, is valid OpenAPI 3.1, and its page works offline."""
from __future__ import annotations

import json
import re

import pytest

from api_client import openapi_path
from web.api.openapi import spec

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def app(sqlite_url, tmp_path, monkeypatch):
    from web.app import create_app
    from workflow_engine import Database, Engine, Settings, SystemClock

    monkeypatch.setenv("ALUR_HOME", str(tmp_path / "home"))
    settings = Settings(database_url=sqlite_url)
    db = Database(sqlite_url)
    yield create_app(settings, Engine(db, SystemClock(), settings), config={"TESTING": True})
    db.dispose()


def _implemented(app) -> set[tuple[str, str]]:
    return {(openapi_path(rule.rule), method.lower()) for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("api.") for method in rule.methods - {"HEAD", "OPTIONS"}}


def _documented() -> set[tuple[str, str]]:
    return {(path, method) for path, item in spec()["paths"].items() for method in item if method in METHODS}


def test_every_route_is_documented_and_every_documented_route_exists(app):
    assert _implemented(app) == _documented()
    assert all(rule.rule.startswith("/api/v1/") for rule in app.url_map.iter_rules()
               if rule.endpoint.startswith("api."))


def test_path_parameters_match_the_routes(app):
    for path, item in spec()["paths"].items():
        named = set(re.findall(r"\{(\w+)\}", path))
        for method, op in item.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == named, f"{method.upper()} {path}: parameters {declared} vs {named}"


def test_each_operation_names_the_scope_its_view_requires(app):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        required = getattr(app.view_functions[rule.endpoint], "required_scope", None)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = spec()["paths"][openapi_path(rule.rule)][method.lower()]
            if required is None:
                assert op["security"] == [], f"{rule.rule} needs no token but the document asks for one"
            else:
                assert op["security"] == [{"bearer": [required]}] and op["x-required-scope"] == required
                assert {"401", "403"} <= set(op["responses"]), f"{method} {rule.rule} lacks 401/403"


def test_the_document_is_valid_openapi_3_1():
    validator = pytest.importorskip("openapi_spec_validator")
    document = spec()
    assert document["openapi"].startswith("3.1")
    validator.validate(document)  # raises with the path of the first problem


def test_every_schema_is_valid_json_schema_and_used():
    from jsonschema import Draft202012Validator

    document = spec()
    text = json.dumps(document)
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert f'"#/components/schemas/{name}"' in text, f"schema {name} is never used"
    refs = set(re.findall(r'"\$ref": "#/components/schemas/(\w+)"', text))
    assert refs <= set(document["components"]["schemas"]), refs - set(document["components"]["schemas"])


def test_the_bearer_scheme_and_error_shape_are_declared():
    document = spec()
    assert document["components"]["securitySchemes"]["bearer"] == {
        **document["components"]["securitySchemes"]["bearer"], "type": "http", "scheme": "bearer"}
    error = document["components"]["schemas"]["Error"]["properties"]["error"]
    assert error["required"] == ["code", "message", "request_id"]


def test_the_served_document_is_the_spec(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    assert response.get_json() == json.loads(json.dumps(spec()))
    assert "Set-Cookie" not in response.headers


def test_the_docs_page_loads_only_vendored_files_and_no_inline_script(app):
    client = app.test_client()
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script would break under the CSP"
    assert " style=" not in html and "<style" not in html
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(u.endswith("swagger-ui-bundle.js") for u in urls) and any(u.endswith("api-docs.js") for u in urls)
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert 'data-spec-url="/api/v1/openapi.json"' in html


def test_the_docs_script_turns_off_the_online_validator():
    from pathlib import Path

    script = (Path(__file__).resolve().parent.parent / "web" / "static" / "js" / "api-docs.js").read_text()
    assert "validatorUrl: null" in script and 'credentials = "omit"' in script
