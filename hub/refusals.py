"""The domains' refusals (the registry's and the workflows'), one hierarchy: :class:`Refusal` and
its four kinds, :class:`Missing` (404), :class:`Forbidden` (403), :class:`Conflict` (409) and
:class:`Invalid` (422), which the API maps to statuses in one place (``hub.api.registry``), and one
class per specific refusal, so the API can answer with a specific code.

Each carries a stable ``code`` (the API's error code) and a message that says what was wrong and
where. No message ever quotes an ID number: the ones about a person name the person's id, the
position of a bad character or the field, never the number itself.
"""

from __future__ import annotations

from datetime import date

from hub.errors import HubError

INVALID_ID_NUMBER = "invalid_id_number"
"""The pydantic error type (and API code) of an ID number that fails wire.idnumber's checks."""
BIRTH_DATE_MISMATCH = "birth_date_mismatch"
EXIT_BEFORE_ENTRY = "exit_before_entry"
INVALID_ENTERPRISE_NUMBER = "invalid_enterprise_number"
GATE_DIRECTION_BOTH = "gate_direction_both"
"""A gate placed with direction ``both``: a lane controller drives one direction (issue 14)."""
GATE_DIRECTION_KIND = "gate_direction_kind"
"""A lane placed without its direction, or an office reader with one (issue 14)."""
MODEL_ERROR_CODES = frozenset(
    {
        INVALID_ID_NUMBER,
        BIRTH_DATE_MISMATCH,
        EXIT_BEFORE_ENTRY,
        INVALID_ENTERPRISE_NUMBER,
        GATE_DIRECTION_BOTH,
        GATE_DIRECTION_KIND,
    }
)
"""Validation failures specific enough to be their own API code rather than ``invalid_body``."""


class Refusal(HubError):
    """Base: a domain declined a request; ``code`` is what the API answers with."""

    code = "registry_error"  # the API code of a refusal with no code of its own (none today)

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class Conflict(Refusal):
    """The request collides with what is stored (HTTP 409)."""


class Invalid(Refusal):
    """The request is well-formed but refers to something wrong (HTTP 422)."""


class Missing(Refusal):
    """The resource the request is about does not exist, or the account cannot see it (HTTP 404)."""

    code = "not_found"

    def __init__(self, what: str, ident: str | int) -> None:
        self.what = what
        super().__init__(f"{what} {ident!s} not found")


class Forbidden(Refusal):
    """The account may not make this change (HTTP 403)."""

    code = "forbidden"


class DistrictExists(Conflict):
    code = "district_exists"

    def __init__(self, district: str) -> None:
        super().__init__(f"district {district} already exists")


class EnterpriseNumberTaken(Conflict):
    code = "enterprise_number_taken"

    def __init__(self, number: str, existing_id: str | None = None) -> None:
        self.existing_id = existing_id
        which = f" (enterprise {existing_id})" if existing_id else ""
        super().__init__(f"enterprise number {number} is already registered{which}")


class PersonAlreadyRegistered(Conflict):
    """Found through the blind index; the message names the person, never the number."""

    code = "person_already_registered"

    def __init__(self, existing_id: str | None = None) -> None:
        self.existing_id = existing_id
        which = f" (person {existing_id})" if existing_id else ""
        super().__init__(f"this ID number is already registered{which}; register once, city-wide")


class ProjectIdTaken(Conflict):
    code = "project_id_taken"

    def __init__(self, project_id: str) -> None:
        super().__init__(f"project id {project_id} is already in use")


class PermitNumberTaken(Conflict):
    code = "permit_number_taken"

    def __init__(self, permit_number: str, existing_id: str | None = None) -> None:
        which = f" ({existing_id})" if existing_id else ""
        super().__init__(f"construction permit {permit_number} already has a project{which}")


class ProjectNotRegistered(Conflict):
    code = "project_not_registered"

    def __init__(self, project_id: str) -> None:
        super().__init__(f"project {project_id} has not been registered (报备) by its general contractor yet")


class ProjectAlreadyRegistered(Conflict):
    code = "project_already_registered"

    def __init__(self, project_id: str) -> None:
        super().__init__(f"project {project_id} is already registered (报备)")


class PartyExists(Conflict):
    code = "party_exists"

    def __init__(self, project_id: str, enterprise_id: str) -> None:
        super().__init__(f"enterprise {enterprise_id} is already a party to project {project_id}")


class UsernameTaken(Conflict):
    code = "username_taken"

    def __init__(self, username: str) -> None:
        super().__init__(f"account.username: an account named {username!r} already exists")


class AssignmentOverlaps(Conflict):
    code = "assignment_overlaps"

    def __init__(self, existing_id: int, entry: date, exit: date | None) -> None:
        self.existing_id = existing_id
        until = exit.isoformat() if exit else "open-ended"
        super().__init__(
            f"the person already has assignment {existing_id} on this project "
            f"from {entry.isoformat()} to {until}, overlapping these dates"
        )


class DeviceAlreadyPlaced(Conflict):
    code = "device_already_placed"

    def __init__(self, device_id: str, project_id: str | None = None) -> None:
        where = f"project {project_id}" if project_id else "another project"
        super().__init__(f"device {device_id} is already a gate of {where}; remove it there first")


class UnknownReference(Invalid):
    """The body names an enterprise, person, project or district that does not exist (or the
    account cannot see); ``code`` says which, e.g. ``unknown_enterprise``."""

    def __init__(self, field: str, what: str, ident: str) -> None:
        self.code = f"unknown_{what}"
        self.field = field
        super().__init__(f"{field}: no {what} {ident}")


class WrongEnterpriseKind(Invalid):
    code = "wrong_enterprise_kind"

    def __init__(self, field: str, enterprise_id: str, kind: str, expected: str) -> None:
        super().__init__(f"{field}: enterprise {enterprise_id} is a {kind}, expected {expected}")


class NotAParty(Invalid):
    code = "enterprise_not_party"

    def __init__(self, enterprise_id: str, project_id: str) -> None:
        super().__init__(f"enterprise_id: enterprise {enterprise_id} is not a party to project {project_id}")


class ExitBeforeEntry(Invalid):
    code = EXIT_BEFORE_ENTRY

    def __init__(self, entry: date, exit: date) -> None:
        super().__init__(f"exit_date {exit.isoformat()} is before the entry date {entry.isoformat()}")


class InvalidAccount(Invalid):
    """A username or password ``insert_account`` refused (pydantic catches most first)."""

    code = "invalid_account"


# The workflows' refusals (hub.workflows): rectification orders, credit deductions, heartbeats.


class OutsideDistrict(Forbidden):
    code = "outside_district"

    def __init__(self, district: str | None, what: str, where: str) -> None:
        super().__init__(f"district {district} may not {what} {where}: it is outside its district")


class DeadlineInPast(Invalid):
    code = "deadline_in_past"

    def __init__(self, deadline: date, today: date) -> None:
        super().__init__(f"deadline: {deadline.isoformat()} is before today ({today.isoformat()})")


class OrderNotOpen(Conflict):
    code = "order_not_open"

    def __init__(self, order_id: int, status: str) -> None:
        super().__init__(f"order {order_id} is {status}: only an open order takes a response")


class OrderNotResponded(Conflict):
    code = "order_not_responded"

    def __init__(self, order_id: int, status: str) -> None:
        super().__init__(f"order {order_id} is {status}: only a responded order can be accepted or sent back")


class NotAProjectLeader(Invalid):
    code = "not_a_project_leader"

    def __init__(self, person_id: str, project_id: str) -> None:
        super().__init__(
            f"person_id: person {person_id} is not a manager assigned to project {project_id}; "
            "credit deductions against a person are for project leaders"
        )


class OrderTargetMismatch(Invalid):
    code = "order_target_mismatch"

    def __init__(self, order_id: int, why: str) -> None:
        super().__init__(f"order_id: order {order_id} {why}")


# 班组 (teams, issue 14): the registry's team refusals name the field, Chinese first.


class TeamNameTaken(Conflict):
    code = "team_name_taken"
    field = "name"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"name: 该企业在本项目已有名为“{name}”的班组 / the enterprise already has a team named {name!r} "
            "on this project"
        )


class TeamHasMembers(Conflict):
    code = "team_has_members"
    field = "team_id"

    def __init__(self, team_id: str, members: int) -> None:
        super().__init__(
            f"team_id: 班组 {team_id} 仍有 {members} 名成员，请先调出 / team {team_id} still has {members} "
            "member(s): move them out first"
        )


class TeamOfAnotherEnterprise(Invalid):
    code = "team_of_another_enterprise"
    field = "team_id"

    def __init__(self, team_id: str, enterprise_id: str) -> None:
        super().__init__(
            f"team_id: 班组 {team_id} 不属于该人员进场的企业 {enterprise_id} / "
            f"team {team_id} is not a team of enterprise {enterprise_id}, which the person works for here"
        )


class LeaderNotAssigned(Invalid):
    code = "leader_not_assigned"
    field = "person_id"

    def __init__(self, person_id: str, enterprise_id: str) -> None:
        super().__init__(
            f"person_id: 班组长须是该企业在本项目登记在场的人员，{person_id} 不是 / the leader must be "
            f"assigned to the project through enterprise {enterprise_id}; person {person_id} is not"
        )


class CardReadMismatch(Invalid):
    """A registration that says it used a card read, for another person than the card's."""

    code = "card_read_mismatch"
    field = "read"

    def __init__(self) -> None:
        super().__init__("read: 所读证件与登记人员不符 / the card read is not this person's card")
