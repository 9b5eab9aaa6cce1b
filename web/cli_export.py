"""`alur export eventlog`: an SOP's history as an XES or CSV event log for process-mining tools."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from workflow_engine.event_log import FORMATS, parse_bound, write

from .cli_common import Context, emit, friendly, json_option, pass_ctx


@click.group("export")
def export():
    """Export Alur's data for other tools."""


def _bound(value: str | None, zone: str, name: str):
    try:
        return parse_bound(value, zone)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=name) from None


def _format(fmt: str | None, out: str) -> str:
    if fmt:
        return fmt
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise click.UsageError(f"--out {out}: end the file name with .xes or .csv, or give --format")
    return suffix


@export.command("eventlog")
@click.argument("key")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="xes (IEEE 1849) or csv (default: from the extension of --out).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="The file to write ('-' writes to standard output).")
@click.option("--since", default=None, help="Only cases registered from this date (YYYY-MM-DD or ISO moment).")
@click.option("--until", default=None, help="Only cases registered before this date.")
@click.option("--version", "number", type=click.IntRange(min=1), default=None,
              help="Only cases of this version (default: every version).")
@click.option("--include-open", is_flag=True,
              help="Add running cases with their steps so far (default: closed cases only, as Alur's reports).")
@json_option
@pass_ctx
@friendly
def eventlog(ctx: Context, key, fmt, out, since, until, number, include_open, as_json):
    """Write the event log of SOP KEY for process mining: one event per step start, end and hand-over.

    Practice cases are left out. Each step gives schedule (ready), start (claimed) and complete
    events with the user and the lane, so pm4py, ProM or Disco show the step times Alur reports.
    """
    zone = ctx.settings.timezone
    fmt = _format(fmt, out)
    stats: dict = {}
    try:
        chunks = ctx.engine.event_log_export(key, fmt, since=_bound(since, zone, "--since"),
                                             until=_bound(until, zone, "--until"), version=number,
                                             include_open=include_open, stats=stats)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--until") from None
    if out == "-":
        write(chunks, sys.stdout.buffer)
        sys.stdout.flush()
        return
    size = _write_file(Path(out), chunks)
    info = {"path": str(out), "format": fmt, "key": key, "version": number, "events": stats["events"],
            "cases": stats["cases"], "bytes": size}
    emit(info, as_json, f"{out}: {stats['events']} events of {stats['cases']} case(s) of {key} ({fmt}, "
                        f"{size:,} bytes)")


def _write_file(path: Path, chunks) -> int:
    """Write beside the target and rename, so a failed export never leaves half a file behind."""
    temporary = path.with_name(f".{path.name}.part")
    try:
        with temporary.open("wb") as target:
            size = write(chunks, target)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return size
