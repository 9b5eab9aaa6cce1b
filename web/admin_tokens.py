"""Administration of API tokens: create one (its secret is shown once), list them, revoke one. Admins only."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflow_engine import Conflict, InvalidState, NotFound
from workflow_engine.tokens import NAME, SCOPES

from .auth import roles_required

bp = Blueprint("admin_tokens", __name__, url_prefix="/admin/tokens")


def engine():
    return current_app.extensions["alur"]


def scope_label(scope: str) -> str:
    return {"cases:read": _("Read SOPs and cases"), "cases:write": _("Start cases"),
            "tasks:complete": _("Complete tasks of the service account's lanes"),
            "messages:write": _("Deliver messages from other agencies")}.get(scope, scope)


def _page(values: dict, errors: dict, *, created: dict | None = None, secret: str | None = None,
          status: int = 200):
    accounts = [u for u in engine().users() if u["active"]]
    response = current_app.make_response((render_template(
        "admin/tokens.html", tokens=engine().tokens(), accounts=accounts, scopes=SCOPES,
        scope_label=scope_label, values=values, errors=errors, created=created, secret=secret), status))
    # The page may carry a secret: no cache anywhere may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("", methods=["GET", "POST"])
@roles_required("admin")
def index():
    values = {"name": "", "scopes": ["cases:read"], "acts_as": ""}
    errors: dict[str, str] = {}
    if request.method == "GET":
        return _page(values, errors)
    form = request.form
    values = {"name": (form.get("name") or "").strip(), "scopes": form.getlist("scopes"),
              "acts_as": (form.get("acts_as") or "").strip()}
    if not NAME.fullmatch(values["name"]):
        errors["name"] = _("Use letters, digits, dots, dashes or underscores only, at most 100.")
    if not values["scopes"] or any(s not in SCOPES for s in values["scopes"]):
        errors["scopes"] = _("Choose at least one permission.")
    if not values["acts_as"]:
        errors["acts_as"] = _("Choose the service account the token acts as.")
    if not errors:
        try:
            created, secret = engine().create_token(values["name"], values["scopes"], acts_as=values["acts_as"],
                                                    created_by=current_user.username)
        except Conflict:
            errors["name"] = _("A token with this name already exists.")
        except (NotFound, InvalidState):
            errors["acts_as"] = _("Choose an active user as the service account.")
        else:
            fresh = {"name": "", "scopes": ["cases:read"], "acts_as": ""}
            return _page(fresh, {}, created=created, secret=secret, status=201)
    return _page(values, errors, status=422)


@bp.post("/<name>/revoke")
@roles_required("admin")
def revoke(name: str):
    try:
        engine().revoke_token(name, actor=current_user.username)
    except NotFound:
        abort(404)
    except InvalidState:
        flash(_("Token %(name)s was already revoked.", name=name))
    else:
        flash(_("Token %(name)s is revoked: it no longer works.", name=name))
    return redirect(url_for("admin_tokens.index"))
