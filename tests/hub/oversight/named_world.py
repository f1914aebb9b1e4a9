"""The oversight world (world.py) as the pages that show names need it: each person's real blind
index under a vault (an ID number can be searched for), optionally the number sealed under it (a
role with the need opens it), and a team, 钢筋班 of ent-sub1, that per-w1 works in."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from hub.registry.vault import IdVault
from hub.store import Store
from hub.store.schema import assignments, persons, teams
from tests.hub.oversight import world as w

TEAM = "钢筋班"


async def name_the_world(store: Store, world: w.World, vault: IdVault, *, seal: bool) -> None:
    async with store.write("named world") as conn:
        for person_id, number in zip(w.PERSONS, world.id_numbers, strict=True):
            values: dict[str, object] = {"id_index": vault.blind_index(number)}
            if seal:
                values["id_cipher"] = vault.seal_id(person_id, number)
            await conn.execute(update(persons).where(persons.c.id == person_id).values(**values))
        await conn.execute(
            teams.insert().values(
                id="team-rebar", project_id="proj-a", enterprise_id="ent-sub1", name=TEAM,
                leader_person_id="per-w1", created_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )  # fmt: skip
        await conn.execute(
            update(assignments)
            .where(assignments.c.person_id == "per-w1", assignments.c.project_id == "proj-a")
            .values(team_id="team-rebar")
        )
