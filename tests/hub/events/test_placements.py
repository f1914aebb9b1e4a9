"""The batch's placements and the commands its remote_opens name, read in one query each, on both stores."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hub.devices import command_log
from hub.events.attribution import OpenCommand, Placement
from hub.events.journal import store_events
from hub.events.placements import open_commands_for, placements_of
from hub.store import Store
from hub.store.schema import lane_events
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


def _remote_open(seq: int, command_id: str) -> LaneEvent:
    return LaneEvent.model_validate(
        {
            **make_lane_event(seq, LaneEventType.LANE_ENABLED).model_dump(),
            "type": "remote_open",
            "operator": "operator-1",
            "command_id": command_id,
        }
    )


async def test_the_commands_a_batch_names_are_read_by_id_with_their_stored_answer(store: Store) -> None:
    await _world(store)
    opened, reboot, unanswered = (
        _open("lane-t01", "operator-1", 5),
        _open("lane-t01", "operator-1", 6, Action.REBOOT),
        _open("lane-t01", "operator-1", 86_400),  # a day later: time plays no part
    )
    async with store.write("test commands") as conn:
        for command in (opened, reboot, unanswered):
            await command_log.record(conn, command)
    await store_events(store, [_remote_open(3, opened.command_id)])
    async with store.read("test") as conn:
        assert await open_commands_for(conn, [make_event(1)]) == {}  # no remote_open: no query
        found = await open_commands_for(
            conn,
            [
                _remote_open(7, opened.command_id),  # a replay of the stored answer
                _remote_open(8, reboot.command_id),
                _remote_open(9, unanswered.command_id),
                _remote_open(10, unanswered.command_id),
                _remote_open(11, "f0" * 16),  # forged: the hub never issued it
            ],
        )
        stored = (
            await conn.execute(select(lane_events.c.command_id).where(lane_events.c.seq == 3))
        ).scalar_one()
    assert stored == opened.command_id
    assert found == {
        opened.command_id: OpenCommand(opened.command_id, "lane-t01", "remote_open", "operator-1", 3),
        reboot.command_id: OpenCommand(reboot.command_id, "lane-t01", "reboot", "operator-1", 8),
        unanswered.command_id: OpenCommand(unanswered.command_id, "lane-t01", "remote_open", "operator-1", 9),
    }
