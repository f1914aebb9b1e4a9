"""A database already at head is opened without alembic; one behind head is still migrated."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hub.store import migrate


def test_head_revision_is_the_newest_migration() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert script.get_current_head() == migrate.HEAD_REVISION


async def test_a_database_at_head_is_opened_without_alembic(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def alembic_ran(*_: object) -> None:
        raise AssertionError("alembic ran on a database at head")

    monkeypatch.setattr(migrate, "_upgrade_on", alembic_ran)
    engine = create_async_engine(database_url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def test_a_database_behind_head_is_migrated_to_it(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    try:
        await migrate.upgrade(engine, "0011")
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            stamped = set((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())
    finally:
        await engine.dispose()
    assert stamped == {migrate.HEAD_REVISION}
