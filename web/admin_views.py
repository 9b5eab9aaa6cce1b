"""Administration: people, their roles, lanes, language and passwords. Admins only."""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.security import generate_password_hash

from workflow_engine import Conflict, InvalidState, NotFound
from workflow_engine.people import clean_email

from .auth import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLES = ("staff", "manager", "analyst", "admin")
LANGUAGES = ("id", "en")
PASSWORD_MIN = 8
USERNAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


def engine():
    return current_app.extensions["alur"]


def role_label(role: str) -> str:
    return {"admin": _("Administrator"), "analyst": _("Process analyst"), "manager": _("Manager"),
            "staff": _("Staff")}.get(role, role)


def language_label(language: str | None) -> str:
    return {"id": _("Bahasa Indonesia"), "en": _("English")}.get(language or "", _("Office default"))


@bp.app_context_processor
def _helpers():
    return {"role_label": role_label, "language_label": language_label}


def known_lanes(users: list[dict] | None = None) -> list[str]:
    """Lane names of every deployed SOP version, and those people already belong to."""
    eng = engine()
    lanes: set[str] = set()
    for process in eng.processes():
        for version in process["versions"]:
            try:
                lanes.update(eng.process_info(process["key"], version["version"]).get("lanes") or [])
            except NotFound:
                continue
    for user in users if users is not None else eng.users():
        lanes.update(user["lanes"])
    return sorted(lanes, key=str.lower)


def _read_lanes(form) -> list[str]:
    chosen = [lane.strip() for lane in form.getlist("lanes") if lane.strip()]
    chosen += [lane.strip() for lane in (form.get("other_lanes") or "").split(",") if lane.strip()]
    return sorted(set(chosen), key=str.lower)


def _check_profile(values: dict, lanes: list[str], errors: dict) -> None:
    """The fields a new and an existing user share: name, e-mail, role, language, lanes."""
    try:
        values["email"] = clean_email(values.get("email")) or ""
    except InvalidState:
        errors["email"] = _("This is not an e-mail address.")
    if len(values["full_name"]) > 200:
        errors["full_name"] = _("The name may have at most 200 characters.")
    if values["role"] not in ROLES:
        errors["role"] = _("Choose a role.")
    if values["language"] not in ("", *LANGUAGES):
        errors["language"] = _("Choose a language.")
    _check_lanes(lanes, errors)


def _check_lanes(lanes: list[str], errors: dict) -> None:
    if any(len(lane) > 100 for lane in lanes):
        errors["other_lanes"] = _("A lane name may have at most 100 characters.")


def _check_password(password: str, errors: dict, field: str = "password") -> None:
    if len(password) < PASSWORD_MIN:
        errors[field] = _("The password needs at least %(n)s characters.", n=PASSWORD_MIN)
    elif len(password) > 200:
        errors[field] = _("The password may have at most 200 characters.")


def _find(username: str) -> dict:
    try:
        record = engine().user(username)
    except NotFound:
        abort(404)
    record.pop("password_hash", None)  # never near a template
    return record


@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users():
    values = {"username": "", "full_name": "", "email": "", "role": "staff", "lanes": [],
              "other_lanes": "", "language": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        lanes = _read_lanes(form)
        values = {"username": (form.get("username") or "").strip(),
                  "full_name": (form.get("full_name") or "").strip(),
                  "email": (form.get("email") or "").strip(),
                  "role": form.get("role") or "", "lanes": lanes,
                  "other_lanes": (form.get("other_lanes") or "").strip(),
                  "language": form.get("language") or ""}
        password = form.get("password") or ""
        if not values["username"]:
            errors["username"] = _("Enter a username.")
        elif not USERNAME.fullmatch(values["username"]):
            errors["username"] = _("Use letters, digits, dots, dashes or underscores only, at most 100.")
        _check_profile(values, lanes, errors)
        _check_password(password, errors)
        if not errors:
            try:
                engine().add_user(values["username"], role=values["role"], lanes=lanes,
                                  full_name=values["full_name"] or None,
                                  password_hash=generate_password_hash(password),
                                  actor=current_user.username)
                extra = {k: values[k] for k in ("language", "email") if values[k]}
                if extra:
                    engine().update_user(values["username"], actor=current_user.username, **extra)
            except Conflict:
                errors["username"] = _("A user with this name already exists.")
            except InvalidState:
                errors["username"] = _("Use letters, digits, dots, dashes or underscores only, at most 100.")
            else:
                flash(_("User %(name)s added.", name=values["username"]))
                return redirect(url_for("admin.users"))
    people = engine().users()
    lane_choices = sorted(set(known_lanes(people)) | set(values["lanes"]), key=str.lower)
    return render_template("admin/users.html", people=people, values=values, errors=errors,
                           roles=ROLES, languages=LANGUAGES, lanes=lane_choices,
                           password_min=PASSWORD_MIN), 422 if errors else 200


@bp.route("/users/<username>", methods=["GET", "POST"])
@roles_required("admin")
def user(username: str):
    person = _find(username)
    values = {**person, "other_lanes": "", "language": person["language"] or "",
              "email": person.get("email") or ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        lanes = _read_lanes(form)
        values = {**person, "full_name": (form.get("full_name") or "").strip(),
                  "email": (form.get("email") or "").strip(),
                  "role": form.get("role") or "", "lanes": lanes,
                  "other_lanes": (form.get("other_lanes") or "").strip(),
                  "language": form.get("language") or "", "active": form.get("active") == "1"}
        _check_profile(values, lanes, errors)
        if username == current_user.username:
            # An admin who locks themselves out may leave the office with no admin at all.
            if values["role"] != "admin" and "role" not in errors:
                errors["role"] = _("You cannot take the admin role from yourself.")
            if not values["active"]:
                errors["active"] = _("You cannot deactivate your own account.")
        if not errors:
            wanted = {"full_name": values["full_name"] or None, "email": values["email"] or None,
                      "role": values["role"], "lanes": lanes,
                      "language": values["language"] or None, "active": values["active"]}
            changes = {k: v for k, v in wanted.items()
                       if (sorted(v) if k == "lanes" else v) != (sorted(person[k]) if k == "lanes" else person[k])}
            if changes:
                try:
                    engine().update_user(username, actor=current_user.username, **changes)
                except InvalidState:
                    abort(400)
                flash(_("Changes to %(name)s saved.", name=username))
            else:
                flash(_("Nothing was changed."))
            return redirect(url_for("admin.user", username=username))
    people = engine().users()
    lane_choices = sorted(set(known_lanes(people)) | set(values["lanes"]), key=str.lower)
    return render_template("admin/user.html", person=person, values=values, errors=errors,
                           roles=ROLES, languages=LANGUAGES, lanes=lane_choices,
                           password_min=PASSWORD_MIN, password_error=None), 422 if errors else 200


@bp.post("/users/<username>/password")
@roles_required("admin")
def password(username: str):
    person = _find(username)
    new = request.form.get("password") or ""
    errors: dict[str, str] = {}
    _check_password(new, errors)
    if errors:
        values = {**person, "other_lanes": "", "language": person["language"] or "",
              "email": person.get("email") or ""}
        people = engine().users()
        return render_template("admin/user.html", person=person, values=values, errors={},
                               roles=ROLES, languages=LANGUAGES, lanes=known_lanes(people),
                               password_min=PASSWORD_MIN, password_error=errors["password"]), 422
    engine().update_user(username, actor=current_user.username, password_hash=generate_password_hash(new))
    flash(_("The password of %(name)s was reset. Give it to them in person.", name=username))
    return redirect(url_for("admin.user", username=username))
