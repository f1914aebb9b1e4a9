"""Inspections over HTTP: thin handlers, one call into :mod:`hub.workflows.inspections` each,
which checks the role again and scopes every read. An inspection is recorded here as JSON; its
photos are uploaded with it in the console's form (multipart) and read here, within scope."""

from __future__ import annotations

from aiohttp import web

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, CONFIG, STORE
from hub.api.params import params_of
from hub.api.principal import principal_of
from hub.api.registry import _answers, body
from hub.api.respond import json_response
from hub.api.workflows import present
from hub.workflows.inspections import InspectionIn, Inspections
from hub.workflows.photos import PhotoStore

NOSNIFF = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
"""A photo is served with the type recorded when it was kept, and the browser told not to guess."""


def _inspections(request: web.Request) -> Inspections:
    photos = PhotoStore(request.app[CONFIG].photos_path())
    return Inspections(request.app[STORE], principal_of(request), photos)


def path_number(request: web.Request, name: str) -> int:
    text = request.match_info[name]
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**63:
        raise ApiError(404, "not_found", f"{name.removesuffix('_id')} {text} not found")
    return int(text)


@_answers
async def record_inspection(request: web.Request) -> web.Response:
    data = await body(request, InspectionIn)
    made = await _inspections(request).record(data, [], now=request.app[CLOCK].wall())
    return json_response(present(made), status=201)


@_answers
async def list_inspections(request: web.Request) -> web.Response:
    params_of(request)
    return json_response({"items": [present(i) for i in await _inspections(request).listing()]})


@_answers
async def get_inspection(request: web.Request) -> web.Response:
    params_of(request)
    return json_response(present(await _inspections(request).get(path_number(request, "inspection_id"))))


@_answers
async def get_photo(request: web.Request) -> web.Response:
    params_of(request)
    inspection_id, photo_id = path_number(request, "inspection_id"), path_number(request, "photo_id")
    found, data = await _inspections(request).photo(inspection_id, photo_id)
    return web.Response(body=data, content_type=found.content_type, headers=NOSNIFF)
