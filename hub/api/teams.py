"""班组 (teams) over HTTP: a project's teams with their headcount and attendance, and the writes
(make, rename, remove, leader, an assignment's team). Thin handlers over the registry's
:mod:`hub.registry.teams` and :mod:`hub.registry.team_reads`, answering its refusals as the rest
of the registry's API does (:mod:`hub.api.registry`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK
from hub.api.params import params_of
from hub.api.registry import _answers, _assignment_id, _json, _ok, _registry, _writer, body
from hub.api.respond import json_response
from hub.registry import Registry
from hub.registry.team_models import AssignmentTeamIn, TeamIn, TeamLeaderIn, TeamRename
from hub.registry.team_reads import TeamCount

create_team = _writer(TeamIn, Registry.create_team, "project_id")
rename_team = _writer(TeamRename, Registry.rename_team, "team_id", status=200)
set_team_leader = _writer(TeamLeaderIn, Registry.set_team_leader, "team_id", status=200)


@_answers
async def list_teams(request: web.Request) -> web.Response:
    """Each team with its members, on site now and came on ``date`` (the site's today by default)."""
    registry = _registry(request)
    params = params_of(request)
    asked = params.text("date")
    try:
        day = date.fromisoformat(asked) if asked is not None else None
    except ValueError:
        raise ApiError(400, "invalid_query", "date: must be a date YYYY-MM-DD") from None
    counts = await registry.team_headcount(request.match_info["project_id"], request.app[CLOCK].wall(), day)
    return json_response({"items": [_counted(c) for c in counts]})


def _counted(count: TeamCount) -> dict[str, Any]:
    return {
        **_json(count.team),
        "day": count.day.isoformat(),
        "members": count.members,
        "on_site": count.on_site,
        "came": count.came,
    }


@_answers
async def get_team(request: web.Request) -> web.Response:
    params_of(request)
    return _ok(await _registry(request).team(request.match_info["team_id"]))


@_answers
async def delete_team(request: web.Request) -> web.Response:
    params_of(request)
    await _registry(request).delete_team(request.match_info["team_id"])
    return web.Response(status=204)


@_answers
async def put_in_team(request: web.Request) -> web.Response:
    registry = _registry(request)
    data = await body(request, AssignmentTeamIn)
    return _ok(await registry.put_in_team(_assignment_id(request), data))
