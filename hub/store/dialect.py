"""The only place the store branches on the database: upserts and connection set-up.

Both supported dialects speak ``INSERT ... ON CONFLICT``, but SQLAlchemy exposes it per dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.errors import StoreError
from hub.store import aiosqlite_close

Upsert = sqlite.Insert | postgresql.Insert

SQLITE_BUSY_TIMEOUT_MS = 5000
# Execution option a write transaction sets so SQLite takes the write lock at BEGIN.
WRITE_TRANSACTION = {"hub_begin": "IMMEDIATE"}


POSTGRESQL_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
"""Session settings of every PostgreSQL connection the store opens.

asyncpg prepares every statement, and after five runs PostgreSQL may switch a prepared statement
to a generic plan, one made without the parameter values. Planned that way with the estimates of
young tables (autovacuum analyses a table a minute or more after it grows), the ingest's lookup
of the day's attendance became a scan of the whole day for every batch: 35 ms a batch at 60,000
events instead of 2.5 ms. Planning each run with its values costs a fraction of a millisecond.
"""


def insert_for(dialect_name: str) -> Callable[[Table], Upsert]:
    if dialect_name == "sqlite":
        return sqlite.insert
    if dialect_name == "postgresql":
        return postgresql.insert
    raise StoreError("open", f"unsupported database dialect {dialect_name!r}", transient=False)


def prepare_sqlite(engine: AsyncEngine) -> None:
    """Make SQLite transactional and patient.

    WAL lets the API read while the ingest writes; ``busy_timeout`` waits for the lock instead of
    failing at once; ``synchronous=FULL`` because a StorageAck lets a controller forget events,
    so a commit must survive a power cut. pysqlite's own transaction handling is switched off
    (it does not BEGIN before DDL, so a migration would not be atomic) and replaced by an
    explicit BEGIN; write transactions use BEGIN IMMEDIATE so they never fail on a lock upgrade.
    """
    aiosqlite_close.install()
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("hub_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")
