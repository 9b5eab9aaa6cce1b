"""The SOP catalogue: versions and drafts of every SOP, new SOPs, uploads, retiring and publishing."""
from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user

from workflow_engine import BpmnValidationError, FormError, InvalidState, NotFound

from .auth import roles_required

bp = Blueprint("workbench", __name__, url_prefix="/sop")

EDITORS = ("admin", "analyst")
READERS = EDITORS + ("manager",)
# A process id is an XML name; Alur also uses it in URLs and file names, so keep it plain.
KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
NAME_MAX = 200
NOTE_MAX = 2000


def engine():
    return current_app.extensions["alur"]


def max_bytes() -> int:
    return current_app.config["ALUR_SETTINGS"].max_bpmn_bytes


def may_edit() -> bool:
    return current_user.role in EDITORS


def compare_url(key: str, a=None, b=None) -> str:
    """The comparison page of two versions or drafts (`1`, `2`, `d7`) of one SOP; without them, its address."""
    base = f"{url_for('workbench.catalogue')}/{quote(key, safe='')}/compare"
    return base if a is None else base + "?" + urlencode({"a": a, "b": b})


def safe_filename(name: str, fallback: str = "sop.bpmn") -> str:
    """A file name fit for a Content-Disposition header and for the draft's record."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isalnum() or c in "-_. ")[:120].strip(" .")
    if not cleaned:
        return fallback
    # Whatever an upload was called, it is offered back as BPMN, never as a page a browser renders.
    return cleaned if cleaned.lower().endswith(".bpmn") else cleaned.rsplit(".", 1)[0] + ".bpmn"


def bpmn_download(xml: str, filename: str) -> Response:
    response = Response(xml, mimetype="application/xml")
    # Always a download, never rendered: the XML may come from an uploaded file.
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.app_context_processor
def _helpers():
    return {"compare_url": compare_url}


# --- the catalogue ------------------------------------------------------------------------------
def render_catalogue(*, refused: list | None = None, refused_file: str | None = None,
                     upload_error: str | None = None, new_errors: dict | None = None,
                     new_values: dict | None = None, status: int = 200):
    sops = sorted(engine().catalogue(), key=lambda s: (s.get("name") or s["key"]).lower())
    return render_template(
        "workbench/catalogue.html", sops=sops, may_edit=may_edit(), refused=refused or [],
        refused_file=refused_file, upload_error=upload_error, new_errors=new_errors or {},
        new_values=new_values or {"key": "", "name": ""}, max_mb=round(max_bytes() / 1_000_000, 1),
    ), status


@bp.get("")
@roles_required(*READERS)
def catalogue():
    return render_catalogue()


@bp.post("/new")
@roles_required(*EDITORS)
def new_sop():
    values = {"key": (request.form.get("key") or "").strip()[:100],
              "name": " ".join((request.form.get("name") or "").split())[:NAME_MAX + 1]}
    errors: dict[str, str] = {}
    if not values["key"]:
        errors["key"] = _("Enter a key.")
    elif not KEY.fullmatch(values["key"]):
        errors["key"] = _("Use 1 to 64 letters, digits, _ . or -, starting with a letter or _ "
                          "(for example izin_reklame).")
    if not values["name"]:
        errors["name"] = _("Enter a name.")
    elif len(values["name"]) > NAME_MAX:
        errors["name"] = _("A name may have at most %(n)s characters.", n=NAME_MAX)
    if not errors:
        try:
            draft_id = engine().new_draft(values["key"], values["name"], author=current_user.username)
        except InvalidState:
            errors["key"] = _("An SOP with this key exists. Open one of its versions as a draft instead.")
        except FormError as exc:
            errors.update({name: str(text) for name, text in exc.fields.items() if name in ("key", "name")}
                          or {"key": str(exc)})
        else:
            flash(_("Draft of the new SOP %(name)s created from the template.", name=values["name"]))
            return redirect(url_for("workbench.modeler", draft_id=draft_id))
    return render_catalogue(new_errors=errors, new_values=values, status=422)


@bp.post("/upload")
@roles_required(*EDITORS)
def upload():
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return render_catalogue(upload_error=_("Choose a .bpmn file."), status=422)
    filename = safe_filename(upload_file.filename)
    limit = max_bytes()
    # Read one byte past the limit: enough to know the file is too big without holding all of it.
    content = upload_file.stream.read(limit + 1)
    if len(content) > limit:
        return render_catalogue(upload_error=_("%(file)s is larger than %(mb)s MB; nothing was stored.",
                                               file=filename, mb=round(limit / 1_000_000, 1)), status=413)
    if not content.strip():
        return render_catalogue(upload_error=_("%(file)s is empty; nothing was stored.", file=filename),
                                status=422)
    note = (request.form.get("note") or "").strip()[:NOTE_MAX] or None
    try:
        draft_id = engine().create_draft(content, filename, author=current_user.username, note=note)
    except BpmnValidationError as exc:
        return render_catalogue(refused=[p.to_dict() for p in exc.problems], refused_file=filename,
                                status=422)
    draft = engine().draft(draft_id)
    if draft["executable"]:
        flash(_("%(file)s imported as a draft.", file=filename))
    else:
        flash(_("%(file)s imported as a draft. It cannot run yet: %(n)s problems are listed below the diagram.",
                file=filename, n=len(draft["errors"])))
    return redirect(url_for("workbench.modeler", draft_id=draft_id))


# --- versions -----------------------------------------------------------------------------------
def version_or_404(key: str, number: int) -> dict:
    for sop in engine().catalogue():
        if sop["key"] == key:
            for version in sop["versions"]:
                if version["version"] == number:
                    return {**version, "key": key, "name": sop.get("name") or key}
    abort(404)


@bp.get("/<key>/v<int:number>.bpmn")
@roles_required(*READERS)
def version_download(key: str, number: int):
    version_or_404(key, number)
    try:
        xml = engine().sop_xml(key, number)
    except NotFound:
        abort(404)
    return bpmn_download(xml, f"{key}-v{number}.bpmn")


@bp.post("/<key>/v<int:number>/draft")
@roles_required(*EDITORS)
def version_to_draft(key: str, number: int):
    version_or_404(key, number)
    try:
        draft_id = engine().draft_from_version(key, number, author=current_user.username)
    except NotFound:
        abort(404)
    flash(_("Draft made from version %(n)s. Publishing it makes a new version; version %(n)s stays as it is.",
            n=number))
    return redirect(url_for("workbench.modeler", draft_id=draft_id))


@bp.post("/<key>/v<int:number>/status")
@roles_required(*EDITORS)
def version_status(key: str, number: int):
    version = version_or_404(key, number)
    status = request.form.get("status", "")
    if status not in ("published", "retired") or request.form.get("confirm") != "yes":
        flash(_("Nothing changed: confirm the change with its button."))
        return redirect(url_for("workbench.catalogue", _anchor=f"sop-{key}"), code=303)
    try:
        engine().set_version_status(key, number, status, actor=current_user.username)
    except (NotFound, InvalidState):
        abort(404)
    if status == "retired":
        flash(_("Version %(n)s of %(name)s is retired: no new cases start on it; running cases finish on it.",
                n=number, name=version["name"]))
    else:
        flash(_("Version %(n)s of %(name)s is published again.", n=number, name=version["name"]))
    return redirect(url_for("workbench.catalogue", _anchor=f"sop-{key}"))


from . import workbench_api  # noqa: F401  the draft pages and their JSON endpoints join `bp`
