"""Two writes racing for the same unique thing: one wins, the other gets the same specific refusal
it would get one after the other (on PostgreSQL both checks can pass before either commits; on
SQLite the write lock orders them), and nothing is stored twice."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from hub import refusals
from hub.registry.models import AccountIn, AssignmentIn, EnterpriseIn, GateIn, PersonIn, RegistrationIn
from hub.store.schema import assignments, enterprises, gates, persons
from tests.hub.registry.conftest import HOME, PASSWORD, World, new_number, uscc


async def race(*writes: Any) -> tuple[list[Any], list[BaseException]]:
    results = await asyncio.gather(*writes, return_exceptions=True)
    return [r for r in results if not isinstance(r, BaseException)], [
        r for r in results if isinstance(r, BaseException)
    ]


async def rows(world: World, table: Any, *where: Any) -> int:
    async with world.store.read("test") as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def test_one_person_registered_by_two_bureaus_at_once(world: World) -> None:
    number = new_number(world.rng)
    data = PersonIn(
        card_kind="resident", id_number=number, name="王芳", enterprise_id=world.sub.id, category="worker"
    )
    made, refused = await race(
        world.registry.acting_for(world.city).register_person(data),
        world.registry.acting_for(world.district).register_person(data),
    )
    assert len(made) == 1 and [type(e) for e in refused] == [refusals.PersonAlreadyRegistered]
    assert number not in str(refused[0])
    assert await rows(world, persons, persons.c.id_index == world.registry._vault.blind_index(number)) == 1


async def test_one_enterprise_number_registered_twice_at_once(world: World) -> None:
    data = EnterpriseIn(
        number=uscc(90), name="并发公司", kind="supervision", district=HOME, local=True, password=PASSWORD
    )
    made, refused = await race(
        world.registry.acting_for(world.city).create_enterprise(data),
        world.registry.acting_for(world.district).create_enterprise(data),
    )
    assert len(made) == 1 and [type(e) for e in refused] == [refusals.EnterpriseNumberTaken]
    assert await rows(world, enterprises, enterprises.c.number == data.number) == 1


async def test_two_overlapping_assignments_at_once(world: World) -> None:
    person = await world.person()

    def on_site(entry: str) -> AssignmentIn:
        return AssignmentIn.model_validate(
            {"person_id": person.id, "enterprise_id": world.sub.id, "role": "worker", "entry_date": entry}
        )

    made, refused = await race(
        world.registry.acting_for(world.gc_project).assign("site-a", on_site("2026-04-01")),
        world.registry.acting_for(world.sub_project).assign("site-a", on_site("2026-04-02")),
    )
    assert len(made) == 1 and [type(e) for e in refused] == [refusals.AssignmentOverlaps]
    assert await rows(world, assignments, assignments.c.person_id == person.id) == 1


async def test_one_device_placed_at_two_sites_at_once(world: World) -> None:
    await world.registry.acting_for(world.gc_account).register_project(
        "site-b", RegistrationIn(account=AccountIn(username="site-b-gc", password=PASSWORD))
    )
    gate = GateIn(device_id="lane-race", lane="l1", direction="in", name="x")
    made, refused = await race(
        world.registry.acting_for(world.city).place_gate("site-a", gate),
        world.registry.acting_for(world.city).place_gate("site-b", gate),
    )
    assert len(made) == 1 and [type(e) for e in refused] == [refusals.DeviceAlreadyPlaced]
    assert await rows(world, gates, gates.c.device_id == "lane-race") == 1
    assert made[0].value.project_id in refused[0].message or "another project" in refused[0].message
