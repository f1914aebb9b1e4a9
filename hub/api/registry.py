"""The registry over HTTP: districts, enterprises, persons, projects and what hangs off a project.

Thin handlers: the role check (403 before the body is read), the body through its pydantic model
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
from hub.api.errors import ApiError
from hub.api.keys import REGISTRY
from hub.api.params import PAGING, Params
from hub.api.principal import require
from hub.auth.principal import Role
from hub.registry import Registry
from hub.registry import permissions as may
from hub.registry.errors import MODEL_ERROR_CODES, Conflict, Forbidden, Invalid, Missing, RegistryError
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
from hub.registry.reads import MAX_PAGE

MAX_BODY_BYTES = 64 * 1024
DEFAULT_LIMIT = 100
_STATUS: dict[type[RegistryError], int] = {Missing: 404, Forbidden: 403, Conflict: 409, Invalid: 422}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


def setup_registry_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/districts", list_districts)
    r.add_post("/api/v1/districts", create_district)
    r.add_get("/api/v1/enterprises", list_enterprises)
    r.add_post("/api/v1/enterprises", create_enterprise)
    r.add_get("/api/v1/enterprises/{enterprise_id}", get_enterprise)
    r.add_get("/api/v1/persons", list_persons)
    r.add_post("/api/v1/persons", register_person)
    r.add_post("/api/v1/persons/lookup", lookup_person)
    r.add_get("/api/v1/persons/{person_id}", get_person)
    r.add_put("/api/v1/persons/{person_id}/watchlist", set_watchlist)
    r.add_get("/api/v1/projects", list_projects)
    r.add_post("/api/v1/projects", create_project)
    r.add_get("/api/v1/projects/{project_id}", get_project)
    r.add_post("/api/v1/projects/{project_id}/registration", register_project)
    r.add_get("/api/v1/projects/{project_id}/parties", list_parties)
    r.add_post("/api/v1/projects/{project_id}/parties", add_party)
    r.add_get("/api/v1/projects/{project_id}/assignments", list_assignments)
    r.add_post("/api/v1/projects/{project_id}/assignments", assign)
    r.add_patch("/api/v1/assignments/{assignment_id}", end_assignment)
    r.add_get("/api/v1/projects/{project_id}/gates", list_gates)
    r.add_post("/api/v1/projects/{project_id}/gates", place_gate)
    r.add_delete("/api/v1/projects/{project_id}/gates/{device_id}", remove_gate)
    r.add_get("/api/v1/projects/{project_id}/inspections", list_inspections)
    r.add_post("/api/v1/projects/{project_id}/inspections", file_inspection)


# -- plumbing --------------------------------------------------------------------------------------


def _answers(handler: Handler) -> Handler:
    """The registry's refusals as API errors with their own codes."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except RegistryError as err:
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
    return web.json_response(_json(record), status=status)


def _items(records: list[Any], next_cursor: str | None = None, paged: bool = False) -> web.Response:
    page: dict[str, Any] = {"items": [_json(r) for r in records]}
    if paged:
        page["next_cursor"] = next_cursor
    return web.json_response(page)


def _paging(params: Params) -> tuple[str | None, int]:
    return params.text("cursor"), params.integer("limit", default=DEFAULT_LIMIT, low=1, high=MAX_PAGE)


def _registry(request: web.Request) -> Registry:
    return request.app[REGISTRY]


def _assignment_id(request: web.Request) -> int:
    text = request.match_info["assignment_id"]
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**63:
        raise ApiError(404, "not_found", f"assignment {text} not found")
    return int(text)


# -- handlers made from the registry's methods ----------------------------------------------------

Read = Callable[..., Awaitable[Any]]


def _reader(roles: frozenset[Role], read: Read, *path: str) -> Handler:
    """GET of one record or a short list: ``read(registry, principal, *path values)``."""

    @_answers
    async def handler(request: web.Request) -> web.Response:
        principal = require(request, *roles)
        Params(request.query, ())
        found = await read(_registry(request), principal, *(request.match_info[name] for name in path))
        return _items(found) if isinstance(found, list) else _ok(found)

    return handler


def _writer(
    roles: frozenset[Role], model: type[BaseModel], write: Read, *path: str, status: int = 201
) -> Handler:
    """POST/PUT of a body: ``write(registry, principal, *path values, body)``."""

    @_answers
    async def handler(request: web.Request) -> web.Response:
        principal = require(request, *roles)
        data = await body(request, model)
        values = (request.match_info[name] for name in path)
        return _ok(await write(_registry(request), principal, *values, data), status)

    return handler


list_districts = _reader(may.READERS, Registry.districts)
create_district = _writer(may.CREATE_DISTRICT, DistrictIn, Registry.create_district)
create_enterprise = _writer(may.CREATE_ENTERPRISE, EnterpriseIn, Registry.create_enterprise)
get_enterprise = _reader(may.READERS, Registry.enterprise, "enterprise_id")
register_person = _writer(may.REGISTER_PERSON, PersonIn, Registry.register_person)
get_person = _reader(may.READERS, Registry.person, "person_id")
set_watchlist = _writer(may.WATCHLIST, WatchlistIn, Registry.set_watchlist, "person_id", status=200)
create_project = _writer(may.CREATE_PROJECT, ProjectIn, Registry.create_project)
get_project = _reader(may.READERS, Registry.project, "project_id")
register_project = _writer(
    may.REGISTER_PROJECT, RegistrationIn, Registry.register_project, "project_id", status=200
)
list_parties = _reader(may.READERS, Registry.parties, "project_id")
add_party = _writer(may.ADD_PARTY, PartyIn, Registry.add_party, "project_id")
assign = _writer(may.ASSIGN, AssignmentIn, Registry.assign, "project_id")
list_gates = _reader(may.READ_GATES, Registry.gates, "project_id")
list_inspections = _reader(may.READ_INSPECTIONS, Registry.inspections, "project_id")
file_inspection = _writer(may.FILE_INSPECTION, InspectionIn, Registry.file_inspection, "project_id")


# -- the rest: paging, filters, ids that are not strings ----------------------------------------------


@_answers
async def list_enterprises(request: web.Request) -> web.Response:
    principal = require(request, *may.READERS)
    cursor, limit = _paging(Params(request.query, PAGING))
    page = await _registry(request).enterprises(principal, cursor=cursor, limit=limit)
    return _items(page.items, page.next_cursor, paged=True)


@_answers
async def list_persons(request: web.Request) -> web.Response:
    principal = require(request, *may.READERS)
    params = Params(request.query, ("enterprise_id", "watchlisted", *PAGING))
    cursor, limit = _paging(params)
    page = await _registry(request).persons(
        principal,
        enterprise_id=params.text("enterprise_id"),
        watchlisted=params.boolean("watchlisted"),
        cursor=cursor,
        limit=limit,
    )
    return _items(page.items, page.next_cursor, paged=True)


@_answers
async def lookup_person(request: web.Request) -> web.Response:
    """POST, not GET: an ID number must not travel in a URL (access logs, proxies, history)."""
    principal = require(request, *may.LOOKUP_PERSON)
    data = await body(request, PersonLookupIn)
    person_id = await _registry(request).find_person(principal, data.id_number)
    if person_id is None:
        raise ApiError(404, "not_found", "no person is registered with this ID number")
    return web.json_response({"person_id": person_id})


@_answers
async def list_projects(request: web.Request) -> web.Response:
    principal = require(request, *may.READERS)
    params = Params(request.query, ("registered", "district"))
    found = await _registry(request).projects(
        principal, registered=params.boolean("registered"), district=params.text("district")
    )
    return _items(found)


@_answers
async def list_assignments(request: web.Request) -> web.Response:
    principal = require(request, *may.READERS)
    params = Params(request.query, ("person_id", *PAGING))
    cursor, limit = _paging(params)
    page = await _registry(request).assignments(
        principal,
        request.match_info["project_id"],
        person_id=params.text("person_id"),
        cursor=cursor,
        limit=limit,
    )
    return _items(page.items, page.next_cursor, paged=True)


@_answers
async def end_assignment(request: web.Request) -> web.Response:
    """退场: PATCH {"exit_date": ...}."""
    principal = require(request, *may.ASSIGN)
    data = await body(request, AssignmentExit)
    return _ok(await _registry(request).end_assignment(principal, _assignment_id(request), data))


@_answers
async def place_gate(request: web.Request) -> web.Response:
    """201 for a device placed, 200 for one moved to another lane of the same site."""
    principal = require(request, *may.PLACE_GATE)
    data = await body(request, GateIn)
    placed = await _registry(request).place_gate(principal, request.match_info["project_id"], data)
    return _ok(placed.value, 201 if placed.created else 200)


@_answers
async def remove_gate(request: web.Request) -> web.Response:
    principal = require(request, *may.PLACE_GATE)
    project_id, device_id = request.match_info["project_id"], request.match_info["device_id"]
    await _registry(request).remove_gate(principal, project_id, device_id)
    return web.Response(status=204)
