"""Schema migrations, run by the hub itself at startup.

No ``alembic.ini`` is needed at runtime: the script location comes from this package's path, so
migrations run the same from a checkout, an editable install or a wheel, whatever the cwd.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x53474D49  # "SGMI": one advisory lock key shared by every hub instance


def alembic_config(url: str | None = None) -> Config:
    """A Config for the hub's migrations; ``url`` only matters to the alembic command line."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade_on(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to ``revision`` on a connection of ``engine`` (in one transaction).

    On PostgreSQL the transaction first takes an advisory lock, so hub instances started together
    on an empty database migrate one after the other (the second finds the schema at head)
    instead of colliding on CREATE TABLE. SQLite serialises the two transactions by itself.
    """
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await connection.run_sync(_upgrade_on, revision)
