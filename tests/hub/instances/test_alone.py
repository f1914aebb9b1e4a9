"""An SQLite hub is alone by construction: it owns every project and keeps no lease."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.instances import Membership
from hub.store import Store
from hub.store.schema import hub_instances
from tests.hub.clocked import NOON
from tests.support.clock import FakeClock


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    database = tmp_path / "hub.db"
    shutil.copyfile(sqlite_template, database)
    return f"sqlite+aiosqlite:///{database}"


@pytest.fixture
async def sqlite_store(sqlite_url: str) -> AsyncIterator[Store]:
    async with await Store.open(sqlite_url) as opened:
        yield opened


async def test_a_single_sqlite_hub_owns_every_project_without_a_lease(sqlite_store: Store) -> None:
    membership = Membership.on(sqlite_store, "sitegate.hub", clock=FakeClock(NOON))
    async with membership:
        assert membership.ownership.is_alone
        assert all(membership.owns(f"P-{n}") for n in range(100))
        assert not await membership.renew()
    async with sqlite_store.read("test") as conn:
        assert await conn.scalar(select(func.count()).select_from(hub_instances)) == 0
