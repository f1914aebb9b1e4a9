"""The test session's private PostgreSQL (sitegate.postgres), and an empty database per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sitegate.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Started on first use (≈1–2 s), stopped when the session ends."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A SQLAlchemy URL to a database no other test module uses, with every table empty."""
    return postgres_server.url(await postgres_server.database(request.module.__name__))
