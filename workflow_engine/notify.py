"""Notifications: the rows in people's inboxes, their text, and the optional email and webhook.

Rows are written inside the escalation's transaction. Email and webhook calls happen after the
commit, once each, with a timeout: a mail server or a receiving system that is down never breaks,
delays for long or rolls back an escalation. Failures are logged and recorded in the case's audit
trail; there is no retry (the inbox row is the notice that always arrives).
"""
from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from . import store
from .models import Case, Notification

log = logging.getLogger("alur.notify")

WEBHOOK_TIMEOUT = 5.0
ZONE_LABELS = {"Asia/Jayapura": "WIT", "Asia/Makassar": "WITA", "Asia/Jakarta": "WIB"}

# The notice in the recipient's language (the user's, else the office's); Indonesian is the default.
MESSAGES = {
    "id": {
        "at_risk": "Berkas {number} ({sop}) sudah memakai {share}% dari batas waktu layanan; "
                   "tenggat {deadline}. Langkah terbuka: {steps}.",
        "breached": "Berkas {number} ({sop}) melewati tenggat {deadline}. Langkah terbuka: {steps}.",
    },
    "en": {
        "at_risk": "Case {number} ({sop}) has used {share}% of its service limit; "
                   "deadline {deadline}. Open steps: {steps}.",
        "breached": "Case {number} ({sop}) is past its deadline of {deadline}. Open steps: {steps}.",
    },
}
SUBJECTS = {
    "id": {"at_risk": "Alur: berkas {number} berisiko terlambat",
           "breached": "Alur: berkas {number} melewati tenggat"},
    "en": {"at_risk": "Alur: case {number} is at risk", "breached": "Alur: case {number} is past its deadline"},
}
NO_STEPS = {"id": "tidak ada", "en": "none"}


@dataclass(frozen=True)
class Recipient:
    username: str
    email: str | None
    language: str


@dataclass
class Escalation:
    """One level fired for one case: what the inbox rows say, and what to deliver after the commit."""

    case_id: int
    registration_number: str
    process: str
    process_name: str
    level: str
    at: datetime
    deadline: datetime | None
    sla_state: str
    used_share: float
    open_steps: list[tuple[str, str | None]]
    recipients: list[Recipient]
    webhook: str | None = None
    messages: dict = field(default_factory=dict)  # username -> text

    def facts(self, language: str, zone: ZoneInfo) -> dict:
        language = language if language in MESSAGES else "id"
        steps = ", ".join(f"{name} ({lane})" if lane else name for name, lane in self.open_steps)
        deadline = "–"
        if self.deadline is not None:
            label = ZONE_LABELS.get(str(zone), str(zone))
            deadline = f"{self.deadline.astimezone(zone).strftime('%d-%m-%Y %H:%M')} {label}"
        return {"number": self.registration_number, "sop": self.process_name,
                "share": int(self.used_share * 100), "deadline": deadline,
                "steps": steps or NO_STEPS[language]}

    def text(self, language: str, zone: ZoneInfo) -> str:
        language = language if language in MESSAGES else "id"
        return MESSAGES[language][self.level].format(**self.facts(language, zone))

    def subject(self, language: str, zone: ZoneInfo) -> str:
        language = language if language in SUBJECTS else "id"
        return SUBJECTS[language][self.level].format(**self.facts(language, zone))

    def webhook_body(self, zone: ZoneInfo) -> dict:
        return {"case": self.case_id, "registration_number": self.registration_number,
                "level": self.level,
                "deadline": self.deadline.astimezone(zone).isoformat() if self.deadline else None,
                "sla_state": self.sla_state, "process": self.process,
                "used_share": round(self.used_share, 4), "at": self.at.astimezone(zone).isoformat()}


# --- inbox rows --------------------------------------------------------------------------------
def add_notifications(s: Session, escalation: Escalation, zone: ZoneInfo) -> None:
    for person in escalation.recipients:
        text = escalation.text(person.language, zone)
        escalation.messages[person.username] = text
        s.add(Notification(username=person.username, case_id=escalation.case_id, level=escalation.level,
                           message=text, created_at=escalation.at))


def notifications_of(s: Session, username: str, *, unread_only: bool = False, limit: int = 50) -> list:
    """(Notification, registration number) of one person, newest first."""
    query = (select(Notification, Case.registration_number)
             .join(Case, Case.id == Notification.case_id)
             .where(Notification.username == username))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return [tuple(row) for row in s.execute(query)]


def mark_read(s: Session, username: str, now: datetime, ids=None) -> int:
    """Mark a person's unread notifications (all, or those of `ids`) read; returns how many."""
    query = (update(Notification)
             .where(Notification.username == username, Notification.read_at.is_(None))
             .values(read_at=now).execution_options(synchronize_session=False))
    if ids is not None:
        ids = [int(i) for i in ids]
        if not ids:
            return 0
        query = query.where(Notification.id.in_(ids))
    return s.execute(query).rowcount or 0


def has_notification(s: Session, username: str, case_id: int) -> bool:
    return s.scalar(select(func.count()).select_from(Notification).where(
        Notification.username == username, Notification.case_id == case_id)) > 0


# --- delivery after the commit -----------------------------------------------------------------
class Delivery:
    """Sends the email and webhook calls of one escalation pass, each once.

    A mail server or webhook URL that fails is not tried again in the same pass: a receiver that
    is down costs one timeout per pass, not one per escalation.
    """

    def __init__(self, engine):
        self.engine = engine
        self.settings = engine.settings
        self.zone = engine.zone
        self.smtp_failed: str | None = None
        self.failed_urls: dict[str, str] = {}

    def deliver(self, escalation: Escalation) -> None:
        for channel, send in (("email", self._email), ("webhook", self._webhook)):
            try:
                send(escalation)
            except Exception:  # delivery must never undo or stop an escalation; logged, then on
                log.exception("%s of escalation %s/%s failed unexpectedly", channel,
                              escalation.registration_number, escalation.level)

    # --- email ---
    def _email(self, escalation: Escalation) -> None:
        host = self.settings.smtp_host
        people = [p for p in escalation.recipients if p.email]
        if not host or not people:
            return
        if self.smtp_failed is not None:
            self._failed(escalation, "email", f"not sent: the mail server failed earlier in this pass "
                         f"({self.smtp_failed})", recipients=[p.username for p in people])
            return
        try:
            refused = self._send_mail(escalation, people)
        except (OSError, smtplib.SMTPException) as exc:
            self.smtp_failed = _describe(exc)
            log.warning("email of escalation %s/%s to %s via %s:%s failed: %s",
                        escalation.registration_number, escalation.level,
                        ", ".join(p.username for p in people), host, self.settings.smtp_port, self.smtp_failed)
            self._failed(escalation, "email", self.smtp_failed, recipients=[p.username for p in people])
            return
        if refused:
            log.warning("the mail server refused %s for escalation %s/%s", ", ".join(refused),
                        escalation.registration_number, escalation.level)
            self._failed(escalation, "email", "refused by the mail server", recipients=sorted(refused))

    def _send_mail(self, escalation: Escalation, people: list[Recipient]) -> list[str]:
        s = self.settings
        timeout = s.smtp_timeout
        if s.smtp_tls == "ssl":
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=timeout)
        refused: list[str] = []
        with smtp:
            if s.smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
            for person in people:
                message = EmailMessage()
                message["From"] = s.smtp_from
                message["To"] = person.email
                message["Subject"] = escalation.subject(person.language, self.zone)
                message["Date"] = formatdate(escalation.at.timestamp(), usegmt=True)
                message["Message-ID"] = make_msgid(domain="alur")
                message.set_content(escalation.messages.get(person.username)
                                    or escalation.text(person.language, self.zone))
                try:
                    smtp.send_message(message)
                except smtplib.SMTPRecipientsRefused:
                    refused.append(person.username)
        return refused

    # --- webhook ---
    def _webhook(self, escalation: Escalation) -> None:
        url = escalation.webhook
        if not url:
            return
        if url in self.failed_urls:
            self._failed(escalation, "webhook", f"not sent: this address failed earlier in this pass "
                         f"({self.failed_urls[url]})", url=url)
            return
        if not url.lower().startswith(("http://", "https://")):
            self._failed(escalation, "webhook", "not an http(s) address", url=url)
            return
        body = json.dumps(escalation.webhook_body(self.zone)).encode("utf-8")
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "Alur-escalation/1"})
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:
                response.read(65536)
        except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts, a malformed URL
            self.failed_urls[url] = _describe(exc)
            log.warning("webhook %s of escalation %s/%s failed: %s", url, escalation.registration_number,
                        escalation.level, self.failed_urls[url])
            self._failed(escalation, "webhook", self.failed_urls[url], url=url)

    # --- recording a failure ---
    def _failed(self, escalation: Escalation, channel: str, error: str, **detail) -> None:
        try:
            with self.engine.db.write() as s:
                store.audit(s, self.engine.now(), f"case.{channel}_failed", case_id=escalation.case_id,
                            level=escalation.level, error=error[:500], **detail)
        except Exception:  # the audit row is a courtesy; the failure is in the log already
            log.exception("could not record the %s failure of case %s", channel, escalation.case_id)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"{type(exc.reason).__name__}: {exc.reason}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
