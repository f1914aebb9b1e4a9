"""The regulators' workflows over HTTP: rectification orders, credit deductions, monthly
summaries (JSON and CSV), the national platform's attendance upload, anomaly alerts, and a
lane's heartbeat history.

Thin handlers like the registry's: the role answered early by the route table (403,
hub/api/rows/workflows.py), the body through its pydantic
model (422 naming the field), one call into :mod:`hub.workflows` (which checks permission again
against what it reads, and scopes every query), the record as JSON. The workflows' refusals are
the registry's kinds and get the same answers (hub.api.registry).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from aiohttp import web

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, CONFIG, STORE
from hub.api.oversight import _date, _fields, _month
from hub.api.params import Params, params_of
from hub.api.principal import principal_of
from hub.api.registry import _answers, body
from hub.api.respond import json_response
from hub.auth.principal import Principal, Role
from hub.derive.days import local_day, local_today
from hub.errors import InvalidQuery
from hub.registry import IdVault, data_key_path, load_data_key
from hub.workflows import alerts, csvfile, deductions, heartbeats, national, orders
from hub.workflows.models import DeductionIn, OrderIn, OrderStatus, ResponseIn, ReviewIn
from hub.workflows.records import DistrictMonth, ProjectMonth
from hub.workflows.summary import Summaries
from wire.clock import SITE_ZONE

VAULT = web.AppKey("workflows_vault", IdVault)
"""Opens ID numbers for the national platform's export (the same data key as the registry's)."""
_ID = re.compile(r"^[0-9]{1,18}$")


async def open_vault(app: web.Application) -> None:
    """On startup (the app factory): the vault the national export opens ID numbers with."""
    config = app[CONFIG]
    app[VAULT] = IdVault(load_data_key(data_key_path(config.data_key_file, config.database_url)))


# -- presentation -------------------------------------------------------------------------------


def present(record: Any) -> dict[str, Any]:
    """A workflow record as JSON: times in the site's timezone, dates ISO, nested records too."""
    body = _fields(record)
    for key, value in body.items():
        if isinstance(value, tuple):
            body[key] = [present(item) for item in value]
    return body


def _page(items: list[Any], next_cursor: str | None) -> web.Response:
    return json_response({"items": [present(item) for item in items], "next_cursor": next_cursor})


def _order_id(request: web.Request) -> int:
    text = request.match_info["order_id"]
    if not _ID.match(text) or not 0 < int(text) < 2**63:
        raise ApiError(404, "not_found", f"order {text} not found")
    return int(text)


def _paging(params: Params) -> tuple[str | None, int]:
    return params.text("cursor"), params.integer("limit")


# -- rectification orders ---------------------------------------------------------------------------


@_answers
async def issue_order(request: web.Request) -> web.Response:
    principal = principal_of(request)
    data = await body(request, OrderIn)
    order = await orders.Orders(request.app[STORE], principal).issue(data, now=request.app[CLOCK].wall())
    return json_response(present(order), status=201)


@_answers
async def list_orders(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params = params_of(request)
    filters = orders.OrderFilters(
        status=params.choice("status", OrderStatus),
        overdue=params.boolean("overdue"),
        project_id=params.text("project_id"),
        enterprise_id=params.text("enterprise_id"),
    )
    cursor, limit = _paging(params)
    page = await orders.Orders(request.app[STORE], principal).listing(
        filters, now=request.app[CLOCK].wall(), cursor=cursor, limit=limit
    )
    return _page(page.items, page.next_cursor)


@_answers
async def get_order(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params_of(request)
    now = request.app[CLOCK].wall()
    order = await orders.Orders(request.app[STORE], principal).get(_order_id(request), now=now)
    return json_response(present(order))


@_answers
async def respond_order(request: web.Request) -> web.Response:
    principal = principal_of(request)
    data = await body(request, ResponseIn)
    now = request.app[CLOCK].wall()
    order = await orders.Orders(request.app[STORE], principal).respond(_order_id(request), data, now=now)
    return json_response(present(order))


@_answers
async def review_order(request: web.Request) -> web.Response:
    principal = principal_of(request)
    data = await body(request, ReviewIn)
    now = request.app[CLOCK].wall()
    order = await orders.Orders(request.app[STORE], principal).review(_order_id(request), data, now=now)
    return json_response(present(order))


# -- credit deductions --------------------------------------------------------------------------------


@_answers
async def deduct(request: web.Request) -> web.Response:
    principal = principal_of(request)
    data = await body(request, DeductionIn)
    now = request.app[CLOCK].wall()
    record = await deductions.Deductions(request.app[STORE], principal).deduct(data, now=now)
    return json_response(present(record), status=201)


@_answers
async def list_deductions(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params = params_of(request)
    order_id = params.maybe_integer("order_id")
    filters = deductions.DeductionFilters(
        enterprise_id=params.text("enterprise_id"),
        person_id=params.text("person_id"),
        project_id=params.text("project_id"),
        order_id=order_id,
    )
    cursor, limit = _paging(params)
    page = await deductions.Deductions(request.app[STORE], principal).listing(
        filters, cursor=cursor, limit=limit
    )
    return _page(page.items, page.next_cursor)


# -- monthly summaries -------------------------------------------------------------------------------


def _summary_month(params: Params, today: date) -> date:
    return _month(params) or today.replace(day=1)


def _district_of(principal: Principal, asked: str | None) -> str | None:
    """A bureau reads its own district only; asking for another is a 403, not an empty answer."""
    if principal.role is Role.DISTRICT:
        if asked is not None and asked != principal.district:
            raise ApiError(
                403, "forbidden", f"a district account sees its own district ({principal.district}) only"
            )
        return principal.district
    return asked


async def _projects_month(request: web.Request) -> tuple[date, list[ProjectMonth]]:
    principal = principal_of(request)
    params = params_of(request)
    today = local_today(request.app[CLOCK])
    month, district = _summary_month(params, today), params.text("district")
    rows = await Summaries(request.app[STORE], principal).projects_month(
        month, today=today, district=district
    )
    return month, rows


async def _districts_month(request: web.Request) -> tuple[date, list[DistrictMonth]]:
    principal = principal_of(request)
    params = params_of(request)
    today = local_today(request.app[CLOCK])
    month, district = _summary_month(params, today), _district_of(principal, params.text("district"))
    rows = await Summaries(request.app[STORE], principal).districts_month(
        month, today=today, district=district
    )
    if district is not None and not rows:
        raise ApiError(404, "not_found", f"district {district!r} not found")
    return month, rows


def _summary_json(month: date, rows: list[Any]) -> web.Response:
    return json_response({"month": month.strftime("%Y-%m"), "items": [present(row) for row in rows]})


def _csv(name: str, month: date, rows: list[Any], record_type: type) -> web.Response:
    return web.Response(
        text=csvfile.to_csv(rows, record_type),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}_{month:%Y-%m}.csv"',
            "Cache-Control": "no-store",
        },
    )


async def project_summary(request: web.Request) -> web.Response:
    month, rows = await _projects_month(request)
    return _summary_json(month, rows)


async def project_summary_csv(request: web.Request) -> web.Response:
    month, rows = await _projects_month(request)
    return _csv("projects-summary", month, rows, ProjectMonth)


async def district_summary(request: web.Request) -> web.Response:
    month, rows = await _districts_month(request)
    return _summary_json(month, rows)


async def district_summary_csv(request: web.Request) -> web.Response:
    month, rows = await _districts_month(request)
    return _csv("districts-summary", month, rows, DistrictMonth)


# -- the national platform's attendance upload -------------------------------------------------------


@_answers
async def worker_attendance(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params = params_of(request)
    now = request.app[CLOCK].wall()
    until = _date(params, "to") or local_day(now)
    since = _date(params, "from") or until
    if since > until:
        raise InvalidQuery("to", "must not be before from")
    if (until - since).days + 1 > national.MAX_DAYS:
        raise InvalidQuery("to", f"must be at most {national.MAX_DAYS} days from 'from' (both included)")
    limit = params.integer("limit")
    upload, next_cursor = await national.NationalUpload(
        request.app[STORE], principal, request.app[VAULT]
    ).export(
        request.match_info["project_id"],
        since,
        until,
        now=now,
        cursor=params.text("cursor"),
        limit=limit,
    )
    return json_response({**upload, "next_cursor": next_cursor}, headers={"Cache-Control": "no-store"})


# -- alerts and device history ------------------------------------------------------------------------


def alert_settings(request: web.Request) -> alerts.AlertSettings:
    config = request.app[CONFIG]
    return alerts.AlertSettings(
        manager_due_by=config.alert_manager_due_by,
        gate_offline_after=timedelta(seconds=config.alert_gate_offline_after_s),
        watchlist_window=timedelta(hours=config.alert_watchlist_window_h),
    )


async def list_alerts(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params = params_of(request)
    now = request.app[CLOCK].wall()
    found = await alerts.Alerts(request.app[STORE], principal, alert_settings(request)).alerts(
        now=now, project_id=params.text("project_id")
    )
    return json_response(
        {"as_of": now.astimezone(SITE_ZONE).isoformat(), "items": [present(a) for a in found]}
    )


@_answers
async def heartbeat_history(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params = params_of(request)
    hours = params.integer("hours")
    device_id = request.match_info["device_id"]
    since: datetime = request.app[CLOCK].wall() - timedelta(hours=hours)
    points = await heartbeats.Heartbeats(request.app[STORE], principal).history(device_id, since=since)
    return json_response({"device_id": device_id, "points": [present(p) for p in points]})
