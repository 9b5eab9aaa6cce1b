"""The `alur` command: run, administer and drive Alur from a terminal."""
from __future__ import annotations

import os
from pathlib import Path

import click

from workflow_engine import Settings, open_engine

from .cli_common import AlurGroup, Context, emit, friendly, json_option, pass_ctx
from .cli_compare import compare
from .cli_connectors import connectors
from .cli_diff import diff
from .cli_export import export
from .cli_report import report
from .cli_simulate import simulate
from .cli_sopdoc import sop_doc
from .cli_tokens import tokens
from .cli_work import cases, processes, tasks


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


# --- worker, backup, holidays ----------------------------------------------------------------
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


for _command in (processes, cases, tasks, compare, diff, simulate, sop_doc, export, tokens, report, connectors):
    main.add_command(_command)


if __name__ == "__main__":
    main()

