"""`alur sop-doc`: write the official SOP document of a version as PDF or HTML."""
from __future__ import annotations

from pathlib import Path

import click

from .cli_common import Context, friendly, pass_ctx

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}


@click.command("sop-doc")
@click.argument("key")
@click.option("--version", "number", type=click.IntRange(min=1), default=None,
              help="Version number (default: the latest published version).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="FILE.pdf or FILE.html; the extension chooses the format.")
@click.option("--language", type=click.Choice(["id", "en"]), default=None,
              help="Language of the document's headings (default: ALUR_LANGUAGE).")
@pass_ctx
@friendly
def sop_doc(ctx: Context, key, number, out, language):
    """Write the official SOP document (PermenPANRB 35/2012) of KEY as PDF or HTML."""
    from workflow_engine.sop_document import document_for_version

    from .sop_doc_render import cli_translations, standalone_html

    path = Path(out)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise click.UsageError(f"--out {out}: end the file name with .pdf or .html")
    language = language or ctx.settings.language
    document = document_for_version(ctx.engine, key, number, language=language)
    if kind == "pdf":
        from .sop_doc_pdf import sop_pdf

        content = sop_pdf(document, cli_translations(language).gettext)
    else:
        content = standalone_html(document, language).encode("utf-8")
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from exc
    click.echo(f"{path}: {document.name}, version {document.version}, {len(document.rows)} rows ({kind})")
