"""What a workflow write takes: one frozen pydantic model each (unknown fields refused, input
values never echoed in errors), checked before any I/O. Checks that need the database (that the
target exists, is in the district, that the deadline is not past) are the workflows' own."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from hub.registry.models import In, RowId
from wire.models import ProjectId

Subject = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
LongText = Annotated[str, Field(min_length=1, max_length=4000)]
Points = Annotated[int, Field(ge=1, le=100)]
OrderId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class OrderStatus(StrEnum):
    OPEN = "open"
    """Issued (or sent back), waiting for the recipient's response."""
    RESPONDED = "responded"
    """The recipient says it is rectified; the issuer has not judged yet."""
    CLOSED = "closed"
    """The issuer accepted the response."""


class OrderAction(StrEnum):
    ISSUE = "issue"
    RESPOND = "respond"
    ACCEPT = "accept"
    REJECT = "reject"


class OrderIn(In):
    """责令限期整改: to a project *or* an enterprise, with the last day to put it right."""

    project_id: ProjectId | None = None
    enterprise_id: RowId | None = None
    subject: Subject
    requirements: LongText
    deadline: date
    inspection_id: OrderId | None = None
    """The inspection the order comes from (a project's: the order's own project)."""

    @model_validator(mode="after")
    def _one_target(self) -> OrderIn:
        if (self.project_id is None) == (self.enterprise_id is None):
            raise ValueError("give exactly one of project_id and enterprise_id (the order's recipient)")
        if self.inspection_id is not None and self.project_id is None:
            raise ValueError("inspection_id: an order from an inspection is to the inspected project")
        return self


class ResponseIn(In):
    """The recipient's account of what it put right."""

    response: LongText


class ReviewIn(In):
    """The issuer's verdict on a response: accept (the order closes) or send it back (it reopens,
    optionally with a new deadline)."""

    accept: bool
    note: LongText | None = None
    new_deadline: date | None = None

    @model_validator(mode="after")
    def _reasons(self) -> ReviewIn:
        if not self.accept and self.note is None:
            raise ValueError("note: sending a response back needs a note saying what is still wrong")
        if self.accept and self.new_deadline is not None:
            raise ValueError("new_deadline: only an order sent back takes a new deadline")
        return self


class DeductionIn(In):
    """信用扣分 against an enterprise, or against a project leader (a manager) on a project."""

    enterprise_id: RowId | None = None
    person_id: RowId | None = None
    project_id: ProjectId | None = None
    """Required with ``person_id`` (the project the person leads); optional for an enterprise."""
    points: Points
    reason: LongText
    order_id: OrderId | None = None
    """The rectification order the deduction comes from, if any."""

    @model_validator(mode="after")
    def _one_target(self) -> DeductionIn:
        if (self.enterprise_id is None) == (self.person_id is None):
            raise ValueError("give exactly one of enterprise_id and person_id (whose credit is deducted)")
        if self.person_id is not None and self.project_id is None:
            raise ValueError("project_id: a deduction against a project leader names the project")
        return self
