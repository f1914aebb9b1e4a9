"""The live screen (大屏, issue 15) of the city station and of each district bureau: a room's wall
at 1920×1080, read from across it.

Two routes here: the page (server-rendered, whole without script: a meta refresh of 30 s inside
``<noscript>``) and its figures as JSON; a third, the event stream that says "changed" within about
a second of a batch stored by this hub, is :mod:`hub.api.screen_events`. The
page's script (static/screen.js, no inline script under the CSP) re-reads the JSON when told, and
every minute regardless (a change another hub instance stored, the hour turning).

Alerts are counted and listed by kind and project, never by a person's name: the screen is read
by whoever is in the room.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from aiohttp import web

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, CONFIG, REGISTRY, STORE
from hub.api.workflows import alert_settings
from hub.console import charts
from hub.console.i18n import N_
from hub.console.labels import label
from hub.console.render import AUTHORITIES, gettext_of, locale_of, page, principal, render
from hub.console.times import local
from hub.oversight.screen import Screen, ScreenFigures
from hub.workflows.alerts import Alerts
from hub.workflows.records import Alert

SCREEN_ALERTS: Final = ("watchlist_hit", "manager_absent", "gate_offline")
UNREGISTERED: Final = "unregistered"
"""The screen's own alert kind: a project with a construction permit and no real-name 报备."""
LISTED: Final = 8
"""Alert lines shown; the counts cover all of them."""


async def _figures(request: web.Request) -> dict[str, Any]:
    who = principal(request)
    if who.role not in AUTHORITIES:
        message = N_("The live screen is for the city station and the district bureaus.")
        raise ApiError(403, "forbidden", message)
    now = request.app[CLOCK].wall()
    config = request.app[CONFIG]
    offline_after = timedelta(seconds=config.alert_gate_offline_after_s)
    figures = await Screen(request.app[STORE], who, offline_after=offline_after).figures(now)
    alerts = Alerts(request.app[STORE], who, alert_settings(request))
    found: list[Alert] = [
        *await alerts.watchlist_hits(now=now),
        *await alerts.managers_absent(now=now),
        *await alerts.gates_offline(now=now),
    ]
    registry = request.app[REGISTRY].acting_for(who)
    names = {p.id: p.name for p in await registry.projects()}
    # Every project holds a construction permit (its number is how it is registered): those not
    # yet 报备 are the statistics page's list.
    unregistered = await registry.projects(registered=False)
    return _shown(request, figures, found, names, [p.name for p in unregistered])


def _shown(
    request: web.Request,
    figures: ScreenFigures,
    found: list[Alert],
    names: dict[str, str],
    unregistered: list[str],
) -> dict[str, Any]:
    """The figures in the reader's words, as the page and the JSON both show them."""
    _ = gettext_of(request)
    locale = locale_of(request)
    counts = {kind: sum(1 for a in found if a.kind == kind) for kind in SCREEN_ALERTS}
    counts[UNREGISTERED] = len(unregistered)
    lines = [
        {
            "kind": a.kind,
            "what": label(locale, "alert_kind", a.kind),
            "where": names.get(a.project_id or "", a.project_id or ""),
            "at": local(a.at, locale, "short") if a.at else "",
        }
        for a in sorted(found, key=lambda a: a.at.timestamp() if a.at else 0.0, reverse=True)[:LISTED]
    ]
    lines += [
        {"kind": UNREGISTERED, "what": _("Permit without real-name registration"), "where": name, "at": ""}
        for name in unregistered[: max(0, LISTED - len(lines))]
    ]
    hours = [f"{h:02d}" for h in range(24)]
    return {
        "as_of": local(figures.as_of, locale, "seconds"),
        "on_site": figures.on_site,
        "by_district": [{"name": label(locale, "district", c), "count": n} for c, n in figures.by_district],
        "by_kind": [{"name": label(locale, "enterprise_kind", k), "count": n} for k, n in figures.by_kind],
        "lanes_online": figures.lanes_online,
        "lanes_offline": figures.lanes_offline,
        "entries_today": sum(figures.entries_per_hour),
        "chart": str(charts.bars(_("Entries per hour today"), hours, figures.entries_per_hour)),
        "alert_counts": [
            {
                "kind": kind,
                "name": _("Permit without real-name registration")
                if kind == UNREGISTERED
                else label(locale, "alert_kind", kind),
                "count": n,
            }
            for kind, n in counts.items()
        ],
        "alerts": lines,
    }


@page
async def screen(request: web.Request) -> web.Response:
    shown = await _figures(request)
    return render(request, "screen.html", screen=shown)


@page
async def screen_json(request: web.Request) -> web.Response:
    return web.json_response(await _figures(request), headers={"Cache-Control": "no-store"})
