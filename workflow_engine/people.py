"""People and the office calendar's local holidays, kept in the database."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import store
from .errors import Conflict, InvalidState
from .models import Case, LocalHoliday, TaskRecord, User

ROLES = ("admin", "analyst", "manager", "staff")


def add_user(s: Session, now: datetime, username: str, *, role: str, password_hash: str,
             lanes=(), full_name: str | None = None, actor: str | None = None) -> User:
    """Add a person with a role and lane memberships; names are unique."""
    username = (username or "").strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise InvalidState("a username must be 1-100 characters without spaces")
    if role not in ROLES:
        raise InvalidState(f"unknown role '{role}'; choose one of {', '.join(ROLES)}")
    lanes = sorted({lane.strip() for lane in lanes if lane and lane.strip()})
    user = User(username=username, role=role, password_hash=password_hash, lanes=lanes,
                full_name=full_name, active=True, created_at=now)
    s.add(user)
    try:
        s.flush()
    except IntegrityError as exc:
        raise Conflict(f"a user named '{username}' already exists") from exc
    store.audit(s, now, "user.added", actor=actor, username=username, role=role, lanes=lanes)
    return user


def add_holiday(s: Session, now: datetime, day: date, name: str, *, actor: str | None = None) -> None:
    """Record a local holiday that the working-hours calendar skips."""
    name = (name or "").strip()
    if not name:
        raise InvalidState("a holiday needs a name")
    if s.get(LocalHoliday, day) is not None:
        raise Conflict(f"{day.isoformat()} is already a local holiday")
    s.add(LocalHoliday(day=day, name=name))
    store.audit(s, now, "holiday.added", actor=actor, day=day.isoformat(), name=name)


LANGUAGES = ("id", "en")
EDITABLE = ("role", "lanes", "full_name", "language", "password_hash", "active", "email")


def user_dict(user: User, *, with_hash: bool = False) -> dict:
    data = {"username": user.username, "full_name": user.full_name, "role": user.role,
            "lanes": list(user.lanes or []), "language": user.language, "active": user.active,
            "email": user.email}
    if with_hash:
        data["password_hash"] = user.password_hash
    return data


def update_user(s: Session, now: datetime, user: User, *, actor: str | None = None, **changes) -> None:
    """Apply checked changes to a user and record them (never the password hash itself)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidState(f"cannot change {', '.join(sorted(unknown))} of a user")
    if "role" in changes and changes["role"] not in ROLES:
        raise InvalidState(f"unknown role '{changes['role']}'; choose one of {', '.join(ROLES)}")
    if changes.get("language") not in (None, *LANGUAGES):
        raise InvalidState(f"unknown language '{changes['language']}'; choose id or en")
    if "email" in changes:
        changes["email"] = clean_email(changes["email"])
    if "lanes" in changes:
        changes["lanes"] = sorted({lane.strip() for lane in changes["lanes"] if lane and lane.strip()})
    for name, value in changes.items():
        setattr(user, name, value)
    recorded = {k: v for k, v in changes.items() if k != "password_hash"}
    if "password_hash" in changes:
        recorded["password"] = "reset"
    store.audit(s, now, "user.changed", actor=actor, username=user.username, **recorded)


def clean_email(value) -> str | None:
    """An address for escalation notices, or None to send none."""
    text = (value or "").strip()
    if not text:
        return None
    local, _, domain = text.rpartition("@")
    if (len(text) > 200 or not local or "." not in domain or domain.startswith(".")
            or any(c.isspace() or c in "<>,;\"" for c in text)):
        raise InvalidState(f"'{text}' is not an email address")
    return text


def may_act(person: User, task: TaskRecord, case: Case) -> bool:
    """Admins act anywhere, staff in their lanes, and anyone in every lane of their own practice case."""
    if person.role == "admin" or task.lane in (person.lanes or []):
        return True
    return bool(case.practice and case.started_by == person.username)
