"""The roles a person can have on a project's roster: one definition for the hub's registry, the
roster on the wire (:mod:`wire.roster`) and the lane's decisions (:mod:`controller.core.roster`).

A module of its own, standard library only, so the lane's pure core names the roles without
importing the roster codec (its pydantic models and the signing it pulls in: ~9 MB at boot).
"""

from __future__ import annotations

from enum import StrEnum


class RosterRole(StrEnum):
    """What a person is on a project: the lane's working hours and rules go by it."""

    WORKER = "worker"
    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    VISITOR = "visitor"
