"""Thin handlers: check the query, ask the store or the ingest, present the answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from hub.api import present
from hub.api.keys import CONFIG, INGEST, STORE
from hub.api.params import EVENT_FILTERS, LANE_EVENT_FILTERS, PAGING, Params
from hub.store import Page
from hub.store.records import Item
from wire.models import utc_now

MAX_LIMIT = 500
DEFAULT_LIMIT = 100


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


async def access_events(request: web.Request) -> web.Response:
    store = request.app[STORE]
    return await _listing(
        request, EVENT_FILTERS, Params.event_filters, store.query_access_events, present.event
    )


async def lane_events(request: web.Request) -> web.Response:
    store = request.app[STORE]
    return await _listing(
        request, LANE_EVENT_FILTERS, Params.lane_event_filters, store.query_lane_events, present.lane_event
    )


async def access_event_counts(request: web.Request) -> web.Response:
    filters = Params(request.query, EVENT_FILTERS).event_filters()
    counts = await request.app[STORE].count_access_events(filters)
    return web.json_response({"counts": [present.count(c) for c in counts]})


async def ingest_status(request: web.Request) -> web.Response:
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
    params = Params(request.query, ("limit",))
    limit = params.integer("limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    letters = await request.app[STORE].dead_letters(limit)
    return web.json_response({"items": [present.dead_letter(d) for d in letters]})


async def devices(request: web.Request) -> web.Response:
    Params(request.query, ())
    statuses = await request.app[STORE].devices()
    now, keepalive = utc_now(), request.app[CONFIG].device_keepalive_s
    return web.json_response({"devices": [present.device(d, now, keepalive) for d in statuses]})
