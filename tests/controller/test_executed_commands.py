"""The executed commands' file: kept across restarts, bounded, and never in the way of a lane."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from controller.executed_commands import ExecutedCommands
from tests.support.clock import site_time
from wire.commands import Action, CommandResult

NOW = site_time(2026, 11, 24, 10, 0)


def command_id(n: int) -> str:
    return f"{n:032x}"


def result(n: int) -> CommandResult:
    return CommandResult(
        command_id=command_id(n),
        device_id="lane-a1",
        action=Action.REMOTE_OPEN,
        ok=True,
        detail="arm released",
        at=NOW,
    )


def test_a_result_is_found_again_by_the_next_process(tmp_path: Path) -> None:
    path = tmp_path / "commands.json"
    ExecutedCommands(path).remember(result(1), expires_at=NOW + timedelta(seconds=30), now=NOW)
    again = ExecutedCommands(path)  # a restarted lane
    assert again.result_of(command_id(1)) == result(1)
    assert again.result_of(command_id(2)) is None
    assert again.fault is None
    tables = json.loads(path.read_text())
    assert list(tables) == ["executed"]  # a tinydb database: tables of numbered documents
    assert [doc["command_id"] for doc in tables["executed"].values()] == [command_id(1)]


def test_expired_and_beyond_the_newest_are_forgotten_on_file_too(tmp_path: Path) -> None:
    path = tmp_path / "commands.json"
    executed = ExecutedCommands(path, keep=3)
    executed.remember(result(0), expires_at=NOW + timedelta(seconds=5), now=NOW)
    for n in range(1, 6):
        executed.remember(result(n), expires_at=NOW + timedelta(hours=1), now=NOW + timedelta(seconds=n * 2))
    for kept in (executed, ExecutedCommands(path, keep=3)):
        assert [n for n in range(6) if kept.result_of(command_id(n))] == [3, 4, 5]


def test_a_damaged_file_falls_back_to_its_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "commands.json"
    executed = ExecutedCommands(path)
    executed.remember(result(1), expires_at=NOW + timedelta(hours=1), now=NOW)
    executed.remember(result(2), expires_at=NOW + timedelta(hours=1), now=NOW)
    path.write_bytes(b'{"executed": {"1": {"comm')  # torn (not by this code: its writes are atomic)
    recovered = ExecutedCommands(path)
    assert recovered.fault is not None and "damaged" in recovered.fault
    assert recovered.result_of(command_id(1)) == result(1)  # .prev held it, not the newest
    recovered.remember(result(3), expires_at=NOW + timedelta(hours=1), now=NOW)
    assert ExecutedCommands(path).result_of(command_id(3)) == result(3)


def test_a_damaged_file_without_a_previous_one_starts_empty_and_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "commands.json"
    path.write_bytes(b"\x00\x00")
    executed = ExecutedCommands(path)
    assert executed.fault is not None and executed.result_of(command_id(1)) is None
    executed.remember(result(1), expires_at=NOW + timedelta(hours=1), now=NOW)
    assert ExecutedCommands(path).result_of(command_id(1)) == result(1)
