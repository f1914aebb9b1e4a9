"""The device-health board (every lane the account sees, refreshing itself) and a lane's page with
its heartbeat history as charts. The operator's pages, and every other role's for its lanes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from hub.api import present
from hub.api.keys import CLOCK, CONFIG, STORE
from hub.console import charts
from hub.console.render import gettext_of, page, principal, render
from hub.devices.devices import Devices
from hub.devices.records import DeviceStatus
from hub.workflows import heartbeats
from wire.clock import SITE_ZONE

REFRESH_S = 10


def _health(status: DeviceStatus, now: datetime, keepalive_s: float) -> dict[str, Any]:
    """One board row: what an operator scans for (offline, backlog, lag, a reader fault, skew)."""
    shown = present.device(status, now, keepalive_s)
    beat: Mapping[str, Any] = status.last_heartbeat or {}
    readers = beat.get("reader_status") or {}
    skew = None
    if beat.get("sent_at") and status.last_seen_at is not None:
        skew = (status.last_seen_at - datetime.fromisoformat(beat["sent_at"])).total_seconds()
    return {
        "device_id": status.device_id,
        "status": shown["status"],
        "last_seen_at": status.last_seen_at,
        "backlog": beat.get("journal_backlog"),
        "roster_lag": shown["roster"]["lag"],
        "roster_problem": status.roster_problem,
        "reader_fault": sorted(name for name, state in readers.items() if state != "ok"),
        "clock_skew_s": skew,
        "clock_synced": beat.get("clock_synced"),
        "software": beat.get("software_version"),
    }


async def _rows(request: web.Request) -> list[dict[str, Any]]:
    who = principal(request)
    statuses = await Devices(request.app[STORE], who).statuses()
    now, keepalive = request.app[CLOCK].wall(), request.app[CONFIG].device_keepalive_s
    return [_health(s, now, keepalive) for s in statuses]


@page
async def board(request: web.Request) -> web.Response:
    rows = await _rows(request)
    offline = sum(1 for row in rows if row["status"] != "online")
    now = request.app[CLOCK].wall()
    return render(request, "devices.html", rows=rows, offline=offline, refresh=REFRESH_S, now=now)


@page
async def device(request: web.Request) -> web.Response:
    device_id = request.match_info["device_id"]
    rows = {row["device_id"]: row for row in await _rows(request)}
    since = request.app[CLOCK].wall() - heartbeats.DEFAULT_WINDOW
    lane_history = heartbeats.Heartbeats(request.app[STORE], principal(request))
    points = await lane_history.history(device_id, since=since)
    labels = [p.minute.astimezone(SITE_ZONE).strftime("%H:%M") for p in points]
    _ = gettext_of(request)
    backlog = charts.line(_("Journal backlog (events)"), labels, [p.journal_backlog for p in points])
    skew = charts.line(_("Clock skew (seconds)"), labels, [abs(p.clock_skew_s) for p in points])
    return render(
        request,
        "device.html",
        row=rows.get(device_id),
        device_id=device_id,
        points=points[-20:][::-1],
        count=len(points),
        backlog_chart=backlog,
        skew_chart=skew,
        window_h=int(heartbeats.DEFAULT_WINDOW / timedelta(hours=1)),
        refresh=REFRESH_S * 3,
    )
