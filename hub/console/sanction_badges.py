"""Eligibility sanctions beside whatever a page shows: a view asks :func:`sanctions_shown` about
the projects, enterprises and managers on it, and the template's ``sanction_badge`` macro
(templates/sanction_badge.html) draws each one in force today with its period and reason."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from hub.api.keys import CLOCK, STORE
from hub.console.render import principal
from hub.derive.days import local_day
from hub.workflows.bulletins import PartyKind
from hub.workflows.sanctions import Sanction, Sanctions

Shown = dict[tuple[str, str], list[Sanction]]
"""(subject kind, id) -> its sanctions in force today; the templates look them up so."""


async def sanctions_shown(
    request: web.Request,
    *,
    projects: Iterable[str] = (),
    enterprises: Iterable[str] = (),
    persons: Iterable[str] = (),
) -> Shown:
    today = local_day(request.app[CLOCK].wall())
    reader = Sanctions(request.app[STORE], principal(request))
    shown: Shown = {}
    for kind, ids in (
        (PartyKind.PROJECT, projects),
        (PartyKind.ENTERPRISE, enterprises),
        (PartyKind.PERSON, persons),
    ):
        for subject_id, found in (await reader.in_force(kind, ids, on=today)).items():
            shown[(kind.value, subject_id)] = found
    return shown
