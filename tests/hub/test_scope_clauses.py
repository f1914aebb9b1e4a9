"""Scope clauses applied to the very tables they look into (assignments, persons, gates).

The trap: a subquery on ``assignments`` inside a query on ``assignments`` is correlated by
SQLAlchemy, and "this person is assigned here through my enterprise" becomes "this row equals
itself", true for every row. hub.auth.scope uses aliases; these tests hold it to that, on the
matrix's world, both stores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from hub.auth.principal import Principal, Role
from hub.auth.scope import device_clause, person_clause, person_record_clause
from hub.store import Store
from hub.store.schema import assignments, gates, persons
from tests.hub import scope_world as world

SUB_P1 = Principal(1, "sub", Role.SUB_PROJECT, enterprise_id="ent-sub", project_id=world.P1)
SUB_ENTERPRISE = Principal(2, "sub-ent", Role.ENTERPRISE, enterprise_id="ent-sub")
GC_P1 = Principal(3, "gc", Role.GC_PROJECT, enterprise_id="ent-gc", project_id=world.P1)
DISTRICT_2 = Principal(4, "d2", Role.DISTRICT, district=world.D2)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    async with await Store.open(database_url) as opened:
        await world.build(opened)
        yield opened


async def rows(store: Store, query) -> set[str]:
    async with store.read("test") as conn:
        return set((await conn.execute(query)).scalars())


async def test_assignments_seen_through_the_person_record_clause(store: Store) -> None:
    a = assignments.c

    def query(p: Principal):
        return select(a.person_id).where(person_record_clause(p, a.project_id, a.person_id))

    assert await rows(store, query(SUB_P1)) == {"per-sub1"}
    assert await rows(store, query(SUB_ENTERPRISE)) == {"per-sub1", "per-sub2"}
    assert await rows(store, query(GC_P1)) == {"per-gc1", "per-sub1", "per-sup1"}


async def test_persons_seen_through_the_person_clause(store: Store) -> None:
    def query(p: Principal):
        return select(persons.c.id).where(person_clause(p, persons.c.id))

    assert await rows(store, query(SUB_P1)) == {"per-sub1"}
    assert await rows(store, query(DISTRICT_2)) >= {"per-sub2", "per-out1"}
    assert "per-gc1" not in await rows(store, query(DISTRICT_2))


async def test_gates_seen_through_the_device_clause(store: Store) -> None:
    query = select(gates.c.device_id).where(device_clause(GC_P1, gates.c.device_id))
    assert await rows(store, query) == {world.LANE_P1}
