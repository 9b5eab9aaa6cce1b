"""The official SOP document of any version: a printable page and its PDF.

Every signed-in role may read it, staff included: the SOP is the procedure they are asked to follow.
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from workflow_engine import NotFound
from workflow_engine.sop_document import SopDocument, document_for_version

from .auth import roles_required
from .sop_doc_render import html_context

bp = Blueprint("sopdoc", __name__)
READERS = ("admin", "analyst", "manager", "staff")


def _document(key: str, number: int) -> SopDocument:
    language = str(get_locale() or current_app.config["ALUR_SETTINGS"].language)
    try:
        return document_for_version(current_app.extensions["alur"], key, number, language=language)
    except NotFound:
        abort(404)


@bp.get("/sop/<key>/v<int:number>/document")
@roles_required(*READERS)
def document(key: str, number: int):
    doc = _document(key, number)
    context = html_context(doc, _, lang=doc.language, css_href=url_for("static", filename="css/sopdoc.css"),
                           pdf_href=url_for("sopdoc.pdf", key=key, number=number), back_href=url_for("index"))
    return render_template("sopdoc/document.html", **context)


@bp.get("/sop/<key>/v<int:number>/document.pdf")
@roles_required(*READERS)
def pdf(key: str, number: int):
    # fpdf2 (with fontTools, PIL and numpy) adds about 40 MB to a process: only load it when asked.
    from .sop_doc_pdf import sop_pdf

    doc = _document(key, number)
    filename = re.sub(r"[^A-Za-z0-9_.-]", "_", f"SOP-{key}-v{number}.pdf")
    return Response(sop_pdf(doc, _), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})
