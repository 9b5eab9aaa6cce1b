"""SLA escalations: at-risk and breach notices, once each, in inboxes, by email and webhook.

The clock is injected: cases start Monday 08:00 WIT on a 24-hour, round-the-clock limit, so the
default at-risk share (75%) is reached at 02:00 on Tuesday and the deadline is Tuesday 08:00.
"""
from __future__ import annotations

import json
import socket
import socketserver
import threading
import uuid
from email import message_from_string, policy
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from conftest import MONDAY_MORNING, POSTGRES_URL, add_staff, csrf_of, fixture_bytes, sign_in
from workflow_engine import BpmnValidationError, Database, Engine, InvalidState, Settings
from workflow_engine.escalation import head_lanes

HOUR = timedelta(hours=1)
RWK_PREFIX = '<camunda:property name="sop.kodeRegistrasi" value="RWK" />'


# --- helpers -------------------------------------------------------------------------------------
def sop(engine, **props) -> str:
    """Deploy the rework-loop SOP (Front Office check, applicant-side fix) with extra process properties.

    Keyword names use _ for the dot: sla_eskalasiPada="0.5".
    """
    xml = fixture_bytes("rework_loop.bpmn").decode()
    extra = "".join(f'<camunda:property name="{k.replace("_", ".", 1)}" value="{v}" />'
                    for k, v in props.items())
    xml = xml.replace(RWK_PREFIX, RWK_PREFIX + extra)
    return engine.deploy(xml.encode(), "rework_loop.bpmn", author="test").key


def office(engine):
    """Heads and staff: two Kepala Bidang, one Kepala Dinas, a manager, and people who must not hear."""
    add_staff(engine, "fo", ["Front Office"])
    add_staff(engine, "kabid", ["Kepala Bidang"])
    add_staff(engine, "kabid2", ["Kepala Bidang", "Back Office"])
    add_staff(engine, "kadin", ["Kepala Dinas"])
    add_staff(engine, "pimpinan", [], role="manager")
    add_staff(engine, "admin", ["Kepala Bidang", "Kepala Dinas"], role="admin")
    add_staff(engine, "analis", [], role="analyst")
    add_staff(engine, "pensiun", ["Kepala Bidang", "Kepala Dinas"])
    engine.update_user("pensiun", active=False)


def notified(engine, case_id=None) -> dict[str, list[str]]:
    """username -> levels of their notifications (of one case, if given)."""
    found = {}
    for user in [u["username"] for u in engine.users()]:
        levels = [n["level"] for n in engine.notifications(user)
                  if case_id is None or n["case_id"] == case_id]
        if levels:
            found[user] = sorted(levels)
    return found


def escalated_events(engine, case_id) -> list[dict]:
    with engine.db.read() as s:
        from workflow_engine import store
        return [e.detail for e in store.audit_of_case(s, case_id) if e.action == "case.escalated"]


def audit_actions(engine, case_id) -> list[str]:
    with engine.db.read() as s:
        from workflow_engine import store
        return [e.action for e in store.audit_of_case(s, case_id)]


def ready_task(engine, case_id) -> int:
    return next(t["id"] for t in engine.case(case_id)["tasks"] if t["state"] == "ready")


@pytest.fixture
def rework(engine):
    office(engine)
    return sop(engine)


# --- the two levels --------------------------------------------------------------------------------
def test_at_risk_notifies_the_lane_head_once_before_the_deadline(engine, clock, rework):
    case_id = engine.start_case(rework, actor="fo")
    revision = engine.case(case_id)["revision"]
    clock.advance(hours=17, minutes=59)
    assert engine.run_escalations() == 0
    assert notified(engine) == {}

    clock.advance(minutes=1)  # 18 of 24 hours used
    assert engine.run_escalations() == 1
    assert engine.run_escalations() == 0  # fires once
    clock.advance(minutes=30)
    assert engine.run_escalations() == 0
    assert notified(engine) == {"kabid": ["at_risk"], "kabid2": ["at_risk"]}

    view = engine.case(case_id)
    notice = engine.notifications("kabid")[0]
    assert notice["registration_number"] == view["registration_number"]
    assert notice["created_at"] < view["deadline"]  # the escalation came before the deadline
    assert view["registration_number"] in notice["message"] and "75%" in notice["message"]
    assert "Periksa (Front Office)" in notice["message"]
    # The escalation does not touch the revision: staff working on the case see no conflict.
    assert view["revision"] == revision
    events = escalated_events(engine, case_id)
    assert [e["level"] for e in events] == ["at_risk"]
    assert events[0]["recipients"] == ["kabid", "kabid2"] and events[0]["lanes"] == ["Kepala Bidang"]
    engine.complete(ready_task(engine, case_id), user="fo", data={"hasil": "selesai"})
    assert engine.case(case_id)["status"] == "completed"


def test_breach_notifies_the_head_of_office_and_managers_once(engine, clock, rework):
    case_id = engine.start_case(rework, actor="fo")
    clock.advance(hours=18)
    assert engine.run_escalations() == 1
    clock.set(MONDAY_MORNING + 24 * HOUR)  # at the deadline: not yet past it
    assert engine.run_escalations() == 0
    clock.advance(seconds=1)
    assert engine.run_escalations() == 1
    assert engine.run_escalations() == 0
    clock.advance(hours=5)
    assert engine.run_escalations() == 0
    assert notified(engine) == {"kabid": ["at_risk"], "kabid2": ["at_risk"], "kadin": ["breached"],
                                "pimpinan": ["breached"]}
    events = escalated_events(engine, case_id)
    assert [(e["level"], e["recipients"]) for e in events] == [
        ("at_risk", ["kabid", "kabid2"]), ("breached", ["kadin", "pimpinan"])]
    assert "melewati tenggat" in engine.notifications("kadin")[0]["message"]


def test_a_worker_that_was_off_fires_both_levels_at_once(engine, clock, rework):
    case_id = engine.start_case(rework, actor="fo")
    clock.advance(hours=30)
    assert engine.run_escalations() == 2
    assert engine.run_escalations() == 0
    assert set(notified(engine, case_id)) == {"kabid", "kabid2", "kadin", "pimpinan"}


def test_practice_cases_never_escalate(engine, clock, rework):
    engine.start_case(rework, actor="fo", practice=True)
    clock.advance(hours=40)
    assert engine.run_escalations() == 0
    assert notified(engine) == {}


def test_finished_and_cancelled_cases_do_not_escalate(engine, clock, rework):
    done = engine.start_case(rework, actor="fo")
    engine.complete(ready_task(engine, done), user="fo", data={"hasil": "selesai"})
    stopped = engine.start_case(rework, actor="fo")
    engine.cancel(stopped, user="fo")
    clock.advance(hours=30)
    assert engine.run_escalations() == 0


def test_a_paused_case_does_not_escalate_while_paused(engine, clock, rework):
    case_id = engine.start_case(rework, actor="fo")
    clock.advance(hours=2)
    engine.complete(ready_task(engine, case_id), user="fo", data={"hasil": "ulang"})  # to the applicant
    first_deadline = engine.case(case_id)["deadline"]
    clock.advance(hours=30)  # the applicant takes 30 hours: the clock stands still
    assert engine.case(case_id)["sla"]["paused"] is True
    assert engine.run_escalations() == 0
    engine.add_user("pemohon", role="staff", lanes=["Pemohon"], password_hash="x")
    engine.complete(ready_task(engine, case_id), user="pemohon")
    view = engine.case(case_id)
    assert view["deadline"] > first_deadline  # the deadline moved by the paused time
    assert abs(view["sla"]["used_seconds"] - 2 * 3600) < 1
    assert engine.run_escalations() == 0
    clock.advance(hours=15, minutes=59)  # 17:59 used
    assert engine.run_escalations() == 0
    clock.advance(minutes=1)
    assert engine.run_escalations() == 1
    assert notified(engine) == {"kabid": ["at_risk"], "kabid2": ["at_risk"]}


def test_a_pause_that_opens_after_the_threshold_holds_the_escalation(engine, clock, rework):
    """A case at 80% handed to the applicant before any worker ran is not escalated while paused."""
    case_id = engine.start_case(rework, actor="fo")
    clock.advance(hours=19)
    engine.complete(ready_task(engine, case_id), user="fo", data={"hasil": "ulang"})
    clock.advance(hours=1)
    assert engine.run_escalations() == 0
    engine.add_user("pemohon", role="staff", lanes=["Pemohon"], password_hash="x")
    engine.complete(ready_task(engine, case_id), user="pemohon")
    assert engine.run_escalations() == 1


# --- configuration -------------------------------------------------------------------------------
def test_the_sop_sets_its_own_share(engine, clock):
    office(engine)
    key = sop(engine, sla_eskalasiPada="50%", sla_webhook="http://127.0.0.1:9/x")
    info = engine.process_info(key)
    assert info["escalate_share"] == 0.5 and info["webhook"] == "http://127.0.0.1:9/x"
    engine.start_case(key, actor="fo")
    clock.advance(hours=11, minutes=59)
    assert engine.run_escalations() == 0
    clock.advance(minutes=1)
    assert engine.run_escalations() == 1


@pytest.mark.parametrize("value", ["1.5", "0", "banyak", "150%"])
def test_a_bad_share_is_an_error(engine, value):
    xml = fixture_bytes("rework_loop.bpmn").decode().replace(
        RWK_PREFIX, RWK_PREFIX + f'<camunda:property name="sla.eskalasiPada" value="{value}" />')
    with pytest.raises(BpmnValidationError, match="sla.eskalasiPada"):
        engine.deploy(xml.encode(), "rework_loop.bpmn")


def test_a_webhook_must_be_http(engine):
    xml = fixture_bytes("rework_loop.bpmn").decode().replace(
        RWK_PREFIX, RWK_PREFIX + '<camunda:property name="sla.webhook" value="file:///etc/passwd" />')
    with pytest.raises(BpmnValidationError, match="sla.webhook"):
        engine.deploy(xml.encode(), "rework_loop.bpmn")


def test_head_lane_mapping():
    assert head_lanes("Kepala Bidang", ["Front Office", "Back Office"]) == ["Kepala Bidang"]
    mapping = "Front Office=Kepala Seksi Pelayanan; Tim Teknis = Kepala Bidang Teknis; *=Kepala Bidang"
    assert head_lanes(mapping, ["Front Office"]) == ["Kepala Seksi Pelayanan"]
    assert head_lanes(mapping, ["Tim Teknis", "Back Office"]) == ["Kepala Bidang", "Kepala Bidang Teknis"]
    assert head_lanes(mapping, []) == ["Kepala Bidang"]  # no open task (a timer): the default head
    assert head_lanes("Front Office=Kepala Seksi", ["Back Office"]) == []


def test_escalate_to_and_head_of_office_come_from_settings(database_url, clock):
    settings = Settings(database_url=database_url,
                        escalate_to="Front Office=Kepala Seksi; *=Kepala Bidang",
                        head_of_office_lane="Sekretaris")
    db = Database(database_url)
    try:
        engine = Engine(db, clock, settings)
        office(engine)
        add_staff(engine, "kasi", ["Kepala Seksi"])
        add_staff(engine, "sekretaris", ["Sekretaris"])
        engine.start_case(sop(engine), actor="fo")
        clock.advance(hours=25)
        assert engine.run_escalations() == 2
        assert notified(engine) == {"kasi": ["at_risk"], "sekretaris": ["breached"], "pimpinan": ["breached"]}
    finally:
        db.dispose()


def test_settings_from_env():
    settings = Settings.from_env({"ALUR_ESCALATE_TO": "Kabid", "ALUR_HEAD_OF_OFFICE_LANE": "Kadis",
                                  "ALUR_SMTP_HOST": "mail.local", "ALUR_SMTP_PORT": "587",
                                  "ALUR_SMTP_FROM": "alur@dinas.go.id", "ALUR_SMTP_USER": "u",
                                  "ALUR_SMTP_PASSWORD": "p", "ALUR_SMTP_TLS": "STARTTLS"})
    assert (settings.escalate_to, settings.head_of_office_lane) == ("Kabid", "Kadis")
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_from) == ("mail.local", 587, "alur@dinas.go.id")
    assert (settings.smtp_user, settings.smtp_password, settings.smtp_tls) == ("u", "p", "starttls")
    assert "smtp_password" not in repr(settings)
    off = Settings.from_env({})
    assert off.smtp_host is None and off.escalate_to == "Kepala Bidang" and off.head_of_office_lane == "Kepala Dinas"


def test_email_is_settable_and_checked(engine):
    add_staff(engine, "kabid", ["Kepala Bidang"])
    engine.update_user("kabid", email=" kabid@dinas.go.id ")
    assert next(u for u in engine.users() if u["username"] == "kabid")["email"] == "kabid@dinas.go.id"
    engine.update_user("kabid", email="")
    assert next(u for u in engine.users() if u["username"] == "kabid")["email"] is None
    for bad in ("kabid", "kabid@", "a b@c.d", "x@localhost"):
        with pytest.raises(InvalidState):
            engine.update_user("kabid", email=bad)


# --- inboxes ----------------------------------------------------------------------------------------
def test_notifications_and_mark_read(engine, clock, rework):
    first = engine.start_case(rework, actor="fo")
    clock.advance(hours=1)
    second = engine.start_case(rework, actor="fo")
    clock.advance(hours=19)
    assert engine.run_escalations() == 2
    notices = engine.notifications("kabid")
    assert [n["case_id"] for n in notices] == [second, first]  # newest first
    assert all(n["read_at"] is None for n in notices)
    assert engine.mark_read("kadin", [notices[0]["id"]]) == 0  # not theirs
    assert engine.mark_read("kabid", [notices[0]["id"]]) == 1
    assert engine.mark_read("kabid", [notices[0]["id"]]) == 0
    assert len(engine.notifications("kabid", unread_only=True)) == 1
    assert len(engine.notifications("kabid2", unread_only=True)) == 2  # one person's read is theirs
    assert engine.mark_read("kabid") == 1
    assert engine.notifications("kabid", unread_only=True) == []
    assert len(engine.notifications("kabid")) == 2


def test_the_head_may_open_the_escalated_case(engine, clock, rework):
    case_id = engine.start_case(rework, actor="fo")
    assert not engine.may_see_case("kabid", case_id)
    clock.advance(hours=18)
    engine.run_escalations()
    assert engine.may_see_case("kabid", case_id)
    assert not engine.may_see_case("kadin", case_id)


def test_inbox_shows_notifications_and_marks_them_read(web, engine, clock, deploy):
    deploy("linear3.bpmn")
    case_id = engine.start_case("linear3", actor="fo")
    number = engine.case(case_id)["registration_number"]
    clock.advance(hours=18)
    assert engine.run_escalations() == 1
    client = sign_in(web, "kabid")
    page = client.get("/tasks").get_data(as_text=True)
    assert "Pemberitahuan" in page and f'href="/cases/{number}"' in page
    assert "sudah memakai 75% dari batas waktu" in page
    assert client.get(f"/cases/{number}").status_code == 200
    notice = engine.notifications("kabid")[0]
    assert client.post("/notifications/read", data={"id": notice["id"]}).status_code == 400  # no CSRF
    assert engine.notifications("kabid", unread_only=True)
    # Someone else cannot mark kabid's notification read.
    other = sign_in(web, "kadin")
    token = csrf_of(other.get("/tasks").get_data(as_text=True))
    other.post("/notifications/read", data={"id": notice["id"], "csrf_token": token})
    assert engine.notifications("kabid", unread_only=True)
    token = csrf_of(page)
    response = client.post("/notifications/read", data={"id": notice["id"], "csrf_token": token,
                                                         "next": "/tasks"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks")
    assert engine.notifications("kabid", unread_only=True) == []
    page = client.get("/tasks").get_data(as_text=True)
    assert "Pemberitahuan ditandai sudah dibaca." in page
    assert "sudah memakai 75%" not in page


def test_inbox_mark_all_read(web, engine, clock, deploy):
    deploy("linear3.bpmn")
    engine.start_case("linear3", actor="fo")
    clock.advance(hours=30)
    assert engine.run_escalations() == 2
    client = sign_in(web, "pimpinan")
    page = client.get("/tasks?lang=en").get_data(as_text=True)
    assert "melewati tenggat" in page
    client.post("/notifications/read", data={"all": "1", "csrf_token": csrf_of(page)})
    assert engine.notifications("pimpinan", unread_only=True) == []
    assert engine.notifications("kadin", unread_only=True)


# --- email --------------------------------------------------------------------------------------------
class SmtpSink:
    """A minimal SMTP server on 127.0.0.1 that keeps what it is sent: (from, [to], message text)."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], str]] = []
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write((line + "\r\n").encode())

            def handle(self):
                self.reply("220 sink ESMTP")
                sender, recipients = "", []
                while True:
                    line = self.rfile.readline().decode(errors="replace").rstrip("\r\n")
                    if not line:
                        return
                    verb = line.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 sink")
                    elif verb == "MAIL":
                        sender, recipients = line.split(":", 1)[1].strip().strip("<>"), []
                        self.reply("250 ok")
                    elif verb == "RCPT":
                        recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 ok")
                    elif verb == "DATA":
                        self.reply("354 go on")
                        lines = []
                        while True:
                            data = self.rfile.readline().decode(errors="replace")
                            if data.rstrip("\r\n") == ".":
                                break
                            lines.append(data)
                        sink.messages.append((sender, recipients, "".join(lines)))
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 ok")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def engine_with(database_url, clock, **settings) -> Engine:
    return Engine(Database(database_url), clock, Settings(database_url=database_url, **settings))


def test_email_goes_through_smtp(database_url, clock):
    with SmtpSink() as sink:
        engine = engine_with(database_url, clock, smtp_host="127.0.0.1", smtp_port=sink.port,
                             smtp_from="alur@dinas.go.id")
        try:
            office(engine)
            engine.update_user("kabid", email="kabid@dinas.go.id")
            engine.update_user("kabid2", email="kabid2@dinas.go.id", language="en")
            case_id = engine.start_case(sop(engine), actor="fo")
            clock.advance(hours=18)
            assert engine.run_escalations() == 1
        finally:
            engine.db.dispose()
    number = engine.case(case_id)["registration_number"]
    assert sorted(to for _, (to,), _ in sink.messages) == ["kabid2@dinas.go.id", "kabid@dinas.go.id"]
    by_to = {to[0]: message_from_string(body, policy=policy.default) for _, to, body in sink.messages}
    assert all(sender == "alur@dinas.go.id" for sender, _, _ in sink.messages)
    assert by_to["kabid@dinas.go.id"]["Subject"] == f"Alur: berkas {number} berisiko terlambat"
    assert by_to["kabid2@dinas.go.id"]["Subject"] == f"Alur: case {number} is at risk"
    assert "has used 75% of its service limit" in by_to["kabid2@dinas.go.id"].get_content()
    assert "sudah memakai 75% dari batas waktu" in by_to["kabid@dinas.go.id"].get_content()
    assert "case.email_failed" not in audit_actions(engine, case_id)


def test_a_dead_mail_server_loses_no_escalation(database_url, clock):
    engine = engine_with(database_url, clock, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_timeout=2)
    try:
        office(engine)
        engine.update_user("kabid", email="kabid@dinas.go.id")
        first = engine.start_case(sop(engine), actor="fo")
        second = engine.start_case(sop(engine), actor="fo")
        clock.advance(hours=18)
        assert engine.run_escalations() == 2
        assert engine.run_escalations() == 0
        assert notified(engine) == {"kabid": ["at_risk", "at_risk"], "kabid2": ["at_risk", "at_risk"]}
        for case_id in (first, second):
            actions = audit_actions(engine, case_id)
            assert actions.count("case.escalated") == 1 and actions.count("case.email_failed") == 1
    finally:
        engine.db.dispose()


# --- webhook ------------------------------------------------------------------------------------------
class WebhookStandIn:
    """An HTTP server on 127.0.0.1 that records JSON POSTs and answers with `status`."""

    def __init__(self, status: int = 204):
        self.received: list[dict] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                stand_in.received.append({"path": self.path, "type": self.headers.get("Content-Type"),
                                          "body": json.loads(self.rfile.read(length))})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alur/eskalasi"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_the_webhook_receives_json(engine, clock):
    office(engine)
    with WebhookStandIn() as hook:
        key = sop(engine, sla_webhook=hook.url)
        case_id = engine.start_case(key, actor="fo")
        clock.advance(hours=18)
        assert engine.run_escalations() == 1
        clock.advance(hours=7)
        assert engine.run_escalations() == 1
        assert engine.run_escalations() == 0
    view = engine.case(case_id)
    assert [r["path"] for r in hook.received] == ["/alur/eskalasi"] * 2
    assert hook.received[0]["type"] == "application/json"
    at_risk, breached = (r["body"] for r in hook.received)
    assert at_risk["case"] == case_id and at_risk["registration_number"] == view["registration_number"]
    assert (at_risk["level"], at_risk["sla_state"]) == ("at_risk", "at_risk")
    assert (breached["level"], breached["sla_state"]) == ("breached", "breached")
    assert at_risk["deadline"] == view["deadline"]
    assert "case.webhook_failed" not in audit_actions(engine, case_id)


@pytest.mark.parametrize("failure", ["refused", "http_500"])
def test_a_failing_webhook_loses_no_escalation(engine, clock, failure):
    office(engine)
    hook = WebhookStandIn(status=500)
    url = hook.url if failure == "http_500" else f"http://127.0.0.1:{free_port()}/x"
    with hook:
        key = sop(engine, sla_webhook=url)
        cases = [engine.start_case(key, actor="fo") for _ in range(3)]
        clock.advance(hours=18)
        assert engine.run_escalations() == 3
        assert engine.run_escalations() == 0
    # One attempt per pass and URL: a receiver that is down is not hammered.
    assert len(hook.received) == (1 if failure == "http_500" else 0)
    for case_id in cases:
        actions = audit_actions(engine, case_id)
        assert actions.count("case.escalated") == 1 and actions.count("case.webhook_failed") == 1
    assert len(engine.notifications("kabid")) == 3


# --- several workers ----------------------------------------------------------------------------------
def test_two_engines_racing_notify_once(database_url, clock, rework, engine):
    cases = [engine.start_case(rework, actor="fo") for _ in range(12)]
    clock.advance(hours=30)
    other = Engine(Database(database_url), clock, engine.settings)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run(eng):
        try:
            barrier.wait()
            for _ in range(3):
                results.append(eng.run_escalations())
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in (engine, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    other.db.dispose()
    assert errors == []
    assert sum(results) == 2 * len(cases)
    for case_id in cases:
        assert [e["level"] for e in escalated_events(engine, case_id)] == ["at_risk", "breached"]
    assert {user: len(levels) for user, levels in notified(engine).items()} == {
        "kabid": 12, "kabid2": 12, "kadin": 12, "pimpinan": 12}


# --- the migration ------------------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need ALUR_TEST_POSTGRES_URL (`.ci/run` sets it)")
    admin = create_engine(make_url(POSTGRES_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"alur_m_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_migration_upgrades_a_database_with_data(empty_url, clock):
    db = Database(empty_url)
    db.upgrade("0002")
    old = Engine(db, clock, Settings(database_url=empty_url))
    old.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn")  # process_versions did not change
    with db.write_engine.begin() as conn:
        vid = conn.execute(text("SELECT id FROM process_versions")).scalar()
        conn.execute(text(
            "INSERT INTO users (username, password_hash, role, lanes, active, created_at) VALUES "
            "('kabid', 'x', 'staff', '[\"Kepala Bidang\"]', true, '2026-11-29 00:00:00'),"
            "('fo', 'x', 'staff', '[\"Front Office\"]', true, '2026-11-29 00:00:00')"))
        # A running case registered at 08:00 WIT on Monday (23:00 UTC on Sunday), from before 0003.
        conn.execute(text(
            "INSERT INTO cases (registration_number, process_version_id, process_key, status, state_json,"
            " revision, data, started_at, started_by, practice, clock_started_at, deadline_at) VALUES "
            "('LIN-2026-000001', :vid, 'linear3', 'running', '{}', 3, '{}', '2026-11-29 23:00:00', 'fo',"
            " false, '2026-11-29 23:00:00', '2026-11-30 23:00:00')"), {"vid": vid})
        case_id = conn.execute(text("SELECT id FROM cases")).scalar()
        conn.execute(text(
            "INSERT INTO tasks (case_id, spiff_task_id, step_id, name, lane, state, ready_at, pauses_clock) "
            "VALUES (:case, 'abc', 'verifikasi', 'Verifikasi berkas', 'Back Office', 'ready',"
            " '2026-11-29 23:00:00', false)"), {"case": case_id})
    db.upgrade()
    try:
        engine = Engine(db, clock, Settings(database_url=empty_url))
        view = engine.case("LIN-2026-000001")
        assert view["revision"] == 3 and view["status"] == "running"
        assert next(u for u in engine.users() if u["username"] == "kabid")["email"] is None
        clock.set(MONDAY_MORNING + 18 * HOUR)
        assert engine.run_escalations() == 1  # SQL and the case clock only: no workflow is loaded
        assert [n["registration_number"] for n in engine.notifications("kabid")] == ["LIN-2026-000001"]
        assert "Verifikasi berkas (Back Office)" in engine.notifications("kabid")[0]["message"]
        assert engine.case("LIN-2026-000001")["revision"] == 3
    finally:
        db.dispose()
