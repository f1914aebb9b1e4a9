"""Whether a database URL names a hub database, asked before a command-line tool writes to it.

Opening the store makes whatever it finds into a hub database: a new SQLite file where none was,
the hub's tables in an empty PostgreSQL database. The hub itself wants that on its first start;
``sitegate hub account create`` must not, or a typo in ``--database-url`` silently "creates" the
account in a new database nobody runs a hub on (issue 14). :func:`probe` looks without changing
anything: it never creates an SQLite file, and on PostgreSQL only reads the catalogue.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from hub.errors import ConfigError, StoreError
from sitegate.clitext import plain_error

VERSION_TABLE = "alembic_version"
"""The migrations' own table: a database that has it is a hub database (at some revision)."""
UNDEFINED_DATABASE = "3D000"
"""PostgreSQL's SQLSTATE for a database that does not exist."""


class DatabaseState(Enum):
    MISSING = "missing"
    """No such database (an SQLite file that is not there, a PostgreSQL database never created)."""
    EMPTY = "empty"
    """The database exists but holds no hub schema."""
    HUB = "hub"


def shown(url: str) -> str:
    """``url`` as it may be printed: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


async def probe(url: str) -> DatabaseState:
    """What ``url`` holds; ConfigError for what is not a database URL, StoreError (transient) for a
    server that does not answer or refuses the login."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database_url: {shown(url)} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite" and not _is_file(parsed.database):
        return DatabaseState.MISSING
    engine = create_async_engine(parsed)
    try:
        async with engine.connect() as conn:
            has_schema = await conn.run_sync(_has_version_table)
    except (SQLAlchemyError, OSError) as err:
        if _sqlstate(err) == UNDEFINED_DATABASE:
            return DatabaseState.MISSING
        raise StoreError("open", plain_error(err), transient=True) from err
    finally:
        await engine.dispose()
    return DatabaseState.HUB if has_schema else DatabaseState.EMPTY


def _is_file(database: str | None) -> bool:
    """Whether an SQLite URL's database is a file that is there (not in memory, not to be made)."""
    return database not in (None, "", ":memory:") and Path(database).is_file()


def _has_version_table(conn: Connection) -> bool:
    return inspect(conn).has_table(VERSION_TABLE)


def _sqlstate(err: BaseException | None) -> str | None:
    """The SQLSTATE of ``err`` or of what it wraps (SQLAlchemy's ``orig``, the driver's cause)."""
    seen = 0
    while err is not None and seen < 5:
        if isinstance(code := getattr(err, "sqlstate", None), str):
            return code
        err = getattr(err, "orig", None) or err.__cause__
        seen += 1
    return None
