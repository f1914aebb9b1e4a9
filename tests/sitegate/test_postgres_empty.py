"""PostgresServer.empty: every table that holds a row emptied and every used sequence restarted, the
schema kept, the connections a last user left open ended, and none of its own left behind."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import pytest

from sitegate.postgres import PostgresServer

pytestmark = pytest.mark.postgres

SCHEMA = """
CREATE TABLE alembic_version (version_num text PRIMARY KEY);
CREATE TABLE parents (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE children (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                       parent_id integer NOT NULL REFERENCES parents (id));
CREATE TABLE rolled_back (id serial PRIMARY KEY);
CREATE TABLE never_written (id serial PRIMARY KEY);
CREATE TABLE "Odd Name" (id integer);
CREATE TABLE events (at date NOT NULL, what text) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE SEQUENCE loose_numbers START 5;
"""

ROWS = """
INSERT INTO alembic_version VALUES ('0001');
INSERT INTO parents (name) VALUES ('a'), ('b');
INSERT INTO children (parent_id) SELECT id FROM parents;
INSERT INTO "Odd Name" VALUES (1);
INSERT INTO events VALUES ('2026-06-01', 'in 2026'), ('2030-01-01', 'default');
SELECT nextval('loose_numbers');
"""

COUNTS = """
SELECT (SELECT count(*) FROM parents) + (SELECT count(*) FROM children) + (SELECT count(*) FROM rolled_back)
     + (SELECT count(*) FROM "Odd Name") + (SELECT count(*) FROM events)
"""


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    """A server of its own: these tests make databases of their own schema."""
    with PostgresServer() as started:
        yield started


async def _database(server: PostgresServer, name: str) -> str:
    admin = await asyncpg.connect(server.admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(server.dsn(name))
    try:
        await conn.execute(SCHEMA)
    finally:
        await conn.close()
    return name


async def _fill(server: PostgresServer, name: str) -> None:
    conn = await asyncpg.connect(server.dsn(name))
    try:
        await conn.execute(ROWS.replace("INSERT INTO alembic_version VALUES ('0001');", ""))
        tx = conn.transaction()
        await tx.start()
        await conn.execute("INSERT INTO rolled_back DEFAULT VALUES")
        await tx.rollback()
    finally:
        await conn.close()


async def _connections_to(server: PostgresServer, name: str) -> list[int]:
    admin = await asyncpg.connect(server.admin_dsn)
    try:
        rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", name)
    finally:
        await admin.close()
    return sorted(row["pid"] for row in rows)


async def test_every_table_is_emptied_and_every_used_sequence_restarted(server: PostgresServer) -> None:
    name = await _database(server, "emptied")
    conn = await asyncpg.connect(server.dsn(name))
    try:
        await conn.execute(ROWS)
        tx = conn.transaction()
        await tx.start()
        await conn.execute("INSERT INTO rolled_back DEFAULT VALUES")
        await tx.rollback()
        await conn.execute("INSERT INTO rolled_back DEFAULT VALUES")
    finally:
        await conn.close()

    await server.empty(name)

    conn = await asyncpg.connect(server.dsn(name))
    try:
        assert await conn.fetchval(COUNTS) == 0
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == "0001"  # kept
        await conn.execute("INSERT INTO parents (name) VALUES ('a')")  # the unique name is free again
        assert await conn.fetchval("SELECT id FROM parents") == 1
        assert await conn.fetchval("INSERT INTO children (parent_id) VALUES (1) RETURNING id") == 1
        assert await conn.fetchval("INSERT INTO rolled_back DEFAULT VALUES RETURNING id") == 1
        assert await conn.fetchval("SELECT nextval('loose_numbers')") == 5
        assert await conn.fetchval("SELECT nextval('never_written_id_seq')") == 1
    finally:
        await conn.close()


async def test_the_connections_a_last_user_left_open_are_ended(server: PostgresServer) -> None:
    name = await _database(server, "left_open")
    left = await asyncpg.connect(server.dsn(name))
    try:
        await left.execute("INSERT INTO parents (name) VALUES ('a')")
        await server.empty(name)
        assert await _connections_to(server, name) == []  # ended, not only told to end
        # However the client learns it: the server's FATAL, the closed socket, or asyncpg's
        # own state error when the FATAL arrived while the connection was idle (seen once in make test).
        ended = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
        with pytest.raises(ended):
            await left.fetchval("SELECT 1")
    finally:
        left.terminate()


async def test_no_connection_of_its_own_stays(server: PostgresServer) -> None:
    name = await _database(server, "not_kept")
    await _fill(server, name)
    await server.empty(name)
    assert await _connections_to(server, name) == []
