"""Drafts: the modeler page, saving and checking from the browser, publishing and deleting a draft."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflow_engine import BpmnValidationError, Conflict, InvalidState, NotFound

from .auth import roles_required
from .workbench_messages import panel_messages
from .workbench_views import (EDITORS, NOTE_MAX, READERS, bp, bpmn_download, compare_url, engine, max_bytes,
                              safe_filename)


def draft_or_404(draft_id: int) -> dict:
    try:
        return engine().draft(draft_id)
    except NotFound:
        abort(404)


def draft_filename(draft: dict) -> str:
    return safe_filename(draft.get("filename") or "", fallback=f"{draft['key'] or 'sop'}-draft{draft['id']}.bpmn")


def json_error(status: int, code: str, message: str, **extra):
    return jsonify(error=code, message=message, **extra), status


def posted_xml() -> tuple[bytes | None, object]:
    """The XML a modeler page sent as JSON {"xml": ...}: (bytes, None) or (None, an error response)."""
    if not request.is_json:
        return None, json_error(415, "not_json", _("Send the diagram as JSON: {\"xml\": \"...\"}."))
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("xml"), str):
        return None, json_error(400, "bad_request", _("Send the diagram as JSON: {\"xml\": \"...\"}."))
    content = data["xml"].encode("utf-8")
    if len(content) > max_bytes():
        return None, json_error(413, "too_large", _("The diagram is larger than %(mb)s MB.",
                                                     mb=round(max_bytes() / 1_000_000, 1)))
    return content, None


# --- the modeler page ---------------------------------------------------------------------------
@bp.get("/drafts/<int:draft_id>")
@roles_required(*EDITORS)
def modeler(draft_id: int):
    draft = draft_or_404(draft_id)
    boot = {
        "id": draft["id"], "key": draft["key"], "revision": draft["revision"], "xml": draft["xml"],
        "filename": draft_filename(draft),
        "problems": {"executable": draft["executable"], "errors": draft["errors"],
                     "warnings": draft["warnings"]},
        "urls": {"save": url_for("workbench.save", draft_id=draft_id),
                 "check": url_for("workbench.check", draft_id=draft_id),
                 "download": url_for("workbench.draft_download", draft_id=draft_id)},
        "messages": panel_messages(),
    }
    compare = compare_url(draft["key"], draft["base_version"], f"d{draft_id}") \
        if draft["key"] and draft["base_version"] else None
    return render_template("workbench/modeler.html", draft=draft, boot=boot, compare=compare,
                           note_max=NOTE_MAX)


@bp.get("/drafts/<int:draft_id>.bpmn")
@roles_required(*READERS)
def draft_download(draft_id: int):
    draft = draft_or_404(draft_id)
    return bpmn_download(draft["xml"], draft_filename(draft))


# --- JSON for the modeler's scripts -------------------------------------------------------------
@bp.post("/drafts/<int:draft_id>/check")
@roles_required(*EDITORS)
def check(draft_id: int):
    draft = draft_or_404(draft_id)
    content, error = posted_xml()
    if error:
        return error
    return jsonify(engine().inspect(content, draft_filename(draft)).to_dict())


@bp.post("/drafts/<int:draft_id>/save")
@roles_required(*EDITORS)
def save(draft_id: int):
    draft = draft_or_404(draft_id)
    content, error = posted_xml()
    if error:
        return error
    revision = (request.get_json(silent=True) or {}).get("revision")
    if isinstance(revision, bool) or not isinstance(revision, int):
        return json_error(400, "bad_request", _("The save carries no draft revision; reload the page."))
    try:
        saved = engine().save_draft(draft_id, content, author=current_user.username,
                                    expected_revision=revision)
    except Conflict:
        return json_error(409, "conflict", _("Someone else saved this draft after you opened it. Reload to "
                                             "see their version; your changes since your last save are lost "
                                             "unless you download them first."))
    except NotFound:
        return json_error(404, "not_found", _("This draft no longer exists: it was published or deleted."))
    except BpmnValidationError as exc:
        return json_error(422, "refused", _("The diagram was not saved."),
                          problems=[p.to_dict() for p in exc.problems])
    return jsonify(revision=saved["revision"], updated_at=saved.get("updated_at"),
                   executable=saved.get("executable"), errors=saved.get("errors", []),
                   warnings=saved.get("warnings", []), filename=draft.get("filename"))


# --- publishing and deleting --------------------------------------------------------------------
def render_publish(draft: dict, *, note: str = "", note_error: str | None = None, refused: list | None = None,
                   status: int = 200):
    return render_template("workbench/publish.html", draft=draft, note=note, note_error=note_error,
                           refused=refused, note_max=NOTE_MAX), status


@bp.route("/drafts/<int:draft_id>/publish", methods=["GET", "POST"])
@roles_required(*EDITORS)
def publish(draft_id: int):
    draft = draft_or_404(draft_id)
    if request.method == "GET":
        return render_publish(draft)
    note = (request.form.get("note") or "").strip()
    if not note:
        return render_publish(draft, note_error=_("Write a change note: what changed and why."), status=422)
    if len(note) > NOTE_MAX:
        return render_publish(draft, note=note[:NOTE_MAX * 2],
                              note_error=_("A change note may have at most %(n)s characters.", n=NOTE_MAX),
                              status=422)
    try:
        result = engine().publish_draft(draft_id, note=note, author=current_user.username)
    except BpmnValidationError as exc:
        return render_publish(draft, note=note, refused=[p.to_dict() for p in exc.problems], status=422)
    except InvalidState:
        return render_publish(draft, note=note, status=422, refused=[{
            "message": _("Nothing to publish: this draft is the same as a version that exists. Change something "
                         "first."), "severity": "error", "element_id": None, "line": None, "file": None}])
    except (NotFound, Conflict):
        flash(_("This draft no longer exists: it was published or deleted."))
        return redirect(url_for("workbench.catalogue"))
    flash(_("Version %(n)s of %(name)s is published. New cases start on it; running cases stay on their "
            "version.", n=result.version, name=result.name))
    return redirect(url_for("workbench.catalogue", _anchor=f"sop-{result.key}"))


@bp.post("/drafts/<int:draft_id>/delete")
@roles_required(*EDITORS)
def delete(draft_id: int):
    draft = draft_or_404(draft_id)
    if request.form.get("confirm") != "yes":
        flash(_("Nothing changed: confirm the change with its button."))
        return redirect(url_for("workbench.modeler", draft_id=draft_id), code=303)
    try:
        engine().delete_draft(draft_id, actor=current_user.username)
    except NotFound:
        abort(404)
    flash(_("Draft %(name)s deleted.", name=draft.get("name") or draft.get("key") or draft_id))
    return redirect(url_for("workbench.catalogue"))
