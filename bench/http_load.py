"""Load generator for `alur serve`: logged-in clients loop inbox -> task page -> complete.

Runs as its own process so the server is measured from outside, as a browser sees it. Each client
is a thread with its own session (cookies) and keep-alive connections; with several --url it sends
its requests round-robin over them, as a load balancer would. Prints raw latencies (ms) as JSON.
"""
from __future__ import annotations

import argparse
import html
import http.client
import json
import random
import re
import resource
import sys
import threading
import time
from datetime import date
from urllib.parse import urlencode, urlsplit

from .autofill import FORWARD

ATTR = re.compile(r'([\w-]+)(?:="([^"]*)")?')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ACTIONABLE = re.compile(r'action="/tasks/(\d+)/claim"')
INPUT = re.compile(r"<input\b([^>]*)>")
TEXTAREA = re.compile(r"<textarea\b([^>]*)>", re.DOTALL)
SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.DOTALL)
OPTION = re.compile(r'<option value="([^"]*)"')
DIGITS = "1234567890" * 20


class Client:
    """One browser: cookies, and one keep-alive connection per server address."""

    def __init__(self, urls: list[str], timeout: float = 60.0):
        self.hosts = [urlsplit(u).netloc for u in urls]
        self.conns: dict[str, http.client.HTTPConnection] = {}
        self.cookies: dict[str, str] = {}
        self.timeout = timeout
        self._turn = 0

    def _conn(self) -> http.client.HTTPConnection:
        host = self.hosts[self._turn % len(self.hosts)]
        self._turn += 1
        if host not in self.conns:
            self.conns[host] = http.client.HTTPConnection(host, timeout=self.timeout)
        return self.conns[host]

    def _keep_cookies(self, response) -> None:
        for name, value in response.getheaders():
            if name.lower() != "set-cookie":
                continue
            pair, _, rest = value.partition(";")
            key, _, val = pair.strip().partition("=")
            if "max-age=0" in rest.lower() or "1970" in rest:
                self.cookies.pop(key, None)
            else:
                self.cookies[key] = val

    def request(self, method: str, path: str, form: dict | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes, float]:
        """Send one request; returns (status, headers, body, seconds). Reconnects once if dropped."""
        body = urlencode(form).encode() if form is not None else None
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn = self._conn()
        for attempt in (0, 1):
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=sent)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
                conn.close()
                if attempt:
                    raise
                continue
            seconds = time.perf_counter() - t0
            self._keep_cookies(response)
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data, seconds
        raise ConnectionError("unreachable")

    def login(self, username: str, password: str) -> None:
        """Sign in through the form, CSRF token included; raises if it does not redirect."""
        status, _, page, _ = self.request("GET", "/login")
        token = CSRF.search(page.decode())
        if status != 200 or not token:
            raise RuntimeError(f"login page: status {status}")
        status, _, _, _ = self.request("POST", "/login", {"csrf_token": token.group(1), "username": username,
                                                          "password": password})
        if status not in (302, 303):
            raise RuntimeError(f"login as {username}: status {status}")


def _attrs(text: str) -> dict:
    return {k: html.unescape(v) if v is not None else "" for k, v in ATTR.findall(text)}


def _forward(options: list[str]) -> str:
    return next((o for o in options if o.lower() in FORWARD), options[0])


def text_value(attrs: dict) -> str:
    """A string of digits as long as the field asks (NIB, NIK and the like are digits too)."""
    low, high = int(attrs.get("minlength") or 0), int(attrs.get("maxlength") or 10_000)
    return DIGITS[:min(max(low, 12), high)]


def _number(attrs: dict) -> str:
    if attrs.get("min"):
        return attrs["min"]
    if attrs.get("max") and float(attrs["max"]) < 1:
        return attrs["max"]
    return "1"


def fill_form(page: str, task_id: int) -> dict | None:
    """Valid values for the task page's completion form; None: no form (done meanwhile), {}: not mine."""
    start = page.find(f'action="/tasks/{task_id}"')
    end = page.find("</form>", start)
    if start < 0 or end < 0:
        return None
    if "<fieldset disabled>" in page[start:end]:
        return {}
    form, values, radios = page[start:end], {}, {}
    for m in INPUT.finditer(form):
        a = _attrs(m.group(1))
        name, kind = a.get("name"), a.get("type", "text")
        if not name:
            continue
        if kind == "hidden":
            values[name] = a.get("value", "")
        elif kind == "radio":
            radios.setdefault(name, []).append(a.get("value", ""))
        elif kind == "checkbox":
            values[name] = "on"
        elif kind == "number":
            values[name] = _number(a)
        elif kind == "date":
            values[name] = a.get("min") or a.get("max") or date.today().isoformat()
        else:
            values[name] = text_value(a)
    for m in TEXTAREA.finditer(form):
        a = _attrs(m.group(1))
        values[a["name"]] = text_value(a)
    for m in SELECT.finditer(form):
        options = [html.unescape(o) for o in OPTION.findall(m.group(2)) if o]
        if options:
            values[_attrs(m.group(1))["name"]] = _forward(options)
    values.update({name: _forward(opts) for name, opts in radios.items()})
    values["action"] = "complete"
    return values


class Tally:
    """Latencies per request kind and counts of outcomes, shared by the client threads."""

    def __init__(self):
        self.ms: dict[str, list[float]] = {"inbox": [], "task": [], "complete": [], "conflict": []}
        self.counts = {"completed": 0, "conflicts": 0, "taken": 0, "failures": 0, "idle_polls": 0,
                       "errors": 0}
        self.samples: list[str] = []  # a few failed answers, to say what went wrong
        self.lock = threading.Lock()

    def add(self, kind: str, seconds: float | None = None, count: str | None = None, note: str = ""):
        with self.lock:
            if seconds is not None:
                self.ms[kind].append(seconds * 1000)
            if count:
                self.counts[count] += 1
            if note and len(self.samples) < 10:
                self.samples.append(note)


def _step(client: Client, tally: Tally, rng: random.Random, record: bool, think: float) -> None:
    """One round of office work: the inbox, one task page, its completion (`think` s before each)."""
    time.sleep(think)
    status, _, page, s = client.request("GET", "/tasks")
    if status != 200:
        return tally.add("inbox", count="failures", note=f"GET /tasks {status}")
    ids = ACTIONABLE.findall(page.decode())  # any task on the page: staff rarely collide
    if not ids:  # an empty inbox is cheap: counted, not timed, so it does not flatter the median
        tally.add("inbox", count="idle_polls")
        time.sleep(0.2)
        return
    tally.add("inbox", s if record else None)
    task_id = int(rng.choice(ids))
    time.sleep(think)
    status, _, page, s = client.request("GET", f"/tasks/{task_id}")
    if status != 200:
        return tally.add("task", count="failures", note=f"GET /tasks/{task_id} {status}")
    tally.add("task", s if record else None)
    values = fill_form(page.decode(), task_id)
    if values is None:  # another client completed it since the inbox was read
        return tally.add("task", count="taken")
    if not values:
        return tally.add("task", count="failures", note=f"task {task_id}: offered but not allowed")
    time.sleep(think)
    status, _, page, s = client.request("POST", f"/tasks/{task_id}", values)
    if status in (302, 303):
        tally.add("complete", s if record else None, "completed" if record else None)
    elif status == 409:
        tally.add("conflict", s if record else None, "conflicts" if record else None)
    else:
        error = re.findall(r'class="(?:error|field-error)"[^>]*>(.*?)</', page.decode())[:3]
        tally.add("complete", count="failures", note=f"POST /tasks/{task_id} {status} {error}")


def _client_loop(client: Client, tally: Tally, seed: int, record_from: float, deadline: float,
                 think: float) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        try:
            _step(client, tally, rng, time.monotonic() >= record_from, think)
        except (OSError, http.client.HTTPException) as exc:
            tally.add("inbox", count="errors", note=f"{type(exc).__name__}: {exc}")
            client.conns.clear()


def run_load(urls: list[str], users: list[str], *, clients: int, seconds: float, warmup: float,
             password: str, seed: int = 1, think: float = 0.0) -> dict:
    """`clients` threads, each signed in as the next of `users`, working for warmup + seconds."""
    sessions = []
    for i in range(clients):
        c = Client(urls)
        c._turn = i  # spread the first requests over the servers
        c.login(users[i % len(users)], password)
        sessions.append(c)
    tally = Tally()
    start = time.monotonic()
    record_from, deadline = start + warmup, start + warmup + seconds
    threads = [threading.Thread(target=_client_loop, args=(c, tally, seed + i, record_from, deadline, think))
               for i, c in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    window = time.monotonic() - record_from
    used = resource.getrusage(resource.RUSAGE_SELF)
    return {"ms": tally.ms, "counts": tally.counts, "failure_samples": tally.samples, "window_s": window,
            "loader_cpu_s": used.ru_utime + used.ru_stime, "think_s": think, "clients": clients,
            "users": [users[i % len(users)] for i in range(clients)], "servers": urls}


def run_dashboard(url: str, user: str, password: str, times: int) -> dict:
    """GET /dashboard `times` times in a row (no other load), after one untimed warm-up request."""
    client = Client([url], timeout=300)
    client.login(user, password)
    client.request("GET", "/dashboard")
    ms, statuses = [], []
    for _ in range(times):
        status, _, _, s = client.request("GET", "/dashboard")
        statuses.append(status)
        if status == 200:
            ms.append(s * 1000)
    return {"ms": ms, "statuses": statuses}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http_load",
        description="Drive a running `alur serve` with signed-in staff working their inboxes; print the "
                    "raw latencies (ms) and outcome counts as JSON on stdout.")
    parser.add_argument("--url", action="append", required=True,
                        help="server address, e.g. http://127.0.0.1:8080; repeat for several servers")
    parser.add_argument("--users", default="fo,bo,teknis,fo2,bo2,kadin,fo3,bo3",
                        help="comma-separated demo users, one per client in turn (default: %(default)s)")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (threads)")
    parser.add_argument("--seconds", type=float, default=20, help="measured window")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load before measuring")
    parser.add_argument("--think", type=float, default=0, help="seconds a client pauses before each request")
    parser.add_argument("--dashboard", type=int, default=0, metavar="N",
                        help="after the load, GET /dashboard N times in a row as --manager")
    parser.add_argument("--manager", default="pimpinan")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    result = run_load(args.url, args.users.split(","), clients=args.clients, seconds=args.seconds,
                      warmup=args.warmup, password=args.password, seed=args.seed, think=args.think)
    if args.dashboard:
        result["dashboard"] = run_dashboard(args.url[0], args.manager, args.password, args.dashboard)
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
