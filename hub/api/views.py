"""Thin handlers: check the query, ask the store (scoped to the account) or the ingest, present
the answer.

Who may call what (the route table checks it before these run: hub/api/rows/devices.py): records
about people (access events, their counts) are for every role but the hub operator, each scoped
to what its account may see (:mod:`hub.auth.scope`, ANDed into the SQL); lane events per project;
devices for every role, scoped; the ingest's own state (counters, sequences, dead letters) for
the operator and the city station only.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import ColumnElement

from hub.api import present
from hub.api.keys import CLOCK, CONFIG, INGEST, STORE
from hub.api.params import Params, params_of
from hub.api.principal import principal_of
from hub.auth.scope import device_clause, person_record_clause, project_clause
from hub.store import Page
from hub.store.records import Item
from hub.store.schema import access_events as access_events_table
from hub.store.schema import devices as devices_table
from hub.store.schema import lane_events as lane_events_table


async def healthz(request: web.Request) -> web.Response:
    params_of(request)
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
    filters_of: Callable[[Params], F],
    query: Callable[[F, str | None, int], Awaitable[Page[Item]]],
    show: Callable[[Item], dict[str, Any]],
) -> web.Response:
    """One newest-first page of an event listing: its filters plus ``limit`` and ``cursor``."""
    params = params_of(request)
    filters = filters_of(params)
    limit = params.integer("limit")
    page = await query(filters, params.text("cursor"), limit)
    return web.json_response({"items": [show(item) for item in page.items], "next_cursor": page.next_cursor})


def _access_event_scope(request: web.Request) -> ColumnElement[bool]:
    principal = principal_of(request)
    t = access_events_table.c
    return person_record_clause(principal, t.project_id, t.person_id)


async def access_events(request: web.Request) -> web.Response:
    query = functools.partial(request.app[STORE].query_access_events, scope=_access_event_scope(request))
    return await _listing(request, Params.event_filters, query, present.event)


async def lane_events(request: web.Request) -> web.Response:
    principal = principal_of(request)
    scope = project_clause(principal, lane_events_table.c.project_id)
    query = functools.partial(request.app[STORE].query_lane_events, scope=scope)
    return await _listing(request, Params.lane_event_filters, query, present.lane_event)


async def access_event_counts(request: web.Request) -> web.Response:
    scope = _access_event_scope(request)
    filters = params_of(request).event_filters()
    counts = await request.app[STORE].count_access_events(filters, scope=scope)
    return web.json_response({"counts": [present.count(c) for c in counts]})


async def ingest_status(request: web.Request) -> web.Response:
    params_of(request)
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
    limit = params_of(request).integer("limit")
    letters = await request.app[STORE].dead_letters(limit)
    return web.json_response({"items": [present.dead_letter(d) for d in letters]})


async def devices(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params_of(request)
    statuses = await request.app[STORE].devices(scope=device_clause(principal, devices_table.c.device_id))
    now, keepalive = request.app[CLOCK].wall(), request.app[CONFIG].device_keepalive_s
    return web.json_response({"devices": [present.device(d, now, keepalive) for d in statuses]})
