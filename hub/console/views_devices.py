"""The device-health board (every lane the account sees, refreshing itself) and a lane's page with
its heartbeat history as charts. The operator's pages, and every other role's for its lanes.

A lane's page also commands it (issue 14): remote open (远程开闸), disable, enable, resync, for the
roles the API lets command (``COMMAND_ROLES``). Each is two steps with no script: the button asks
(``?confirm=<action>``, a GET that changes nothing), the confirmation POSTs. The command goes
through the hub's command desk (recorded with its account and audit line before it is sent, the
operator journaled by the lane); the page then shows its answer, refreshing itself while the lane
has not answered and the command has not expired, and the lane's command history names who asked."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from aiohttp import web

from hub.api import present
from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, COMMANDS, CONFIG, STORE
from hub.api.params import params_of
from hub.api.views import board_query
from hub.auth.permissions import COMMAND_ROLES
from hub.console import charts
from hub.console.i18n import N_
from hub.console.lane_states import provisioning_for
from hub.console.render import checked_form, gettext_of, page, principal, render
from hub.devices.devices import BoardState, Devices, encode_board_cursor
from hub.devices.records import CommandRecord, DeviceStatus
from hub.errors import NotFound
from hub.refusals import Missing
from hub.workflows import heartbeats
from wire.clock import SITE_ZONE
from wire.commands import Action

REFRESH_S = 10
LANE_ACTIONS: Final = (Action.REMOTE_OPEN, Action.DISABLE_LANE, Action.ENABLE_LANE, Action.RESYNC)
"""What the console asks of a lane; the rest (reboot, log level) stay the API's."""
COMMAND_TTL_S: Final = 30.0
"""A command's life: a lane refuses it after that (a late remote open opens nothing)."""
ANSWER_WAIT_S: Final = 3.0
"""How long the confirmation's POST waits for the lane's answer before showing the page anyway."""
ANSWER_REFRESH_S: Final = 2
"""The page's refresh while a command awaits its answer."""
HISTORY: Final = 20
BOARD_PAGE: Final = 100
"""Lanes on one page of the board (the offline ones come first)."""


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


@page
async def board(request: web.Request) -> web.Response:
    """A page of the lanes, offline first (hub.devices.devices.board): the database sorts, filters
    and pages 10,000 lanes; the hub renders 100."""
    query = board_query(params_of(request), BOARD_PAGE)
    now, keepalive = request.app[CLOCK].wall(), request.app[CONFIG].device_keepalive_s
    found = await Devices(request.app[STORE], principal(request)).board(query, now, keepalive)
    rows = [_health(s, now, keepalive) for s in found.items]
    counts = {state.value: n for state, n in found.counts.items()}
    following = None
    if found.next_after is not None:
        kept = {k: v for k, v in (("status", query.state), ("q", query.search)) if v}
        following = urlencode(kept | {"cursor": encode_board_cursor(found.next_after)})
    return render(
        request,
        "devices.html",
        rows=rows,
        lanes=sum(counts.values()),
        offline=counts["offline"] + counts["revoked"],
        states=[state.value for state in BoardState],
        state=query.state.value if query.state else "",
        search=query.search or "",
        following=following,
        refresh=REFRESH_S,
        now=now,
    )


async def _history(request: web.Request, device_id: str) -> list[CommandRecord]:
    """The lane's commands, newest first; none for a lane the hub never heard from."""
    try:
        return await Devices(request.app[STORE], principal(request)).commands(device_id, HISTORY)
    except NotFound:
        return []


def _action(text: str | None) -> Action | None:
    return next((a for a in LANE_ACTIONS if a.value == text), None)


def _awaited(history: list[CommandRecord], command_id: str | None, now: datetime) -> dict[str, Any] | None:
    """The command whose answer the page shows (``?command=``): answered, awaited, or expired."""
    record = next((c for c in history if c.command_id == command_id), None)
    if record is None:
        return None
    state = (
        "answered" if record.result_at is not None else "expired" if now >= record.expires_at else "waiting"
    )
    return {"record": record, "state": state}


@page
async def send_command(request: web.Request) -> web.Response:
    """The confirmation's POST: the command issued as the signed-in account, a short wait for the
    answer, then the lane's page showing it (a reload does not send it again)."""
    form = await checked_form(request)
    device_id = request.match_info["device_id"]
    action = _action(form.get("action"))
    if principal(request).role not in COMMAND_ROLES:
        raise ApiError(403, "forbidden", N_("Your account may not command lanes."))
    if action is None or form.get("confirmed") != "yes":
        raise ApiError(400, "invalid_form", N_("Confirm the command on the lane's page first."))
    desk = request.app[COMMANDS]
    record = await desk.issue(principal(request), device_id, action, ttl_s=COMMAND_TTL_S)
    await desk.wait_for_result(record.command_id, ANSWER_WAIT_S)
    raise web.HTTPSeeOther(f"/console/devices/{device_id}?command={record.command_id}#command")


@page
async def device(request: web.Request) -> web.Response:
    device_id = request.match_info["device_id"]
    asked = params_of(request)
    now = request.app[CLOCK].wall()
    history = await _history(request, device_id)
    may_command = principal(request).role in COMMAND_ROLES
    confirming = _action(asked.text("confirm")) if may_command else None
    awaited = _awaited(history, asked.text("command"), now)
    if confirming is not None:
        refresh = None  # a confirmation waits for its reader
    elif awaited is not None and awaited["state"] == "waiting":
        refresh = ANSWER_REFRESH_S
    else:
        refresh = REFRESH_S * 3
    keepalive = request.app[CONFIG].device_keepalive_s
    own = await Devices(request.app[STORE], principal(request)).statuses([device_id])
    rows = {s.device_id: _health(s, now, keepalive) for s in own}
    gate = await Devices(request.app[STORE], principal(request)).gate_of(device_id)
    provisioning = (await provisioning_for(request, [device_id]))[device_id] if gate else None
    since = request.app[CLOCK].wall() - heartbeats.DEFAULT_WINDOW
    lane_history = heartbeats.Heartbeats(request.app[STORE], principal(request))
    try:
        points = await lane_history.history(device_id, since=since)
    except Missing:
        if gate is None:
            raise
        points = []  # placed at a gate and never heard from (its "gate offline" alert links here)
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
        refresh=refresh,
        history=history,
        actions=[a.value for a in LANE_ACTIONS] if may_command else [],
        confirming=confirming.value if confirming else None,
        awaited=awaited,
        gate=gate,
        provisioning=provisioning,
    )
