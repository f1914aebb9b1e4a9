"""The command log in the store: recorded before sent, one result per command, from its own device only."""

from __future__ import annotations

from datetime import timedelta

from hub.store import Store
from tests.hub.factories import BASE_TIME
from wire.commands import Action, Command, CommandResult


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


async def test_a_result_is_taken_once_and_only_from_the_device_it_went_to(store: Store) -> None:
    await store.record_command(command(1))
    assert not await store.record_command_result(result(1, device_id="lane-b"))
    assert not await store.record_command_result(result(2))  # never issued
    assert await store.record_command_result(result(1))
    assert not await store.record_command_result(result(1, ok=False))  # already answered
    stored = await store.command(f"{1:032x}")
    assert stored is not None
    assert (stored.result_ok, stored.result_detail) == (True, "opened")
    assert stored.result_at == BASE_TIME + timedelta(seconds=1)
    assert stored.issued_at.tzinfo is not None
    assert await store.command(f"{2:032x}") is None


async def test_commands_of_a_device_newest_first(store: Store) -> None:
    for n in range(1, 4):
        await store.record_command(command(n, minutes=n))
    await store.record_command(command(9, device_id="lane-b"))
    assert [c.command_id[-1] for c in await store.commands_for("lane-a")] == ["3", "2", "1"]
    assert len(await store.commands_for("lane-a", limit=2)) == 2
