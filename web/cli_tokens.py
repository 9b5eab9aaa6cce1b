"""`alur tokens`: create, list and revoke the API tokens other agencies' systems use."""
from __future__ import annotations

import click

from workflow_engine.tokens import SCOPES

from .cli_common import Context, emit, friendly, json_option, pass_ctx


@click.group("tokens")
def tokens():
    """API tokens for /api/v1 (named, scoped, revocable; stored only as a hash)."""


@tokens.command("create")
@click.argument("name")
@click.option("--scopes", required=True,
              help=f"Comma-separated, from: {', '.join(SCOPES)}.")
@click.option("--acts-as", "acts_as", required=True,
              help="The service account (an active user) whose name and lanes the token's actions carry.")
@json_option
@pass_ctx
@friendly
def tokens_create(ctx: Context, name, scopes, acts_as, as_json):
    """Create token NAME and print its secret, which is shown this once."""
    info, secret = ctx.engine.create_token(name, scopes, acts_as=acts_as, created_by="cli")
    emit({**info, "token": secret}, as_json,
         f"token {info['name']} created ({', '.join(info['scopes'])}; acts as {info['acts_as']})\n"
         f"{secret}\n"
         "Copy it now: it is not shown again. Send it as 'Authorization: Bearer <token>'.")


@tokens.command("list")
@json_option
@pass_ctx
@friendly
def tokens_list(ctx: Context, as_json):
    """List tokens (never their secrets)."""
    items = ctx.engine.tokens()
    lines = [f"{t['name']:<24} {t['prefix']}…  {'active' if t['active'] else 'revoked ' + t['revoked_at']:<10} "
             f"{','.join(t['scopes'])}  as {t['acts_as']}  last used {t['last_used_at'] or 'never'}"
             for t in items]
    emit(items, as_json, "\n".join(lines) or "no tokens")


@tokens.command("revoke")
@click.argument("name")
@json_option
@pass_ctx
@friendly
def tokens_revoke(ctx: Context, name, as_json):
    """Revoke token NAME: it stops working at once."""
    info = ctx.engine.revoke_token(name, actor="cli")
    emit(info, as_json, f"token {info['name']} revoked")
