"""The batch's placements and remote_open commands, read in one query each, on both stores."""

from __future__ import annotations

from datetime import timedelta

from hub.devices import command_log
from hub.events.attribution import OpenCommand, Placement
from hub.events.placements import open_commands_for, placements_of
from hub.store import Store
from tests.hub.factories import BASE_TIME, make_event, make_lane_event
from tests.support.registry_rows import contractor_with_projects, place_gates
from wire.commands import Action, Command
from wire.models import LaneEvent, LaneEventType


async def _world(store: Store) -> None:
    async with store.write("test world") as conn:
        await contractor_with_projects(
            conn,
            ["proj-1"],
            district="110101",
            district_name="D",
            gc_number="91110000000000000X",
            now=BASE_TIME,
        )
        await place_gates(conn, [("lane-t01", "proj-1", "A1", "in", "North")])


def _open(device_id: str, operator: str, issued_s: int, action: Action = Action.REMOTE_OPEN) -> Command:
    issued = BASE_TIME + timedelta(seconds=issued_s)
    return Command(
        command_id=f"{issued_s:032x}",
        device_id=device_id,
        action=action,
        operator=operator,
        issued_at=issued,
        expires_at=issued + timedelta(seconds=60),
    )


async def test_placements_name_only_the_placed_devices(store: Store) -> None:
    await _world(store)
    async with store.read("test") as conn:
        found = await placements_of(conn, {"lane-t01", "lane-unplaced"})
        assert await placements_of(conn, set()) == {}
    assert found == {"lane-t01": Placement("lane-t01", "proj-1", "A1", "in")}


async def test_open_commands_are_read_only_for_devices_reporting_a_remote_open(store: Store) -> None:
    await _world(store)
    async with store.write("test commands") as conn:
        await command_log.record(conn, _open("lane-t01", "operator-1", issued_s=5))
        await command_log.record(conn, _open("lane-t01", "operator-1", issued_s=6, action=Action.REBOOT))
        await command_log.record(conn, _open("lane-t01", "operator-9", issued_s=86_400))  # a day later
    opened = LaneEvent.model_validate(
        {
            **make_lane_event(7, LaneEventType.LANE_ENABLED).model_dump(),
            "type": "remote_open",
            "operator": "x",
        }
    )
    async with store.read("test") as conn:
        assert await open_commands_for(conn, [make_event(1)]) == {}
        found = await open_commands_for(conn, [make_event(1), opened])
    issued = BASE_TIME + timedelta(seconds=5)
    assert found == {"lane-t01": [OpenCommand("operator-1", issued, issued + timedelta(seconds=60))]}
