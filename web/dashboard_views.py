"""The managers' dashboard and the printable monthly compliance report (HTML and PDF)."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _

from workflow_engine import InvalidState, NotFound

from .auth import roles_required

bp = Blueprint("dashboard", __name__)
ROLES = ("manager", "admin")
_KEY = re.compile(r"[A-Za-z_][\w.-]{0,99}")


def engine():
    return current_app.extensions["alur"]


def _local_day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        abort(400, description=_("%(field)s: write a date as YYYY-MM-DD.", field=name))


def filters() -> dict:
    """The page's filters from the query string: SOP, version, first and last day (office zone)."""
    key = (request.args.get("key") or "").strip() or None
    if key is not None and not _KEY.fullmatch(key):
        abort(404)
    number = (request.args.get("version") or "").strip()
    if number and not number.isdigit():
        abort(400, description=_("The version is a number: 1, 2, …"))
    first, last = _local_day(request.args.get("since"), _("First day")), _local_day(request.args.get("until"), _("Last day"))
    if first and last and last < first:
        abort(400, description=_("The period ends before it starts."))
    return {"key": key, "version": int(number) if number and key else None, "first": first, "last": last}


def _moment(day: date | None) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time(0), tzinfo=engine().zone).astimezone(timezone.utc)


def _heat_sop(chosen: dict, sops: list[dict], open_now: dict) -> tuple[str | None, int | None]:
    """The SOP whose diagram is coloured: the chosen one, else the one with the most open cases."""
    if chosen["key"]:
        return chosen["key"], chosen["version"]
    busiest = max(open_now["sops"], key=lambda r: r["open"], default=None)
    if busiest:
        return busiest["key"], None
    return (sops[0]["key"], None) if sops else (None, None)


def eventlog_links(key: str | None) -> list[dict]:
    """Download links of the event log of `key`, once the event-log pages exist."""
    if not key or "eventlog.download" not in current_app.view_functions:
        return []
    from flask import url_for
    return [{"fmt": fmt, "href": url_for("eventlog.download", key=key, fmt=fmt)} for fmt in ("xes", "csv")]


@bp.get("/dashboard")
@roles_required(*ROLES)
def page():
    chosen = filters()
    since = _moment(chosen["first"])
    until = _moment(chosen["last"] + timedelta(days=1)) if chosen["last"] else None
    sops = [p for p in engine().processes() if p["latest_version"] is not None or p["versions"]]
    if chosen["key"] and not any(p["key"] == chosen["key"] for p in sops):
        abort(404)
    try:
        figures = engine().dashboard(key=chosen["key"], version=chosen["version"], since=since, until=until)
        heat_key, heat_version = _heat_sop(chosen, sops, figures["open"])
        heat = (engine().heatmap(heat_key, heat_version, since=since, until=until, step_rows=figures["steps"])
                if heat_key else None)
    except NotFound:
        abort(404)
    except InvalidState as exc:
        abort(400, description=str(exc))
    ikm = None
    if hasattr(engine(), "ikm"):
        ikm = engine().ikm(key=chosen["key"], since=since, until=until)
    as_of_local = datetime.fromisoformat(figures["as_of"]).astimezone(engine().zone)
    this_month = as_of_local.strftime("%Y-%m")
    last_month = (as_of_local.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return render_template(
        "dashboard/page.html", f=figures, chosen=chosen, sops=sops, heat=heat, ikm=ikm,
        since_day=datetime.fromisoformat(figures["since"]).astimezone(engine().zone).date(),
        eventlog=eventlog_links(heat["key"] if heat else None), months=(last_month, this_month))


def _report(month: str | None) -> dict:
    if not month:
        now = engine().now().astimezone(engine().zone)
        month = now.strftime("%Y-%m")
    try:
        return engine().monthly_report(month)
    except InvalidState as exc:
        abort(400, description=str(exc))


def local_text(moment: str) -> str:
    """An ISO moment as the pages show it: 28-11-2026 21:37 WIT."""
    return current_app.jinja_env.filters["localtime"](moment)


def month_words(month: str) -> str:
    from .dashboard_pdf import month_words as words
    return words(month, _)


@bp.get("/dashboard/report")
@roles_required(*ROLES)
def report():
    data = _report(request.args.get("month"))
    return render_template("dashboard/report.html", r=data, period=month_words(data["month"]))


@bp.get("/dashboard/report.pdf")
@roles_required(*ROLES)
def report_pdf():
    from .dashboard_pdf import report_pdf as draw

    data = _report(request.args.get("month"))
    filename = f"laporan-kepatuhan-{data['month']}.pdf"
    return Response(draw(data, _, period=month_words(data['month']), moment=local_text(data['as_of'])), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})
