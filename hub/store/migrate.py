"""Schema migrations, run by the hub itself at startup.

No ``alembic.ini`` is needed at runtime: the script location comes from this package's path, so
migrations run the same from a checkout, an editable install or a wheel, whatever the cwd.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


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
    """Bring the database to ``revision`` on a connection of ``engine`` (in one transaction)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_on, revision)
