"""What every `alur` command shares: the engine context, error handling, JSON output."""
from __future__ import annotations

import functools
import json
import sys
from datetime import datetime
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


