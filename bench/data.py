"""The office-years databases the scale figures run on: the demo history grown to 100,000 cases.

The demo generator makes a seed history through the engine (2,000 cases over 180 days, seed 2026);
`web.demo.grow` copies its finished cases back week by week to 100,000 cases (about 1.2 million
task rows). Both files are kept under `bench/data/` (ignored by git) per schema revision, so a
second run starts in seconds. PostgreSQL gets the same rows in its own database, made once per
revision on the server `ALUR_BENCH_POSTGRES_URL` names (a role that may create databases).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from workflow_engine import Database, Settings
from workflow_engine.backup import backup, known_revisions
from workflow_engine.models import Case

CACHE = Path(__file__).resolve().parent / "data"
SEED_CASES, SEED_DAYS, SEED = 2000, 180, 2026
CASES = 100_000


def revision() -> str:
    """The newest schema revision: databases made at another one are made again."""
    known = known_revisions()
    return max(known, key=known.get)


def _echo(line: str) -> None:
    print(f"  {line}", flush=True)


def seed_file() -> Path:
    """The demo generator's history, made once per schema revision."""
    path = CACHE / f"seed-{revision()}.sqlite"
    if not path.exists():
        from web.demo import make_demo

        CACHE.mkdir(exist_ok=True)
        partial = path.with_suffix(".partial")
        print(f"making the seed history ({SEED_CASES} cases through the engine; a few minutes) ...", flush=True)
        engine = make_demo(Settings(database_url=f"sqlite:///{partial}"), partial, seed=SEED, days=SEED_DAYS,
                           cases=SEED_CASES, echo=lambda line: None)
        engine.db.dispose()  # the last connection's close folds the WAL into the file before the rename
        partial.rename(path)
    return path


def sqlite_file() -> Path:
    """The seed grown to CASES cases, made once per schema revision; never changed by a benchmark."""
    path = CACHE / f"grown-{revision()}-{CASES}.sqlite"
    if not path.exists():
        from web.demo.grow import grow_history

        seed = seed_file()
        partial = path.with_suffix(".partial")
        _copy(seed, partial)
        print(f"growing the seed to {CASES:,} cases ...", flush=True)
        target = create_engine(f"sqlite:///{partial}")
        grow_history(target, cases=CASES, echo=_echo)
        target.dispose()
        partial.rename(path)
    return path


def working_copy(path: Path) -> Path:
    """A copy a benchmark may change (the HTTP load starts and completes cases)."""
    target = Path(tempfile.mkdtemp(prefix="alur-bench-data-")) / path.name
    _copy(path, target)
    return target


def _copy(source: Path, target: Path) -> None:
    """One consistent copy through SQLite's backup API, as `alur backup` makes it."""
    backup(f"sqlite:///{source}", target, force=True)


def postgres_url() -> str | None:
    """The server for the PostgreSQL figures, or None when ALUR_BENCH_POSTGRES_URL is not set."""
    return os.environ.get("ALUR_BENCH_POSTGRES_URL") or None


def postgres_database(server_url: str) -> str:
    """A database on `server_url` holding the grown history, made once per schema revision."""
    from web.demo.grow import grow_history

    url = make_url(server_url)
    name = f"alur_bench_{revision()}_{CASES}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    target_url = url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
    if exists:
        target = create_engine(target_url)
        with target.connect() as conn:
            done = conn.scalar(select(func.count()).select_from(Case.__table__)) >= CASES
        target.dispose()
        if done:
            admin.dispose()
            return target_url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    Database(target_url).upgrade()
    print(f"copying the grown history into PostgreSQL database {name} ...", flush=True)
    target = create_engine(target_url)
    grow_history(create_engine(f"sqlite:///{seed_file()}"), target, cases=CASES, echo=_echo)
    target.dispose()
    with create_engine(target_url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))  # as autovacuum would after a bulk load
    admin.dispose()
    return target_url


def postgres_copy(server_url: str, database_url: str) -> str:
    """A throwaway copy of the grown PostgreSQL database (CREATE DATABASE ... TEMPLATE)."""
    url = make_url(server_url)
    source = make_url(database_url).database
    name = f"{source}_work"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres(server_url: str, database_url: str) -> None:
    admin = create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)'))
    admin.dispose()
