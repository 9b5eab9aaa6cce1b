"""Who may open what: every route of the app × every role, generated from the app's URL map.

The expected outcome of each (endpoint, method, role) comes from EXPECTED below. A route whose
endpoint (or method) is missing there fails the test, so every new page must say who may use it.
POST requests are sent twice: without a CSRF token (always 400) and with one but an empty form,
which shows whether the view lets the role in (a form error, a redirect) or refuses it (403).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from conftest import csrf_of, sign_in

ROLES = ("anonymous", "staff", "analyst", "manager", "admin")
SIGNED_IN = ROLES[1:]
# The person who plays each role; "fo" is Front Office staff, the lane of the sample case's open task.
PEOPLE = {"staff": "fo", "analyst": "analis", "manager": "pimpinan", "admin": "admin"}


@dataclass(frozen=True)
class Outcome:
    name: str
    check: Callable

    def __call__(self, response) -> bool:
        return self.check(response)

    def __repr__(self) -> str:
        return self.name


def _to_login(r) -> bool:
    return r.status_code == 302 and r.headers.get("Location", "").split("?")[0].endswith("/login")


def status(code: int) -> Outcome:
    return Outcome(str(code), lambda r: r.status_code == code)


PAGE = status(200)
DENIED = status(403)
FORM_ERROR = status(422)  # let in, the empty form refused next to its fields
LOGIN = Outcome("302 to /login", _to_login)
REDIRECT = Outcome("302", lambda r: r.status_code == 302)
# The API's answer without a token: 401 in JSON with a code, never the login page.
API_401 = Outcome("401 JSON", lambda r: r.status_code == 401 and r.is_json
                  and r.get_json()["error"]["code"] == "unauthorized")
# Let in; what happens next depends on checks inside the view (lanes, the task's state).
INSIDE = Outcome("let in (<500, not 400/401, not sent to /login)",
                 lambda r: r.status_code < 500 and r.status_code not in (400, 401) and not _to_login(r))


def signed_in(outcome: Outcome, **per_role: Outcome) -> dict:
    """Anonymous visitors go to the login page; every signed-in role gets `outcome` unless named."""
    return {"anonymous": LOGIN, **{role: per_role.get(role, outcome) for role in SIGNED_IN}}


def only(roles: tuple, allowed: Outcome) -> dict:
    return signed_in(DENIED, **{role: allowed for role in roles})


EXPECTED: dict[str, dict[str, dict]] = {
    "index": {"GET": signed_in(REDIRECT)},
    "healthz": {"GET": {role: PAGE for role in ROLES}},
    "auth.login": {"GET": {"anonymous": PAGE, **{r: REDIRECT for r in SIGNED_IN}},
                   "POST": {"anonymous": status(401), **{r: REDIRECT for r in SIGNED_IN}}},
    "auth.logout": {"POST": signed_in(REDIRECT)},
    # Tasks: staff and up; lane checks happen inside the views.
    "tasks.inbox": {"GET": signed_in(PAGE)},
    "tasks.show": {"GET": signed_in(INSIDE, staff=PAGE), "POST": signed_in(INSIDE)},
    "tasks.claim": {"POST": signed_in(INSIDE)},
    "tasks.release": {"POST": signed_in(INSIDE)},
    "tasks.comment": {"POST": signed_in(INSIDE)},
    "tasks.complete": {"POST": signed_in(INSIDE)},
    # Notifications: each person marks their own read; an empty form changes nothing and goes back.
    "tasks.mark_read": {"POST": signed_in(REDIRECT)},
    # Cases: every signed-in person (staff see the cases of their lanes; the sample is fo's own).
    "cases.index": {"GET": signed_in(PAGE)},
    "cases.new": {"GET": signed_in(PAGE),
                  # Real cases: Front Office staff and admins; the others may start practice cases only.
                  "POST": signed_in(DENIED, staff=FORM_ERROR, admin=FORM_ERROR)},
    "cases.show": {"GET": signed_in(PAGE)},
    "cases.comment": {"POST": signed_in(FORM_ERROR)},
    "cases.diagram": {"GET": signed_in(PAGE)},
    # Administration: admins only.
    "admin.users": {"GET": only(("admin",), PAGE), "POST": only(("admin",), FORM_ERROR)},
    "admin.user": {"GET": only(("admin",), PAGE), "POST": only(("admin",), FORM_ERROR)},
    "admin.password": {"POST": only(("admin",), FORM_ERROR)},
    # The analyst workbench: managers read the catalogue and download; analysts and admins edit.
    "workbench.catalogue": {"GET": only(("analyst", "manager", "admin"), PAGE)},
    "workbench.version_download": {"GET": only(("analyst", "manager", "admin"), PAGE)},
    "workbench.draft_download": {"GET": only(("analyst", "manager", "admin"), PAGE)},
    "workbench.new_sop": {"POST": only(("analyst", "admin"), FORM_ERROR)},
    "workbench.upload": {"POST": only(("analyst", "admin"), FORM_ERROR)},
    "workbench.version_to_draft": {"POST": only(("analyst", "admin"), REDIRECT)},
    "workbench.version_status": {"POST": only(("analyst", "admin"), status(303))},
    "workbench.modeler": {"GET": only(("analyst", "admin"), PAGE)},
    "workbench.check": {"POST": only(("analyst", "admin"), status(415))},
    "workbench.save": {"POST": only(("analyst", "admin"), status(415))},
    "workbench.publish": {"GET": only(("analyst", "admin"), PAGE), "POST": only(("analyst", "admin"), FORM_ERROR)},
    "workbench.delete": {"POST": only(("analyst", "admin"), status(303))},
    # Comparing versions is for managers and analysts; staff have no use for it.
    "compare.page": {"GET": only(("analyst", "manager", "admin"), PAGE)},
    "compare.model": {"GET": only(("analyst", "manager", "admin"), PAGE)},
    # The official SOP document: every signed-in role reads it (staff follow the procedure).
    "sopdoc.document": {"GET": signed_in(PAGE)},
    "sopdoc.pdf": {"GET": signed_in(PAGE)},
    # The managers' dashboard and monthly compliance report (issue 7).
    "dashboard.page": {"GET": only(("manager", "admin"), PAGE)},
    "dashboard.report": {"GET": only(("manager", "admin"), PAGE)},
    "dashboard.report_pdf": {"GET": only(("manager", "admin"), PAGE)},
    # Connectors to other agencies: admins only; an empty form names no connector or call, so 422 / 404.
    "connectors.index": {"GET": only(("admin",), PAGE), "POST": only(("admin",), FORM_ERROR)},
    "connectors.delete": {"POST": only(("admin",), status(404))},
    "connectors.retry": {"POST": only(("admin",), status(404))},
    # The REST API counts bearer tokens only: without one every role, signed in or not, gets 401 JSON
    # (tests/test_api.py shows the 403 of a token without the scope). Its description is public.
    "api.processes": {"GET": {role: API_401 for role in ROLES}},
    "api.cases": {"GET": {role: API_401 for role in ROLES}},
    "api.start_case": {"POST": {role: API_401 for role in ROLES}},
    "api.case": {"GET": {role: API_401 for role in ROLES}},
    "api.message": {"POST": {role: API_401 for role in ROLES}},
    "api.complete_task": {"POST": {role: API_401 for role in ROLES}},
    "api.openapi": {"GET": {role: PAGE for role in ROLES}},
    "api.docs": {"GET": {role: PAGE for role in ROLES}},
    # API tokens: admins only; "name" names no token, so revoking it is "not found".
    "admin_tokens.index": {"GET": only(("admin",), PAGE), "POST": only(("admin",), FORM_ERROR)},
    "admin_tokens.revoke": {"POST": only(("admin",), status(404))},
    # Public tracking: anyone, signed in or not; an empty survey names no file, so "not found".
    "tracking.lookup": {"GET": {role: PAGE for role in ROLES}},
    "tracking.survey": {"POST": {role: status(404) for role in ROLES}},
    # The event-log download (XES/CSV for process mining): managers and admins.
    "eventlog.download": {"GET": only(("manager", "admin"), PAGE)},
}


@pytest.fixture
def world(web, engine, deploy):
    """A case registered by the Front Office clerk, with its first task open in the Front Office."""
    deploy("linear3.bpmn")
    case_id = engine.start_case("linear3", actor="fo")
    case = engine.case(case_id)
    values = {"ref": case["registration_number"], "task_id": case["tasks"][0]["id"], "username": "bo",
              "key": "linear3", "number": 1, "side": "1", "fmt": "xes",
              "name": "sample",
              "draft_id": engine.draft_from_version("linear3", 1, author="analis")}
    return web, values


def _routes(app):
    """(endpoint, method, rule) for every route but static files; signing out comes last."""
    found = [(rule.endpoint, method, rule) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
             for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return sorted(found, key=lambda item: (item[0] == "auth.logout", item[0], item[1]))


def test_every_route_has_an_expected_outcome(web):
    missing = [f"{endpoint} {method} {rule.rule}" for endpoint, method, rule in _routes(web)
               if method not in EXPECTED.get(endpoint, {})]
    assert missing == [], "add these routes to EXPECTED in tests/test_web_access.py"


@pytest.mark.parametrize("role", ROLES)
def test_route_matrix(world, role):
    app, values = world
    if role == "anonymous":
        client = app.test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
    else:
        client = sign_in(app, PEOPLE[role])
        token = csrf_of(client.get("/cases").get_data(as_text=True))
    wrong = []
    for endpoint, method, rule in _routes(app):
        expected = EXPECTED.get(endpoint, {}).get(method)
        if expected is None:
            wrong.append(f"{endpoint} {method}: no expected outcome in EXPECTED")
            continue
        unknown = rule.arguments - set(values)
        if unknown:
            wrong.append(f"{endpoint}: no sample value for {sorted(unknown)}")
            continue
        with app.test_request_context():
            url = app.url_for(endpoint, **{name: values[name] for name in rule.arguments})
        if method == "GET":
            response = client.get(url)
        else:
            without = client.post(url, data={})
            # The API takes no cookies, so it needs no CSRF token: its EXPECTED outcome covers it.
            if without.status_code != 400 and not endpoint.startswith("api."):
                wrong.append(f"{method} {url} without a CSRF token: {without.status_code}, not 400")
            response = client.post(url, data={"csrf_token": token})
        outcome = expected[role]
        if not outcome(response):
            wrong.append(f"{method} {url} as {role}: {response.status_code} "
                         f"{response.headers.get('Location', '')}, expected {outcome!r}")
    assert wrong == []
