"""Thin handlers: check the query, ask a domain object built from the store and the account
(:mod:`hub.events`, :mod:`hub.devices`) or the ingest, present the answer.

Who may call what (the route table checks it before these run: hub/api/rows/devices.py): records
about people (access events, their counts) are for every role but the hub operator, each scoped
to what its account may see (the domain object ANDs :mod:`hub.auth.scope` into its SQL); lane
events per project; devices for every role, scoped; the ingest's own state (counters,
sequences, dead letters) for the operator and the city station only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from hub.api import present
from hub.api.keys import CLOCK, CONFIG, HOUSEKEEPING, INGEST, STORE
from hub.api.params import Params, params_of
from hub.api.principal import principal_of
from hub.api.respond import json_response
from hub.devices.devices import BoardQuery, BoardState, Devices, decode_board_cursor, encode_board_cursor
from hub.events.event_records import EventRecords
from hub.events.ingest_state import IngestState
from hub.events.records import Item
from hub.page import Page


async def healthz(request: web.Request) -> web.Response:
    params_of(request)
    store = request.app[STORE]
    database = await store.ping() and not store.storing.failing  # answering is not storing
    mqtt = request.app[INGEST].connected
    body = {
        "status": "ok" if database and mqtt else "unavailable",
        "database": "ok" if database else "unavailable",
        "mqtt": "connected" if mqtt else "disconnected",
        "last_store": store.storing.report(),
    }
    housekeeping = request.app.get(HOUSEKEEPING)
    if housekeeping is not None:  # the record's purge and partitions (hub.retention): counts
        body["retention"] = housekeeping.report()
    return json_response(body, status=200 if database and mqtt else 503)


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
    return json_response({"items": [show(item) for item in page.items], "next_cursor": page.next_cursor})


def _event_records(request: web.Request) -> EventRecords:
    return EventRecords(request.app[STORE], principal_of(request))


async def access_events(request: web.Request) -> web.Response:
    query = _event_records(request).access_events
    return await _listing(request, Params.event_filters, query, present.event)


async def lane_events(request: web.Request) -> web.Response:
    query = _event_records(request).lane_events
    return await _listing(request, Params.lane_event_filters, query, present.lane_event)


async def access_event_counts(request: web.Request) -> web.Response:
    records = _event_records(request)
    filters = params_of(request).event_filters()
    counts = await records.count_access_events(filters)
    return json_response({"counts": [present.count(c) for c in counts]})


async def ingest_status(request: web.Request) -> web.Response:
    params_of(request)
    ingest = request.app[INGEST]
    sequences = await IngestState(request.app[STORE], principal_of(request)).sequences()
    return json_response(
        {
            "connected": ingest.connected,
            "counters": present.counters(ingest.counters),
            "devices": [present.sequence(s) for s in sequences],
        }
    )


async def dead_letters(request: web.Request) -> web.Response:
    limit = params_of(request).integer("limit")
    letters = await IngestState(request.app[STORE], principal_of(request)).dead_letters(limit)
    return json_response({"items": [present.dead_letter(d) for d in letters]})


def board_query(params: Params, limit: int) -> BoardQuery:
    """The board's ``status``, ``q`` and ``cursor`` (the API's and the console's)."""
    cursor = params.text("cursor")
    return BoardQuery(
        state=params.choice("status", BoardState),
        search=params.text("q"),
        after=None if cursor is None else decode_board_cursor(cursor),
        limit=limit,
    )


async def devices(request: web.Request) -> web.Response:
    """A page of the lanes, offline first (then revoked, then online), by device id within each;
    ``status`` keeps one state, ``q`` the device ids containing it; ``counts`` are the account's
    lanes in each state, whatever the filters."""
    principal = principal_of(request)
    params = params_of(request)
    query = board_query(params, params.integer("limit"))
    now, keepalive = request.app[CLOCK].wall(), request.app[CONFIG].device_keepalive_s
    page = await Devices(request.app[STORE], principal).board(query, now, keepalive)
    return json_response(
        {
            "devices": [present.device(d, now, keepalive) for d in page.items],
            "next_cursor": None if page.next_after is None else encode_board_cursor(page.next_after),
            "counts": {state.value: n for state, n in page.counts.items()},
        }
    )
