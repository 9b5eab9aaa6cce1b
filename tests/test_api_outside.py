"""Another agency's script, with nothing of Alur but a token, drives a case through a real server."""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bpmn"

OUTSIDE_SCRIPT = textwrap.dedent('''
    """What an OSS integration does: only the standard library, a base URL and a token."""
    import json, sys, urllib.error, urllib.request

    base, token = sys.argv[1], sys.argv[2]

    def call(method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(base + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.load(error)

    status, headers, case = call("POST", "/api/v1/cases", {"process": "linear3", "data": {"kanal": "oss"}})
    assert status == 201, (status, case)
    location = headers["Location"]
    status, _, read = call("GET", location)
    assert status == 200 and read["registration_number"] == case["registration_number"]
    status, _, listed = call("GET", "/api/v1/cases?process=linear3&status=running&limit=10")
    assert status == 200 and case["id"] in [c["id"] for c in listed["items"]]
    task = read["open_tasks"][0]
    status, _, refused = call("POST", task["links"]["complete"], {"data": {"nama_pemohon": "Bu"}})
    assert status == 422 and "nama_pemohon" in refused["error"]["fields"], refused
    values = {"nama_pemohon": "Budi Santoso", "jumlah_berkas": 2, "jenis_layanan": "baru",
              "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"}
    status, _, done = call("POST", task["links"]["complete"], {"data": values})
    assert status == 200 and done["task"]["state"] == "completed", done
    status, _, followed = call("GET", location)
    print(json.dumps({"number": followed["registration_number"], "status": followed["status"],
                      "at": [t["name"] for t in followed["open_tasks"]], "deadline": followed["deadline"],
                      "sla_state": followed["sla_state"],
                      "steps": [(s["step_id"], s["state"]) for s in followed["steps"]]}))
''')


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Alur under waitress on 127.0.0.1 (a free port), SQLite, the real clock, a service account and token."""
    import os

    import waitress

    from web.app import create_app
    from workflow_engine import Database, Engine, Settings, SystemClock
    from workflow_engine.tokens import SCOPES

    home = tmp_path_factory.mktemp("alur-api-live")
    url = f"sqlite:///{home / 'alur.sqlite'}"
    db = Database(url)
    db.upgrade()
    settings = Settings(database_url=url)
    engine = Engine(db, SystemClock(), settings)
    engine.add_user("oss", role="staff", lanes=["Front Office"], password_hash="x")
    engine.deploy((FIXTURES / "linear3.bpmn").read_bytes(), "linear3.bpmn", author="test")
    _, secret = engine.create_token("oss-bkpm", list(SCOPES), acts_as="oss", created_by="admin")
    previous = os.environ.get("ALUR_HOME")
    os.environ["ALUR_HOME"] = str(home)
    try:
        app = create_app(settings, engine)
    finally:
        os.environ.pop("ALUR_HOME") if previous is None else os.environ.update(ALUR_HOME=previous)
    live = waitress.create_server(app, host="127.0.0.1", port=0, threads=4, ident="alur-test")
    base = f"http://127.0.0.1:{live.effective_port}"
    stopping = threading.Event()

    def serve():
        try:
            live.run()
        except OSError:  # the socket closed under select() while stopping
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield base, secret, engine
    stopping.set()
    live.close()
    live.task_dispatcher.shutdown()
    thread.join(timeout=5)
    db.dispose()


def test_an_outside_script_starts_follows_and_moves_a_case(server, tmp_path):
    base, secret, engine = server
    script = tmp_path / "oss_client.py"
    script.write_text(OUTSIDE_SCRIPT)
    # -I: isolated, so the script sees neither Alur's sources nor its installed packages' paths.
    result = subprocess.run([sys.executable, "-I", str(script), base, secret], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    followed = json.loads(result.stdout)
    assert followed["status"] == "running" and followed["at"] == ["Verifikasi berkas"]
    assert followed["steps"] == [["isi_formulir", "completed"], ["verifikasi", "ready"]]
    assert followed["deadline"] and followed["sla_state"] == "on_track"
    case = engine.case(followed["number"])
    assert case["started_by"] == "oss" and case["tasks"][0]["completed_by"] == "oss"


def _call(base: str, secret: str, method: str, path: str, body=None) -> tuple[int, dict, float]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=10) as response:
        payload = response.read()
        return response.status, json.loads(payload), (time.perf_counter() - began) * 1000


def test_response_times_of_the_main_endpoints(server):
    """Median and slowest of 30 calls each over HTTP on SQLite; printed for the report (pytest -s)."""
    base, secret, _ = server
    timings: dict[str, list[float]] = {}
    sizes: dict[str, int] = {}

    def measure(label, method, path, body=None):
        status, payload, ms = _call(base, secret, method, path, body)
        assert status in (200, 201), payload
        timings.setdefault(label, []).append(ms)
        sizes[label] = len(json.dumps(payload))
        return payload

    values = {"nama_pemohon": "Budi Santoso", "jumlah_berkas": 2, "jenis_layanan": "baru",
              "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"}
    for _ in range(30):
        case = measure("POST /cases", "POST", "/api/v1/cases", {"process": "linear3"})
        measure("GET /cases/{ref}", "GET", f"/api/v1/cases/{case['registration_number']}")
        measure("POST /tasks/{id}/complete", "POST", case["open_tasks"][0]["links"]["complete"], {"data": values})
    for _ in range(30):
        measure("GET /cases?limit=50", "GET", "/api/v1/cases?limit=50")
        measure("GET /processes", "GET", "/api/v1/processes")
    report = {label: {"median_ms": round(statistics.median(ms), 1), "max_ms": round(max(ms), 1),
                      "bytes": sizes[label]} for label, ms in timings.items()}
    print("\nAPI response times (30 calls each, SQLite, waitress):\n" + json.dumps(report, indent=1))
    for label, figures in report.items():
        assert figures["median_ms"] < 300, (label, figures)
