"""Commands from the hub to one lane, and the lane's answers.

Every command carries the operator's account (it is on the record who opened a gate remotely) and
an expiry: a remote open that reaches a lane after the operator has walked away must not open
anything, so a lane refuses a command past ``expires_at``. ``command_id`` makes redelivery harmless
(MQTT QoS 1 may deliver twice): a lane executes an id once and answers repeats with the first result.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from wire.models import CommandId, DeviceId, Label, WireModel


class Action(StrEnum):
    RESYNC = "resync"
    """Ask the hub for a full roster snapshot."""
    REMOTE_OPEN = "remote_open"
    DISABLE_LANE = "disable_lane"
    ENABLE_LANE = "enable_lane"
    REBOOT = "reboot"
    """Restart the lane service (systemd brings it back; the sandbox withholds rebooting the OS)."""
    SET_LOG_LEVEL = "set_log_level"


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Command(WireModel):
    kind: Literal["command"] = "command"
    command_id: CommandId
    device_id: DeviceId
    action: Action
    operator: Label
    issued_at: AwareDatetime
    expires_at: AwareDatetime
    log_level: LogLevel | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Command:
        if self.expires_at <= self.issued_at:
            raise ValueError("expires_at must be after issued_at")
        if (self.action is Action.SET_LOG_LEVEL) != (self.log_level is not None):
            raise ValueError("log_level goes with set_log_level and nothing else")
        return self


class CommandResult(WireModel):
    kind: Literal["command_result"] = "command_result"
    command_id: CommandId
    device_id: DeviceId
    action: Action
    ok: bool
    detail: Annotated[str, Field(max_length=500)] = ""
    at: AwareDatetime
