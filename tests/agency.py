"""A stand-in for another agency's (OPD's) HTTP API on 127.0.0.1, for connector tests.

It answers from a script of behaviours, one per request, then with `default`; it records every
request (method, path, query, headers, JSON body) so tests can see exactly what Alur sent.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Agency:
    """Behaviours: ("json", status, object), ("raw", status, bytes), ("sleep", seconds) then the default."""

    def __init__(self, default=None):
        self.default = default or ("json", 200, {"status": "aktif", "data": {"nomor": "STR-2026-0001"}})
        self.script: list[tuple] = []
        self.requests: list[dict] = []
        self.delay = 0.0  # seconds every answer waits (to make workers overlap)
        self._lock = threading.Lock()
        agency = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urllib.parse.urlsplit(self.path)
                with agency._lock:
                    agency.requests.append({
                        "method": self.command, "path": parts.path,
                        "query": dict(urllib.parse.parse_qsl(parts.query)),
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": json.loads(raw) if raw else None})
                    behaviour = agency.script.pop(0) if agency.script else agency.default
                if agency.delay:
                    time.sleep(agency.delay)
                kind = behaviour[0]
                if kind == "sleep":
                    time.sleep(behaviour[1])
                    behaviour = ("json", 200, {"status": "terlambat"})
                    kind = "json"
                status = behaviour[1]
                body = json.dumps(behaviour[2]).encode() if kind == "json" else behaviour[2]
                try:
                    self.send_response(status)
                    if status in (301, 302, 303, 307, 308):
                        self.send_header("Location", agency.url + "/elsewhere")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller gave up (its timeout): nothing to answer

            do_GET = do_POST = do_PUT = do_PATCH = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(self, times: int, status: int = 503) -> None:
        """The next `times` requests get `status` with a JSON error body."""
        self.script.extend([("json", status, {"error": "sedang gangguan"})] * times)

    def answer(self, obj, status: int = 200) -> None:
        self.script.append(("json", status, obj))

    def raw(self, body: bytes, status: int = 200) -> None:
        self.script.append(("raw", status, body))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
