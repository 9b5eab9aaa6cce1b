"""People, holidays, case visibility, escalations and notices: the office around the cases."""
from __future__ import annotations

from . import escalation, notify, people, store


class Office:
    """The Engine's operations on the office: users, holidays, who sees what, escalations."""

    def may_see_case(self, username: str, case_ref) -> bool:
        """Staff see the cases that pass through their lanes or that they registered; others see all."""
        with self.db.read() as s:
            person = store.user_by_name(s, username)
            case = store.case_by_reference(s, case_ref)
            if person.role != "staff":
                return True
            # A head told about a case by an escalation may open it, whatever lanes it passed.
            return (case.started_by == username or store.case_touches_lanes(s, case.id, person.lanes)
                    or notify.has_notification(s, username, case.id))

    # --- SLA escalations and notifications -----------------------------------------------------
    def run_escalations(self) -> int:
        """Notify the heads of every case whose SLA escalation is due now; returns how many fired.

        Each level (at risk, breached) fires once per case, also with several workers at once;
        see escalation.py. Email and webhook calls follow the commit and never undo it.
        """
        return len(escalation.run_escalations(self))

    def notifications(self, username: str, *, unread_only: bool = False, limit: int = 50) -> list[dict]:
        """A person's notifications, newest first."""
        with self.db.read() as s:
            return [{"id": n.id, "case_id": n.case_id, "registration_number": number, "level": n.level,
                     "message": n.message, "created_at": self.viewer.iso(n.created_at),
                     "read_at": self.viewer.iso(n.read_at)}
                    for n, number in notify.notifications_of(s, username, unread_only=unread_only,
                                                             limit=limit)]

    def mark_read(self, username: str, ids=None) -> int:
        """Mark a person's notifications read (all unread ones, or those of `ids`); returns how many."""
        with self.db.write() as s:
            return notify.mark_read(s, username, self.now(), ids)

    # --- people and holidays -----------------------------------------------------------------
    def add_user(self, username: str, *, role: str, password_hash: str, lanes=(),
                 full_name: str | None = None, actor: str | None = None) -> None:
        """Add a person with a role and the lanes whose tasks they do."""
        with self.db.write() as s:
            people.add_user(s, self.now(), username, role=role, password_hash=password_hash,
                            lanes=lanes, full_name=full_name, actor=actor)

    def add_holiday(self, day, name: str, *, actor: str | None = None) -> None:
        """Record a local holiday that the working-hours calendar skips."""
        with self.db.write() as s:
            people.add_holiday(s, self.now(), day, name, actor=actor)
        self._holidays = None  # this process sees its own change at once

    def user(self, username: str) -> dict:
        """A person's record, password hash included (for signing in)."""
        with self.db.read() as s:
            return people.user_dict(store.user_by_name(s, username), with_hash=True)

    def users(self) -> list[dict]:
        with self.db.read() as s:
            return [people.user_dict(u) for u in store.list_users(s)]

    def update_user(self, username: str, *, actor: str | None = None, **changes) -> None:
        """Change a person's role, lanes, name, language, email, password hash or active flag."""
        with self.db.write() as s:
            people.update_user(s, self.now(), store.user_by_name(s, username), actor=actor, **changes)

    def holidays(self) -> list[dict]:
        with self.db.read() as s:
            return [{"day": h.day.isoformat(), "name": h.name} for h in store.local_holidays(s)]

