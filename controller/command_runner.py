"""Commands from the hub, executed once each and answered on the lane's command_result channel.

A command is refused (and answered so) when it is for another device, expired, or malformed;
a command id seen before, in this process or before a restart (:mod:`controller.executed_commands`),
is answered with its first result and not executed again: a remote open redelivered by QoS 1 must
not open the arm twice. The result is kept before it is sent, so an answered command is always
remembered; a lane stopped between executing and keeping it (a power cut in those milliseconds)
would run that one again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from controller.executed_commands import ExecutedCommands
from controller.hub_time import HubTime
from controller.service import LaneService
from wire.codec import decode, encode
from wire.commands import Action, Command, CommandResult
from wire.message_errors import WireError
from wire.topics import Channel

log = logging.getLogger(__name__)

Send = Callable[[Channel, bytes], Awaitable[bool]]


class CommandRunner:
    def __init__(
        self,
        service: LaneService,
        send: Send,
        *,
        executed: ExecutedCommands,
        resync: Callable[[], Awaitable[None]] | None = None,
        restart: Callable[[], None] | None = None,
        hub_time: HubTime | None = None,
    ) -> None:
        """``hub_time`` (the uplink's, from the hub's acks) judges a command's expiry on the hub's
        clock, which set it; without it, or before the first ack, the lane's wall clock does."""
        self._hub_time = hub_time
        self.service = service
        self._send = send
        self._resync = resync
        self._restart = restart
        self._executed = executed

    async def __call__(self, payload: bytes) -> None:
        try:
            command = decode(Channel.COMMAND, payload)
        except WireError as err:
            log.warning("refused a malformed command: %s", err)
            return
        assert isinstance(command, Command)
        previous = self._executed.result_of(command.command_id)
        result = previous or await self._execute(command)
        if previous is None:
            self._executed.remember(result, expires_at=command.expires_at, now=self.service.clock.wall())
        await self._send(Channel.COMMAND_RESULT, encode(result))
        if result.ok and command.action is Action.REBOOT and previous is None and self._restart is not None:
            self._restart()

    def _now(self) -> datetime:
        clock = self.service.clock
        hub_now = self._hub_time.now(clock.mono_ns()) if self._hub_time is not None else None
        return hub_now if hub_now is not None else clock.wall()

    async def _execute(self, command: Command) -> CommandResult:
        device_id = self.service.config.device_id
        if command.device_id != device_id:
            return self._result(command, False, f"command is for {command.device_id}, this is {device_id}")
        if self._now() > command.expires_at:
            return self._result(command, False, "expired before it reached the lane; not executed")
        log.info("lane %s: %s by %s", self.service.config.lane, command.action.value, command.operator)
        action = command.action
        if action is Action.REMOTE_OPEN:
            if self.service.disabled:
                return self._result(command, False, "lane is disabled; enable it first")
            self.service.remote_open(command.operator, command.command_id)
            return self._result(command, True, "arm released")
        if action in (Action.DISABLE_LANE, Action.ENABLE_LANE):
            self.service.set_disabled(action is Action.DISABLE_LANE)
            return self._result(command, True, "lane disabled" if self.service.disabled else "lane enabled")
        if action is Action.SET_LOG_LEVEL:
            assert command.log_level is not None
            logging.getLogger().setLevel(command.log_level)
            return self._result(command, True, f"log level {command.log_level}")
        if action is Action.RESYNC:
            if self._resync is None:
                return self._result(command, False, "this lane has no roster sync configured")
            await self._resync()
            return self._result(command, True, "full roster requested")
        if self._restart is None:
            return self._result(command, False, "restart is not available here")
        return self._result(command, True, "restarting the lane service")

    def _result(self, command: Command, ok: bool, detail: str) -> CommandResult:
        return CommandResult(
            command_id=command.command_id,
            device_id=self.service.config.device_id,
            action=command.action,
            ok=ok,
            detail=detail,
            at=self.service.clock.wall(),
        )
