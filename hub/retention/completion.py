"""A project's completion date (竣工): the day its records' retention period starts (hub.retention).

Set (or corrected, or cleared with None while a completion is withdrawn) by the city station or the
project's district bureau (:class:`CompletionDesk`, over the API and the console: the role and the
project's district checked here, with the project read in the write's transaction), or by the hub's
operator at the command line (:func:`set_completion`); audited in the same transaction either way.
Read, with the day the records' period ends, by the writers and the project's GC and supervision
departments (:data:`hub.auth.permissions.READ_COMPLETION`, each within its scope).

A completion date is a day that has come: never after the site's today by the hub's clock (a
future one would start counting a period that has not begun).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import audit
from hub.auth.permissions import READ_COMPLETION, WRITE_COMPLETION
from hub.auth.principal import Principal
from hub.auth.scope import project_clause
from hub.errors import NotFound
from hub.refusals import Invalid, Missing
from hub.registry.permissions import check_district, check_role
from hub.retention.policy import period_end
from hub.store import Store
from hub.store.schema import projects
from wire.clock import SITE_ZONE

AUDIT_ACTION = "project.completion"
INVALID_COMPLETION: Final = "invalid_completion"
"""The API's code for a body that is not ``{"completed_on": "YYYY-MM-DD" | null}``."""
_AS_DATE: Final = "须为日期 YYYY-MM-DD 或 null (must be a date YYYY-MM-DD, or null to clear it)"
_CHINESE: Final = {
    "missing": "必填：日期 YYYY-MM-DD，或 null 撤销 (Field required: a date YYYY-MM-DD, or null to clear it)",
    "extra_forbidden": "不接受此字段 (not a field of this body: only completed_on)",
    "model_type": '须为 JSON 对象 {"completed_on": …} (must be a JSON object {"completed_on": …})',
}


class CompletionIn(BaseModel):
    """A PUT's body: the date, or null to withdraw it. Only ``YYYY-MM-DD`` (no timestamps)."""

    # defer_build: a request's body, built on its first use, not at every hub's start
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    completed_on: date | None

    @field_validator("completed_on", mode="before")
    @classmethod
    def _iso_day(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str) or len(value) != 10:  # fromisoformat also takes 20260501
            raise ValueError(_AS_DATE)
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(_AS_DATE) from None


def problems_of(err: ValidationError) -> str:
    """The body's problems as ``field: 中文 (English)``, Chinese first; never the input."""
    problems = []
    for problem in err.errors(include_input=False, include_url=False, include_context=False):
        where = ".".join(str(part) for part in problem["loc"]) or "body"
        message = _CHINESE.get(problem["type"]) or problem["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}")
    return "; ".join(problems)


class CompletionInFuture(Invalid):
    """A completion date after the site's today (the API answers 400, the console beside the field)."""

    code = "completion_in_future"
    field = "completed_on"

    def __init__(self, today: date) -> None:
        day = today.isoformat()
        super().__init__(
            f"completed_on: 竣工日期不能晚于今天 {day} (the completion date cannot be after today, {day})"
        )


@dataclass(frozen=True, slots=True)
class Completion:
    """A project's completion as shown: the date and the day its records' period ends."""

    project_id: str
    completed_on: date | None
    kept_until: date | None
    """The day the records' period ends (:func:`hub.retention.policy.period_end`): they are kept
    until it, and purged from it. None while the project is under way: nothing expires."""
    retention_years: int

    def as_json(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "completed_on": self.completed_on.isoformat() if self.completed_on else None,
            "kept_until": self.kept_until.isoformat() if self.kept_until else None,
            "retention_years": self.retention_years,
        }


def completion_of(project_id: str, completed_on: date | None, years: int) -> Completion:
    kept_until = period_end(completed_on, years) if completed_on is not None else None
    return Completion(project_id, completed_on, kept_until, years)


async def _write(
    conn: AsyncConnection,
    principal: Principal | None,
    project_id: str,
    completed_on: date | None,
    at: datetime,
) -> None:
    await conn.execute(update(projects).where(projects.c.id == project_id).values(completed_on=completed_on))
    detail = {"completed_on": completed_on.isoformat() if completed_on else None}
    await audit.record(
        conn, principal, AUDIT_ACTION, at=at, target=project_id, detail=detail, username="operator"
    )


async def set_completion(
    store: Store, principal: Principal | None, project_id: str, completed_on: date | None, *, at: datetime
) -> None:
    """No role check: ``principal`` None is the hub's own tools (an operator at the command line).
    A day after the site's today at ``at`` is refused as at the API."""
    today = at.astimezone(SITE_ZONE).date()
    if completed_on is not None and completed_on > today:
        raise CompletionInFuture(today)
    async with store.write("set_completion") as conn:
        if await conn.scalar(select(projects.c.id).where(projects.c.id == project_id)) is None:
            raise NotFound(f"project {project_id}")
        await _write(conn, principal, project_id, completed_on, at)


class CompletionDesk:
    """One account's reads and writes of projects' completion dates."""

    def __init__(self, store: Store, principal: Principal, *, years: int) -> None:
        self._store = store
        self._principal = principal
        self._years = years

    async def get(self, project_id: str) -> Completion:
        check_role(self._principal, READ_COMPLETION)
        p = projects.c
        query = select(p.completed_on).where(p.id == project_id, project_clause(self._principal, p.id))
        async with self._store.read("completion.read") as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise Missing("project", project_id)
        return completion_of(project_id, row.completed_on, self._years)

    async def put(self, project_id: str, completed_on: date | None, *, now: datetime) -> Completion:
        """Set, correct or (None) clear; 404 for no such project, 403 for another district's."""
        principal = self._principal
        check_role(principal, WRITE_COMPLETION)
        async with self._store.write("completion.write") as conn:
            district = await conn.scalar(select(projects.c.district).where(projects.c.id == project_id))
            if district is None:
                raise Missing("project", project_id)
            check_district(principal, district, "set the completion date of a project")
            today = now.astimezone(SITE_ZONE).date()
            if completed_on is not None and completed_on > today:
                raise CompletionInFuture(today)
            await _write(conn, principal, project_id, completed_on, now)
        return completion_of(project_id, completed_on, self._years)
