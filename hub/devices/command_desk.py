"""The hub's side of lane commands: issue one (recorded, then published), take the lane's answer.

Stateless between requests: the command log in the database is the only state, so any hub
instance may take a command's result and any instance may answer "what happened to it".
Issuing is for an account that sees the lane (:meth:`hub.devices.devices.Devices.require_visible`);
listing a lane's commands is :meth:`hub.devices.devices.Devices.commands`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Protocol

from hub.auth import audit
from hub.auth.principal import Principal
from hub.devices import command_log
from hub.devices.devices import Devices
from hub.devices.records import CommandRecord
from hub.devices.revocation import DeviceRevoked, revoked_among
from hub.errors import NotFound
from hub.store import Store
from wire.clock import Clock, SystemClock
from wire.codec import decode, encode
from wire.commands import Action, Command, CommandResult, LogLevel
from wire.message_errors import TopicError, WireError
from wire.topics import Channel, parse_topic, topic_for

log = logging.getLogger(__name__)

RESULT_POLL_S = 0.05


class Publisher(Protocol):
    async def publish(self, topic: str, payload: bytes, qos: int = 1) -> None: ...


class CommandDesk:
    def __init__(self, store: Store, publisher: Publisher, *, clock: Clock | None = None) -> None:
        """``clock`` dates a command and its expiry (the system's when not given)."""
        self._store = store
        self._publisher = publisher
        self._clock = clock or SystemClock()

    async def issue(
        self,
        principal: Principal,
        device_id: str,
        action: Action,
        *,
        ttl_s: float,
        log_level: LogLevel | None = None,
    ) -> CommandRecord:
        """Recorded (with its audit line, in one transaction) before it is sent: a lane's answer
        always finds its command in the log. The operator is the account that asked.
        :class:`DeviceRevoked` for a revoked lane: nothing is recorded or sent."""
        await Devices(self._store, principal).require_visible(device_id)
        now = self._clock.wall()
        command = Command(
            command_id=uuid.uuid4().hex,
            device_id=device_id,
            action=action,
            operator=principal.label(),
            issued_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
            log_level=log_level,
        )
        detail = {"action": action.value, "command_id": command.command_id, "ttl_s": ttl_s}
        if log_level is not None:
            detail["log_level"] = log_level
        async with self._store.write("record_command") as conn:
            if await revoked_among(conn, {device_id}):
                raise DeviceRevoked(device_id)
            await command_log.record(conn, command)
            await audit.record(
                conn, principal, "command.issue", at=now, target=f"device:{device_id}", detail=detail
            )
        await self._publisher.publish(topic_for(device_id, Channel.COMMAND), encode(command), 1)
        log.info("command %s %s to %s by %s", command.command_id, action.value, device_id, command.operator)
        record = await self._command(command.command_id)
        assert record is not None
        return record

    async def _command(self, command_id: str) -> CommandRecord | None:
        """A command this desk issued (the caller was shown the lane when it was issued)."""
        async with self._store.read("command") as conn:
            return await command_log.fetch(conn, command_id)

    async def wait_for_result(self, command_id: str, wait_s: float) -> CommandRecord:
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            record = await self._command(command_id)
            if record is None:
                raise NotFound(f"command {command_id}")
            if record.result_at is not None or asyncio.get_running_loop().time() >= deadline:
                return record
            await asyncio.sleep(RESULT_POLL_S)

    async def on_result(self, topic: str, payload: bytes) -> str | None:
        """The ingest's handler for command_result; returns why a message is dead-lettered."""
        try:
            device_id = parse_topic(topic).device_id
            result = decode(Channel.COMMAND_RESULT, payload)
        except (TopicError, WireError) as err:
            return f"bad command result: {err}"
        assert isinstance(result, CommandResult)
        if result.device_id != device_id:
            return "device_id in the payload differs from the device in the topic"
        async with self._store.write("record_command_result") as conn:
            taken = await command_log.record_result(conn, result)
        if not taken:
            return "a result for a command this hub did not send to that device, or a second result"
        if not result.ok:
            log.warning("command %s on %s refused: %s", result.command_id, device_id, result.detail)
        return None
