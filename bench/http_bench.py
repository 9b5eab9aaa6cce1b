"""The web app under load: `alur serve` (waitress) driven by `bench.http_load` from a second process.

`run` measures one server on a copy of a big demo database: completion, inbox and task-page
latencies under `clients` concurrent signed-in staff, then the dashboard (sequentially, no other
load), the page weights and the server's resident memory. `run_throughput` counts completions per
second with several servers on PostgreSQL, and with one for comparison.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import text

from workflow_engine import Settings, open_engine

from . import weights
from .autofill import form_values
from .http_load import text_value

ROOT = Path(__file__).resolve().parent.parent
SOP_KEY = "izin_reklame"  # first step in the Front Office; then Back Office, Tim Teknis, Kepala Dinas
ADVANCE = (0, 0, 1, 2)  # seeded case i is moved on ADVANCE[i % 4] steps: half wait in the Front Office
USERS = "fo,bo,teknis,fo2,bo2,kadin,fo3,bo3"
DASHBOARD_TIMES = 15


def _values(fields) -> dict:
    """Valid values for a step's form; strings as long as the field's minlength asks."""
    values = form_values(fields)
    for f in fields:
        if f.type in ("string", "text") and not f.readonly:
            values[f.id] = text_value(f.constraints)
    return values


def seed_work(database_url: str, cases: int) -> int:
    """Start `cases` new cases of SOP_KEY, spread over the first lanes; returns the cases in the database."""
    engine = open_engine(Settings.from_env(database_url=database_url))
    try:
        for i in range(cases):
            case_id = engine.start_case(SOP_KEY, actor="fo")
            for _ in range(ADVANCE[i % len(ADVANCE)]):
                ready = engine.tasks(case_id=case_id, state="ready", limit=1)
                if not ready:
                    break
                fields = _fields(engine, case_id, ready[0]["step_id"])
                engine.complete(ready[0]["id"], user="admin", data=_values(fields))
        with engine.db.read() as s:
            return s.execute(text("SELECT count(*) FROM cases")).scalar_one()
    finally:
        engine.db.dispose()


def _fields(engine, case_id: int, step_id: str) -> list:
    """The form fields of step `step_id` in the case's SOP version."""
    from workflow_engine.sop_info import FormField

    case = engine.case(case_id, with_tasks=False)
    info = engine.process_info(case["process"], case["version"])
    step = next((s for s in info.get("steps") or () if s["id"] == step_id), {})
    return [FormField.from_dict(f) for f in step.get("form") or ()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database_url: str, workdir: Path, secret: str,
                 threads: int = 8) -> tuple[subprocess.Popen, str]:
    """`python -m web serve` on a free port; returns the process and its base URL once it answers."""
    port = _free_port()
    env = {**os.environ, "ALUR_DATABASE_URL": database_url, "ALUR_HOME": str(workdir),
           "ALUR_SECRET_KEY": secret}
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as out:  # the server keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "-m", "web", "serve", "--port", str(port), "--threads",
                                 str(threads), "--no-worker"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"alur serve exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"alur serve did not answer within 120 s; see {log}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB, from /proc/<pid>/status."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def run_load(urls: list[str], *, clients: int, seconds: float, dashboard: int = 0, think: float = 0.0) -> dict:
    """The load generator as a second process; returns its JSON."""
    cmd = [sys.executable, "-m", "bench.http_load", "--clients", str(clients), "--seconds", str(seconds),
           "--users", USERS, "--dashboard", str(dashboard), "--think", str(think)]
    for url in urls:
        cmd += ["--url", url]
    done = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 600)
    if done.returncode != 0:
        raise RuntimeError(f"bench.http_load failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _median(ms: list[float]) -> float:
    return statistics.median(ms) if ms else float("nan")


def _p99(ms: list[float]) -> float:
    if len(ms) < 2:
        return ms[0] if ms else float("nan")
    return statistics.quantiles(ms, n=100, method="inclusive")[98]


def _figure(name: str, value: float, unit: str, limit: float | None = None, ok: bool = True, **extra) -> dict:
    if limit is None:
        return {"name": name, "value": value, "unit": unit, "target": "-", **extra}
    return {"name": name, "value": value, "unit": unit, "target": f"<={limit:g}",
            "met": bool(ok and value <= limit), **extra}


def _load_facts(load: dict) -> dict:
    c = load["counts"]
    return {"clients": load["clients"], "think_s": load["think_s"], "window_s": round(load["window_s"], 2),
            "completed": c["completed"], "failures": c["failures"], "errors": c["errors"],
            "conflicts": c["conflicts"], "taken": c["taken"], "idle_polls": c["idle_polls"],
            "loader_cpu_s": round(load["loader_cpu_s"], 1), "failure_samples": load["failure_samples"]}


def _weight(name: str, w: dict) -> dict:
    extra = {"rows": w["rows"]} if "rows" in w else {}
    return _figure(name, w["bytes"], "B", **extra, sent_bytes=w["sent_bytes"], gzip_bytes=w["gzip_bytes"],
                   served_gzip=w["served_gzip"],
                   html_bytes=w["html_bytes"], direct_bytes=w["direct_bytes"],
                   parts=[(p["url"], p["bytes"], p["gzip"]) for p in w["parts"]])


def run(database_url: str, *, seconds: float = 20, clients: int = 4, think: float = 0.0) -> list[dict]:
    """One server on `database_url` (a copy: it gets new cases) under `clients` concurrent staff.

    `think`: seconds each client pauses before each request; 0 (default) is a closed loop at full speed.
    """
    workdir = Path(tempfile.mkdtemp(prefix="alur-http-"))
    cases = seed_work(database_url, max(100, int(clients * (seconds + 2) * 5)))
    proc, url = start_server(database_url, workdir, secrets.token_hex(16))
    try:
        weight = weights.measure(url, "bo")  # before the load drains the inboxes; warms the server too
        load = run_load([url], clients=clients, seconds=seconds, dashboard=DASHBOARD_TIMES, think=think)
        rss, peak = rss_mb(proc.pid)
    finally:
        stop_server(proc)
    ms, facts = load["ms"], _load_facts(load)
    clean = facts["failures"] == 0 and facts["errors"] == 0
    dash = load["dashboard"]
    return [
        _figure("http.complete_median_ms", _median(ms["complete"]), "ms", 15, clean, samples=len(ms["complete"]),
                cases=cases, **facts),
        _figure("http.complete_p99_ms", _p99(ms["complete"]), "ms", 60, clean, samples=len(ms["complete"])),
        _figure("http.inbox_median_ms", _median(ms["inbox"]), "ms", 30, clean, samples=len(ms["inbox"]),
                cases=cases),
        _figure("http.task_page_median_ms", _median(ms["task"]), "ms", samples=len(ms["task"])),
        _figure("http.completions_per_s", facts["completed"] / load["window_s"], "1/s", processes=1,
                database="sqlite" if database_url.startswith("sqlite") else "postgresql"),
        _figure("http.dashboard_median_ms", _median(dash["ms"]), "ms", 300,
                len(dash["ms"]) == len(dash["statuses"]), samples=len(dash["ms"]), under_load=False,
                max_ms=max(dash["ms"], default=float("nan")), cases=cases),
        _weight("weight.inbox_bytes", weight["inbox"]),
        _weight("weight.task_bytes", weight["task"]),
        _figure("serve.rss_mb", rss, "MB", 200, peak_mb=peak),
    ]


def _throughput_once(database_url: str, workdir: Path, processes: int, seconds: float, clients: int) -> dict:
    """Seed work, start `processes` servers, load them, stop them; the load's facts and medians."""
    seed_work(database_url, max(100, int(clients * (seconds + 2) * 5)))
    secret = secrets.token_hex(16)
    servers = []
    try:
        for _ in range(processes):
            servers.append(start_server(database_url, workdir, secret))
        load = run_load([url for _, url in servers], clients=clients, seconds=seconds)
    finally:
        for proc, _ in servers:
            stop_server(proc)
    ms = load["ms"]
    return {"per_s": load["counts"]["completed"] / load["window_s"], "processes": processes,
            "complete_median_ms": _median(ms["complete"]), "inbox_median_ms": _median(ms["inbox"]),
            "task_median_ms": _median(ms["task"]), **_load_facts(load)}


def run_throughput(database_url: str, *, processes: int = 4, seconds: float = 20,
                   clients: int = 8) -> list[dict]:
    """Completions per second with `processes` servers on one (PostgreSQL) database, and with one."""
    workdir = Path(tempfile.mkdtemp(prefix="alur-http-tp-"))
    many = _throughput_once(database_url, workdir, processes, seconds, clients)
    figures = [_figure("throughput.completions_per_s", many.pop("per_s"), "1/s", **many)]
    if processes != 1:
        one = _throughput_once(database_url, workdir, 1, seconds, clients)
        figures.append(_figure("throughput.completions_per_s_1proc", one.pop("per_s"), "1/s", **one))
    return figures
