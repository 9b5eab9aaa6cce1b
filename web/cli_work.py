"""The `alur` commands for the daily work: SOP versions, cases and tasks."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from workflow_engine.errors import BpmnValidationError

from .cli_common import Context, emit, friendly, json_option, parse_json_object, parse_moment, pass_ctx

@click.group()
def processes():
    """SOP versions."""


def _bpmn_files(paths) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(path.rglob("*.bpmn")))
        elif path.is_file():
            files.append(path)
        else:
            raise click.BadParameter(f"{raw} does not exist", param_hint="PATH")
    if not files:
        raise click.BadParameter("no .bpmn file found", param_hint="PATH")
    return files


@processes.command("deploy")
@click.argument("paths", nargs=-1, required=True)
@click.option("--note", default=None, help="Change note for the new version.")
@click.option("--author", default=None)
@json_option
@pass_ctx
@friendly
def processes_deploy(ctx: Context, paths, note, author, as_json):
    """Deploy BPMN files (a folder deploys every .bpmn under it) as new SOP versions."""
    results, failed = [], 0
    for path in _bpmn_files(paths):
        try:
            result = ctx.engine.deploy(path.read_bytes(), path.name, author=author, note=note)
        except BpmnValidationError as exc:
            failed += 1
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            results.append({"file": str(path), "error": [p.to_dict() for p in exc.problems]})
            continue
        item = {"file": str(path), **result.to_dict()}
        results.append(item)
        if not as_json:
            verb = "deployed as" if result.created else "unchanged, already"
            click.echo(f"{path}: {result.key} {verb} version {result.version}")
    if as_json:
        emit(results, True)
    if failed:
        sys.exit(1)


@processes.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@json_option
@pass_ctx
@friendly
def processes_check(ctx: Context, path, as_json):
    """Validate a BPMN file without storing it: errors block a deploy, warnings suggest simplifications."""
    content, name = Path(path).read_bytes(), Path(path).name
    inspection = ctx.engine.inspect(content, name)
    try:  # "problems" keeps its earlier meaning: what deploy itself reports
        problems = [w.to_dict() for w in ctx.engine.load(content, name).warnings]
    except BpmnValidationError as exc:
        problems = [p.to_dict() for p in exc.problems]
    ok = not inspection.errors
    lines = [f"{path}: {inspection.key or '?'} is valid" if ok else f"{path}: {inspection.key or '?'} has errors"]
    lines += [f"error: {p}" + (f" ({p.code})" if p.code else "") for p in inspection.errors]
    lines += [f"warning: {p}" + (f" ({p.code})" if p.code else "") for p in inspection.warnings]
    emit({"ok": ok, **inspection.to_dict(), "problems": problems}, as_json, "\n".join(lines))
    if not ok:
        sys.exit(1)


@processes.command("list")
@json_option
@pass_ctx
@friendly
def processes_list(ctx: Context, as_json):
    """List SOPs and their versions."""
    items = ctx.engine.processes()
    emit(items, as_json, "\n".join(
        f"{p['key']:<30} v{p['latest_version']}  {p['name']}  ({len(p['versions'])} versions)"
        for p in items) or "no SOP deployed yet")


@processes.command("show")
@click.argument("key")
@click.option("--version", "number", type=int, default=None)
@json_option
@pass_ctx
@friendly
def processes_show(ctx: Context, key, number, as_json):
    """Show an SOP version's identity, service limit and steps with their mutu baku."""
    info = ctx.engine.process_info(key, number)
    emit(info, as_json)


# --- cases -------------------------------------------------------------------------------------
@click.group()
def cases():
    """Cases (applications)."""


@cases.command("start")
@click.argument("key")
@click.option("--version", "number", type=int, default=None, help="Version number (default: latest).")
@click.option("--data", default=None, help="Initial case data as a JSON object.")
@click.option("--user", default=None, help="Who registers the case.")
@json_option
@pass_ctx
@friendly
def cases_start(ctx: Context, key, number, data, user, as_json):
    """Register a new case of an SOP."""
    case_id = ctx.engine.start_case(key, version=number, data=parse_json_object(data), actor=user)
    view = ctx.engine.case(case_id)
    emit(view, as_json, f"{view['registration_number']} started (case {case_id}), "
                        f"deadline {view['deadline']}")


@cases.command("show")
@click.argument("case_ref")
@click.option("--as-of", default=None, help="Show the case as it stood at this ISO 8601 moment.")
@json_option
@pass_ctx
@friendly
def cases_show(ctx: Context, case_ref, as_of, as_json):
    """Show a case (by id or registration number) with every step's times and the clock."""
    view = ctx.engine.case(case_ref, as_of=parse_moment(as_of, ctx.settings.timezone))
    lines = [f"{view['registration_number']}  {view['process']} v{view['version']}  {view['status']}  "
             f"SLA {view['sla_state']}  deadline {view['deadline']}"]
    for t in view["tasks"]:
        lines.append(f"  [{t['id']}] {t['state']:<10} {t['name']} ({t['lane']}) "
                     f"{t['completed_by'] or ''} {t['duration_seconds']:.0f}s/{t['budget_seconds']}")
    emit(view, as_json, "\n".join(lines))


@cases.command("list")
@click.option("--process", default=None)
@click.option("--status", default=None, type=click.Choice(["running", "completed", "cancelled"]))
@click.option("--limit", default=100, type=click.IntRange(1, 10_000))
@json_option
@pass_ctx
@friendly
def cases_list(ctx: Context, process, status, limit, as_json):
    """List cases, newest first."""
    items = ctx.engine.cases(process=process, status=status, limit=limit)
    emit(items, as_json, "\n".join(
        f"{c['id']:>6} {c['registration_number']}  {c['status']:<9} {c['sla_state'] or '-':<9} "
        f"{c['deadline'] or ''}" for c in items) or "no cases")


@cases.command("cancel")
@click.argument("case_ref")
@click.option("--user", default=None)
@click.option("--reason", default=None)
@json_option
@pass_ctx
@friendly
def cases_cancel(ctx: Context, case_ref, user, reason, as_json):
    """Cancel a running case."""
    case_id = ctx.engine.cancel(case_ref, user=user, reason=reason)
    emit(ctx.engine.case(case_id, with_tasks=False) if as_json else None, as_json, f"case {case_id} cancelled")


# --- tasks -------------------------------------------------------------------------------------
@click.group()
def tasks():
    """User tasks."""


@tasks.command("list")
@click.option("--case", "case_id", type=int, default=None)
@click.option("--lane", default=None)
@click.option("--state", default="ready", type=click.Choice(["ready", "completed", "cancelled", "all"]))
@click.option("--limit", default=200, type=click.IntRange(1, 10_000))
@json_option
@pass_ctx
@friendly
def tasks_list(ctx: Context, case_id, lane, state, limit, as_json):
    """List tasks, most urgent first."""
    items = ctx.engine.tasks(case_id=case_id, lanes=[lane] if lane else None,
                             state=None if state == "all" else state, limit=limit)
    emit(items, as_json, "\n".join(
        f"{t['id']:>6} {t['registration_number']}  {t['state']:<9} {t['name']} ({t['lane']})"
        for t in items) or "no tasks")


@tasks.command("claim")
@click.argument("task_id", type=int)
@click.option("--user", required=True)
@pass_ctx
@friendly
def tasks_claim(ctx: Context, task_id, user):
    """Claim a ready task."""
    ctx.engine.claim(task_id, user=user)
    click.echo(f"task {task_id} claimed by {user}")


@tasks.command("release")
@click.argument("task_id", type=int)
@click.option("--user", required=True)
@pass_ctx
@friendly
def tasks_release(ctx: Context, task_id, user):
    """Release a claimed task."""
    ctx.engine.release(task_id, user=user)
    click.echo(f"task {task_id} released")


@tasks.command("complete")
@click.argument("task_id", type=int)
@click.option("--user", required=True)
@click.option("--data", default=None, help="Form values as a JSON object.")
@json_option
@pass_ctx
@friendly
def tasks_complete(ctx: Context, task_id, user, data, as_json):
    """Complete a task (claimed for the user first if nobody holds it)."""
    case_id = ctx.engine.complete(task_id, user=user, data=parse_json_object(data))
    view = ctx.engine.case(case_id)
    emit(view, as_json, f"task {task_id} completed; case {view['registration_number']} is "
                        f"{view['status']}, SLA {view['sla_state']}")


# --- timers, holidays --------------------------------------------------------------------------
