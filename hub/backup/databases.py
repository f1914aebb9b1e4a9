"""The hub's database copied out and put back, each store through its own tools.

SQLite: the online backup API (``sqlite3.Connection.backup``, all pages in one step): a
consistent snapshot while the hub's ingest keeps writing (WAL: the copy reads one snapshot, the
writers go on). Put back by replacing the file whole, after removing the old file's ``-wal`` and
``-shm`` (a stale WAL beside a new file would be replayed into it).

PostgreSQL: ``pg_dump -Fc`` (a logical dump, taken in one repeatable-read transaction, so as
consistent as the SQLite copy while ingest runs) and ``pg_restore``. Chosen over a base backup
(``pg_basebackup``): it needs no replication role, WAL archiving or server configuration; it is
one database, not the whole cluster; it restores into a newer PostgreSQL major version; and it is
compressed. What a base backup would add, point-in-time recovery, the lanes give instead: they
keep acknowledged events for a week and resend what the restored hub lacks
(:mod:`hub.backup.resend`). The binaries: ``$SITEGATE_PG_BIN``, else the newest
``/usr/lib/postgresql/N/bin`` (Debian's), else ``PATH``; the password goes by ``PGPASSWORD``,
never on a command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from hub.backup.sealed import BackupError
from hub.store.migrate import alembic_config

SQLITE = "sqlite"
POSTGRES = "postgresql"
TOOL_TIMEOUT_S = 6 * 3600


def store_kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in (SQLITE, POSTGRES):
        raise BackupError(f"database_url: {backend} is not a store the hub backs up (sqlite, postgresql)")
    return backend


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if database in (None, "", ":memory:"):
        raise BackupError("database_url: an in-memory SQLite database has nothing to back up")
    return Path(database)


def known_revisions() -> set[str]:
    """Every schema revision this hub's migrations know (a backup at another one is newer)."""
    script = ScriptDirectory.from_config(alembic_config())
    return {revision.revision for revision in script.walk_revisions()}


def _sqlite_revision(path: Path) -> str | None:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        try:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError:
            return None
    return None if row is None else str(row[0])


async def _postgres_revision(url: str) -> str | None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            return None if revision is None else str(revision)
    finally:
        await engine.dispose()


# -- copying out ---------------------------------------------------------------------------------


def snapshot_sqlite(url: str, dest: Path) -> str:
    """The database at ``url`` copied to ``dest`` (online, consistent); returns its revision."""
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"no hub database at {source_path}")
    with (
        contextlib.closing(sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)) as source,
        contextlib.closing(sqlite3.connect(dest)) as copy,
    ):
        source.backup(copy)  # pages=-1: one step, one snapshot
    revision = _sqlite_revision(dest)
    if revision is None:
        raise BackupError(f"{source_path} holds no hub schema (no alembic_version): not a hub database")
    return revision


async def snapshot_postgres(url: str, dest: Path) -> str:
    """``pg_dump -Fc`` of the database at ``url`` into ``dest``; returns its revision."""
    revision = await _postgres_revision(url)
    if revision is None:
        raise BackupError(f"{_shown(url)} holds no hub schema: not a hub database")
    await _run_tool("pg_dump", "--format=custom", "--no-owner", f"--file={dest}", url=url)
    if await _postgres_revision(url) != revision:
        raise BackupError("the schema was migrated while the dump ran; take the backup again")
    return revision


# -- putting back --------------------------------------------------------------------------------


def restore_sqlite(url: str, source: Path) -> None:
    """Replace the database file at ``url`` with ``source`` (the hub is not running: checked)."""
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(target.name + ".restoring")
    shutil.copyfile(source, staged)
    os.chmod(staged, 0o600)
    for stale in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        stale.unlink(missing_ok=True)
    os.replace(staged, target)


async def empty_postgres(url: str) -> None:
    """Drop everything in the database's ``public`` schema (the hub's tables, partitions, types)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def restore_postgres(url: str, source: Path) -> None:
    """Empty the database's ``public`` schema, then ``pg_restore`` into it in one transaction."""
    await empty_postgres(url)
    await _run_tool(
        "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
        str(source), url=url,
    )  # fmt: skip


async def other_sessions(url: str) -> int:
    """Sessions connected to the database besides this one: hubs still running on it."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )
            )
    finally:
        await engine.dispose()
    return int(count or 0)


# -- the tools -----------------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    configured = os.environ.get("SITEGATE_PG_BIN")
    if configured:
        return str(Path(configured) / name)
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}") if p.parent.parent.name.isdigit()),
        key=lambda p: int(p.parent.parent.name),
    )
    if versions:
        return str(versions[-1])
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install PostgreSQL's client tools or set SITEGATE_PG_BIN")
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URI for a SQLAlchemy URL (no driver, no password) and the environment with the
    password in ``PGPASSWORD``."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def _run_tool(name: str, *args: str, url: str) -> None:
    uri, env = _libpq(url)
    command = [pg_tool(name), f"--dbname={uri}", *args]
    try:
        done = await asyncio.to_thread(
            subprocess.run, command, env=env, capture_output=True, timeout=TOOL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise BackupError(f"{name} could not run: {err}") from err
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise BackupError(f"{name} failed ({done.returncode}): {' / '.join(said)}")
