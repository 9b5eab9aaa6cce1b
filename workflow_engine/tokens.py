"""API tokens: named, scoped, revocable secrets that other agencies' systems use on /api/v1."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from . import store
from .errors import Conflict, InvalidState, NotFound
from .models import ApiToken, User

SCOPES = ("cases:read", "cases:write", "tasks:complete", "messages:write")
NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
# A secret starts with this, so a leaked one is recognisable in logs and secret scanners.
SECRET_PREFIX = "alur_"
PREFIX_CHARS = 12
# last_used_at is written at most this often: a busy integration must not write on every call.
LAST_USED_EVERY = timedelta(seconds=60)
SECRET_MAX = 200


def hash_secret(secret: str) -> str:
    """The sha256 hex digest a secret is stored as (the secret itself is never stored)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_scopes(scopes) -> list[str]:
    """The scopes as a sorted list, or InvalidState naming the unknown ones."""
    if isinstance(scopes, str):
        scopes = [s for s in re.split(r"[\s,]+", scopes) if s]
    chosen = sorted(set(scopes or ()))
    if not chosen:
        raise InvalidState(f"a token needs at least one scope: {', '.join(SCOPES)}")
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise InvalidState(f"unknown scope {', '.join(unknown)}; choose from {', '.join(SCOPES)}")
    return chosen


class Tokens:
    """The Engine's operations on API tokens."""

    def _token_dict(self, row: ApiToken) -> dict:
        return {"name": row.name, "prefix": row.prefix, "scopes": list(row.scopes or []),
                "acts_as": row.acts_as, "created_by": row.created_by,
                "created_at": self.viewer.iso(row.created_at),
                "last_used_at": self.viewer.iso(row.last_used_at),
                "revoked_at": self.viewer.iso(row.revoked_at), "active": row.revoked_at is None}

    def create_token(self, name: str, scopes, *, acts_as: str,
                     created_by: str | None = None) -> tuple[dict, str]:
        """Make a token; returns its facts and the secret, which is shown this once and stored hashed."""
        name = (name or "").strip()
        if not NAME.fullmatch(name):
            raise InvalidState("a token name must be 1-100 letters, digits, dots, dashes or underscores")
        chosen = check_scopes(scopes)
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)  # 32 random bytes
        now = self.now()
        with self.db.write() as s:
            account = s.scalar(select(User).where(User.username == (acts_as or "").strip()))
            if account is None:
                raise NotFound(f"no user named '{acts_as}' to act as; add the service account first")
            if not account.active:
                raise InvalidState(f"user '{account.username}' is deactivated; a token cannot act as them")
            if s.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
                raise Conflict(f"a token named '{name}' already exists (revoked tokens keep their name)")
            row = ApiToken(name=name, token_hash=hash_secret(secret), prefix=secret[:PREFIX_CHARS],
                           scopes=chosen, acts_as=account.username, created_by=created_by, created_at=now)
            s.add(row)
            try:
                s.flush()
            except IntegrityError as exc:  # two admins naming a token at the same moment
                raise Conflict(f"a token named '{name}' already exists") from exc
            store.audit(s, now, "token.created", actor=created_by, name=name, scopes=chosen,
                        acts_as=account.username, prefix=row.prefix)
            return self._token_dict(row), secret

    def tokens(self) -> list[dict]:
        """Every token, active ones first, newest first; never a secret or its hash."""
        with self.db.read() as s:
            rows = s.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None),
                                                       ApiToken.created_at.desc(), ApiToken.id.desc()))
            return [self._token_dict(r) for r in rows]

    def revoke_token(self, name: str, *, actor: str | None = None) -> dict:
        """Stop a token from working at once; it stays listed, with when it was revoked."""
        now = self.now()
        with self.db.write() as s:
            row = s.scalar(select(ApiToken).where(ApiToken.name == (name or "").strip()))
            if row is None:
                raise NotFound(f"no token named '{name}'")
            if row.revoked_at is not None:
                raise InvalidState(f"token '{row.name}' was already revoked at {self.viewer.iso(row.revoked_at)}")
            row.revoked_at = now
            store.audit(s, now, "token.revoked", actor=actor, name=row.name, prefix=row.prefix)
            return self._token_dict(row)

    def authenticate_token(self, secret: str | None) -> dict | None:
        """The token's {name, scopes, acts_as} if the secret is valid, unrevoked and its account active."""
        if not isinstance(secret, str) or not secret or len(secret) > SECRET_MAX:
            return None
        # Looked up by its hash: the database never compares the secret itself.
        digest = hash_secret(secret)
        now = self.now()
        with self.db.read() as s:
            found = s.execute(select(ApiToken.id, ApiToken.name, ApiToken.scopes, ApiToken.acts_as,
                                     ApiToken.revoked_at, ApiToken.last_used_at, User.active)
                              .outerjoin(User, User.username == ApiToken.acts_as)
                              .where(ApiToken.token_hash == digest)).first()
        if found is None or found.revoked_at is not None or not found.active:
            return None
        if found.last_used_at is None or now - found.last_used_at >= LAST_USED_EVERY:
            self._touch(found.id, now)
        return {"name": found.name, "scopes": list(found.scopes or []), "acts_as": found.acts_as}

    def _touch(self, token_id: int, now: datetime) -> None:
        """Record the use; the condition keeps concurrent requests from writing it twice a minute."""
        with self.db.write() as s:
            s.execute(update(ApiToken).where(
                ApiToken.id == token_id,
                ApiToken.last_used_at.is_(None) | (ApiToken.last_used_at <= now - LAST_USED_EVERY))
                .values(last_used_at=now))
