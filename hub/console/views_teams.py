"""班组 (teams) of a project in the console: each team with its leader, members, who is on site now
and who came today (headcount and attendance by team), and, for the project departments that may
(:data:`hub.auth.permissions.TEAMS`), making, renaming, leading and removing teams and putting
people in them. Everything through the registry's scoped reads and writes (:mod:`hub.registry.teams`);
no id is typed (enterprises by name or 统一社会信用代码, people and teams from lists); a refusal
comes back beside its field, in the reader's language, with what was typed kept."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from hub.api.keys import CLOCK, REGISTRY
from hub.api.params import params_of, row_id
from hub.auth.permissions import TEAMS
from hub.console.form_errors import Entered, invalid, refused
from hub.console.i18n import N_
from hub.console.render import checked_form, gettext_of, page, principal, render
from hub.console.views_registration import (
    PICK_ENTERPRISE,
    _enterprises,
    _pick_enterprise,
    _roster,
    _today,
)
from hub.errors import InvalidQuery
from hub.refusals import Refusal
from hub.registry import Registry
from hub.registry.team_models import AssignmentTeamIn, TeamIn, TeamLeaderIn, TeamRename

_FIELDS = {"name": "name", "enterprise_id": "enterprise", "person_id": "leader", "team_id": "team"}
_OLDER = {
    "enterprise_not_party": ("enterprise", N_("This enterprise is not a party to the project.")),
    "wrong_enterprise_kind": ("enterprise", N_("Teams are under the general contractor or a subcontractor.")),
    "forbidden": ("form", N_("Your account may not change this team.")),
    "not_found": ("form", N_("This team is gone, or not yours to change.")),
}


def _registry(request: web.Request) -> Registry:
    return request.app[REGISTRY].acting_for(principal(request))


async def _page(
    request: web.Request, *, forms: dict[str, Entered] | None = None, status: int = 200
) -> web.Response:
    project_id = request.match_info["project_id"]
    registry = _registry(request)
    project = await registry.project(project_id)
    day = _asked_day(request) if request.method == "GET" else _today(request)
    counts = await registry.team_headcount(project_id, request.app[CLOCK].wall(), day)
    may_change = registry.principal.role in TEAMS
    roster = await _roster(registry, project_id, _today(request)) if may_change else []
    enterprises = await _enterprises(registry, project_id) if may_change else []
    return render(
        request,
        "teams.html",
        status=status,
        project=project,
        counts=counts,
        day=day,
        may_change=may_change,
        roster=roster,
        enterprises=[f"{e.name}（{e.number}）" for e in enterprises],
        forms=forms or {},
        blank=Entered(),
    )


def _asked_day(request: web.Request) -> date:
    asked = params_of(request).text("date")
    if not asked:
        return _today(request)
    try:
        return date.fromisoformat(asked)
    except ValueError:
        raise InvalidQuery(N_("date"), N_("must be a date YYYY-MM-DD")) from None


@page
async def teams_page(request: web.Request) -> web.Response:
    """Members and who came on ``?date=`` (the site's today by default); on site is always now."""
    return await _page(request)


def _refused(request: web.Request, entered: Entered, err: Refusal | ValidationError) -> None:
    if isinstance(err, ValidationError):
        invalid(request, entered, err, _FIELDS)
    else:
        refused(request, entered, err, _FIELDS, _OLDER)


async def _change(request: web.Request, form_key: str, write: Any) -> web.StreamResponse:
    """Run ``write(registry, form)``; back to the page, or the page with the form's errors (422)."""
    entered = Entered(await checked_form(request))
    registry = _registry(request)
    try:
        await write(registry, entered)
    except (Refusal, ValidationError) as err:
        _refused(request, entered, err)
    if entered.errors:
        return await _page(request, forms={form_key: entered}, status=422)
    raise web.HTTPSeeOther(f"/console/projects/{request.match_info['project_id']}/teams")


@page
async def create_team(request: web.Request) -> web.StreamResponse:
    project_id = request.match_info["project_id"]

    async def write(registry: Registry, entered: Entered) -> None:
        enterprise = _pick_enterprise(entered.get("enterprise"), await _enterprises(registry, project_id))
        if enterprise is None:
            _ = gettext_of(request)
            entered.errors["enterprise"] = _(PICK_ENTERPRISE)
            return
        await registry.create_team(project_id, TeamIn(enterprise_id=enterprise.id, name=entered.get("name")))

    return await _change(request, "create", write)


@page
async def change_team(request: web.Request) -> web.StreamResponse:
    """One team's form: rename, set the leader, or remove (the button pressed says which)."""
    team_id = request.match_info["team_id"]

    async def write(registry: Registry, entered: Entered) -> None:
        action = entered.get("action")
        if action == "rename":
            await registry.rename_team(team_id, TeamRename(name=entered.get("name")))
        elif action == "leader":
            await registry.set_team_leader(team_id, TeamLeaderIn(person_id=entered.get("leader") or None))
        elif action == "delete":
            await registry.delete_team(team_id)

    return await _change(request, team_id, write)


@page
async def put_in_team(request: web.Request) -> web.StreamResponse:
    async def write(registry: Registry, entered: Entered) -> None:
        assignment = entered.get("assignment")
        assignment_id = row_id(assignment)
        if assignment_id is None:
            _ = gettext_of(request)
            entered.errors["assignment"] = _("Pick a person.")
            return
        await registry.put_in_team(assignment_id, AssignmentTeamIn(team_id=entered.get("team") or None))

    return await _change(request, "members", write)
