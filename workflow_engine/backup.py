"""Backup and restore of the office PC's SQLite database (PostgreSQL has pg_dump and pg_restore).

A backup uses SQLite's online backup API: it copies one consistent snapshot while Alur keeps
running and writing. A restore first checks that the file is an Alur database at a schema revision
this Alur knows, and copies it in with the same API, so the live file's WAL is handled by SQLite.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from .db import MIGRATIONS_DIR
from .errors import Conflict, InvalidState, NotFound

SQLITE_HEADER = b"SQLite format 3\x00"


def sqlite_file(database_url: str) -> Path:
    """The SQLite file behind a database URL; PostgreSQL is refused with what to use instead."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise InvalidState(
            f"'alur backup' and 'alur restore' are for the embedded SQLite database; this Alur uses "
            f"{url.get_backend_name()}: use pg_dump (e.g. pg_dump -Fc -f alur.dump DBNAME) and "
            "pg_restore instead")
    if not url.database or url.database == ":memory:":
        raise InvalidState("the database URL names no SQLite file")
    return Path(url.database).expanduser()


def known_revisions() -> dict[str, int]:
    """Every schema revision this Alur knows, with its position (0 for the first)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    ordered = list(reversed(list(ScriptDirectory.from_config(config).walk_revisions())))
    return {script.revision: index for index, script in enumerate(ordered)}


def head_revision() -> str:
    revisions = known_revisions()
    return max(revisions, key=revisions.get)


def describe(conn: sqlite3.Connection, name: str) -> dict:
    """What an open SQLite database holds, if it is an Alur database at a known revision."""
    try:
        integrity = conn.execute("PRAGMA quick_check").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise InvalidState(f"{name} is not a readable SQLite database ({exc})") from exc
    if integrity != "ok":
        raise InvalidState(f"{name} is damaged (SQLite integrity check: {integrity})")
    if not {"alembic_version", "cases", "process_versions"} <= tables:
        raise InvalidState(f"{name} is a SQLite database but not an Alur database")
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    revision = row[0] if row else None
    if revision not in known_revisions():
        raise InvalidState(f"{name} is at schema revision {revision or 'nothing'}, which this Alur does not "
                           f"know (it knows up to {head_revision()}): was it made by a newer Alur?")
    return {"revision": revision,
            "cases": conn.execute("SELECT count(*) FROM cases").fetchone()[0],
            "process_versions": conn.execute("SELECT count(*) FROM process_versions").fetchone()[0]}


def _open_read_only(path: Path) -> sqlite3.Connection:
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise InvalidState(f"{path} is not a SQLite database, let alone an Alur backup")
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def backup(database_url: str, target, *, force: bool = False) -> dict:
    """Copy the live SQLite database to `target` as one consistent snapshot; returns what it holds."""
    source = sqlite_file(database_url)
    target = Path(target).expanduser()
    if not source.exists():
        raise NotFound(f"there is no database at {source} to back up")
    if target.exists() and target.resolve() == source.resolve():
        raise InvalidState(f"{target} is the live database itself; choose another file")
    if target.is_dir():
        raise InvalidState(f"{target} is a folder; name the backup file, e.g. {target / 'alur-backup.sqlite'}")
    if target.exists() and not force:
        raise Conflict(f"{target} already exists; add --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            # pages=-1: the whole database in one step, under one read snapshot (WAL lets writers go on).
            src.backup(dst, pages=-1)
            # A self-contained file: no -wal beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
            info = describe(dst, str(target))
        finally:
            dst.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    os.replace(partial, target)
    return {"path": str(target), "bytes": target.stat().st_size, **info}


def restore(database_url: str, source, *, force: bool = False) -> dict:
    """Replace the SQLite database with a backup after checking it; returns what it holds.

    An existing database is only replaced with `force`, and is first kept beside itself as
    `<name>.before-restore` (or `-2`, `-3`, …). Alur must not be running on it (refused if it is).
    """
    target = sqlite_file(database_url)
    source = Path(source).expanduser()
    if not source.is_file():
        raise NotFound(f"there is no backup file at {source}")
    if target.exists() and source.resolve() == target.resolve():
        raise InvalidState(f"{source} is the live database itself")
    src = _open_read_only(source)
    try:
        info = describe(src, str(source))
        if target.exists() and not force:
            raise Conflict(f"a database already exists at {target}; add --force to replace it "
                           "(it is kept beside itself as a .before-restore file)")
        existed = target.exists()
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target, timeout=5, isolation_level=None)
        try:
            try:
                # Leaving WAL needs the only connection: this fails while Alur runs on the file.
                dst.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.OperationalError as exc:
                raise Conflict(f"{target} is in use ({exc}); stop 'alur serve' and 'alur worker' "
                               "first") from exc
            kept = _keep_current(dst, target) if existed else None
            src.backup(dst, pages=-1)
        finally:
            dst.close()
    finally:
        src.close()
    head = head_revision()
    return {"path": str(target), "from": str(source), "kept": str(kept) if kept else None,
            "needs_upgrade": info["revision"] != head, "head": head, **info}


def _keep_current(conn: sqlite3.Connection, target: Path) -> Path:
    """Copy the database about to be replaced to the first free `<name>.before-restore[-N]`."""
    kept, n = target.with_name(f"{target.name}.before-restore"), 1
    while kept.exists():
        n += 1
        kept = target.with_name(f"{target.name}.before-restore-{n}")
    dst = sqlite3.connect(kept)
    try:
        conn.backup(dst, pages=-1)
    finally:
        dst.close()
    return kept
