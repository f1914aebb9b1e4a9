"""The command log: recorded before sent, one result per command, from its own device only; a
lane's commands for the accounts that see the lane."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.auth.principal import Principal, Role
from hub.devices import command_log
from hub.devices.devices import Devices
from hub.errors import NotFound
from hub.store import Store
from tests.hub.factories import BASE_TIME
from wire.commands import Action, Command, CommandResult
from wire.models import PresenceState, PresenceStatus

OPERATOR = Principal(account_id=1, username="operator-1", role=Role.OPERATOR)


def command(n: int, device_id: str = "lane-a", minutes: int = 0) -> Command:
    issued = BASE_TIME + timedelta(minutes=minutes)
    return Command(
        command_id=f"{n:032x}",
        device_id=device_id,
        action=Action.REMOTE_OPEN,
        operator="operator-1",
        issued_at=issued,
        expires_at=issued + timedelta(seconds=30),
    )


def result(n: int, device_id: str = "lane-a", ok: bool = True) -> CommandResult:
    return CommandResult(
        command_id=f"{n:032x}",
        device_id=device_id,
        action=Action.REMOTE_OPEN,
        ok=ok,
        detail="opened" if ok else "lane disabled",
        at=BASE_TIME + timedelta(seconds=1),
    )


async def record(store: Store, *commands: Command) -> None:
    """As :meth:`hub.devices.command_desk.CommandDesk.issue` records them (its audit line aside)."""
    async with store.write("record_command") as conn:
        for each in commands:
            await command_log.record(conn, each)


async def take_result(store: Store, answer: CommandResult) -> bool:
    async with store.write("record_command_result") as conn:
        return await command_log.record_result(conn, answer)


async def connected(store: Store, *device_ids: str) -> None:
    for device_id in device_ids:
        status = PresenceStatus(device_id=device_id, state=PresenceState.ONLINE, generation=1, at=BASE_TIME)
        await store.record_presence(status, received_at=BASE_TIME)


async def test_a_result_is_taken_once_and_only_from_the_device_it_went_to(store: Store) -> None:
    await record(store, command(1))
    assert not await take_result(store, result(1, device_id="lane-b"))
    assert not await take_result(store, result(2))  # never issued
    assert await take_result(store, result(1))
    assert not await take_result(store, result(1, ok=False))  # already answered
    async with store.read("command") as conn:
        stored = await command_log.fetch(conn, f"{1:032x}")
        assert await command_log.fetch(conn, f"{2:032x}") is None
    assert stored is not None
    assert (stored.result_ok, stored.result_detail) == (True, "opened")
    assert stored.result_at == BASE_TIME + timedelta(seconds=1)
    assert stored.issued_at.tzinfo is not None


async def test_commands_of_a_device_newest_first(store: Store) -> None:
    await connected(store, "lane-a", "lane-b")
    await record(store, *(command(n, minutes=n) for n in range(1, 4)), command(9, device_id="lane-b"))
    devices = Devices(store, OPERATOR)
    assert [c.command_id[-1] for c in await devices.commands("lane-a")] == ["3", "2", "1"]
    assert len(await devices.commands("lane-a", limit=2)) == 2


async def test_a_lane_never_heard_from_has_no_commands_to_show(store: Store) -> None:
    await record(store, command(1, device_id="lane-z"))
    with pytest.raises(NotFound):
        await Devices(store, OPERATOR).commands("lane-z")
