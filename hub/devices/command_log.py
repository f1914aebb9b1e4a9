"""The command log: what was asked of which lane, by whom, and what the lane answered.

Functions over a connection (the caller's transaction): :class:`hub.devices.command_desk.CommandDesk`
records a command with its audit line in one transaction and takes the lanes' answers;
:class:`hub.devices.devices.Devices` lists a lane's commands for an account that sees the lane.
A result is accepted only for a command this hub issued to that very device, once.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.devices.records import CommandRecord
from hub.store.schema import device_commands
from wire.commands import Command, CommandResult


async def record(conn: AsyncConnection, command: Command) -> None:
    await conn.execute(
        device_commands.insert().values(
            command_id=command.command_id,
            device_id=command.device_id,
            action=command.action.value,
            operator=command.operator,
            log_level=command.log_level,
            issued_at=command.issued_at,
            expires_at=command.expires_at,
        )
    )


async def record_result(conn: AsyncConnection, result: CommandResult) -> bool:
    """False when no such command went to that device, or its result is already in."""
    c = device_commands.c
    statement = (
        update(device_commands)
        .where(c.command_id == result.command_id, c.device_id == result.device_id, c.result_at.is_(None))
        .values(result_ok=result.ok, result_detail=result.detail, result_at=result.at)
    )
    return bool((await conn.execute(statement)).rowcount)


async def fetch(conn: AsyncConnection, command_id: str) -> CommandRecord | None:
    row = (
        await conn.execute(select(device_commands).where(device_commands.c.command_id == command_id))
    ).first()
    return None if row is None else CommandRecord(**row._mapping)


async def for_device(conn: AsyncConnection, device_id: str, limit: int) -> list[CommandRecord]:
    c = device_commands.c
    query = select(device_commands).where(c.device_id == device_id).order_by(c.issued_at.desc()).limit(limit)
    return [CommandRecord(**row._mapping) for row in (await conn.execute(query)).all()]
