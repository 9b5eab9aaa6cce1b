"""`alur backup` and `alur restore`: the office PC's SQLite database, copied while Alur runs."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from conftest import FIXTURES, add_staff
from workflow_engine import Database, Engine, Settings, open_engine
from workflow_engine.models import AuditEvent, Case, TaskRecord
from web.cli import main


def alur(args, database_url: str, tmp_path):
    """Run `alur ARGS` in this process against one database; returns click's result."""
    env = {"ALUR_DATABASE_URL": database_url, "ALUR_HOME": str(tmp_path / "home")}
    return CliRunner(env=env).invoke(main, [str(a) for a in args], prog_name="alur")


def snapshot(database_url: str) -> dict[int, tuple]:
    """Every case with the facts a consistent copy must keep together."""
    db = Database(database_url)
    try:
        with db.read() as s:
            tasks = dict(s.execute(select(TaskRecord.case_id, func.count()).group_by(TaskRecord.case_id)).all())
            started = dict(s.execute(select(AuditEvent.case_id, func.count()).where(
                AuditEvent.action == "case.started").group_by(AuditEvent.case_id)).all())
            return {c.id: (c.registration_number, c.state_json, c.revision, tasks.get(c.id), started.get(c.id))
                    for c in s.scalars(select(Case))}
    finally:
        db.dispose()


@pytest.fixture
def office(sqlite_url, clock):
    engine = Engine(Database(sqlite_url), clock, Settings(database_url=sqlite_url))
    add_staff(engine, "bo", ["Back Office"])
    engine.deploy((FIXTURES / "boundary_timer.bpmn").read_bytes(), "boundary_timer.bpmn")
    yield engine
    engine.db.dispose()


def test_a_backup_taken_while_alur_writes_restores_to_the_same_cases(office, sqlite_url, tmp_path, clock):
    stop, written, errors = threading.Event(), [], []

    def clerk():
        try:
            while not stop.is_set():
                written.append(office.start_case("boundary_timer"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=clerk, daemon=True)
    thread.start()
    try:
        while len(written) < 10:
            time.sleep(0.01)
        backup = tmp_path / "cadangan" / "alur-backup.sqlite"
        done = alur(["backup", backup], sqlite_url, tmp_path)
        assert done.exit_code == 0, done.output
        assert "backup written to" in done.stdout
        at_backup = len(written)
        while len(written) < at_backup + 5:  # the clerk goes on after the backup
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(10)
    assert not errors

    header = sqlite3.connect(backup)
    assert header.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    header.close()

    restored_url = f"sqlite:///{tmp_path / 'kantor-baru' / 'alur.sqlite'}"
    done = alur(["restore", backup], restored_url, tmp_path)
    assert done.exit_code == 0, done.output
    restored, live = snapshot(restored_url), snapshot(sqlite_url)
    assert len(restored) >= 10
    # One moment's copy: the first N cases, each exactly as it is in the live database, whole.
    assert sorted(restored) == sorted(live)[:len(restored)]
    assert all(restored[c] == live[c] for c in restored)
    assert all(tasks == 1 and started == 1 for *_, tasks, started in restored.values())

    engine = open_engine(Settings(database_url=restored_url), clock=clock)
    try:
        assert len(engine.cases(limit=1000)) == len(restored)
        engine.start_case("boundary_timer")  # it opens and works
    finally:
        engine.db.dispose()


def test_restore_refuses_to_replace_a_database_without_force(office, sqlite_url, tmp_path):
    office.start_case("boundary_timer")
    backup = tmp_path / "backup.sqlite"
    assert alur(["backup", backup], sqlite_url, tmp_path).exit_code == 0
    assert alur(["backup", backup], sqlite_url, tmp_path).exit_code == 2  # no overwrite without --force
    assert alur(["backup", backup, "--force"], sqlite_url, tmp_path).exit_code == 0

    office.start_case("boundary_timer")
    office.db.dispose()  # Alur is stopped for a restore
    refused = alur(["restore", backup], sqlite_url, tmp_path)
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert len(snapshot(sqlite_url)) == 2  # untouched

    done = alur(["restore", backup, "--force"], sqlite_url, tmp_path)
    assert done.exit_code == 0, done.output
    assert len(snapshot(sqlite_url)) == 1
    kept = tmp_path / "alur.sqlite.before-restore"
    assert kept.exists() and len(snapshot(f"sqlite:///{kept}")) == 2


def test_restore_refuses_while_alur_has_the_database_open(office, sqlite_url, tmp_path):
    backup = tmp_path / "backup.sqlite"
    assert alur(["backup", backup], sqlite_url, tmp_path).exit_code == 0
    office.start_case("boundary_timer")  # the engine holds pooled connections
    refused = alur(["restore", backup, "--force"], sqlite_url, tmp_path)
    assert refused.exit_code == 2 and "stop 'alur serve'" in refused.stderr


def test_restore_refuses_a_file_that_is_not_an_alur_database(sqlite_url, tmp_path):
    target = f"sqlite:///{tmp_path / 'new.sqlite'}"
    text_file = tmp_path / "catatan.txt"
    text_file.write_text("bukan basis data")
    refused = alur(["restore", text_file], target, tmp_path)
    assert refused.exit_code == 1 and "not a SQLite database" in refused.stderr

    other = tmp_path / "lain.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE barang (nama TEXT)")
    conn.commit()
    conn.close()
    refused = alur(["restore", other], target, tmp_path)
    assert refused.exit_code == 1 and "not an Alur database" in refused.stderr

    future = tmp_path / "masa-depan.sqlite"
    future.write_bytes((tmp_path / "alur.sqlite").read_bytes())
    conn = sqlite3.connect(future)
    conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.commit()
    conn.close()
    refused = alur(["restore", future], target, tmp_path)
    assert refused.exit_code == 1 and "does not know" in refused.stderr
    assert not (tmp_path / "new.sqlite").exists()


def test_backup_and_restore_refuse_postgresql(tmp_path):
    url = "postgresql+psycopg://alur:alur@127.0.0.1:5432/alur"
    for args in (["backup", tmp_path / "x.sqlite"], ["restore", tmp_path / "x.sqlite"]):
        refused = alur(args, url, tmp_path)
        assert refused.exit_code == 1 and "pg_dump" in refused.stderr
