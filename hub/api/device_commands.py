"""Commands to one lane: issue (and optionally wait for the answer), and list what was asked.

Issuing is for the hub operator, the city station, a district bureau and a general contractor's
project department, each on the lanes it sees (:class:`hub.devices.devices.Devices`); listing for
any account that sees the lane. A lane outside the account's view is a 404 exactly like a lane
that does not exist, so the answer does not say which devices exist elsewhere.

The operator a command is journaled with is the logged-in account, never a field of the body.
"""

from __future__ import annotations

import re
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hub.api import present
from hub.api.body import json_body
from hub.api.error_responses import ApiError
from hub.api.keys import COMMANDS, STORE
from hub.api.params import params_of
from hub.api.principal import principal_of
from hub.api.respond import json_response
from hub.devices.devices import Devices
from hub.devices.revocation import DeviceRevoked
from wire.commands import Action, LogLevel
from wire.models import DEVICE_ID_PATTERN


class CommandRequest(BaseModel):
    # defer_build: a request's body, built on its first use, not at every hub's start
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    action: Action
    log_level: LogLevel | None = None
    ttl_s: Annotated[float, Field(gt=0, le=300)] = 30.0
    """How long the command stays valid; a lane refuses it after that (a late remote open opens nothing)."""
    wait_s: Annotated[float, Field(ge=0, le=10)] = 5.0
    """How long this request waits for the lane's answer before returning 202."""


def _device_id(request: web.Request) -> str:
    device_id = request.match_info["device_id"]
    if not re.fullmatch(DEVICE_ID_PATTERN, device_id):
        raise ApiError(400, "invalid_parameter", "'device_id' is not a device id")
    return device_id


async def issue_command(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params_of(request)
    device_id = _device_id(request)
    body = await json_body(request, CommandRequest)
    desk = request.app[COMMANDS]
    try:
        record = await desk.issue(
            principal, device_id, body.action, ttl_s=body.ttl_s, log_level=body.log_level
        )
    except DeviceRevoked as err:
        raise ApiError(409, err.code, err.message) from None
    if body.wait_s:
        record = await desk.wait_for_result(record.command_id, body.wait_s)
    status = 200 if record.result_at is not None else 202
    return json_response({"command": present.command(record)}, status=status)


async def list_commands(request: web.Request) -> web.Response:
    principal = principal_of(request)
    limit = params_of(request).integer("limit")
    records = await Devices(request.app[STORE], principal).commands(_device_id(request), limit)
    return json_response({"commands": [present.command(r) for r in records]})
