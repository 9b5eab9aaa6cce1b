"""API tokens in the engine: made once with a secret, stored hashed, scoped, revocable, used sparingly."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from conftest import add_staff
from workflow_engine import Conflict, InvalidState, NotFound
from workflow_engine.models import ApiToken, AuditEvent
from workflow_engine.tokens import SCOPES, check_scopes


@pytest.fixture
def account(engine):
    return add_staff(engine, "oss", ["Front Office"])


def _row(engine, name: str) -> SimpleNamespace:
    """The token's stored columns, as they are in the database."""
    with engine.db.read() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.name == name))
        return SimpleNamespace(**{c.key: getattr(row, c.key) for c in ApiToken.__table__.columns})


def _audit(engine, action: str) -> list[SimpleNamespace]:
    with engine.db.read() as s:
        return [SimpleNamespace(actor=e.actor, detail=e.detail)
                for e in s.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def test_create_returns_the_secret_once_and_stores_only_its_hash(engine, account):
    info, secret = engine.create_token("oss-bkpm", ["cases:read"], acts_as=account, created_by="admin")
    assert secret.startswith("alur_") and len(secret) >= 5 + 43  # 32 random bytes, base64url
    row = _row(engine, "oss-bkpm")
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[:12] and info["prefix"] == row.prefix
    stored = " ".join(str(v) for v in vars(row).values())
    assert secret not in stored and secret[12:] not in stored
    assert info == {"name": "oss-bkpm", "prefix": row.prefix, "scopes": ["cases:read"], "acts_as": "oss",
                    "created_by": "admin", "created_at": info["created_at"], "last_used_at": None,
                    "revoked_at": None, "active": True}


def test_two_tokens_get_different_secrets(engine, account):
    _, first = engine.create_token("a", ["cases:read"], acts_as=account)
    _, second = engine.create_token("b", ["cases:read"], acts_as=account)
    assert first != second and first[5:13] != second[5:13]


def test_the_list_never_shows_a_secret_or_hash(engine, account):
    _, secret = engine.create_token("a", ["cases:read", "tasks:complete"], acts_as=account)
    listed = engine.tokens()
    assert [t["name"] for t in listed] == ["a"]
    assert secret not in repr(listed) and _row(engine, "a").token_hash not in repr(listed)
    assert listed[0]["scopes"] == ["cases:read", "tasks:complete"]


def test_revoked_tokens_are_listed_after_active_ones(engine, account):
    engine.create_token("old", ["cases:read"], acts_as=account)
    engine.create_token("new", ["cases:read"], acts_as=account)
    engine.revoke_token("new", actor="admin")
    assert [(t["name"], t["active"]) for t in engine.tokens()] == [("old", True), ("new", False)]


@pytest.mark.parametrize("scopes, message", [
    ([], "at least one scope"),
    (["cases:read", "cases:delete"], "unknown scope cases:delete"),
    (["admin"], "unknown scope admin"),
])
def test_scopes_must_be_known(engine, account, scopes, message):
    with pytest.raises(InvalidState, match=message):
        engine.create_token("t", scopes, acts_as=account)
    assert engine.tokens() == []


def test_scopes_may_be_given_as_text():
    assert check_scopes("tasks:complete, cases:read cases:read") == ["cases:read", "tasks:complete"]
    assert set(SCOPES) == {"cases:read", "cases:write", "tasks:complete", "messages:write"}


@pytest.mark.parametrize("name", ["", "with space", "x" * 101, "slash/name", "semi;colon"])
def test_names_are_plain(engine, account, name):
    with pytest.raises(InvalidState, match="token name"):
        engine.create_token(name, ["cases:read"], acts_as=account)


def test_names_are_unique_even_after_revocation(engine, account):
    engine.create_token("oss", ["cases:read"], acts_as=account)
    engine.revoke_token("oss")
    with pytest.raises(Conflict, match="already exists"):
        engine.create_token("oss", ["cases:read"], acts_as=account)


def test_the_service_account_must_exist_and_be_active(engine, account):
    with pytest.raises(NotFound, match="no user named 'ghost'"):
        engine.create_token("t", ["cases:read"], acts_as="ghost")
    engine.update_user(account, active=False)
    with pytest.raises(InvalidState, match="deactivated"):
        engine.create_token("t", ["cases:read"], acts_as=account)
    assert engine.tokens() == []


def test_authenticate_answers_name_scopes_and_account(engine, account):
    _, secret = engine.create_token("t", ["cases:read", "cases:write"], acts_as=account)
    assert engine.authenticate_token(secret) == {"name": "t", "scopes": ["cases:read", "cases:write"],
                                                 "acts_as": "oss"}


@pytest.mark.parametrize("secret", [None, "", "alur_wrong", "x" * 5000, 12345])
def test_authenticate_refuses_anything_else(engine, account, secret):
    engine.create_token("t", ["cases:read"], acts_as=account)
    assert engine.authenticate_token(secret) is None


def test_a_near_miss_does_not_pass(engine, account):
    _, secret = engine.create_token("t", ["cases:read"], acts_as=account)
    assert engine.authenticate_token(secret[:-1]) is None
    assert engine.authenticate_token(secret + "x") is None
    assert engine.authenticate_token(secret.upper()) is None


def test_a_revoked_token_stops_working_at_once(engine, account):
    _, secret = engine.create_token("t", ["cases:read"], acts_as=account)
    info = engine.revoke_token("t", actor="admin")
    assert info["active"] is False and info["revoked_at"]
    assert engine.authenticate_token(secret) is None


def test_deactivating_the_service_account_stops_its_tokens(engine, account):
    _, secret = engine.create_token("t", ["cases:read"], acts_as=account)
    engine.update_user(account, active=False)
    assert engine.authenticate_token(secret) is None
    engine.update_user(account, active=True)
    assert engine.authenticate_token(secret) is not None


def test_revoking_twice_or_an_unknown_token_says_so(engine, account):
    engine.create_token("t", ["cases:read"], acts_as=account)
    engine.revoke_token("t")
    with pytest.raises(InvalidState, match="already revoked"):
        engine.revoke_token("t")
    with pytest.raises(NotFound, match="no token named 'nope'"):
        engine.revoke_token("nope")


def test_last_use_is_written_at_most_once_a_minute(engine, clock, account):
    _, secret = engine.create_token("t", ["cases:read"], acts_as=account)
    assert _row(engine, "t").last_used_at is None
    first = clock.now()
    engine.authenticate_token(secret)
    assert _row(engine, "t").last_used_at == first
    clock.advance(seconds=59)
    engine.authenticate_token(secret)
    assert _row(engine, "t").last_used_at == first, "written again within the minute"
    clock.advance(seconds=1)
    engine.authenticate_token(secret)
    assert _row(engine, "t").last_used_at == first + timedelta(seconds=60)
    assert engine.tokens()[0]["last_used_at"] is not None


def test_a_failed_attempt_writes_nothing(engine, account):
    engine.create_token("t", ["cases:read"], acts_as=account)
    engine.authenticate_token("alur_guess")
    assert _row(engine, "t").last_used_at is None


def test_creation_and_revocation_are_audited_without_the_secret(engine, account):
    _, secret = engine.create_token("t", ["tasks:complete"], acts_as=account, created_by="admin")
    engine.revoke_token("t", actor="admin2")
    created, = _audit(engine, "token.created")
    revoked, = _audit(engine, "token.revoked")
    assert created.actor == "admin" and created.detail["name"] == "t"
    assert created.detail["scopes"] == ["tasks:complete"] and created.detail["acts_as"] == "oss"
    assert revoked.actor == "admin2" and revoked.detail["name"] == "t"
    assert secret not in repr(created.detail) + repr(revoked.detail)
