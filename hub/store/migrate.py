"""Schema migrations, run by the hub itself at startup.

No ``alembic.ini`` is needed at runtime: the script location comes from this package's path, so
migrations run the same from a checkout, an editable install or a wheel, whatever the cwd.

Alembic is imported only when a database is not at :data:`HEAD_REVISION`: loading it and its
scripts was ~0.1-0.15 CPU-s of every hub start, nearly all of them on a database already at head.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x53474D49  # "SGMI": one advisory lock key shared by every hub instance
HEAD_REVISION = "0013"
"""The newest migration's revision (a test holds it to alembic's head): a database stamped with it
needs nothing, and is opened without loading alembic."""


def alembic_config(url: str | None = None) -> Config:
    """A Config for the hub's migrations; ``url`` only matters to the alembic command line."""
    from alembic.config import Config  # alembic only when migrating (see the module's docstring)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade_on(connection: Connection, revision: str) -> None:
    from alembic import command  # alembic only when migrating (see the module's docstring)

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to ``revision`` on a connection of ``engine`` (in one transaction).

    On PostgreSQL the transaction first takes an advisory lock, so hub instances started together
    on an empty database migrate one after the other (the second finds the schema at head)
    instead of colliding on CREATE TABLE. SQLite serialises the two transactions by itself.
    """
    if revision == "head" and await _stamped_at_head(engine):
        return
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await connection.run_sync(_upgrade_on, revision)


def _revisions_on(connection: Connection) -> set[str]:
    """The revisions the database is stamped with; none for a database alembic never touched."""
    if not inspect(connection).has_table("alembic_version"):
        return set()
    return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


async def _stamped_at_head(engine: AsyncEngine) -> bool:
    """At head already (what alembic would find before doing nothing)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_revisions_on) == {HEAD_REVISION}
