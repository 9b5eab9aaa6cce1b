"""The `alur` command: run, administer and drive Alur from a terminal."""
from __future__ import annotations

import functools
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from workflow_engine import AlurError, Settings, open_engine
from workflow_engine.errors import BpmnValidationError, FormError


class Context:
    """Settings now, the engine only when a command needs it."""

    def __init__(self):
        self.settings = Settings.from_env()
        self._engine = None

    @property
    def engine(self):
        if self._engine is None:
            self._engine = open_engine(self.settings)
        return self._engine


pass_ctx = click.make_pass_decorator(Context, ensure=True)


def friendly(fn):
    """Turn the engine's errors into a one-line message and a non-zero exit, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BpmnValidationError as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(1)
        except FormError as exc:
            click.echo(f"error: invalid data: {exc}", err=True)
            sys.exit(1)
        except AlurError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2 if exc.code == "conflict" else 1)
    return wrapper


def emit(data, as_json: bool, text=None) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif text is not None:
        click.echo(text)
    else:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def parse_json_object(value: str | None, what: str = "--data") -> dict:
    if value is None:
        return {}
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON ({exc.msg} at column {exc.colno})", param_hint=what)
    if not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object such as '{\"field\": \"value\"}'", param_hint=what)
    return data


def parse_moment(value: str | None, zone: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not an ISO 8601 moment such as 2026-11-28T10:00+09:00",
                                 param_hint="--as-of")
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class AlurGroup(click.Group):
    """A click group whose usage errors are one line on stderr with exit code 1, like every other."""

    def main(self, args=None, prog_name=None, **extra):
        try:
            rv = super().main(args=args, prog_name=prog_name or "alur", standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except NO_ARGS_IS_HELP as exc:  # a bare group name: show its help, as click would
            click.echo(exc.ctx.get_help())
            sys.exit(0)
        except click.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=AlurGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Alur: run licensing SOPs as BPMN workflows against the 1 x 24-hour service promise."""


# --- database ----------------------------------------------------------------------------------
@main.group()
def db():
    """Database schema."""


@db.command("upgrade")
@pass_ctx
@friendly
def db_upgrade(ctx: Context):
    """Create or migrate the schema to the newest version."""
    engine = open_engine(ctx.settings, auto_upgrade=True)
    click.echo(f"database at the newest schema ({engine.db.dialect})")


# --- users -------------------------------------------------------------------------------------
@main.group()
def users():
    """People who sign in."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "analyst", "manager", "staff"]))
@click.option("--lanes", default="", help='Comma-separated lane names, e.g. "Front Office,Back Office".')
@click.option("--full-name", default=None)
@pass_ctx
@friendly
def users_add(ctx: Context, username, role, lanes, full_name):
    """Add a user; the password comes from ALUR_PASSWORD or a prompt."""
    from werkzeug.security import generate_password_hash

    password = os.environ.get("ALUR_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 4:
        raise click.BadParameter("the password must have at least 4 characters")
    ctx.engine.add_user(username, role=role, lanes=lanes.split(","), full_name=full_name,
                        password_hash=generate_password_hash(password))
    click.echo(f"user {username} added ({role})")


# --- processes ---------------------------------------------------------------------------------
@main.group()
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
    """Validate a BPMN file without storing it."""
    try:
        loaded = ctx.engine.load(Path(path).read_bytes(), Path(path).name)
    except BpmnValidationError as exc:
        if as_json:
            emit({"ok": False, "problems": [p.to_dict() for p in exc.problems]}, True)
            sys.exit(1)
        raise
    emit({"ok": True, "key": loaded.key, "name": loaded.name,
          "problems": [w.to_dict() for w in loaded.warnings]}, as_json,
         f"{path}: {loaded.key} is valid" + "".join(f"\nwarning: {w}" for w in loaded.warnings))


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
@main.group()
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
@main.group()
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
@main.command("timers")
@pass_ctx
@friendly
def timers(ctx: Context):
    """Fire every BPMN timer that is due now (once)."""
    click.echo(f"{ctx.engine.fire_due_timers()} case(s) moved")


def _log_alur_to_stderr(level=None) -> None:
    """Show the worker's log lines (logger 'alur') on stderr, once per process."""
    import logging

    logger = logging.getLogger("alur")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(level or os.environ.get("ALUR_LOG_LEVEL", "INFO").upper())


@main.command("worker")
@click.option("--once", is_flag=True, help="One pass over the due work, then exit.")
@click.option("--max-sleep", default=30.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Longest sleep in seconds between passes (it sleeps until the next due timer).")
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 100_000),
              help="Most cases fired in one pass.")
@pass_ctx
@friendly
def worker(ctx: Context, once, max_sleep, batch):
    """Fire due BPMN timers and SLA escalations until SIGTERM or Ctrl-C.

    Run it beside `alur serve --no-worker`, or run several against PostgreSQL: they share the work
    through row locks (FOR UPDATE SKIP LOCKED), so nothing fires twice.
    """
    import signal
    import threading

    from workflow_engine.worker import Worker

    _log_alur_to_stderr()
    runner = Worker(ctx.engine, max_sleep=max_sleep, batch=batch)
    if once:
        click.echo(f"{runner.run_once()} case(s) moved")
        return
    stop = threading.Event()

    def _stop(signum, _frame):
        click.echo(f"{signal.Signals(signum).name}: stopping after the current case", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner.run_forever(stop)


@main.command("backup")
@click.argument("path", type=click.Path(dir_okay=True))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@json_option
@pass_ctx
@friendly
def backup(ctx: Context, path, force, as_json):
    """Copy the SQLite database to PATH, consistent even while Alur runs (PostgreSQL: use pg_dump)."""
    from workflow_engine import backup as backups

    info = backups.backup(ctx.settings.database_url, Path(path), force=force)
    emit(info, as_json, f"backup written to {info['path']}: {info['cases']} case(s), "
                        f"{info['process_versions']} SOP version(s), schema {info['revision']}")


@main.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace the existing database (it is kept as a .before-restore file).")
@json_option
@pass_ctx
@friendly
def restore(ctx: Context, path, force, as_json):
    """Put a backup made by `alur backup` in place of the SQLite database (stop Alur first)."""
    from workflow_engine import backup as backups

    info = backups.restore(ctx.settings.database_url, Path(path), force=force)
    lines = [f"restored {info['from']} to {info['path']}: {info['cases']} case(s), schema {info['revision']}"]
    if info["kept"]:
        lines.append(f"the replaced database is kept as {info['kept']}")
    if info["needs_upgrade"]:
        lines.append(f"the backup's schema is older than this Alur's ({info['head']}): it is upgraded the "
                     "next time Alur opens it (or run 'alur db upgrade')")
    emit(info, as_json, "\n".join(lines))


@main.group()
def holidays():
    """Local holidays the working-hours calendar skips (national ones are built in)."""


@holidays.command("add")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("name")
@pass_ctx
@friendly
def holidays_add(ctx: Context, day, name):
    """Add a local holiday (YYYY-MM-DD NAME)."""
    ctx.engine.add_holiday(day.date(), name)
    click.echo(f"{day.date()} {name} added")


@holidays.command("list")
@json_option
@pass_ctx
@friendly
def holidays_list(ctx: Context, as_json):
    """List local holidays."""
    items = ctx.engine.holidays()
    emit(items, as_json, "\n".join(f"{h['day']} {h['name']}" for h in items) or "no local holidays")


# --- serving -----------------------------------------------------------------------------------
@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--worker/--no-worker", "with_worker", default=None,
              help="Fire timers and escalations in this process too (default: on with SQLite, off with "
                   "PostgreSQL, where separate `alur worker` processes do it).")
@pass_ctx
@friendly
def serve(ctx: Context, host, port, threads, with_worker):
    """Serve the web app with waitress."""
    from waitress import serve as waitress_serve

    from .app import create_app

    app = create_app(ctx.settings, ctx.engine)
    if with_worker is None:
        with_worker = ctx.engine.db.dialect == "sqlite"
    stop = _start_worker_thread(ctx.engine) if with_worker else None
    click.echo(f"Alur on http://{host}:{port}/ (database: {ctx.engine.db.dialect}, "
               f"worker: {'in this process' if with_worker else 'separate'})")
    try:
        waitress_serve(app, host=host, port=port, threads=threads)
    finally:
        if stop is not None:
            stop.set()


def _start_worker_thread(engine):
    """The in-process worker of `alur serve`: a daemon thread; returns the event that stops it."""
    import threading

    from workflow_engine.worker import Worker

    _log_alur_to_stderr()
    stop = threading.Event()
    Worker(engine).start_thread(stop)
    return stop


@main.command("demo")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="SQLite file for the demo (default: demo.sqlite in ALUR_HOME); it is made afresh.")
@click.option("--seed", default=2026, show_default=True, type=int, help="Makes the history repeatable.")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3650))
@click.option("--cases", "case_count", default=1000, show_default=True, type=click.IntRange(0, 1_000_000))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Stop after making the demo data.")
@friendly
def demo(db_path, seed, days, case_count, host, port, no_serve):
    """Make a demo office (SOP library, one user per role and lane, a history of cases) and serve it."""
    from workflow_engine import Settings
    from workflow_engine.settings import default_database_url

    from .demo import make_demo

    path = Path(db_path) if db_path else Path(default_database_url().removeprefix("sqlite:///")).with_name(
        "demo.sqlite")
    settings = Settings.from_env(database_url=f"sqlite:///{path.resolve()}")
    engine = make_demo(settings, path, seed=seed, days=days, cases=case_count, echo=click.echo)
    if not no_serve:
        from waitress import serve as waitress_serve

        from .app import create_app

        click.echo(f"Alur demo on http://{host}:{port}/ (database {path})")
        waitress_serve(create_app(settings, engine), host=host, port=port, threads=8)


if __name__ == "__main__":
    main()
