"""Staff tasks: the inbox of my lanes and the task page with its generated form.

Views stay thin: read the request, call the engine, render or redirect. Staff see the tasks of
their lanes only (another lane's task answers 404); admins, managers and analysts see every lane.
Acting on a task follows the engine's rule: admins, or members of the task's lane.
"""
from __future__ import annotations

import logging
from types import SimpleNamespace
from urllib.parse import quote

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.routing import BuildError

from workflow_engine import AlurError, Conflict, Forbidden, FormError, InvalidState, NotFound

from . import task_forms
from .auth import safe_target

bp = Blueprint("tasks", __name__)
log = logging.getLogger("alur.web.tasks")

PER_PAGE = 50
MAX_PAGE = 200  # 10,000 tasks deep is more than an office's open work; bounds OFFSET
ALL_LANE_ROLES = ("admin", "manager", "analyst")
COMMENT_MAX = 2000
SOP_CACHE_SIZE = 64
NOTICES_SHOWN = 20


def engine():
    return current_app.extensions["alur"]


# --- who sees and does what ---------------------------------------------------------------------
def _visible_lanes() -> list[str] | None:
    """The lanes whose tasks the signed-in person sees; None means every lane."""
    return None if current_user.role in ALL_LANE_ROLES else list(current_user.lanes)


def _acting_lanes() -> list[str] | None:
    """The lanes whose tasks the person may claim and complete (the engine's rule)."""
    return None if current_user.role == "admin" else list(current_user.lanes)


def _task_row(task_id: int) -> dict:
    """The few facts of a task (its case, lane, state) and what this person may do with it, or 404."""
    try:
        return engine().task(task_id, username=current_user.username)
    except NotFound:
        abort(404)


def _visible_row(task_id: int) -> dict:
    row = _task_row(task_id)
    if not row["may_see"]:
        abort(404)  # not 403: whether another lane's task exists is not this person's business
    return row


# --- helpers ------------------------------------------------------------------------------------
def case_url(ref: str) -> str:
    try:
        return url_for("cases.show", ref=ref)
    except BuildError:
        return "/cases/" + quote(ref, safe="")


def diagram_url(ref: str) -> str:
    try:
        return url_for("cases.diagram", ref=ref)
    except BuildError:
        return "/cases/" + quote(ref, safe="") + "/diagram.bpmn"


@bp.context_processor
def _helpers():
    return {"case_url": case_url, "diagram_url": diagram_url}


def _localtime(value) -> str:
    return current_app.jinja_env.filters["localtime"](value)


def _page() -> int:
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


def _sop(key: str, version: int) -> dict:
    """An SOP version's info (steps, forms, mutu baku). Versions never change, so it is cached."""
    cache = current_app.extensions.setdefault("alur.tasks.sop_cache", {})
    found = cache.get((key, version))
    if found is None:
        if len(cache) >= SOP_CACHE_SIZE:
            cache.clear()
        found = cache[(key, version)] = engine().process_info(key, version)
    return found


def _drafts_to_drop(*extra: str) -> list[str]:
    """Browser drafts to forget: the task just completed, and any task that is no longer open."""
    done = session.pop("draft_drop", None)
    return [d for d in ((done,) + extra) if d]


def _already_completed(task: dict) -> str:
    return _("This task was already completed by %(who)s at %(when)s.",
             who=task.get("completed_by") or "?", when=_localtime(task.get("completed_at")))


# --- the inbox ----------------------------------------------------------------------------------
@bp.get("/tasks")
@login_required
def inbox():
    visible = _visible_lanes()
    if visible is None:
        choices = sorted({lane for u in engine().users() for lane in (u.get("lanes") or [])})
    else:
        choices = sorted(visible)
    lane = (request.args.get("lane") or "").strip()
    if lane and visible is not None and lane not in visible:
        lane = ""
    page = _page()
    rows = engine().tasks(lanes=[lane] if lane else visible, state="ready",
                          practice_of=None if lane else current_user.username,
                          offset=(page - 1) * PER_PAGE, limit=PER_PAGE + 1)
    has_next = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    # One read for the cases on this page: their SLA state, SOP name, practice flag.
    ids = sorted({t["case_id"] for t in rows})
    cases = {c["id"]: c for c in engine().cases(ids=ids, limit=len(ids))} if ids else {}
    items = _inbox_items(rows, cases)
    drops = _drafts_to_drop()
    notices = engine().notifications(current_user.username, unread_only=True, limit=NOTICES_SHOWN)
    return render_template("tasks/inbox.html", items=items, lane=lane, lane_choices=choices,
                           page=page, has_next=has_next, drafts_drop=drops,
                           all_lanes=visible is None, notices=notices)


def _inbox_items(rows: list[dict], cases: dict[int, dict]) -> list[SimpleNamespace]:
    """The inbox rows with what the template would otherwise compute once per row.

    A page has up to 50 rows: the strings that name a row's task (the buttons' aria-labels, the
    deadline) come from one translation per page, filled in as Jinja's gettext fills them (the
    values escaped into the translated text).
    """
    acting = _acting_lanes()
    me, admin = current_user.username, current_user.role == "admin"
    open_label = Markup(_("Open %(step)s, %(ref)s"))
    claim_label = Markup(_("Claim %(step)s, %(ref)s"))
    release_label = Markup(_("Release %(step)s, %(ref)s"))
    until = Markup(_("until %(when)s"))
    localtime = current_app.jinja_env.filters["localtime"]
    items = []
    for t in rows:
        case = cases.get(t["case_id"])
        if case is None:
            continue
        can_act = acting is None or t["lane"] in acting or t["practice"]
        mine = t["claimed_by"] == me
        names = {"step": t["name"], "ref": t["registration_number"]}
        if can_act and not t["claimed_by"]:
            action, action_label = "claim", claim_label % names
        elif t["claimed_by"] and (mine or admin):
            action, action_label = "release", release_label % names
        else:
            action = action_label = None
        items.append(SimpleNamespace(
            task=t, case=case, can_act=can_act, mine=mine, case_url=case_url(t["registration_number"]),
            open_url=url_for("tasks.show", task_id=t["id"]), open_label=open_label % names,
            until=until % {"when": localtime(case["deadline"])}
            if case["sla"]["remaining_seconds"] is not None else None,
            action=action, action_label=action_label,
            action_url=url_for(f"tasks.{action}", task_id=t["id"]) if action else None))
    return items


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark one notification (`id`) or all of mine (`all`) read; others' notifications are untouched."""
    ids = None
    if request.form.get("all") != "1":
        ids = [int(i) for i in request.form.getlist("id") if i.strip().isdigit()]
    if ids != [] and engine().mark_read(current_user.username, ids):
        flash(_("Notification marked as read.") if ids else _("Notifications marked as read."))
    return redirect(safe_target(request.form.get("next"), "tasks.inbox"))


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim(task_id: int):
    row = _visible_row(task_id)
    try:
        engine().claim(task_id, user=current_user.username)
        flash(_("Task claimed: it is yours until you complete or release it."))
    except Forbidden:
        abort(403)
    except (Conflict, InvalidState):
        flash(_claim_problem(_task_row(task_id)))
    except NotFound:
        abort(404)
    back = request.form.get("next") or url_for("tasks.show", task_id=row["id"])
    return redirect(safe_target(back, "tasks.inbox"))


@bp.post("/tasks/<int:task_id>/release")
@login_required
def release(task_id: int):
    _visible_row(task_id)
    try:
        engine().release(task_id, user=current_user.username)
        flash(_("Task released: others in the lane can take it now."))
    except Forbidden:
        flash(_("Only the person who claimed this task, or an admin, can release it."))
    except (Conflict, InvalidState):
        flash(_claim_problem(_task_row(task_id)))
    except NotFound:
        abort(404)
    return redirect(safe_target(request.form.get("next"), "tasks.inbox"))


def _claim_problem(row: dict) -> str:
    if row["state"] == "completed":
        return _already_completed(row)
    if row["claimed_by"] and row["claimed_by"] != current_user.username:
        return _("This task is claimed by %(who)s.", who=row["claimed_by"])
    if row["state"] != "ready":
        return _("This task is no longer open.")
    return _("Someone else changed this case at the same moment. Nothing of yours was saved; try again.")


# --- the task page ------------------------------------------------------------------------------
def _context(row: dict) -> SimpleNamespace:
    """The case, the task, its SOP step and its form, for rendering."""
    try:
        case = engine().case(row["case_id"], with_tasks=True)
    except NotFound:
        abort(404)
    task = next((t for t in case["tasks"] if t["id"] == row["id"]), None)
    if task is None:  # ready in the future of an "as of" clock: not shown
        abort(404)
    sop = _sop(case["process"], case["version"])
    steps = sop.get("steps") or []
    step = next((s for s in steps if s["id"] == task["step_id"]), {}) or {}
    fields = task_forms.fields_of(step)
    return SimpleNamespace(case=case, task=task, sop=sop, steps=steps, step=step, fields=fields,
                           can_act=row["may_act"],
                           return_choice=task_forms.return_choice(fields, steps))


def _render(ctx: SimpleNamespace, *, values=None, errors=None, problem: str | None = None,
            comment_value: str = "", comment_error: str | None = None):
    errors = dict(errors or {})
    views = task_forms.build(ctx.fields, values, errors, ctx.case.get("data"))
    summary = [(v.anchor, v.label, v.error) for v in views if v.error]
    known = {v.id for v in views}
    summary += [("", key, message) for key, message in errors.items() if key not in known]
    if comment_error:
        summary.append(("comment", _("Comment"), comment_error))
    task = ctx.task
    drops = _drafts_to_drop(*([f"task-{task['id']}"] if task["state"] != "ready" else []))
    return render_template(
        "tasks/task.html", case=ctx.case, task=task, step=ctx.step, fields=views,
        can_act=ctx.can_act, return_choice=ctx.return_choice, summary=summary, problem=problem,
        data_rows=task_forms.data_rows(ctx.case.get("data"), ctx.steps),
        already=_already_completed(task) if task["state"] == "completed" else None,
        restore="yes" if values is None else "no", drafts_drop=drops,
        comment_value=comment_value, comment_error=comment_error, comment_max=COMMENT_MAX)


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def show(task_id: int):
    row = _visible_row(task_id)
    ctx = _context(row)
    if request.method == "GET":
        return _render(ctx)

    posted = request.form.to_dict()
    if ctx.task["state"] == "completed":
        return _render(ctx, values=posted), 409
    if ctx.task["state"] != "ready":
        return _render(ctx, values=posted, problem=_("This task is no longer open.")), 409
    if not ctx.can_act:
        abort(403)
    data = task_forms.collect(ctx.fields, request.form)
    if request.form.get("action") == "return" and ctx.return_choice:
        field_id, option, _label = ctx.return_choice
        data[field_id] = posted[field_id] = option
    try:
        task_forms.validate(ctx.fields, data, str(get_locale() or "id"))
        case_id = engine().complete(task_id, user=current_user.username, data=data)
    except FormError as exc:
        return _render(ctx, values=posted, errors=exc.fields), 422
    except Conflict:
        fresh = _context(_task_row(task_id))
        problem = None if fresh.task["state"] == "completed" else _claim_problem(_task_row(task_id))
        return _render(fresh, values=posted, problem=problem), 409
    except Forbidden:
        abort(403)
    except InvalidState as exc:
        log.info("task %s not completed: %s", task_id, exc)
        return _render(_context(_task_row(task_id)), values=posted,
                       problem=_("This task or its case is no longer open.")), 409
    except AlurError as exc:  # the SOP itself failed (a condition, an engine limit): kept, logged
        log.warning("task %s could not be completed: %s", task_id, exc)
        return _render(ctx, values=posted, problem=_(
            "The SOP could not continue after this step. Nothing was saved; tell the process "
            "analyst. Details: %(detail)s", detail=str(exc))), 500
    session["draft_drop"] = f"task-{task_id}"
    flash(_("Task completed."))
    following = engine().tasks(case_id=case_id, lanes=_acting_lanes(), state="ready", limit=1,
                               practice_of=current_user.username)
    if following:
        return redirect(url_for("tasks.show", task_id=following[0]["id"]))
    return redirect(url_for("tasks.inbox"))


@bp.post("/tasks/<int:task_id>/comment")
@login_required
def comment(task_id: int):
    row = _visible_row(task_id)
    text = request.form.get("comment") or ""
    error = None
    if not text.strip():
        error = _("Write the comment first.")
    elif len(text.strip()) > COMMENT_MAX:
        error = _("At most %(max)s characters.", max=COMMENT_MAX)
    else:
        try:
            engine().comment(row["case_id"], user=current_user.username, text=text)
        except FormError as exc:
            error = "; ".join(exc.fields.values())
    if error:
        return _render(_context(row), comment_value=text, comment_error=error), 422
    flash(_("Comment added."))
    return redirect(url_for("tasks.show", task_id=task_id) + "#comments")
