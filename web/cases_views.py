"""Cases: the list with filters, starting a case (real or practice), the case page and its diagram."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from workflow_engine import FormError, InvalidState, NotFound

bp = Blueprint("cases", __name__)

PER_PAGE = 50
STATUSES = ("running", "completed", "cancelled")
SLA_STATES = ("on_track", "at_risk", "breached", "met", "missed")
# Walking the list in batches when filtering on the SLA state, which is computed, not stored.
SLA_BATCH = 200
COMMENT_MAX = 2000


def engine():
    return current_app.extensions["alur"]


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["ALUR_SETTINGS"].timezone)


def status_label(status: str | None) -> str:
    return {"running": _("Running"), "completed": _("Completed"),
            "cancelled": _("Cancelled")}.get(status or "", status or "–")


def sees_everything() -> bool:
    """Staff see the cases of their lanes and their own; managers, analysts and admins see all."""
    return current_user.role != "staff"


def may_start_real_cases() -> bool:
    """Real cases are registered by the Front Office (and admins); anyone may start practice cases."""
    return current_user.role == "admin" or (
        current_user.role == "staff" and "Front Office" in current_user.lanes)


def may_choose_version() -> bool:
    return current_user.role in ("admin", "analyst")


@bp.app_context_processor
def _helpers():
    return {"status_label": status_label}


# --- the case list ------------------------------------------------------------------------------
def _parse_day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def _read_filters(args) -> tuple[dict, dict, dict]:
    """The list's filters from the query string: (shown values, engine filters, field errors)."""
    shown = {
        "status": args.get("status", ""), "process": args.get("process", ""),
        "sla": args.get("sla", ""), "from": args.get("from", "").strip(),
        "to": args.get("to", "").strip(), "q": args.get("q", "").strip()[:40],
        "practice": args.get("practice") in ("1", "on", "true"),
    }
    errors: dict[str, str] = {}
    filters: dict = {}
    if shown["status"] in STATUSES:
        filters["status"] = shown["status"]
    if shown["process"]:
        filters["process"] = shown["process"]
    if shown["q"]:
        filters["search"] = shown["q"]
    if not shown["practice"]:
        filters["practice"] = False
    days = {}
    for name in ("from", "to"):
        try:
            days[name] = _parse_day(shown[name])
        except ValueError:
            errors[name] = _("Enter a date as YYYY-MM-DD.")
    if days.get("from") and days.get("to") and days["to"] < days["from"]:
        errors["to"] = _("The end date is before the start date.")
    elif not errors:
        # Whole days in the office's zone: from 00:00 of the first day to 00:00 after the last.
        if days.get("from"):
            filters["since"] = datetime.combine(days["from"], time(), zone())
        if days.get("to"):
            filters["until"] = datetime.combine(days["to"] + timedelta(days=1), time(), zone())
    if not sees_everything():
        filters["visible_to"] = (current_user.username, current_user.lanes)
    return shown, filters, errors


def _page_of_cases(filters: dict, sla_state: str | None, page: int) -> tuple[list[dict], bool]:
    """One page of cases and whether another follows."""
    eng = engine()
    if not sla_state:
        rows = eng.cases(limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE, **filters)
        return rows[:PER_PAGE], len(rows) > PER_PAGE
    wanted, matches, offset = page * PER_PAGE + 1, [], 0
    while len(matches) < wanted:
        batch = eng.cases(limit=SLA_BATCH, offset=offset, **filters)
        matches.extend(c for c in batch if c["sla_state"] == sla_state)
        if len(batch) < SLA_BATCH:
            break
        offset += SLA_BATCH
    return matches[(page - 1) * PER_PAGE:page * PER_PAGE], len(matches) > page * PER_PAGE


@bp.get("/cases")
@login_required
def index():
    shown, filters, errors = _read_filters(request.args)
    try:
        page = max(1, min(int(request.args.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    sla_state = shown["sla"] if shown["sla"] in SLA_STATES else None
    cases, has_next = _page_of_cases(filters, sla_state, page) if not errors else ([], False)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "cases/index.html", cases=cases, shown=shown, errors=errors, page=page,
        prev_url=url_for("cases.index", **args, page=page - 1) if page > 1 else None,
        next_url=url_for("cases.index", **args, page=page + 1) if has_next else None,
        processes=engine().processes(), statuses=STATUSES, sla_states=SLA_STATES,
        filtered=any(request.args.get(k) for k in ("status", "process", "sla", "from", "to", "q")),
    ), 400 if errors else 200


# --- starting a case ----------------------------------------------------------------------------
def _startable() -> list[dict]:
    """SOPs with a published version, by name."""
    return sorted((p for p in engine().processes() if p["latest_version"] is not None),
                  key=lambda p: p["name"].lower())


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def new():
    processes = _startable()
    real_allowed = may_start_real_cases()
    values = {"process": request.args.get("process", ""), "version": "", "practice": not real_allowed}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {"process": request.form.get("process", "").strip(),
                  "version": request.form.get("version", "").strip() if may_choose_version() else "",
                  "practice": request.form.get("practice") in ("1", "on", "true")}
        if not values["practice"] and not real_allowed:
            abort(403)
        known = {p["key"]: p for p in processes}
        number = None
        if not values["process"]:
            errors["process"] = _("Choose an SOP.")
        elif values["process"] not in known:
            errors["process"] = _("This SOP has no published version.")
        if values["version"]:
            if not values["version"].isdigit() or int(values["version"]) < 1:
                errors["version"] = _("Enter a version number, or leave it empty for the latest.")
            else:
                number = int(values["version"])
                versions = known.get(values["process"], {}).get("versions", [])
                if values["process"] in known and not any(
                        v["version"] == number and v["status"] == "published" for v in versions):
                    errors["version"] = _("This SOP has no published version %(n)s.", n=number)
        if not errors:
            try:
                case_id = engine().start_case(values["process"], version=number,
                                              actor=current_user.username, practice=values["practice"])
            except (NotFound, InvalidState):
                # Retired or removed between the page and the click.
                errors["process"] = _("This SOP has no published version.")
            except FormError as exc:
                errors["process"] = str(exc)
            else:
                case = engine().case(case_id, with_tasks=False)
                number_text = case["registration_number"]
                if values["practice"]:
                    flash(_("Practice case %(number)s started. It is never counted in reports.",
                            number=number_text))
                else:
                    flash(_("Case %(number)s registered.", number=number_text))
                return redirect(url_for("cases.show", ref=number_text))
    return render_template("cases/new.html", processes=processes, values=values, errors=errors,
                           real_allowed=real_allowed, choose_version=may_choose_version()), \
        422 if errors else 200


# --- the case page ------------------------------------------------------------------------------
def _visible_case_ref(ref: str) -> str:
    """The reference if the signed-in user may see that case; otherwise 404 (never 403: no hints)."""
    if len(ref) > 60:
        abort(404)
    try:
        if not engine().may_see_case(current_user.username, ref):
            abort(404)
    except NotFound:
        abort(404)
    return ref


def _parse_as_of(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=zone()) if moment.tzinfo is None else moment


def _field_labels(case: dict) -> dict[str, str]:
    """Form-field labels of the case's SOP version, to show its data by name."""
    try:
        info = engine().process_info(case["process"], case["version"])
    except NotFound:
        return {}
    return {f["id"]: f["label"] for step in info.get("steps", []) for f in step.get("form", [])}


def _task_links(case: dict) -> dict[int, str]:
    """Links to the pages of the open tasks this person may open (staff: their lanes, their practice)."""
    own_practice = case["practice"] and case["started_by"] == current_user.username
    links = {}
    for t in case["tasks"]:
        if t["state"] == "ready" and (sees_everything() or own_practice or t["lane"] in current_user.lanes):
            try:
                links[t["id"]] = url_for("tasks.show", task_id=t["id"])
            except BuildError:
                return {}
    return links


def _render_case(ref: str, *, comment_text: str = "", comment_error: str | None = None, status: int = 200):
    as_of_text = request.args.get("as_of", "").strip()[:40]
    as_of, as_of_error = None, None
    if as_of_text:
        try:
            as_of = _parse_as_of(as_of_text)
        except ValueError:
            as_of_error = _("Enter a moment as YYYY-MM-DDTHH:MM.")
    case = None
    if as_of is not None:
        try:
            case = engine().case(ref, as_of=as_of)
        except InvalidState:
            as_of, as_of_error = None, _("The case was not registered yet at that moment.")
    if case is None:
        case = engine().case(ref)
    tasks = case["tasks"]
    completed = sorted({t["step_id"] for t in tasks if t["state"] == "completed"})
    active = sorted({t["step_id"] for t in tasks if t["state"] == "ready"})
    task_links = {} if as_of else _task_links(case)
    return render_template(
        "cases/show.html", case=case, tasks=tasks, as_of=as_of, as_of_text=as_of_text,
        as_of_error=as_of_error, labels=_field_labels(case), completed_steps=" ".join(completed),
        active_steps=" ".join(active), comment_text=comment_text, comment_error=comment_error,
        comment_max=COMMENT_MAX, task_links=task_links,
    ), 400 if as_of_error and status == 200 else status


@bp.get("/cases/<ref>")
@login_required
def show(ref: str):
    return _render_case(_visible_case_ref(ref))


@bp.post("/cases/<ref>/comment")
@login_required
def comment(ref: str):
    ref = _visible_case_ref(ref)
    text = (request.form.get("comment") or "").strip()
    error = None
    if not text:
        error = _("Write a comment first.")
    elif len(text) > COMMENT_MAX:
        error = _("A comment may have at most %(n)s characters.", n=COMMENT_MAX)
    if error is None:
        try:
            engine().comment(ref, user=current_user.username, text=text)
        except FormError:
            error = _("Write a comment first.")
    if error:
        return _render_case(ref, comment_text=text[:COMMENT_MAX * 2], comment_error=error, status=422)
    flash(_("Comment added."))
    return redirect(url_for("cases.show", ref=ref, _anchor="comments"))


@bp.get("/cases/<ref>/diagram.bpmn")
@login_required
def diagram(ref: str):
    ref = _visible_case_ref(ref)
    case = engine().case(ref, with_tasks=False)
    response = Response(engine().version_xml(ref), mimetype="application/xml")
    filename = f"{case['process']}-v{case['version']}.bpmn"
    # Always a download, never rendered: the XML came from an uploaded file.
    safe = "".join(c for c in filename if c.isalnum() or c in "-_.") or "diagram.bpmn"
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
