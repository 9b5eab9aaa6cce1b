"""The event-log download for process mining: an SOP's history as XES or CSV, for managers and admins.

`GET /reports/eventlog/<key>.xes|csv?since=YYYY-MM-DD&until=YYYY-MM-DD&version=N&open=1` streams the
file (workflow_engine.event_log says what is in it); since and until select cases by registration
date (until excluded), in the office's zone.
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, request
from flask_babel import gettext as _

from workflow_engine import NotFound
from workflow_engine.event_log import parse_bound

from .auth import roles_required

bp = Blueprint("eventlog", __name__)
ROLES = ("manager", "admin")
MIMETYPES = {"xes": "application/xml", "csv": "text/csv"}


def _bound(name: str):
    value = request.args.get(name)
    try:
        return parse_bound(value, current_app.config["ALUR_SETTINGS"].timezone)
    except ValueError:
        abort(400, description=_("'%(value)s' is not a date such as 2026-11-01.", value=value))


def _version() -> int | None:
    value = request.args.get("version", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        abort(400, description=_("The version must be a number such as 1 or 2."))
    return int(value)


@bp.get("/reports/eventlog/<key>.<any(xes, csv):fmt>")
@roles_required(*ROLES)
def download(key: str, fmt: str):
    engine = current_app.extensions["alur"]
    since, until, version = _bound("since"), _bound("until"), _version()
    include_open = request.args.get("open", "").lower() in ("1", "true", "yes", "on")
    try:
        chunks = engine.event_log_export(key, fmt, since=since, until=until, version=version,
                                         include_open=include_open)
    except NotFound:
        abort(404)
    except ValueError:
        abort(400, description=_("The period is empty: the end date must come after the start date."))
    filename = re.sub(r"[^A-Za-z0-9_.-]", "_", engine.event_log_filename(key, fmt, version=version))
    return Response(chunks, mimetype=MIMETYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})
