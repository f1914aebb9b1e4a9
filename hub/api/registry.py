"""The registry over HTTP: districts, enterprises, persons, projects and what hangs off a project.

Thin handlers: the body through its pydantic model (the role is checked before, 403 without reading
the body, by the route table: hub/api/rows/registry.py),
(422 naming the field path; ID numbers never echoed), one registry call, the record as JSON.
The registry's refusals become specific codes here (:data:`_STATUS`); its own checks of scope
and permission are what protect the data, the role check only answers early.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from hub.api.body import NotJson, parse_json, read_body
from hub.api.enrolment import revoke_removed_lane
from hub.api.error_responses import ApiError
from hub.api.keys import REGISTRY
from hub.api.limits import LOOKUP_LIMIT, too_many
from hub.api.params import Params, params_of
from hub.api.principal import principal_of
from hub.api.respond import json_response
from hub.refusals import MODEL_ERROR_CODES, Conflict, Forbidden, Invalid, Missing, Refusal
from hub.registry import Registry
from hub.registry.models import (
    AssignmentExit,
    AssignmentIn,
    DistrictIn,
    EnterpriseIn,
    GateIn,
    InspectionIn,
    PartyIn,
    PersonIn,
    PersonLookupIn,
    ProjectIn,
    RegistrationIn,
    WatchlistIn,
)

MAX_BODY_BYTES = 64 * 1024
_STATUS: dict[type[Refusal], int] = {Missing: 404, Forbidden: 403, Conflict: 409, Invalid: 422}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


# -- plumbing --------------------------------------------------------------------------------------


def _answers(handler: Handler) -> Handler:
    """The registry's refusals as API errors with their own codes."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Refusal as err:
            status = next(s for kind, s in _STATUS.items() if isinstance(err, kind))
            raise ApiError(status, err.code, err.message) from None

    return wrapped


async def body(request: web.Request, model: type[M]) -> M:
    """At most :data:`MAX_BODY_BYTES` of JSON, validated by ``model``.

    413 above the limit (read no further), 400 for what is not JSON, 422 for what the model
    refuses: each problem as ``field.path: why``, with a specific code (``invalid_id_number``,
    ``exit_before_entry``, ...) when one of the problems has one. Input values are never quoted.
    """
    try:
        data = parse_json(await read_body(request, MAX_BODY_BYTES))
    except NotJson as err:
        raise ApiError(400, "invalid_json", f"the body is not JSON: {err.why}") from None
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = err.errors(include_input=False, include_url=False, include_context=False)
        code = next((p["type"] for p in problems if p["type"] in MODEL_ERROR_CODES), "invalid_body")
        message = "; ".join(f"{_path(p['loc'])}: {p['msg'].removeprefix('Value error, ')}" for p in problems)
        raise ApiError(422, code, message) from None


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _json(record: Any) -> dict[str, Any]:
    fields = dataclasses.asdict(record)
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in fields.items()}


def _ok(record: Any, status: int = 200) -> web.Response:
    return json_response(_json(record), status=status)


def _items(records: list[Any], next_cursor: str | None = None, paged: bool = False) -> web.Response:
    page: dict[str, Any] = {"items": [_json(r) for r in records]}
    if paged:
        page["next_cursor"] = next_cursor
    return json_response(page)


def _paging(params: Params) -> tuple[str | None, int]:
    return params.text("cursor"), params.integer("limit")


def _registry(request: web.Request) -> Registry:
    """The registry as the request's account reads and writes it."""
    return request.app[REGISTRY].acting_for(principal_of(request))


def _assignment_id(request: web.Request) -> int:
    text = request.match_info["assignment_id"]
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**63:
        raise ApiError(404, "not_found", f"assignment {text} not found")
    return int(text)


# -- handlers made from the registry's methods ----------------------------------------------------

Read = Callable[..., Awaitable[Any]]


def _reader(read: Read, *path: str) -> Handler:
    """GET of one record or a short list: ``read(registry, *path values)``."""

    @_answers
    async def handler(request: web.Request) -> web.Response:
        registry = _registry(request)
        params_of(request)
        found = await read(registry, *(request.match_info[name] for name in path))
        return _items(found) if isinstance(found, list) else _ok(found)

    return handler


def _writer(model: type[BaseModel], write: Read, *path: str, status: int = 201) -> Handler:
    """POST/PUT of a body: ``write(registry, *path values, body)``."""

    @_answers
    async def handler(request: web.Request) -> web.Response:
        registry = _registry(request)
        data = await body(request, model)
        values = (request.match_info[name] for name in path)
        return _ok(await write(registry, *values, data), status)

    return handler


list_districts = _reader(Registry.districts)
create_district = _writer(DistrictIn, Registry.create_district)
create_enterprise = _writer(EnterpriseIn, Registry.create_enterprise)
get_enterprise = _reader(Registry.enterprise, "enterprise_id")
register_person = _writer(PersonIn, Registry.register_person)
get_person = _reader(Registry.person, "person_id")
set_watchlist = _writer(WatchlistIn, Registry.set_watchlist, "person_id", status=200)
create_project = _writer(ProjectIn, Registry.create_project)
get_project = _reader(Registry.project, "project_id")
register_project = _writer(RegistrationIn, Registry.register_project, "project_id", status=200)
list_parties = _reader(Registry.parties, "project_id")
add_party = _writer(PartyIn, Registry.add_party, "project_id")
assign = _writer(AssignmentIn, Registry.assign, "project_id")
list_gates = _reader(Registry.gates, "project_id")
list_inspections = _reader(Registry.inspections, "project_id")
file_inspection = _writer(InspectionIn, Registry.file_inspection, "project_id")


# -- the rest: paging, filters, ids that are not strings ----------------------------------------------


@_answers
async def list_enterprises(request: web.Request) -> web.Response:
    registry = _registry(request)
    cursor, limit = _paging(params_of(request))
    page = await registry.enterprises(cursor=cursor, limit=limit)
    return _items(page.items, page.next_cursor, paged=True)


@_answers
async def list_persons(request: web.Request) -> web.Response:
    registry = _registry(request)
    params = params_of(request)
    cursor, limit = _paging(params)
    page = await registry.persons(
        enterprise_id=params.text("enterprise_id"),
        watchlisted=params.boolean("watchlisted"),
        cursor=cursor,
        limit=limit,
    )
    return _items(page.items, page.next_cursor, paged=True)


@_answers
async def lookup_person(request: web.Request) -> web.Response:
    """POST, not GET: an ID number must not travel in a URL (access logs, proxies, history).
    Throttled per account (``[http] lookups_per_account_per_min``): a 429 before any lookup."""
    wait = request.app[LOOKUP_LIMIT].take(str(principal_of(request).account_id))
    if wait > 0:
        return too_many(wait)
    registry = _registry(request)
    data = await body(request, PersonLookupIn)
    person_id = await registry.find_person(data.id_number)
    if person_id is None:
        raise ApiError(404, "not_found", "no person is registered with this ID number")
    return json_response({"person_id": person_id})


@_answers
async def list_projects(request: web.Request) -> web.Response:
    registry = _registry(request)
    params = params_of(request)
    found = await registry.projects(registered=params.boolean("registered"), district=params.text("district"))
    return _items(found)


@_answers
async def list_assignments(request: web.Request) -> web.Response:
    registry = _registry(request)
    params = params_of(request)
    cursor, limit = _paging(params)
    page = await registry.assignments(
        request.match_info["project_id"],
        person_id=params.text("person_id"),
        cursor=cursor,
        limit=limit,
    )
    return _items(page.items, page.next_cursor, paged=True)


@_answers
async def end_assignment(request: web.Request) -> web.Response:
    """退场: PATCH {"exit_date": ...}."""
    registry = _registry(request)
    data = await body(request, AssignmentExit)
    return _ok(await registry.end_assignment(_assignment_id(request), data))


@_answers
async def place_gate(request: web.Request) -> web.Response:
    """201 for a device placed, 200 for one moved to another lane of the same site."""
    registry = _registry(request)
    data = await body(request, GateIn)
    placed = await registry.place_gate(request.match_info["project_id"], data)
    return _ok(placed.value, 201 if placed.created else 200)


@_answers
async def remove_gate(request: web.Request) -> web.Response:
    registry = _registry(request)
    project_id, device_id = request.match_info["project_id"], request.match_info["device_id"]
    await registry.remove_gate(project_id, device_id)
    untold = await revoke_removed_lane(request, device_id)  # a Response is falsy: no `or` here
    return web.Response(status=204) if untold is None else untold
