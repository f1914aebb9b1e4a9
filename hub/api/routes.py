"""The route table: every endpoint of the hub, API and console, as :class:`~hub.api.route.Route`
rows, and what is made from them.

The rows are kept in a few modules by subject (``hub/api/rows/`` for the API,
:data:`hub.console.CONSOLE_ROUTES` for the console's pages); :data:`ROUTES` is all of them, in
the order the router matches. Adding an endpoint: its handler in a view module, its row there.
From it come the router (:func:`setup_routes`), the role check before each handler
(:func:`guarded`), the paths the authentication middleware opens without a token
(:func:`public_paths`), and the OpenAPI document (:mod:`hub.api.openapi`). The scope matrix
(tests/hub/test_scope_matrix.py) reads it too: a row without matrix rows fails.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from typing import Final

from aiohttp import web

from hub.api.auth_middleware import PUBLIC_PATHS
from hub.api.params import ACCEPTED, by_name
from hub.api.principal import check_roles
from hub.api.route import Handler, Open, Route
from hub.api.rows import (
    bulletins,
    card_reads,
    completion,
    contacts,
    devices,
    health,
    inspections,
    oversight,
    platform,
    registry,
    site_rules,
    teams,
    workflows,
)
from hub.auth.principal import Role
from hub.console import CONSOLE_ROUTES, CONSOLE_STATIC
from hub.console.render import STATIC

API_ROUTES: Final[tuple[Route, ...]] = (
    *health.ROUTES,  # health, the document, log in and out, the audit log
    *devices.ROUTES,  # the record, devices, commands, ingest state, enrolment
    *oversight.ROUTES,  # headcount, attendance, statistics, CSV export
    *registry.ROUTES,  # districts, enterprises, persons, projects and what hangs off them
    *workflows.ROUTES,  # orders, deductions, summaries, national upload, alerts, heartbeats
    *devices.ENROLMENT_ROUTES,  # enrolment tokens, enrolments, revocation
    *card_reads.ROUTES,  # the office readers' card reads, for the registration form
    *site_rules.ROUTES,  # each project's site rules, signed to its lanes with the roster
    *teams.ROUTES,  # 班组: teams, their leaders, headcount and attendance by team
    *bulletins.ROUTES,  # 通报 and eligibility sanctions
    *inspections.ROUTES,  # inspections by the authorities, their checklist and photos
    *contacts.ROUTES,  # the district bureaus' contacts (the notice's annex)
    *platform.ROUTES,  # each project's worker-platform settings and its upload's status
    *completion.ROUTES,  # each project's completion date (竣工), from which retention runs
)
ROUTES: Final[tuple[Route, ...]] = (*API_ROUTES, *CONSOLE_ROUTES)


def guarded(route: Route) -> Handler:
    """The row's handler behind its role check, with the query names it accepts on the request."""
    handler, accepted, roles = route.handler, by_name(route.params), route.roles
    if isinstance(roles, Open):

        @functools.wraps(handler)
        async def open_handler(request: web.Request) -> web.StreamResponse:
            request[ACCEPTED] = accepted
            return await handler(request)

        return open_handler
    allowed: Collection[Role] = roles

    @functools.wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        check_roles(request, allowed)
        request[ACCEPTED] = accepted
        return await handler(request)

    return checked


def public_paths(routes: Iterable[Route]) -> frozenset[str]:
    """The paths the authentication middleware lets through without a token or a session."""
    return frozenset({route.path for route in routes if route.public} | {CONSOLE_STATIC})


def setup_routes(app: web.Application, routes: tuple[Route, ...] = ROUTES) -> None:
    r = app.router
    for route in routes:
        if route.method == "GET":
            r.add_get(route.path, guarded(route))  # and HEAD
        else:
            r.add_route(route.method, route.path, guarded(route))
    r.add_static(CONSOLE_STATIC, STATIC, name="console_static")
    app[PUBLIC_PATHS] = public_paths(routes)
