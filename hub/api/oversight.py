"""The oversight read API: headcount, managers on duty, attendance, registration statistics, and
the access record as CSV. Thin handlers: query, one scoped read, presentation (who may call them
is the route table's: hub/api/rows/oversight.py).

Every personal-data role may call these (the hub operator may not: 403), each seeing its own
scope; a project outside the account's scope answers 404 exactly like a project that does not
exist. Registration statistics are the authorities' (city: every district, a district bureau:
its own).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncGenerator
from datetime import date, datetime, timedelta
from typing import Any

from aiohttp import web

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, STORE
from hub.api.params import Params, params_of
from hub.api.principal import principal_of
from hub.api.respond import json_response
from hub.auth.principal import Role
from hub.derive.days import local_today
from hub.errors import InvalidQuery, NotFound
from hub.oversight import export
from hub.oversight.oversight import PRESENCE_STALE_AFTER, Oversight
from hub.oversight.records import AttendanceFilters
from wire.clock import SITE_ZONE

MAX_ATTENDANCE_DAYS = 92
_TOTALLED = (
    "projects_with_permit",
    "projects_registered",
    "workers_registered",
    "managers_registered",
    "persons_registered",
    "enterprises",
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


# -- handlers ------------------------------------------------------------------------------------


async def headcount(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params_of(request)
    project_id = request.match_info["project_id"]
    result = await Oversight(request.app[STORE], principal).headcount(project_id, request.app[CLOCK].wall())
    return json_response(
        {
            "project_id": result.project_id,
            "as_of": _time(result.as_of),
            "on_site": result.on_site,
            "by_enterprise": [
                {"enterprise_id": c.key, "enterprise_name": c.name, "on_site": c.on_site}
                for c in result.by_enterprise
            ],
            "by_role": [{"role": c.key, "on_site": c.on_site} for c in result.by_role],
            "stale_after_hours": PRESENCE_STALE_AFTER / timedelta(hours=1),
        }
    )


async def managers_on_duty(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params = params_of(request)
    day = _date(params, "date") or local_today(request.app[CLOCK])
    project_id = request.match_info["project_id"]
    managers = await Oversight(request.app[STORE], principal).managers_on_duty(project_id, day)
    present = sum(1 for m in managers if m.present)
    return json_response(
        {
            "project_id": project_id,
            "date": day.isoformat(),
            "present": present,
            "absent": len(managers) - present,
            "managers": [{**_fields(m), "present": m.present} for m in managers],
        }
    )


async def attendance(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params = params_of(request)
    until = _date(params, "to") or local_today(request.app[CLOCK])
    since = _date(params, "from") or until
    if since > until:
        raise InvalidQuery("to", "must not be before from")
    if (until - since).days + 1 > MAX_ATTENDANCE_DAYS:
        raise InvalidQuery("to", f"must be at most {MAX_ATTENDANCE_DAYS} days from 'from' (both included)")
    filters = AttendanceFilters(
        since=since,
        until=until,
        project_id=params.text("project_id"),
        person_id=params.text("person_id"),
        enterprise_id=params.text("enterprise_id"),
    )
    limit = params.integer("limit")
    after = params.text("cursor")
    page = await Oversight(request.app[STORE], principal).attendance(filters, after, limit)
    return json_response(
        {
            "items": [{**_fields(row.record), "name": row.name} for row in page.items],
            "next_cursor": page.next_cursor,
        }
    )


async def monthly_attendance(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params = params_of(request)
    month = _month(params) or local_today(request.app[CLOCK]).replace(day=1)
    project_id = request.match_info["project_id"]
    report = await Oversight(request.app[STORE], principal).monthly(project_id, month)
    return json_response(
        {
            "project_id": project_id,
            "month": month.strftime("%Y-%m"),
            "persons": [_fields(p) for p in report.persons],
            "totals": {
                "persons": len(report.persons),
                "person_days": report.person_days,
                "hours": _hours(report.seconds_on_site),
                "seconds_on_site": report.seconds_on_site,
            },
        }
    )


async def registration_statistics(request: web.Request) -> web.Response:
    principal = principal_of(request)
    params = params_of(request)
    district = params.text("district")
    if principal.role is Role.DISTRICT:
        if district is not None and district != principal.district:
            raise ApiError(
                403, "forbidden", f"a district account sees its own district ({principal.district}) only"
            )
        district = principal.district
    figures = await Oversight(request.app[STORE], principal).registration(district)
    if district is not None and not figures:
        raise NotFound(f"district {district!r} not found")
    rows = [{**_fields(f), "persons_registered": f.persons_registered} for f in figures]
    totals = {key: sum(row[key] for row in rows) for key in _TOTALLED}
    return json_response({"districts": rows, "totals": totals})


async def export_access_events(request: web.Request) -> web.StreamResponse:
    """The access record as CSV, streamed page by page; the first page is read before the
    response starts, so a bad query or a database failure still gets a JSON error."""
    principal = principal_of(request)
    filters = params_of(request).event_filters()
    since, until = export.window(filters)
    pages = Oversight(request.app[STORE], principal).export_pages(filters)
    return await stream_csv(request, pages, f"access-events_{_stamp(since)}_{_stamp(until)}.csv")


async def stream_csv(
    request: web.Request, pages: AsyncGenerator[str, None], filename: str
) -> web.StreamResponse:
    """Send CSV pages as one chunked attachment. The first page is read before the response
    starts, so a bad query or a database failure still gets a JSON error; after that, a failure
    can only cut the download short (the client sees no final chunk, never half a file as whole)."""
    try:
        first = await anext(pages)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            }
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(first.encode())
        async for chunk in pages:
            await response.write(chunk.encode())
    finally:
        await pages.aclose()
    await response.write_eof()
    return response


# -- helpers -------------------------------------------------------------------------------------


def _date(params: Params, name: str) -> date | None:
    value = params.text(name)
    if value is None:
        return None
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidQuery(name, "must be a date YYYY-MM-DD, e.g. 2026-05-01") from None


def _month(params: Params) -> date | None:
    value = params.text("month")
    if value is None:
        return None
    try:
        if not _MONTH.match(value):
            raise ValueError(value)
        return date.fromisoformat(value + "-01")
    except ValueError:
        raise InvalidQuery("month", "must be a month YYYY-MM, e.g. 2026-05") from None


def _time(value: datetime | None) -> str | None:
    """In the site's timezone, as a regulator reads it."""
    return None if value is None else value.astimezone(SITE_ZONE).isoformat()


def _stamp(value: datetime) -> str:
    return value.astimezone(SITE_ZONE).strftime("%Y%m%dT%H%M%S")


def _hours(seconds: int) -> float:
    return round(seconds / 3600, 2)


def _fields(record: Any) -> dict[str, Any]:
    """A record's fields as JSON: times in the site's timezone, dates ISO, time on site in hours too."""
    body: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if isinstance(value, datetime):
            value = _time(value)
        elif isinstance(value, date):
            value = value.isoformat()
        body[f.name] = value
    if "seconds_on_site" in body:
        body["hours"] = _hours(body["seconds_on_site"])
    return body
