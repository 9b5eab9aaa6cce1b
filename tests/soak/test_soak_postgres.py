"""Soak: a province in miniature on one PostgreSQL database, under load, with processes killed.

Four `alur serve --no-worker` processes and two `alur worker` processes run as real OS processes.
Clients sign in through /login and complete tasks through the task page's form, each POST to a
random web process, while timers of a few seconds come due and are fired by the workers. Two
clients now and then go for the same task at once. Mid-run one web process and one worker are
killed with SIGKILL (while they hold an open transaction, when we catch them in one) and replaced.

Afterwards the database must show: no completion lost or doubled, no timer fired twice or missed,
every case's open task rows equal to the READY user tasks of its workflow, and every case able to
go on to its end. The figures (throughput, latency percentiles, conflicts, lost connections,
timers, kills) are printed and written to tests/soak/artifacts/report.json.

Bounded: the traffic stops when every case is done or after SOAK_SECONDS; every process is stopped
(SIGTERM, then SIGKILL of its process group) and the database dropped, whatever happens.
"""
from __future__ import annotations

import http.client
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from conftest import FIXTURES, POSTGRES_URL, ROOT

pytestmark = [
    pytest.mark.soak,
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="the soak test runs on PostgreSQL only: set "
                       "ALUR_TEST_POSTGRES_URL to a role that may create databases (`.ci/run` does)"),
]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# --- the size of the run (environment overrides for a longer soak by hand) -----------------------
WEB_PROCESSES = 4
WORKERS = 2
PARALLEL_CASES = int(os.environ.get("ALUR_SOAK_PARALLEL_CASES", "240"))
TIMER_WAVES = int(os.environ.get("ALUR_SOAK_TIMER_WAVES", "12"))
TIMER_WAVE_SIZE = 10
TIMER_WAVE_EVERY = 3.0       # seconds between two waves of timer cases
TIMER_SECONDS = 4            # the boundary timer of the timer SOP ("PT4S")
SOAK_SECONDS = float(os.environ.get("ALUR_SOAK_SECONDS", "120"))  # the traffic's time bound
HTTP_TIMEOUT = 30.0
PASSWORD = "rahasia-soak"
MAX_FIRE_DELAY = 20.0        # seconds after its due time by which a timer must have fired

# Lanes of the eight clerks; two duellists (who go for the same task at once) and the closing
# admin act in every lane.
CLIENT_LANES = [["Back Office"], ["Back Office"], ["Back Office"], ["Tim Teknis"], ["Tim Teknis"],
                ["Kepala Dinas"], ["Kepala Bidang"], ["Kepala Bidang", "Kepala Dinas"]]
ALL_LANES = ["Back Office", "Tim Teknis", "Kepala Bidang", "Kepala Dinas"]
# The form fields each step asks for; the values posted name the user and the task.
FIELDS = {"tunggu_rekomendasi": ["nomor_rekomendasi"], "eskalasi_rekomendasi": ["catatan_eskalasi"],
          "terbitkan_izin": [], "cek_administrasi": ["catatan_administrasi"],
          "survei_lapangan": ["catatan_survei"], "tanda_tangan": []}
FINAL_STEP = {"boundary_timer": "terbitkan_izin", "parallel": "tanda_tangan"}
# What the clerks do with the timer case's first task: complete it at once, go for it just as its
# timer comes due (a race with the workers), or leave it for the timer.
TIMER_MODES = ("clerk", "race", "timer")
HELD_PER_KIND = {"parallel": 4, "boundary_timer": 3}  # cases left at their last step for the end
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def best_window(moments, seconds: float) -> float:
    """The most events per second in any `seconds`-long window (the rate while work was queued)."""
    moments, best, first = sorted(moments), 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= seconds:
            first += 1
        best = max(best, last - first + 1)
    return best / seconds


def percentile(values, p: float):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def free_port(taken: set[int]) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in taken:
            taken.add(port)
            return port


# --- the processes --------------------------------------------------------------------------------
@dataclass
class Proc:
    name: str
    role: str                       # "web" or "worker"
    popen: subprocess.Popen
    log: Path
    port: int | None = None

    @property
    def app_name(self) -> str:      # application_name of its PostgreSQL sessions (PGAPPNAME)
        return f"soak-{self.name}"


class Office:
    """Starts `alur` processes in their own process groups and makes sure none outlives the test."""

    def __init__(self, env: dict, logs: Path):
        self.env = env
        self.logs = logs
        self.procs: list[Proc] = []
        self.ports: set[int] = set()
        self._count = Counter()

    def _spawn(self, role: str, args: list[str], port: int | None = None) -> Proc:
        name = f"{role}-{self._count[role]}"
        self._count[role] += 1
        log = self.logs / f"{name}.log"
        env = dict(self.env, PGAPPNAME=f"soak-{name}")
        with log.open("wb") as out:
            popen = subprocess.Popen([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=env,
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        proc = Proc(name, role, popen, log, port)
        self.procs.append(proc)
        return proc

    def start_web(self) -> Proc:
        port = free_port(self.ports)
        return self._spawn("web", ["serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)], port)

    def start_worker(self) -> Proc:
        return self._spawn("worker", ["worker", "--max-sleep", "1"])

    def wait_ready(self, proc: Proc, timeout: float = 90.0) -> None:
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            if proc.popen.poll() is not None:
                raise AssertionError(f"{proc.name} exited with {proc.popen.returncode}:\n{self.tail(proc)}")
            if proc.role == "worker":
                if "worker started" in proc.log.read_text(errors="replace"):
                    return
            else:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=5)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        return
                except (OSError, http.client.HTTPException):
                    pass
                finally:
                    conn.close()
            time.sleep(0.1)
        raise AssertionError(f"{proc.name} was not ready within {timeout:.0f} s:\n{self.tail(proc)}")

    @staticmethod
    def _signal(proc: Proc, sig: int) -> None:
        """Signal the process group of `proc`, only while its process is not reaped: its id (the
        group's id, as it leads its own session) cannot have gone to another process meanwhile."""
        if proc.popen.poll() is None:
            try:
                os.killpg(proc.popen.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self, proc: Proc) -> None:
        """SIGKILL: no handler runs, its open transactions are left to PostgreSQL to roll back."""
        self._signal(proc, signal.SIGKILL)
        proc.popen.wait(10)

    def stop_all(self, grace: float = 10.0) -> dict[str, int | None]:
        """SIGTERM every live process, SIGKILL what still runs after `grace`; returns exit codes."""
        for proc in self.procs:
            self._signal(proc, signal.SIGTERM)
        give_up = time.monotonic() + grace
        for proc in self.procs:
            try:
                proc.popen.wait(max(0.1, give_up - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.procs:
            self._signal(proc, signal.SIGKILL)
            proc.popen.wait(10)
        return {p.name: p.popen.returncode for p in self.procs}

    def tail(self, proc: Proc, lines: int = 40) -> str:
        try:
            return "\n".join(proc.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def alur(args: list[str], env: dict) -> str:
    done = subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert done.returncode == 0 and "Traceback" not in done.stderr, \
        f"alur {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


# --- the web processes as the clients see them -------------------------------------------------------
class Ports:
    """The web processes a client may send a request to (as a reverse proxy would know them)."""

    def __init__(self, ports):
        self._live = list(ports)
        self._lock = threading.Lock()

    def pick(self, avoid: int | None = None) -> int:
        with self._lock:
            choices = [p for p in self._live if p != avoid] or list(self._live)
            return random.choice(choices)

    def drop(self, port: int) -> None:
        with self._lock:
            if port in self._live and len(self._live) > 1:
                self._live.remove(port)

    def add(self, port: int) -> None:
        with self._lock:
            self._live.append(port)


LOST = (OSError, http.client.HTTPException)  # a broken connection: refused, reset, closed mid-answer


class Browser:
    """One person's cookie jar and plain HTTP/1.1 requests, a new connection each."""

    def __init__(self, username: str):
        self.username = username
        self.cookies: dict[str, str] = {}

    def request(self, port: int, method: str, path: str, form: dict | None = None):
        headers = {"User-Agent": "alur-soak/1", "Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            page = response.read().decode("utf-8", errors="replace")
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                value = rest.split(";", 1)[0]
                if value and "max-age=0" not in cookie.lower():
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
            return response.status, response.headers, page
        finally:
            conn.close()

    def sign_in(self, ports: Ports) -> None:
        for _ in range(5):
            port = ports.pick()
            try:
                status, _, page = self.request(port, "GET", "/login")
                token = CSRF.search(page).group(1)
                status, headers, page = self.request(port, "POST", "/login", {
                    "username": self.username, "password": PASSWORD, "csrf_token": token})
            except LOST as exc:
                if isinstance(exc, ConnectionRefusedError):
                    ports.drop(port)
                continue
            assert status == 302 and "/login" not in (headers.get("Location") or ""), \
                f"{self.username} could not sign in: {status} {page[:300]}"
            return
        raise AssertionError(f"{self.username} could not reach any web process to sign in")


# --- what happened ----------------------------------------------------------------------------------
@dataclass
class Record:
    """Every outcome, appended from many threads (list.append is atomic)."""

    ok: list = field(default_factory=list)          # (task_id, user, latency s, port, s into the run)
    conflicts: list = field(default_factory=list)   # (task_id, user, the row's state right after)
    lost: list = field(default_factory=list)        # (task_id, user, "get"|"post", port, error)
    stale: list = field(default_factory=list)       # (task_id, user): the page showed it closed already
    failures: list = field(default_factory=list)    # (task_id, user, status, excerpt)
    duels: list = field(default_factory=list)       # (task_id, outcome of one, outcome of the other)
    errors: list = field(default_factory=list)      # exceptions in the test's own threads
    kills: list = field(default_factory=list)


@dataclass
class Plan:
    """What a case is for: its SOP, its timer mode, whether it is held at its last step."""

    kind: str
    mode: str | None = None
    held: bool = False
    race_at: float = 0.0  # "race" mode: the age (s) of the first task at which the clerks go for it


def conflict_cause(user: str, state: str) -> str:
    """Why a POST answered 409, from the task row read right after it."""
    if state == f"completed:{user}":
        return "completed by the same user (a request whose connection broke)"
    return {"completed": "another user was first", "cancelled": "the timer was first",
            "ready": "the case changed at the same moment"}.get(state.split(":")[0], state)


# --- the run ----------------------------------------------------------------------------------------
class Soak:
    """The traffic, the timer waves and the faults against a running office."""

    def __init__(self, engine, sql, office: Office, webs: list[Proc], workers: list[Proc],
                 plan: dict[int, Plan]):
        self.engine, self.sql, self.office = engine, sql, office
        self.webs, self.workers, self.plan = webs, workers, plan
        self.ports = Ports(p.port for p in webs)
        self.record = Record()
        self.stop = threading.Event()
        self.duel_gate = threading.Barrier(2)
        self.duel_slot: list = [None]
        self.wave_due: list[float] = []  # monotonic moments at which each timer wave comes due
        self.began = time.monotonic()

    # --- choosing work, as a clerk looking at the inbox would ----------------------------------
    def ready_tasks(self, lanes) -> list[tuple[int, int, str]]:
        with self.sql.connect() as conn:
            rows = conn.execute(text(
                "SELECT id, case_id, step_id, EXTRACT(EPOCH FROM (now() - ready_at)) FROM tasks "
                "WHERE state = 'ready' AND lane = ANY(:lanes) ORDER BY id LIMIT 300"),
                {"lanes": list(lanes)}).all()
        wanted, urgent = [], []
        for task_id, case_id, step, age in rows:
            p = self.plan.get(case_id)
            if p is None or (p.held and step == FINAL_STEP[p.kind]):
                continue
            if step == "tunggu_rekomendasi" and p.mode == "timer":
                continue
            if step == "tunggu_rekomendasi" and p.mode == "race":
                if float(age) >= p.race_at:
                    urgent.append((task_id, case_id, step))  # go for it as the timer comes due
                continue
            wanted.append((task_id, case_id, step))
        return urgent or wanted

    def task_state(self, task_id: int) -> str:
        with self.sql.connect() as conn:
            state, by = conn.execute(text("SELECT state, completed_by FROM tasks WHERE id = :id"),
                                     {"id": task_id}).one()
        return f"{state}:{by}" if by else state

    # --- one task through the web ---------------------------------------------------------------
    def _lost(self, task_id: int, user: str, kind: str, port: int, exc: BaseException) -> None:
        self.record.lost.append((task_id, user, kind, port, repr(exc)))
        if isinstance(exc, ConnectionRefusedError):
            self.ports.drop(port)  # nobody listens there any more: the proxy takes it out

    def open_page(self, browser: Browser, task_id: int, avoid: int | None = None):
        """GET the task page from a random web process: (port, CSRF token); the token is None when
        the task is no longer open and False when the connection broke."""
        port = self.ports.pick(avoid)
        try:
            status, _, page = browser.request(port, "GET", f"/tasks/{task_id}")
        except LOST as exc:
            self._lost(task_id, browser.username, "get", port, exc)
            return port, False
        if status != 200:
            self.record.failures.append((task_id, browser.username, f"GET {status}", page[:300]))
            return port, None
        if f'action="/tasks/{task_id}"' not in page or 'value="complete"' not in page:
            self.record.stale.append((task_id, browser.username))
            return port, None
        return port, CSRF.search(page).group(1)

    def post_form(self, browser: Browser, task_id: int, step: str, token: str,
                  avoid: int | None = None) -> tuple[str, int]:
        """POST the filled-in form to a random web process; returns (outcome, port)."""
        user = browser.username
        form = {"csrf_token": token, "action": "complete", **{f: f"{user}/{task_id}" for f in FIELDS[step]}}
        port = self.ports.pick(avoid)
        started = time.monotonic()
        try:
            status, headers, page = browser.request(port, "POST", f"/tasks/{task_id}", form)
        except LOST as exc:
            self._lost(task_id, user, "post", port, exc)
            return "lost", port
        latency = time.monotonic() - started
        if status == 302 and "/login" not in (headers.get("Location") or ""):
            self.record.ok.append((task_id, user, latency, port, started - self.began))
            return "ok", port
        if status == 409:
            self.record.conflicts.append((task_id, user, self.task_state(task_id)))
            return "conflict", port
        self.record.failures.append((task_id, user, f"POST {status}", page[:500]))
        return f"failed {status}", port

    def complete_via_web(self, browser: Browser, task_id: int, step: str) -> None:
        avoid = None
        for _ in range(3):  # a broken connection is tried again on another web process
            port, token = self.open_page(browser, task_id, avoid)
            if token is None:
                return
            if token is not False:
                outcome, port = self.post_form(browser, task_id, step, token, avoid)
                if outcome != "lost":
                    return
            avoid = port

    # --- the threads ----------------------------------------------------------------------------
    def _guarded(self, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - reported by the test's first assertion
            self.record.errors.append(f"{threading.current_thread().name}: {exc!r}")
            self.stop.set()
            self.duel_gate.abort()

    def clerk(self, username: str, lanes) -> None:
        browser = Browser(username)
        browser.sign_in(self.ports)
        while not self.stop.is_set():
            tasks = self.ready_tasks(lanes)
            if not tasks:
                self.stop.wait(0.1)
                continue
            task_id, _, step = random.choice(tasks)
            self.complete_via_web(browser, task_id, step)

    def duellist(self, username: str, leader: bool) -> None:
        """Two of these go for the same task: both open its page, then both send the form at once."""
        browser = Browser(username)
        browser.sign_in(self.ports)
        slot, gate = self.duel_slot, self.duel_gate
        while not self.stop.is_set():
            if leader:
                tasks = self.ready_tasks(ALL_LANES)
                slot[0] = random.choice(tasks) if tasks else None
            try:
                gate.wait(HTTP_TIMEOUT)                  # both know the task
                chosen = slot[0]
                port = token = outcome = None
                if chosen is not None:
                    port, token = self.open_page(browser, chosen[0])
                gate.wait(HTTP_TIMEOUT)                  # both have its page open: send at once
                if token:
                    outcome, _ = self.post_form(browser, chosen[0], chosen[2], token, avoid=port)
                slot.append(outcome)
                gate.wait(HTTP_TIMEOUT)
            except threading.BrokenBarrierError:
                return
            if leader:
                results = slot[1:]
                del slot[1:]
                if chosen is not None:
                    self.record.duels.append((chosen[0], *results))
            self.stop.wait(0.3 if chosen is not None else 0.1)

    def starter(self) -> None:
        """Timer cases in waves, so that timers come due all through the run."""
        index = 0
        for wave in range(TIMER_WAVES):
            wave_start = time.monotonic()
            for _ in range(TIMER_WAVE_SIZE):
                case_id = self.engine.start_case("boundary_timer", actor="loket")
                # A racing clerk sends the form from a little before the due time to just after.
                self.plan[case_id] = Plan("boundary_timer", mode=TIMER_MODES[index % 3],
                                          held=index < HELD_PER_KIND["boundary_timer"],
                                          race_at=TIMER_SECONDS + random.uniform(-0.35, 0.1))
                index += 1
            self.wave_due.append(wave_start + TIMER_SECONDS)
            if wave < TIMER_WAVES - 1 and self.stop.wait(
                    max(0.0, wave_start + TIMER_WAVE_EVERY - time.monotonic())):
                return

    # --- the faults -----------------------------------------------------------------------------
    def open_transaction(self, app_name: str, writing: bool) -> dict | None:
        """What the sessions of `app_name` are doing, if one is in the middle of a transaction."""
        with self.sql.connect() as conn:
            rows = conn.execute(text(
                "SELECT state, query FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = :app AND xact_start IS NOT NULL "
                "AND state IN ('active', 'idle in transaction')"), {"app": app_name}).all()
        for state, query in rows:
            q = " ".join((query or "").split())
            # Writing: the engine's statements of a completion or a firing, not a page's reads.
            if not writing or re.match(r"(UPDATE|INSERT)\b", q) or "JOIN users" in q or "FOR UPDATE" in q:
                return {"state": state, "query": q[:100]}
        return None

    def kill_mid_work(self, proc: Proc, within: float, force: bool = True) -> bool:
        """SIGKILL `proc` as soon as it is caught in a writing transaction (looking for `within`
        seconds); if it is not caught, kill it anyway only when `force`. Returns whether it was killed."""
        caught = None
        started = time.monotonic()
        while caught is None and time.monotonic() - started < within and not self.stop.is_set():
            caught = self.open_transaction(proc.app_name, writing=True)
        if caught is None and not force:
            return False
        self.office.kill(proc)
        self.record.kills.append({"process": proc.name, "port": proc.port,
                                  "mid_transaction": caught is not None, "caught": caught,
                                  "exit_code": proc.popen.returncode,
                                  "at_second": round(time.monotonic() - self.began, 1)})
        return True

    def faults(self) -> None:
        # A web process, a few seconds into the traffic, while it completes a task.
        if self.stop.wait(4.0):
            return
        victim = self.webs[1]
        self.kill_mid_work(victim, within=6.0)
        self.stop.wait(2.0)  # meanwhile its port refuses connections: clients go elsewhere
        self.ports.drop(victim.port)
        replacement = self.office.start_web()
        self.office.wait_ready(replacement)
        self.ports.add(replacement.port)
        # A worker, as a wave of timers comes due and the workers fire them; the next wave is tried
        # when this one is fired before the worker is caught in a transaction.
        for wave in range(2, TIMER_WAVES):
            while len(self.wave_due) <= wave and not self.stop.is_set():
                self.stop.wait(0.1)
            if self.stop.wait(max(0.0, self.wave_due[wave] - time.monotonic())):
                return
            if self.kill_mid_work(self.workers[0], within=2.0, force=wave == TIMER_WAVES - 1):
                break
        self.office.wait_ready(self.office.start_worker())

    def cases_waiting(self) -> int:
        """Cases not yet where the traffic leaves them: completed, or held at their last step."""
        with self.sql.connect() as conn:
            rows = conn.execute(text(
                "SELECT c.id, c.status, array_remove(array_agg(t.step_id), NULL) FROM cases c "
                "LEFT JOIN tasks t ON t.case_id = c.id AND t.state = 'ready' GROUP BY c.id")).all()
        waiting = 0
        for case_id, status, steps in rows:
            p = self.plan.get(case_id)
            if status != "completed" and not (p and p.held and set(steps) == {FINAL_STEP[p.kind]}):
                waiting += 1
        return waiting

    def run(self, users: dict[str, list[str]]) -> None:
        """Traffic until every case is done (after the last wave and both kills) or SOAK_SECONDS."""
        self.began = time.monotonic()
        threads = []
        for name, lanes in users.items():
            if name.startswith("duel"):
                threads.append(threading.Thread(target=self._guarded, name=name,
                                                args=(self.duellist, name, name == "duel_a")))
            else:
                threads.append(threading.Thread(target=self._guarded, name=name,
                                                args=(self.clerk, name, lanes)))
        threads.append(threading.Thread(target=self._guarded, args=(self.starter,), name="starter"))
        fault_thread = threading.Thread(target=self._guarded, args=(self.faults,), name="faults")
        threads.append(fault_thread)
        for t in threads:
            t.daemon = True
            t.start()
        self.waiting = None
        try:
            while not self.stop.wait(0.5) and time.monotonic() - self.began < SOAK_SECONDS:
                if len(self.wave_due) == TIMER_WAVES and not fault_thread.is_alive():
                    self.waiting = self.cases_waiting()
                    if self.waiting == 0:
                        break
        finally:
            self.stop.set()
            self.duel_gate.abort()
            self.seconds = time.monotonic() - self.began
            for t in threads:
                t.join(HTTP_TIMEOUT + 10)
        assert not [t.name for t in threads if t.is_alive()], "client threads did not stop"


# --- the checks -------------------------------------------------------------------------------------
def check_completions(record: Record, tasks: dict, completions: Counter) -> list[int]:
    """(a) No completion lost, none doubled. Returns the tasks whose POST lost its connection yet
    committed."""
    ok_ids = Counter(task_id for task_id, *_ in record.ok)
    assert not [t for t, n in ok_ids.items() if n > 1], "a task was completed twice through the web"
    for task_id, user, *_ in record.ok:
        row = tasks[task_id]
        assert (row.state, row.completed_by) == ("completed", user), \
            f"task {task_id}: answered 302 to {user} but the row is {row.state} by {row.completed_by}"
        for f in FIELDS[row.step_id]:
            assert row.data.get(f) == f"{user}/{task_id}", f"task {task_id}: saved {row.data}"
    doubled = {t: n for t, n in completions.items() if n != 1}
    assert not doubled, f"tasks with more than one task.completed event: {doubled}"
    for task_id, row in tasks.items():
        assert (completions[task_id] == 1) == (row.state == "completed"), \
            f"task {task_id} is {row.state} with {completions[task_id]} completion event(s)"
    answered = {(t, u) for t, u, *_ in record.ok}
    lost_posts = {(t, u) for t, u, kind, *_ in record.lost if kind == "post"}
    unexplained = [(t, r.completed_by) for t, r in tasks.items()
                   if r.state == "completed" and (t, r.completed_by) not in answered | lost_posts]
    assert not unexplained, f"completed tasks whose user was never answered 302: {unexplained}"
    for task_id, *results in record.duels:
        assert results.count("ok") <= 1, f"both duellists completed task {task_id}: {results}"
    return sorted(t for t, u in lost_posts - answered
                  if tasks[t].state == "completed" and tasks[t].completed_by == u)


def check_timers(plan: dict[int, Plan], tasks: dict, fired: dict, end: datetime) -> tuple[list, Counter]:
    """(b) No timer fired twice, early, or not at all once due before `end` (when the workers were
    stopped, less a pass of grace). Returns the firing delays (s) and what became of each timer case."""
    timer_cases = {c: p for c, p in plan.items() if p.kind == "boundary_timer"}
    assert set(fired) <= set(timer_cases), "a case without a timer has a timers_fired event"
    delays, outcome = [], Counter()
    for case_id, p in timer_cases.items():
        steps = {r.step_id: r for r in tasks.values() if r.case_id == case_id}
        first = steps["tunggu_rekomendasi"]
        due = first.ready_at + timedelta(seconds=TIMER_SECONDS)
        times = fired.get(case_id, [])
        assert len(times) <= 1, f"case {case_id}: its timer fired {len(times)} times"
        if times:
            assert first.state == "cancelled" and "eskalasi_rekomendasi" in steps, \
                f"case {case_id}: its timer fired, yet its first task is {first.state}"
            assert times[0] >= due, f"case {case_id}: fired at {times[0]}, before {due}"
            delays.append((times[0] - due).total_seconds())
            outcome[f"{p.mode}: timer fired"] += 1
        elif first.state == "completed":
            assert "eskalasi_rekomendasi" not in steps, f"case {case_id}"
            outcome[f"{p.mode}: clerk first"] += 1
        else:
            assert due > end, f"case {case_id}: due at {due}, its task {first.state}, never fired"
            outcome[f"{p.mode}: open at the end"] += 1
    assert max(delays, default=0) < MAX_FIRE_DELAY, f"a timer fired {max(delays):.1f} s late"
    return delays, outcome


def check_rows_agree(engine, case_ids=None) -> int:
    """(c) Each case's ready task rows are the READY user tasks of its workflow; returns cases checked."""
    from SpiffWorkflow.util.task import TaskState

    from workflow_engine.models import Case, TaskRecord
    from workflow_engine.task_rows import next_timer

    checked = 0
    with engine.db.read() as s:
        query = s.query(Case)
        if case_ids is not None:
            query = query.filter(Case.id.in_(list(case_ids)))
        for case in query:
            spec, subprocess_specs, _, _ = engine.version(case.process_version_id, s)
            workflow = engine.codec.load_state(case.state_json, spec, subprocess_specs,
                                               engine._script_engine)
            ready = {str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
            rows = {r.spiff_task_id for r in s.query(TaskRecord).filter_by(case_id=case.id, state="ready")}
            assert ready == rows, f"case {case.id}: READY in the workflow {ready}, ready rows {rows}"
            if case.status == "completed":
                assert workflow.is_completed() and not rows, f"case {case.id}"
            else:
                assert case.status == "running" and not workflow.is_completed(), f"case {case.id}"
                assert case.next_timer_at == next_timer(workflow), f"case {case.id}"
            checked += 1
    return checked


def finish_through_the_engine(engine) -> list[int]:
    """(d) Every case can go on: complete what is left of each running case with the engine API."""
    with engine.db.read() as s:
        running = list(s.scalars(text("SELECT id FROM cases WHERE status = 'running' ORDER BY id")))
    for case_id in running:
        for _ in range(10):
            ready = engine.tasks(case_id=case_id)
            if not ready:
                break
            task = ready[0]
            engine.complete(task["id"], user="penutup", data={f: "penutup" for f in FIELDS[task["step_id"]]})
        assert engine.case(case_id, with_tasks=False)["status"] == "completed", f"case {case_id}"
    return running


# --- the test ---------------------------------------------------------------------------------------
@pytest.fixture
def soak_database():
    """A fresh, empty PostgreSQL database (its schema comes from `alur db upgrade`), dropped afterwards."""
    url = make_url(POSTGRES_URL)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"alur_soak_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_soak_web_and_workers_under_load_and_sigkill(soak_database, tmp_path):
    from workflow_engine import Database, Engine, Settings, SystemClock

    began = time.monotonic()
    url = soak_database
    logs = tmp_path / "logs"
    logs.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALUR_", "PG"))}
    env.update(ALUR_DATABASE_URL=url, ALUR_HOME=str(tmp_path / "home"), ALUR_PASSWORD=PASSWORD,
               ALUR_SECRET_KEY=uuid.uuid4().hex * 2, ALUR_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")

    # The office: schema, SOPs and people through the command line.
    alur(["db", "upgrade"], env)
    timer_sop = tmp_path / "boundary_timer.bpmn"
    timer_sop.write_text((FIXTURES / "boundary_timer.bpmn").read_text().replace(
        '"PT2H"', f'"PT{TIMER_SECONDS}S"'))
    assert f'"PT{TIMER_SECONDS}S"' in timer_sop.read_text()
    alur(["processes", "deploy", str(timer_sop), str(FIXTURES / "parallel.bpmn"), "--author", "soak"], env)
    users = {f"klien{i}": lanes for i, lanes in enumerate(CLIENT_LANES)}
    users.update(duel_a=ALL_LANES, duel_b=ALL_LANES)
    for name, lanes in users.items():
        alur(["users", "add", name, "--role", "staff", "--lanes", ",".join(lanes)], env)
    alur(["users", "add", "penutup", "--role", "admin"], env)

    engine = Engine(Database(url), SystemClock(), Settings(database_url=url))
    sql = create_engine(url, pool_size=12, max_overflow=4, isolation_level="AUTOCOMMIT")
    office = Office(env, logs)
    try:
        # Cases of the multi-step SOP up front; the timer cases come in waves during the run.
        plan = {}
        for i in range(PARALLEL_CASES):
            plan[engine.start_case("parallel", actor="loket")] = Plan(
                "parallel", held=i < HELD_PER_KIND["parallel"])
        try:
            webs = [office.start_web() for _ in range(WEB_PROCESSES)]
            workers = [office.start_worker() for _ in range(WORKERS)]
            for proc in webs + workers:
                office.wait_ready(proc)
            setup_seconds = time.monotonic() - began
            soak = Soak(engine, sql, office, webs, workers, plan)
            soak.run(users)
        finally:
            workers_stopped = datetime.now(timezone.utc)
            exit_codes = office.stop_all()
        record = soak.record

        # The run itself: no errors anywhere, both kills done, the other processes stopped cleanly.
        assert not record.errors, record.errors
        assert not record.failures, f"{len(record.failures)} request(s) failed: {record.failures[:5]}"
        troubled = [f"{p.name}:\n{office.tail(p)}" for p in office.procs
                    if re.search(r"Traceback|failed", p.log.read_text(errors="replace"))]
        assert not troubled, "errors in the logs of the processes:\n" + "\n\n".join(troubled)
        assert [k["process"] for k in record.kills] == ["web-1", "worker-0"], record.kills
        for p in office.procs:
            if p.role == "worker" and p.name != "worker-0":
                assert exit_codes[p.name] == 0, f"{p.name} did not stop cleanly:\n{office.tail(p)}"

        with sql.connect() as conn:
            tasks = {r.id: r for r in conn.execute(text(
                "SELECT id, case_id, step_id, state, completed_by, ready_at, data FROM tasks"))}
            completions = Counter(dict(conn.execute(text(
                "SELECT task_id, count(*) FROM audit_events WHERE action = 'task.completed' "
                "GROUP BY task_id")).all()))
            fired: dict[int, list] = {}
            for case_id, at in conn.execute(text(
                    "SELECT case_id, at FROM audit_events WHERE action = 'case.timers_fired'")):
                fired.setdefault(case_id, []).append(at)
            grace = workers_stopped - timedelta(seconds=3)  # a worker pass sleeps at most 1 s
            missed = conn.execute(text("SELECT id, next_timer_at FROM cases WHERE status = 'running' "
                                       "AND next_timer_at < :end"), {"end": grace}).all()

        committed_unanswered = check_completions(record, tasks, completions)        # (a)
        assert not missed, f"timers due before the end that never fired: {missed}"  # (b)
        delays, timer_outcomes = check_timers(plan, tasks, fired, grace)
        assert check_rows_agree(engine) == len(plan)                                 # (c)
        finished_after = finish_through_the_engine(engine)                           # (d)
        check_rows_agree(engine, finished_after)
        with sql.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM cases WHERE status <> 'completed'")).scalar() == 0
            assert conn.execute(text(
                "SELECT count(*) FROM (SELECT task_id FROM audit_events WHERE action = 'task.completed' "
                "GROUP BY task_id HAVING count(*) > 1) d")).scalar() == 0

        # The report.
        latencies = [seconds * 1000 for _, _, seconds, *_ in record.ok]
        lost_posts = {(t, u) for t, u, kind, *_ in record.lost if kind == "post"}
        report = {
            "web_processes": WEB_PROCESSES, "workers": WORKERS, "clients": len(users),
            "cases": len(plan), "finished_in_soak": soak.waiting == 0, "waiting_at_end": soak.waiting,
            "completed_after_soak_via_engine": len(finished_after),
            "traffic_seconds": round(soak.seconds, 1),
            "completions": len(record.ok),
            "completions_per_second": round(len(record.ok) / soak.seconds, 2),
            "completions_per_second_best_10s": round(best_window([t for *_, t in record.ok], 10.0), 2),
            "latency_ms": {f"p{p}": round(percentile(latencies, p), 1) for p in (50, 90, 99)}
            | {"max": round(max(latencies), 1)},
            "conflicts": len(record.conflicts),
            "conflicts_by_cause": dict(Counter(conflict_cause(u, s) for _, u, s in record.conflicts)),
            "duels": {"rounds": len(record.duels),
                      "outcomes": dict(Counter(" / ".join(sorted(map(str, r))) for _, *r in record.duels))},
            "lost_connections": len(record.lost),
            "lost_posts": len(lost_posts), "lost_posts_committed": len(committed_unanswered),
            "stale_pages": len(record.stale),
            "failures": len(record.failures),
            "timers_fired": sum(len(v) for v in fired.values()),
            "timer_cases": dict(sorted(timer_outcomes.items())),
            "timer_delay_ms": {"p50": round(1000 * percentile(delays, 50)) if delays else None,
                               "max": round(1000 * max(delays)) if delays else None},
            "processes_killed": record.kills,
            "setup_seconds": round(setup_seconds, 1),
            "runtime_seconds": round(time.monotonic() - began, 1),
        }
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        print("\nSOAK " + json.dumps(report, ensure_ascii=False))
        assert len(record.ok) > len(tasks) / 2, "the soak completed too little through the web"
    finally:
        office.stop_all(grace=1.0)  # a no-op when stopped above; after a failure in setup, needed
        engine.db.dispose()
        sql.dispose()
