"""Fixtures for the hub: a real store, on a temporary SQLite file and on PostgreSQL (``database_url``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hub.store import Store


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    async with await Store.open(database_url) as opened:
        yield opened
