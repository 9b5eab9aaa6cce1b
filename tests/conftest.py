"""Shared fixtures: a fresh database per test on SQLite and, where a server is given, PostgreSQL."""
from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from workflow_engine import Database, Engine, FixedClock, Settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bpmn"
PROCESSES = ROOT / "processes"
WIT = ZoneInfo("Asia/Jayapura")
# Monday 30 November 2026, 08:00 in Jayapura: a working morning.
MONDAY_MORNING = datetime(2026, 11, 30, 8, 0, tzinfo=WIT)

POSTGRES_URL = os.environ.get("ALUR_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("ALUR_REQUIRE_POSTGRES") == "1"


def pytest_collection_modifyitems(config, items):
    if REQUIRE_POSTGRES and not POSTGRES_URL:
        raise pytest.UsageError("ALUR_REQUIRE_POSTGRES=1 but ALUR_TEST_POSTGRES_URL is not set")


class _PostgresTemplate:
    """One migrated template database; each test gets a copy of it (CREATE DATABASE ... TEMPLATE)."""

    def __init__(self, url: str):
        self.url = make_url(url)
        self.admin = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.template = f"alur_tpl_{uuid.uuid4().hex[:8]}"
        self._exec(f'CREATE DATABASE "{self.template}"')
        db = Database(self.url.set(database=self.template).render_as_string(hide_password=False))
        db.upgrade()
        db.dispose()
        self.created: list[str] = []

    def _exec(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def fresh(self) -> str:
        name = f"alur_t_{uuid.uuid4().hex[:10]}"
        self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, name_url: str) -> None:
        name = make_url(name_url).database
        self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self._exec(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_template():
    if not POSTGRES_URL:
        yield None
        return
    template = _PostgresTemplate(POSTGRES_URL)
    yield template
    template.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file copied for each test: faster than migrating every time."""
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path, sqlite_template, postgres_template):
    if request.param == "sqlite":
        target = tmp_path / "alur.sqlite"
        target.write_bytes(sqlite_template.read_bytes())
        yield f"sqlite:///{target}"
        return
    if postgres_template is None:
        pytest.skip("PostgreSQL tests need ALUR_TEST_POSTGRES_URL (`.ci/run` sets it)")
    url = postgres_template.fresh()
    yield url
    postgres_template.drop(url)


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template):
    target = tmp_path / "alur.sqlite"
    target.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{target}"


@pytest.fixture
def clock():
    return FixedClock(MONDAY_MORNING)


@pytest.fixture
def settings(database_url):
    return Settings(database_url=database_url)


@pytest.fixture
def engine(settings, clock):
    db = Database(settings.database_url)
    eng = Engine(db, clock, settings)
    yield eng
    db.dispose()


def add_staff(engine: Engine, username: str, lanes, role: str = "staff") -> str:
    engine.add_user(username, role=role, lanes=list(lanes), password_hash="x")
    return username


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def deploy(engine):
    """Deploy a fixture by file name; returns the process key."""
    def _deploy(name: str) -> str:
        path = FIXTURES / name if (FIXTURES / name).exists() else PROCESSES / name
        return engine.deploy(path.read_bytes(), path.name, author="test").key
    return _deploy


@pytest.fixture
def web(engine):
    """A Flask test client on the engine, with CSRF on as in production, and the demo office's people."""
    from werkzeug.security import generate_password_hash

    from web.app import create_app

    hashed = generate_password_hash("rahasia")
    for name, role, lanes in [("admin", "admin", []), ("analis", "analyst", []), ("pimpinan", "manager", []),
                              ("fo", "staff", ["Front Office"]), ("bo", "staff", ["Back Office"]),
                              ("teknis", "staff", ["Tim Teknis"]), ("kabid", "staff", ["Kepala Bidang"]),
                              ("kadin", "staff", ["Kepala Dinas"]), ("pemohon", "staff", ["Pemohon"])]:
        engine.add_user(name, role=role, lanes=lanes, password_hash=hashed)
    app = create_app(engine.settings, engine, config={"TESTING": True})
    return app


def csrf_of(html: str) -> str:
    import re
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def sign_in(app, username: str, password: str = "rahasia"):
    """A test client signed in as `username` through the real login form."""
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client
