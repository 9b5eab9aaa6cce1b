"""Administration of connectors to other agencies' APIs, and retrying a failed call. Admins only."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflow_engine import Conflict, InvalidState, NotFound
from workflow_engine.connector_calls import METHODS, ConnectorInputError, mapping_text

from .auth import roles_required

bp = Blueprint("connectors", __name__, url_prefix="/admin/connectors")

FIELDS = ("name", "url", "method", "send", "receive", "timeout_seconds", "retries", "credential")
BLANK = {"name": "", "url": "", "method": "POST", "send": "", "receive": "", "timeout_seconds": "10",
         "retries": "3", "credential": "", "original": ""}


def engine():
    return current_app.extensions["alur"]


def _message(field: str, code: str, params: dict) -> str:
    """The admin's language for one problem the engine found (connector_calls.clean_connector)."""
    if code == "required":
        return _("Enter a name.") if field == "name" else _("Enter the address of the other agency's API.")
    texts = {
        "name": lambda: _("Use letters, digits, '.', '_' and '-' only (at most 100, no spaces)."),
        "url": lambda: _("This is not a web address (no spaces)."),
        "url_long": lambda: _("The address may have at most %(n)s characters.", n=params.get("n")),
        "url_scheme": lambda: _("Give an http:// or https:// address."),
        "url_secret": lambda: _("Do not put a user name or password in the address; put the credential in an "
                                "ALUR_CONNECTOR_... environment variable."),
        "method": lambda: _("Choose a method."),
        "mapping": lambda: _("Write one mapping per line, e.g. nik -> nik_pemohon."),
        "mapping_many": lambda: _("At most %(n)s fields.", n=params.get("n")),
        "mapping_case_field": lambda: _("Line %(line)s: %(value)s is not a case data field name (letters, digits "
                                        "and _, starting with a letter).", line=params.get("line"),
                                        value=params.get("value")),
        "mapping_remote_field": lambda: _("Line %(line)s: %(value)s is not a field name of the other agency's "
                                          "API (letters, digits, _ - $ @, parts joined by dots).",
                                          line=params.get("line"), value=params.get("value")),
        "mapping_twice": lambda: _("Line %(line)s: %(value)s is given twice.", line=params.get("line"),
                                   value=params.get("value")),
        "range": lambda: _("Give a whole number from %(low)s to %(high)s.", low=params.get("low"),
                           high=params.get("high")),
        "credential": lambda: _("Give the name of an environment variable that starts with ALUR_CONNECTOR_, in "
                                "capitals, e.g. ALUR_CONNECTOR_DINKES."),
    }
    return texts[code]() if code in texts else code


def _values_of(connector: dict) -> dict:
    return {"name": connector["name"], "url": connector["url"], "method": connector["method"],
            "send": mapping_text(connector["send"]), "receive": mapping_text(connector["receive"]),
            "timeout_seconds": str(connector["timeout_seconds"]), "retries": str(connector["retries"]),
            "credential": connector["credential"] or "", "original": connector["name"]}


def _render(values: dict, errors: dict, status: int = 200):
    return render_template("admin/connectors.html", connectors=engine().connectors(), values=values,
                           errors=errors, methods=METHODS,
                           failed=engine().connector_jobs(state="failed", limit=50)), status


@bp.route("", methods=["GET", "POST"])
@roles_required("admin")
def index():
    if request.method == "GET":
        name = request.args.get("edit", "").strip()
        if not name:
            return _render(dict(BLANK), {})
        try:
            return _render(_values_of(engine().connector(name)), {})
        except NotFound:
            abort(404)
    form = request.form
    values = {key: (form.get(key) or "").strip() for key in (*FIELDS, "original")}
    values["send"], values["receive"] = (form.get("send") or "")[:5000], (form.get("receive") or "")[:5000]
    errors: dict[str, str] = {}
    try:
        saved = engine().save_connector(values, actor=current_user.username, original=values["original"] or None)
    except ConnectorInputError as exc:
        errors = {key: _message(key, code, params) for key, (code, _text, params) in exc.problems.items()}
    except Conflict:
        errors = {"name": _("A connector with this name already exists.")}
    except NotFound:
        abort(404)  # the connector being edited was deleted meanwhile
    else:
        flash(_("Connector %(name)s saved.", name=saved["name"]))
        return redirect(url_for("connectors.index"))
    return _render(values, errors, 422)


@bp.post("/delete")
@roles_required("admin")
def delete():
    name = (request.form.get("name") or "").strip()
    try:
        engine().remove_connector(name, actor=current_user.username)
    except NotFound:
        abort(404)
    flash(_("Connector %(name)s deleted. Calls that still name it fail until it is set up again.", name=name))
    return redirect(url_for("connectors.index"))


@bp.post("/retry")
@roles_required("admin")
def retry():
    job_id = (request.form.get("job_id") or "").strip()
    if not job_id.isdigit():
        abort(404)
    try:
        job = engine().retry_connector_job(int(job_id), actor=current_user.username)
    except NotFound:
        abort(404)
    except InvalidState:
        flash(_("This call cannot be tried again now: it is no longer failed, or the case has ended."))
        case = (request.form.get("case") or "").strip()
        if case and len(case) <= 60:
            return redirect(url_for("cases.show", ref=case, _anchor="exchange"))
        return redirect(url_for("connectors.index"))
    flash(_("The call to %(connector)s will be tried again in a moment.", connector=job["connector"]))
    return redirect(url_for("cases.show", ref=job["registration_number"], _anchor="exchange"))
