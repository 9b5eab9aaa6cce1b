"""Migrations: from the first schema to the latest on a database holding data, and models == migrations.

An office that installed the first Alur has cases in flight when it upgrades: those rows must come
through every migration unchanged and the engine must go on with them. SQLite and PostgreSQL.
"""
from __future__ import annotations

import uuid
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, MetaData, Table, create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from conftest import FIXTURES, MONDAY_MORNING
from workflow_engine import Database, Engine, FixedClock, Settings
from workflow_engine.db import schema_state
from workflow_engine.models import Base

# The columns of schema 0001, per table in insertion order: what the first Alur wrote.
FIRST_SCHEMA = {
    "users": ["id", "username", "full_name", "password_hash", "role", "lanes", "active", "created_at"],
    "local_holidays": ["day", "name"],
    "registration_counters": ["prefix", "year", "value"],
    "process_versions": ["id", "key", "version", "name", "bpmn_xml", "filename", "content_hash", "spec_json", "info",
                         "status", "author", "note", "created_at"],
    "cases": ["id", "registration_number", "process_version_id", "process_key", "status", "state_json", "revision",
              "data", "started_at", "started_by", "clock_started_at", "closed_at", "closed_by", "close_reason",
              "deadline_at", "next_timer_at"],
    "tasks": ["id", "case_id", "spiff_task_id", "step_id", "name", "lane", "state", "ready_at", "claimed_at",
              "claimed_by", "completed_at", "completed_by", "cancelled_at", "budget_seconds", "pauses_clock", "data"],
    "audit_events": ["id", "at", "actor", "action", "case_id", "task_id", "detail"],
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path, postgres_template):
    """A database with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'first.sqlite'}"
        return
    if postgres_template is None:
        pytest.skip("PostgreSQL tests need ALUR_TEST_POSTGRES_URL (`.ci/run` sets it)")
    name = f"alur_m_{uuid.uuid4().hex[:10]}"
    postgres_template._exec(f'CREATE DATABASE "{name}"')
    url = postgres_template.url.set(database=name).render_as_string(hide_password=False)
    yield url
    postgres_template.drop(url)


@pytest.fixture(scope="module")
def realistic_rows(tmp_path_factory) -> dict[str, list[dict]]:
    """Rows of the first schema's tables as a working office has them: made by a real engine, then read back."""
    path = tmp_path_factory.mktemp("source") / "alur.sqlite"
    url = f"sqlite:///{path}"
    db = Database(url)
    db.upgrade()
    engine = Engine(db, FixedClock(MONDAY_MORNING), Settings(database_url=url))
    engine.add_user("fo", role="staff", lanes=["Front Office"], password_hash="pbkdf2:sha256:1$x$y",
                    full_name="Petugas Depan")
    engine.add_user("bo", role="staff", lanes=["Back Office"], password_hash="pbkdf2:sha256:1$x$y")
    engine.add_holiday(date(2026, 12, 3), "Hari jadi kabupaten")
    engine.deploy((FIXTURES / "linear3.bpmn").read_bytes(), "linear3.bpmn", author="analis", note="versi pertama")
    running = engine.start_case("linear3", actor="fo")
    engine.comment(running, user="fo", text="Berkas diterima lengkap.")
    engine.start_case("linear3", actor="fo")
    rows = {}
    with db.engine.connect() as conn:
        for table, columns in FIRST_SCHEMA.items():
            t = Base.metadata.tables[table]
            result = conn.execute(select(*(t.c[c] for c in columns)).order_by(t.c[columns[0]]))
            rows[table] = [dict(zip(columns, r)) for r in result]
    db.dispose()
    assert rows["cases"] and rows["tasks"] and rows["process_versions"] and rows["audit_events"]
    return rows


def insert_first_schema_rows(url: str, rows: dict[str, list[dict]]) -> None:
    """Write the rows with plain INSERTs into a database at revision 0001, as the first Alur would have."""
    first = create_engine(url)
    with first.begin() as conn:
        for table, columns in FIRST_SCHEMA.items():
            # Only the first schema's columns: today's models would add defaults for later ones.
            model = Base.metadata.tables[table]
            first_table = Table(table, MetaData(), *(Column(c, model.c[c].type) for c in columns))
            if rows[table]:
                conn.execute(first_table.insert(), rows[table])
        if first.dialect.name == "postgresql":  # keep the id sequences ahead of the copied ids
            for table in ("users", "process_versions", "cases", "tasks", "audit_events"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    first.dispose()


def test_migrations_from_the_first_schema_keep_data_and_the_engine_goes_on(empty_url, realistic_rows):
    db = Database(empty_url)
    try:
        db.upgrade("0001")
        assert schema_state(db)[0] == "0001"
        columns = {t: {c["name"] for c in inspect(db.engine).get_columns(t)} for t in FIRST_SCHEMA}
        assert all(set(FIRST_SCHEMA[t]) == columns[t] for t in FIRST_SCHEMA), "FIRST_SCHEMA is not schema 0001"
    finally:
        db.dispose()
    insert_first_schema_rows(empty_url, realistic_rows)

    db = Database(empty_url)
    db.upgrade()
    current, head = schema_state(db)
    assert current == head
    engine = Engine(db, FixedClock(MONDAY_MORNING), Settings(database_url=empty_url))
    try:
        with db.engine.connect() as conn:
            for table, columns in FIRST_SCHEMA.items():
                count = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                assert count == len(realistic_rows[table]), table
            cases = conn.execute(text("SELECT registration_number, state_json, revision, practice FROM cases "
                                      "ORDER BY id")).all()
        assert [(c[0], c[1], c[2]) for c in cases] == [
            (r["registration_number"], r["state_json"], r["revision"]) for r in realistic_rows["cases"]]
        assert all(c[3] in (False, 0) for c in cases), "old cases became practice cases"

        first = realistic_rows["cases"][0]
        case = engine.case(first["registration_number"])
        assert case["status"] == "running" and any("Berkas diterima" in str(e) for e in case.get("timeline", [case]))
        assert engine.user("fo")["lanes"] == ["Front Office"]
        [task] = engine.tasks(case_id=case["id"])
        engine.complete(task["id"], user="fo", data={
            "nama_pemohon": "Yohanes Wenda", "jumlah_berkas": 3, "jenis_layanan": "baru",
            "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"})
        assert [t["step_id"] for t in engine.tasks(case_id=case["id"])] != [task["step_id"]]
        new_case = engine.start_case("linear3", actor="fo")
        assert engine.case(new_case)["registration_number"] > first["registration_number"]
    finally:
        db.dispose()


@pytest.mark.parametrize("revision", ["0001", "0002", "0003", "0004"])
def test_each_step_upgrades_to_head_on_sqlite(tmp_path, revision):
    db = Database(f"sqlite:///{tmp_path / 'step.sqlite'}")
    try:
        db.upgrade(revision)
        db.upgrade()
        assert schema_state(db)[0] == schema_state(db)[1]
    finally:
        db.dispose()


def test_models_match_the_migrations(empty_url):
    """Autogenerate finds nothing to do on a freshly migrated database: the models and migrations agree."""
    db = Database(empty_url)
    try:
        db.upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                             "compare_server_default": False})
            differences = compare_metadata(context, Base.metadata)
        assert differences == [], f"models and migrations differ ({make_url(empty_url).get_backend_name()}): " \
                                  f"{differences}"
    finally:
        db.dispose()


def test_a_backup_of_the_first_schema_restores_and_upgrades_with_its_cases(tmp_path, realistic_rows, clock):
    """An old office's backup comes back on a new Alur: restore, upgrade on open, work on its cases."""
    from workflow_engine import open_engine
    from workflow_engine.backup import backup, restore

    old = f"sqlite:///{tmp_path / 'lama.sqlite'}"
    db = Database(old)
    db.upgrade("0001")
    db.dispose()
    insert_first_schema_rows(old, realistic_rows)
    copy = tmp_path / "cadangan.sqlite"
    assert backup(old, copy)["revision"] == "0001"
    new = f"sqlite:///{tmp_path / 'baru' / 'alur.sqlite'}"
    restored = restore(new, copy)
    assert restored["needs_upgrade"] and restored["cases"] == len(realistic_rows["cases"])
    engine = open_engine(Settings(database_url=new), clock=clock)
    try:
        assert schema_state(engine.db)[0] == schema_state(engine.db)[1]
        ref = realistic_rows["cases"][0]["registration_number"]
        [task] = engine.tasks(case_id=engine.case(ref)["id"])
        engine.complete(task["id"], user="fo", data={
            "nama_pemohon": "Yohanes Wenda", "jumlah_berkas": 3, "jenis_layanan": "baru",
            "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"})
        assert engine.case(ref)["status"] == "running"
    finally:
        engine.db.dispose()
