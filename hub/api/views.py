"""Thin handlers: check the role, check the query, ask the store (scoped to the account) or the
ingest, present the answer.

Who may call what: records about people (access events, their counts) are for every role but the
hub operator, each scoped to what its account may see (:mod:`hub.auth.scope`, ANDed into the SQL);
lane events per project; devices for every role, scoped; the ingest's own state (counters,
sequences, dead letters) for the operator and the city station only.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import ColumnElement

from hub.api import present
from hub.api.keys import CLOCK, CONFIG, INGEST, STORE
from hub.api.params import EVENT_FILTERS, LANE_EVENT_FILTERS, PAGING, Params
from hub.api.principal import require
from hub.auth.principal import Role
from hub.auth.scope import device_clause, person_record_clause, project_clause
from hub.store import Page
from hub.store.records import Item
from hub.store.schema import access_events as access_events_table
from hub.store.schema import devices as devices_table
from hub.store.schema import lane_events as lane_events_table

MAX_LIMIT = 500
DEFAULT_LIMIT = 100

EVERY_ROLE = tuple(Role)
PERSONAL_DATA_ROLES = tuple(role for role in Role if role is not Role.OPERATOR)
"""Everyone but the hub operator, who runs the machines and reads no one's record."""
HUB_ROLES = (Role.OPERATOR, Role.CITY)
"""The hub's own state: ingest counters, sequences, dead letters."""


async def healthz(request: web.Request) -> web.Response:
    Params(request.query, ())
    database = await request.app[STORE].ping()
    mqtt = request.app[INGEST].connected
    body = {
        "status": "ok" if database and mqtt else "unavailable",
        "database": "ok" if database else "unavailable",
        "mqtt": "connected" if mqtt else "disconnected",
    }
    return web.json_response(body, status=200 if database and mqtt else 503)


F = TypeVar("F")


async def _listing(
    request: web.Request,
    accepted: tuple[str, ...],
    filters_of: Callable[[Params], F],
    query: Callable[[F, str | None, int], Awaitable[Page[Item]]],
    show: Callable[[Item], dict[str, Any]],
) -> web.Response:
    """One newest-first page of an event listing: its filters plus ``limit`` and ``cursor``."""
    params = Params(request.query, (*accepted, *PAGING))
    filters = filters_of(params)
    limit = params.integer("limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    page = await query(filters, params.text("cursor"), limit)
    return web.json_response({"items": [show(item) for item in page.items], "next_cursor": page.next_cursor})


def _access_event_scope(request: web.Request) -> ColumnElement[bool]:
    principal = require(request, *PERSONAL_DATA_ROLES)
    t = access_events_table.c
    return person_record_clause(principal, t.project_id, t.person_id)


async def access_events(request: web.Request) -> web.Response:
    query = functools.partial(request.app[STORE].query_access_events, scope=_access_event_scope(request))
    return await _listing(request, EVENT_FILTERS, Params.event_filters, query, present.event)


async def lane_events(request: web.Request) -> web.Response:
    principal = require(request, *PERSONAL_DATA_ROLES)
    scope = project_clause(principal, lane_events_table.c.project_id)
    query = functools.partial(request.app[STORE].query_lane_events, scope=scope)
    return await _listing(request, LANE_EVENT_FILTERS, Params.lane_event_filters, query, present.lane_event)


async def access_event_counts(request: web.Request) -> web.Response:
    scope = _access_event_scope(request)
    filters = Params(request.query, EVENT_FILTERS).event_filters()
    counts = await request.app[STORE].count_access_events(filters, scope=scope)
    return web.json_response({"counts": [present.count(c) for c in counts]})


async def ingest_status(request: web.Request) -> web.Response:
    require(request, *HUB_ROLES)
    Params(request.query, ())
    ingest = request.app[INGEST]
    sequences = await request.app[STORE].sequences()
    return web.json_response(
        {
            "connected": ingest.connected,
            "counters": present.counters(ingest.counters),
            "devices": [present.sequence(s) for s in sequences],
        }
    )


async def dead_letters(request: web.Request) -> web.Response:
    require(request, *HUB_ROLES)
    params = Params(request.query, ("limit",))
    limit = params.integer("limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    letters = await request.app[STORE].dead_letters(limit)
    return web.json_response({"items": [present.dead_letter(d) for d in letters]})


async def devices(request: web.Request) -> web.Response:
    principal = require(request, *EVERY_ROLE)
    Params(request.query, ())
    statuses = await request.app[STORE].devices(scope=device_clause(principal, devices_table.c.device_id))
    now, keepalive = request.app[CLOCK].wall(), request.app[CONFIG].device_keepalive_s
    return web.json_response({"devices": [present.device(d, now, keepalive) for d in statuses]})
