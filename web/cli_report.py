"""`alur report monthly`: write the monthly compliance report as PDF or HTML."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from .cli_common import Context, friendly, pass_ctx

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}
ZONE_LABELS = {"Asia/Jayapura": "WIT", "Asia/Makassar": "WITA", "Asia/Jakarta": "WIB"}


@click.group("report")
def report():
    """Printable reports for the office's performance reporting."""


def standalone_html(data: dict, language: str, timezone: str) -> str:
    """The report as one self-contained HTML file (styles inlined), rendered without Flask."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from markupsafe import Markup

    from .dashboard_pdf import duration, month_words
    from .sop_doc_render import WEB, cli_translations

    translations = cli_translations(language)
    _ = translations.gettext
    env = Environment(loader=FileSystemLoader(str(WEB / "templates")), autoescape=select_autoescape(),
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations, newstyle=True)
    env.filters.update(duration=lambda seconds: duration(seconds, _) if seconds is not None else "–",
                       localtime=lambda value, with_zone=True: local_text(value, timezone, with_zone))
    css = "\n".join((WEB / "static" / "css" / name).read_text(encoding="utf-8") for name in ("alur.css", "dashboard.css"))
    return env.get_template("dashboard/report_file.html").render(
        r=data, period=month_words(data["month"], _), lang=language, inline_css=Markup(css))


def local_text(value: str, timezone: str, with_zone: bool = True) -> str:
    text = datetime.fromisoformat(value).astimezone(ZoneInfo(timezone)).strftime("%d-%m-%Y %H:%M")
    return f"{text} {ZONE_LABELS.get(timezone, timezone)}" if with_zone else text


@report.command("monthly")
@click.option("--month", required=True, help="The month, as YYYY-MM (e.g. 2026-11).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="FILE.pdf or FILE.html; the extension chooses the format.")
@click.option("--language", type=click.Choice(["id", "en"]), default=None,
              help="Language of the headings (default: ALUR_LANGUAGE).")
@pass_ctx
@friendly
def monthly(ctx: Context, month, out, language):
    """Write the monthly compliance report (per SOP: received, completed, on time, late) to FILE."""
    from .dashboard_pdf import month_words, report_pdf
    from .sop_doc_render import cli_translations

    path = Path(out)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise click.UsageError(f"--out {out}: end the file name with .pdf or .html")
    language = language or ctx.settings.language
    data = ctx.engine.monthly_report(month)
    if kind == "pdf":
        _ = cli_translations(language).gettext
        content = report_pdf(data, _, period=month_words(data["month"], _),
                             moment=local_text(data["as_of"], ctx.settings.timezone))
    else:
        content = standalone_html(data, language, ctx.settings.timezone).encode("utf-8")
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from exc
    total = data["total"]
    click.echo(f"{path}: {data['month']}, {len(data['sops'])} SOPs, {total['completed']} completed, "
               f"{total['met']} on time ({kind})")
