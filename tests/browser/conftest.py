"""Browser tests: a real Alur server (waitress, SQLite) driven by Debian's chromium through Playwright.

Needs `/usr/bin/chromium` (apt install chromium) and the `playwright` Python package; its driver
ships in the wheel, so `playwright install` is never run (it downloads a browser and fails offline).
Without them the tests skip with the reason; with ALUR_REQUIRE_BROWSER=1 (`.ci/run` sets it) they
fail instead, so CI cannot pass without having driven a browser.

The browser may reach nothing but the test server: every other request is refused and recorded,
which is how the tests show that pages work with no internet.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REQUIRE_BROWSER = os.environ.get("ALUR_REQUIRE_BROWSER") == "1"
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
FIXTURES = HERE.parent / "fixtures" / "bpmn"
DEMO_SOP = "linear3.bpmn"


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no {CHROMIUM}: install Debian's chromium (apt-get install chromium); .ci/run does"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -e '.[test]')"
    return None


def _cannot_run(reason: str):
    if REQUIRE_BROWSER:
        pytest.fail(f"ALUR_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason and not REQUIRE_BROWSER:
        mark = pytest.mark.skip(reason=f"browser tests: {reason}")
        for item in items:
            if HERE in Path(str(item.fspath)).resolve().parents:
                item.add_marker(mark)


# --- the server ----------------------------------------------------------------------------------

@dataclass
class LiveServer:
    url: str
    app: object
    engine: object
    password: str
    process_key: str

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Alur on 127.0.0.1 (a free port) on a fresh SQLite database with the demo users and linear3."""
    import waitress
    from werkzeug.security import generate_password_hash

    from web.app import create_app
    from web.demo import DEMO_PASSWORD, DEMO_USERS
    from workflow_engine import Database, Engine, Settings, SystemClock

    home = tmp_path_factory.mktemp("alur-browser")
    database_url = f"sqlite:///{home / 'alur.sqlite'}"
    db = Database(database_url)
    db.upgrade()
    settings = Settings(database_url=database_url)
    engine = Engine(db, SystemClock(), settings)
    hashed = generate_password_hash(DEMO_PASSWORD)
    for username, role, lanes in DEMO_USERS:
        engine.add_user(username, role=role, lanes=list(lanes), password_hash=hashed)
    key = engine.deploy((FIXTURES / DEMO_SOP).read_bytes(), DEMO_SOP, author="analis").key

    previous_home = os.environ.get("ALUR_HOME")
    os.environ["ALUR_HOME"] = str(home)  # the app keeps its secret key there, not in the real home
    try:
        app = create_app(settings, engine)
    finally:
        if previous_home is None:
            os.environ.pop("ALUR_HOME", None)
        else:
            os.environ["ALUR_HOME"] = previous_home

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=6, ident="alur-test")
    base = f"http://127.0.0.1:{server.effective_port}"
    stopping = threading.Event()

    def serve():
        try:
            server.run()
        except OSError:
            if not stopping.is_set():
                raise  # closing the sockets under waitress's select() is the only way it stops

    thread = threading.Thread(target=serve, name="alur-waitress", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test server did not answer on {base}")
            time.sleep(0.1)
    yield LiveServer(base, app, engine, DEMO_PASSWORD, key)
    stopping.set()
    server.close()
    server.task_dispatcher.shutdown()
    thread.join(timeout=5)
    db.dispose()


# --- the browser ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    reason = _missing()
    if reason:
        _cannot_run(reason)
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    try:
        chromium = manager.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:  # a broken install reads as a reason, not a traceback
        manager.stop()
        _cannot_run(f"chromium did not start: {str(exc).splitlines()[0]}")
    yield chromium
    chromium.close()
    manager.stop()


@dataclass
class Tab:
    """One page in its own browser context, with what it tried to reach and what went wrong."""
    page: object
    server: LiveServer
    outside: list[str] = field(default_factory=list)   # requests to anywhere but the test server
    problems: list[str] = field(default_factory=list)  # console errors (CSP violations among them), page errors

    def goto(self, path: str, **kwargs):
        return self.page.goto(self.server(path), **kwargs)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target

    def assert_clean(self):
        assert not self.outside, f"the page tried to reach the internet: {self.outside}"
        assert not self.problems, "the browser reported errors:\n" + "\n".join(self.problems)


def open_tab(browser, live_server, **context_options) -> tuple[Tab, object]:
    # An office PC: Indonesian browser, the office's zone.
    options = {"viewport": {"width": 1280, "height": 900}, "locale": "id-ID", "timezone_id": "Asia/Jayapura",
               **context_options}
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    tab = Tab(page, live_server)

    def route(route):
        url = route.request.url
        if url.startswith(live_server.url + "/") or url.startswith("data:"):
            route.continue_()
        else:
            tab.outside.append(url)
            route.abort()

    context.route("**/*", route)
    page.on("console", lambda m: tab.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: tab.problems.append(f"page error: {e}"))
    return tab, context


@pytest.fixture
def tab(browser, live_server):
    """A fresh browser context (no cookies) on the test server."""
    tab_, context = open_tab(browser, live_server)
    yield tab_
    context.close()


@pytest.fixture
def new_tab(browser, live_server):
    """Open more independent contexts in one test (two clerks on two computers)."""
    contexts = []

    def make(**options) -> Tab:
        tab_, context = open_tab(browser, live_server, **options)
        contexts.append(context)
        return tab_
    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def t():
    """The Indonesian text of an English message, as the pages show it by default."""
    from web.i18n import merged_catalog

    catalog = merged_catalog("id")

    def translate(message: str, context: str | None = None) -> str:
        entry = catalog.get(message, context)
        return entry.string if entry is not None and entry.string else message
    return translate


@pytest.fixture(scope="session", autouse=True)
def _fresh_artifacts():
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    yield
