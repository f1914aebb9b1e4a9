"""GET /api/v1/audit: the audit log, newest first, a cursor page at a time. The city station reads
every line; every other account the lines it made (its logins, its commands, its registrations)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.api.keys import STORE
from hub.api.params import params_of
from hub.api.principal import principal_of
from hub.api.respond import json_response
from hub.auth import audit


def _line(line: audit.AuditLine) -> dict[str, Any]:
    return {
        "at": line.at.isoformat(),
        "username": line.username,
        "action": line.action,
        "target": line.target,
        "detail": line.detail,
    }


async def audit_log(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params = params_of(request)
    since, until = params.window()
    limit = params.integer("limit")
    page = await audit.AuditLog(request.app[STORE], principal).lines(
        username=params.text("username"),
        action=params.text("action"),
        since=since,
        until=until,
        cursor=params.text("cursor"),
        limit=limit,
    )
    return json_response({"items": [_line(line) for line in page.items], "next_cursor": page.next_cursor})
