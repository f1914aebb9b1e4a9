"""Visitors' pass windows (临时通行证): a visitor's assignment carries the instants between which the
lanes admit them; any other assignment, half a window or one that ends before it starts is a 422
naming the fields, and nothing is stored. Both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from hub.api.keys import STORE
from hub.registry.models import AssignmentIn
from hub.rosters.registry_source import RegistrySource
from hub.store.schema import assignments
from tests.hub.registry.conftest import Client, World
from tests.support.accounts import token_headers
from wire.roster import RosterItem

SHANGHAI = timezone(timedelta(hours=8))
FROM = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)
UNTIL = datetime(2026, 3, 10, 17, 30, tzinfo=SHANGHAI)


def visit(world: World, person_id: str, **changes: Any) -> dict[str, Any]:
    values = {
        "person_id": person_id,
        "enterprise_id": world.sub.id,
        "role": "visitor",
        "entry_date": "2026-03-10",
        "exit_date": "2026-03-10",
        "pass_from": FROM.isoformat(),
        "pass_until": UNTIL.isoformat(),
    }
    return {**values, **changes}


def test_a_window_is_a_visitors_whole_and_in_order() -> None:
    base = {"person_id": "per-1", "enterprise_id": "ent-1", "entry_date": "2026-03-10"}
    window = {"pass_from": FROM.isoformat(), "pass_until": UNTIL.isoformat()}
    made = AssignmentIn.model_validate({**base, "role": "visitor", **window})
    assert (made.pass_from, made.pass_until) == (FROM, UNTIL)
    assert AssignmentIn.model_validate({**base, "role": "visitor"}).pass_from is None
    refused = {
        "only a visitor's assignment has a pass window, not a worker's": {**base, "role": "worker", **window},
        "a pass window needs both ends": {**base, "role": "visitor", "pass_from": FROM.isoformat()},
        "pass_until must be after pass_from": {
            **base,
            "role": "visitor",
            "pass_from": UNTIL.isoformat(),
            "pass_until": FROM.isoformat(),
        },
    }
    for why, values in refused.items():
        with pytest.raises(ValidationError, match=why):
            AssignmentIn.model_validate(values)
    with pytest.raises(ValidationError, match="timezone"):  # a naive time is ambiguous on a site
        AssignmentIn.model_validate({**base, "role": "visitor", **window, "pass_until": "2026-03-10T17:30"})


async def test_a_visitors_window_is_stored_and_reaches_the_roster(world: World) -> None:
    guest = await world.person()
    made = await world.registry.acting_for(world.gc_project).assign(
        world.project.id, AssignmentIn.model_validate(visit(world, guest.id))
    )
    assert (made.pass_from, made.pass_until) == (FROM, UNTIL)
    listed = {
        a.person_id: a
        for a in (await world.registry.acting_for(world.city).assignments(world.project.id)).items
    }
    assert listed[guest.id].pass_from == FROM and listed[guest.id].pass_from.tzinfo == UTC
    assert listed[guest.id].pass_until == UNTIL
    assert listed[world.worker.id].pass_from is None and listed[world.worker.id].pass_until is None

    source = RegistrySource(world.store, clock=lambda: datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    entries = {fields["person_id"]: (digest, fields) for digest, fields in await source.entries("site-a")}
    digest, fields = entries[guest.id]
    item = RosterItem.model_validate({"credential_hash": digest, **fields})
    assert (item.role, item.pass_from, item.pass_until) == ("visitor", FROM, UNTIL)
    assert len(item.row()) == 7  # the wire row with its window
    worker = entries[world.worker.id][1]
    assert "pass_from" not in worker and "pass_until" not in worker


async def test_over_http_a_bad_window_is_a_422_and_stores_nothing(client: Client, http_world: World) -> None:
    world = http_world
    guest = await world.person()
    headers = await token_headers(client.app[STORE], world.gc_project)
    path = f"/api/v1/projects/{world.project.id}/assignments"

    async def stored() -> int:
        async with world.store.read("test") as conn:
            query = select(func.count()).select_from(assignments).where(assignments.c.person_id == guest.id)
            return int(await conn.scalar(query) or 0)

    bad = {
        "role": visit(world, guest.id, role="worker"),
        "one end": visit(world, guest.id, pass_until=None),
        "backwards": visit(world, guest.id, pass_from=UNTIL.isoformat(), pass_until=FROM.isoformat()),
    }
    for case, body in bad.items():
        response = await client.post(path, json=body, headers=headers)
        answer = await response.json()
        assert response.status == 422, (case, answer)
        assert answer["error"]["code"] == "invalid_body"
        assert "pass_" in answer["error"]["message"], (case, answer)
    assert await stored() == 0

    response = await client.post(path, json=visit(world, guest.id), headers=headers)
    answer = await response.json()
    assert response.status == 201, answer
    assert datetime.fromisoformat(answer["pass_from"]) == FROM
    assert datetime.fromisoformat(answer["pass_until"]) == UNTIL
    assert await stored() == 1
    assert world.roster_calls[-1] == world.project.id  # the lanes are told
