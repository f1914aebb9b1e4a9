"""Commands to one lane: issue (and optionally wait for the answer), and list what was asked.

The operator is named in the body for now; with accounts (the registry issue) it becomes the
authenticated account and the body may no longer choose it.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.api import present
from hub.api.errors import ApiError
from hub.api.keys import COMMANDS, STORE
from hub.api.params import Params
from wire.commands import Action, LogLevel
from wire.models import DEVICE_ID_PATTERN, Label

MAX_BODY_BYTES = 4096


class CommandRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action
    operator: Label
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


async def _body(request: web.Request) -> CommandRequest:
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"the body may be at most {MAX_BODY_BYTES} bytes")
    try:
        data: Any = json.loads(raw or b"null")
        return CommandRequest.model_validate(data)
    except json.JSONDecodeError as err:
        raise ApiError(400, "invalid_body", f"the body is not JSON: {err.msg}") from None
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in err.errors(include_input=False)
        )
        raise ApiError(400, "invalid_body", problems) from None


async def issue_command(request: web.Request) -> web.Response:
    Params(request.query, ())
    device_id = _device_id(request)
    body = await _body(request)
    desk = request.app[COMMANDS]
    record = await desk.issue(
        device_id, body.action, body.operator, ttl_s=body.ttl_s, log_level=body.log_level
    )
    if body.wait_s:
        record = await desk.wait_for_result(record.command_id, body.wait_s)
    status = 200 if record.result_at is not None else 202
    return web.json_response({"command": present.command(record)}, status=status)


async def list_commands(request: web.Request) -> web.Response:
    params = Params(request.query, ("limit",))
    limit = params.integer("limit", default=50, low=1, high=500)
    records = await request.app[STORE].commands_for(_device_id(request), limit)
    return web.json_response({"commands": [present.command(r) for r in records]})
