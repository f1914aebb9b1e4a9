"""A project's worker-platform settings and its upload's status over HTTP:
``GET``/``PUT /api/v1/projects/{project_id}/platform`` and ``GET …/platform/uploads``.

Thin handlers over :mod:`hub.platform.settings` and :mod:`hub.platform.status`; the role is checked
by the route table first (hub/api/rows/platform.py) and again by the desk, with the project's scope.
The appsecret goes in a PUT and never comes out (``appsecret_set`` says whether one is stored).
"""

from __future__ import annotations

from aiohttp import web

from hub.api.keys import CLOCK, STORE
from hub.api.principal import principal_of
from hub.api.registry import _answers, body
from hub.api.respond import json_response
from hub.api.workflows import VAULT
from hub.platform.settings import PlatformSettingsDesk, PlatformSettingsIn
from hub.platform.status import upload_status

NO_STORE = {"Cache-Control": "no-store"}


def _desk(request: web.Request) -> PlatformSettingsDesk:
    return PlatformSettingsDesk(request.app[STORE], request.app[VAULT], principal_of(request))


@_answers
async def get_platform(request: web.Request) -> web.Response:
    settings = await _desk(request).get(request.match_info["project_id"])
    return json_response({"settings": settings.as_json() if settings else None}, headers=NO_STORE)


@_answers
async def put_platform(request: web.Request) -> web.Response:
    data = await body(request, PlatformSettingsIn)
    settings = await _desk(request).put(request.match_info["project_id"], data, now=request.app[CLOCK].wall())
    return json_response({"settings": settings.as_json()}, headers=NO_STORE)


@_answers
async def get_uploads(request: web.Request) -> web.Response:
    app = request.app
    status = await upload_status(
        app[STORE], app[VAULT], principal_of(request), request.match_info["project_id"]
    )
    return json_response(status.as_json(), headers=NO_STORE)
