"""Admins create and revoke API tokens on /admin/tokens and with `alur tokens`; the secret is shown once."""
from __future__ import annotations

import re

import pytest

from cli_run import alur_env, ok, ok_json, run_alur
from conftest import csrf_of, sign_in


def _create(client, **form):
    token = csrf_of(client.get("/admin/tokens").get_data(as_text=True))
    return client.post("/admin/tokens", data={"csrf_token": token, **form})


def test_an_admin_creates_a_token_and_sees_its_secret_once(web, engine):
    admin = sign_in(web, "admin")
    response = _create(admin, name="oss-bkpm", scopes=["cases:read", "tasks:complete"], acts_as="fo")
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    secret = re.search(r'id="secret" class="secret" readonly value="(alur_[^"]+)"', html).group(1)
    assert engine.authenticate_token(secret) == {"name": "oss-bkpm", "scopes": ["cases:read", "tasks:complete"],
                                                 "acts_as": "fo"}
    again = admin.get("/admin/tokens").get_data(as_text=True)
    assert secret not in again and secret[:12] in again and "oss-bkpm" in again


@pytest.mark.parametrize("form, field", [
    ({"name": "bad name", "scopes": ["cases:read"], "acts_as": "fo"}, "name"),
    ({"name": "t", "acts_as": "fo"}, "scopes"),
    ({"name": "t", "scopes": ["root"], "acts_as": "fo"}, "scopes"),
    ({"name": "t", "scopes": ["cases:read"], "acts_as": ""}, "acts_as"),
    ({"name": "t", "scopes": ["cases:read"], "acts_as": "ghost"}, "acts_as"),
])
def test_a_refused_form_names_the_field(web, engine, form, field):
    response = _create(sign_in(web, "admin"), **form)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert engine.tokens() == []


def test_a_duplicate_name_is_refused_next_to_the_name(web, engine):
    admin = sign_in(web, "admin")
    _create(admin, name="t", scopes=["cases:read"], acts_as="fo")
    response = _create(admin, name="t", scopes=["cases:read"], acts_as="bo")
    assert response.status_code == 422 and 'id="name-error"' in response.get_data(as_text=True)


def test_an_admin_revokes_a_token(web, engine):
    _, secret = engine.create_token("t", ["cases:read"], acts_as="fo")
    admin = sign_in(web, "admin")
    token = csrf_of(admin.get("/admin/tokens").get_data(as_text=True))
    response = admin.post("/admin/tokens/t/revoke", data={"csrf_token": token})
    assert response.status_code == 302 and engine.authenticate_token(secret) is None
    again = admin.post("/admin/tokens/t/revoke", data={"csrf_token": token})
    assert again.status_code == 302 and engine.tokens()[0]["active"] is False


def test_only_admins_manage_tokens(web, engine):
    for person in ("fo", "analis", "pimpinan"):
        assert sign_in(web, person).get("/admin/tokens").status_code == 403


def test_the_nav_shows_api_tokens_to_admins_only(web):
    assert 'href="/admin/tokens"' in sign_in(web, "admin").get("/cases").get_data(as_text=True)
    assert 'href="/admin/tokens"' not in sign_in(web, "pimpinan").get("/cases").get_data(as_text=True)


# --- the command line ----------------------------------------------------------------------------
@pytest.fixture
def env(sqlite_url, tmp_path):
    environment = alur_env(sqlite_url, tmp_path)
    ok(["users", "add", "oss", "--role", "staff", "--lanes", "Front Office"], environment)
    return environment


def test_cli_creates_lists_and_revokes(env):
    created = ok_json(["tokens", "create", "oss-bkpm", "--scopes", "cases:read,tasks:complete",
                       "--acts-as", "oss"], env)
    assert created["token"].startswith("alur_") and created["scopes"] == ["cases:read", "tasks:complete"]
    listed = ok_json(["tokens", "list"], env)
    assert [t["name"] for t in listed] == ["oss-bkpm"] and created["token"] not in repr(listed)
    text = ok(["tokens", "list"], env).stdout
    assert "oss-bkpm" in text and "active" in text
    assert ok_json(["tokens", "revoke", "oss-bkpm"], env)["active"] is False


def test_cli_prints_the_secret_once_with_a_warning(env):
    out = ok(["tokens", "create", "t", "--scopes", "cases:read", "--acts-as", "oss"], env).stdout
    assert re.search(r"^alur_\S{40,}$", out, re.M) and "not shown again" in out


@pytest.mark.parametrize("args, message", [
    (["tokens", "create", "t", "--scopes", "cases:nuke", "--acts-as", "oss"], "unknown scope"),
    (["tokens", "create", "t", "--scopes", "cases:read", "--acts-as", "ghost"], "no user named 'ghost'"),
    (["tokens", "revoke", "nope"], "no token named 'nope'"),
])
def test_cli_errors_are_one_line(env, args, message):
    done = run_alur(args, env)
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr
