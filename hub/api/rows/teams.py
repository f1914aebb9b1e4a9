"""Rows: 班组 (teams) of a project, with headcount and attendance by team, and the writes. The
role sets are the ones the registry checks again (:mod:`hub.auth.permissions`)."""

from __future__ import annotations

from typing import Final

from hub.api import teams as api
from hub.api.params import ASSIGNMENT, PROJECT, day, path
from hub.api.route import Route
from hub.auth import permissions as may
from hub.registry.team_models import AssignmentTeamIn, TeamIn, TeamLeaderIn, TeamRename

TAG = "registry"
TEAM: Final = path("team_id", "a team's id (``team-…``)")
TEAM_PATH = "/api/v1/teams/{team_id}"

ROUTES: Final = (
    Route(
        "GET",
        "/api/v1/projects/{project_id}/teams",
        api.list_teams,
        may.READERS,
        "The project's teams (班组), each with its members, on site now and came on `date`",
        TAG,
        (PROJECT, day("date", "the day of `members` and `came` (the site's today when not given)")),
    ),
    Route(
        "POST",
        "/api/v1/projects/{project_id}/teams",
        api.create_team,
        may.TEAMS,
        "Make a team under a subcontractor (or the general contractor) of the project",
        TAG,
        (PROJECT,),
        body=TeamIn,
        ok=201,
    ),
    Route("GET", TEAM_PATH, api.get_team, may.READERS, "A team", TAG, (TEAM,)),
    Route("PATCH", TEAM_PATH, api.rename_team, may.TEAMS, "Rename a team", TAG, (TEAM,), body=TeamRename),
    Route(
        "DELETE",
        TEAM_PATH,
        api.delete_team,
        may.TEAMS,
        "Remove an empty team",
        TAG,
        (TEAM,),
        ok=204,
        media_type="none",
    ),
    Route(
        "PUT",
        TEAM_PATH + "/leader",
        api.set_team_leader,
        may.TEAMS,
        "Set (or clear) the team's leader (班组长): a person assigned through its enterprise",
        TAG,
        (TEAM,),
        body=TeamLeaderIn,
    ),
    Route(
        "PUT",
        "/api/v1/assignments/{assignment_id}/team",
        api.put_in_team,
        may.TEAMS,
        "Put an assignment in a team of its enterprise (or in none)",
        TAG,
        (ASSIGNMENT,),
        body=AssignmentTeamIn,
    ),
)
