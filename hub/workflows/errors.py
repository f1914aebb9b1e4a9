"""The workflows' refusals: the registry's four kinds (404, 403, 409, 422), each with its own code,
so the API answers them exactly like the registry's (hub.api.registry's error mapping).

Messages name ids, fields and dates, never a person's name or ID number.
"""

from __future__ import annotations

from datetime import date

from hub.registry.errors import Conflict, Forbidden, Invalid, Missing

__all__ = [
    "Conflict",
    "DeadlineInPast",
    "Forbidden",
    "Invalid",
    "Missing",
    "NotAProjectLeader",
    "OrderNotOpen",
    "OrderNotResponded",
    "OrderTargetMismatch",
    "OutsideDistrict",
]


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
