"""`alur connectors`: connectors to other agencies' APIs, and their failed calls."""
from __future__ import annotations

import click

from workflow_engine.connector_calls import METHODS, mapping_text

from .cli_common import Context, emit, friendly, json_option, pass_ctx


@click.group()
def connectors():
    """Connectors that BPMN service tasks call (alur.connector), and their calls."""


@connectors.command("add")
@click.argument("name")
@click.option("--url", required=True, help="http(s) address of the other agency's API.")
@click.option("--method", default="POST", show_default=True, type=click.Choice(METHODS, case_sensitive=False))
@click.option("--send", default="", help='Case data sent: "nik->nik_pemohon,nama_pemohon".')
@click.option("--receive", default="", help='Answer fields kept: "data.status->status_str".')
@click.option("--timeout", "timeout_seconds", default=10, show_default=True, type=int, help="Seconds.")
@click.option("--retries", default=3, show_default=True, type=int, help="Times a failed call is tried again.")
@click.option("--credential", default=None,
              help="ALUR_CONNECTOR_* environment variable whose value is sent as the credential.")
@click.option("--replace", is_flag=True, help="Change the connector of that name if it exists.")
@json_option
@pass_ctx
@friendly
def connectors_add(ctx: Context, name, url, method, send, receive, timeout_seconds, retries, credential, replace,
                   as_json):
    """Add a connector (or change one with --replace)."""
    values = {"name": name, "url": url, "method": method, "send": send, "receive": receive,
              "timeout_seconds": timeout_seconds, "retries": retries, "credential": credential}
    existing = {c["name"] for c in ctx.engine.connectors()}
    saved = ctx.engine.save_connector(values, actor="cli", original=name if replace and name in existing else None)
    emit(saved, as_json, f"connector {saved['name']} saved: {saved['method']} {saved['url']}")


@connectors.command("list")
@json_option
@pass_ctx
@friendly
def connectors_list(ctx: Context, as_json):
    """List connectors (never the credential's value)."""
    items = ctx.engine.connectors()
    lines = []
    for c in items:
        credential = f", credential {c['credential']} ({'set' if c['credential_set'] else 'NOT SET'})" \
            if c["credential"] else ""
        lines.append(f"{c['name']}: {c['method']} {c['url']} (timeout {c['timeout_seconds']} s, "
                     f"{c['retries']} retries{credential})")
        if c["send"]:
            lines.append("  sends:   " + mapping_text(c["send"]).replace("\n", ", "))
        if c["receive"]:
            lines.append("  keeps:   " + mapping_text(c["receive"]).replace("\n", ", "))
        for use in c["used_by"]:
            lines.append(f"  used by: {use['key']} v{use['version']} step {use['step_id']}")
    emit(items, as_json, "\n".join(lines) or "no connectors")


@connectors.command("remove")
@click.argument("name")
@pass_ctx
@friendly
def connectors_remove(ctx: Context, name):
    """Delete a connector; calls that still name it fail until it is added again."""
    ctx.engine.remove_connector(name, actor="cli")
    click.echo(f"connector {name} removed")


@connectors.command("calls")
@click.option("--case", "case_ref", default=None, help="Only this case (id or registration number).")
@click.option("--state", default=None, type=click.Choice(["pending", "done", "failed", "cancelled"]))
@json_option
@pass_ctx
@friendly
def connectors_calls(ctx: Context, case_ref, state, as_json):
    """List connector calls, newest first; failed ones say why."""
    items = ctx.engine.connector_jobs(case_ref, state=state)
    lines = [f"#{j['id']} {j['registration_number']} {j['step_id']} -> {j['connector']}: {j['state']}, "
             f"{j['attempts']} attempt(s)" + (f"\n  {j['message']}" if j["message"] else "") for j in items]
    emit(items, as_json, "\n".join(lines) or "no calls")


@connectors.command("retry")
@click.argument("call_id", type=int)
@pass_ctx
@friendly
def connectors_retry(ctx: Context, call_id):
    """Try a failed call again (the worker makes it on its next pass)."""
    job = ctx.engine.retry_connector_job(call_id, actor="cli")
    click.echo(f"call #{job['id']} of {job['registration_number']} to {job['connector']} will be tried again")
