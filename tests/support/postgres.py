"""The test process's private PostgreSQL (sitegate.postgres) and the hub's databases on it.

One server per test process (per xdist worker), started the first time a test needs it. The hub's
schema is migrated once, into a template database; a test module's database is a copy of it
(``CREATE DATABASE ... TEMPLATE``), and every table in it is emptied before each later test of the
module (a DELETE from every table with foreign-key triggers off, sequences restarted). Measured
here (2 cores, other test runs going): a copy ≈0.15-0.35 s, a copy and its DROP ≈0.3 s, a
migration of an empty database ≈0.4 s, TRUNCATE of every table ≈0.1 s, the DELETEs ≈0.03 s; so a
copy per test would cost ten times what emptying does, and isolate nothing more (the schema has
no sequence but the tables' own, and every one is restarted).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from sitegate.postgres import PostgresServer

TEMPLATE = "hub_template"
T = TypeVar("T")


def run_in_thread(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: callable from a sync fixture whatever loop the calling
    thread has (pytest-asyncio's), without touching it."""
    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as err:
            error.append(err)

    thread = threading.Thread(target=run, name="fixture-asyncio-run")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


async def migrate(url: str) -> None:
    """The hub's schema on ``url``: what ``Store.open`` does first."""
    from hub.store import Store  # the hub's dependencies only for tests that use the store

    store = await Store.open(url)
    await store.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Started on first use (≈1-2 s) with the hub's schema in a template database; stopped (the
    server and its backends, one process group) when the session ends."""
    with PostgresServer() as server:
        server.template = run_in_thread(server.create_template(TEMPLATE, migrate))
        yield server


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A SQLAlchemy URL to a database no other test module uses, at the hub's schema, every table empty."""
    return postgres_server.url(await postgres_server.database(request.module.__name__))
