"""Fixtures that start real parts on loopback: each test gets what it asks for, nothing shared by accident."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sitegate.mosquitto import Mosquitto
from tests.support.pcscd import pcscd, vpcd  # noqa: F401 - fixtures shared by reader and lane tests
from tests.support.postgres import postgres_server, postgres_url  # noqa: F401 - shared by hub and roster tests


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    """A private mosquitto on a free loopback port, stopped after the test."""
    with Mosquitto() as mosq:
        yield mosq


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The hub's database, once per backend: a SQLite file (the embedded default), then PostgreSQL.

    A test that takes this (or the hub's ``store``) runs on both; ``-m "not postgres"`` leaves
    PostgreSQL out.
    """
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
