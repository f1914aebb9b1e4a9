"""What a team write takes (班组, issue 14): one frozen model per write, checked before any I/O,
like the rest of :mod:`hub.registry.models`."""

from __future__ import annotations

from hub.registry.models import In, Name64, RowId


class TeamIn(In):
    """A team under one party enterprise of the project (a subcontractor, or the general contractor)."""

    enterprise_id: RowId
    name: Name64


class TeamRename(In):
    name: Name64


class TeamLeaderIn(In):
    """班组长: a person assigned to the project through the team's enterprise; None: no leader."""

    person_id: RowId | None


class AssignmentTeamIn(In):
    """Put an assignment in a team of its enterprise on its project; None: in no team."""

    team_id: RowId | None
