"""A project's completion date (竣工): the day its records' retention period starts (hub.retention).

Set (or corrected, or cleared with None while a completion is withdrawn) by the city station or the
project's district bureau, audited in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update

from hub.auth import audit
from hub.auth.principal import Principal
from hub.errors import NotFound
from hub.store import Store
from hub.store.schema import projects

AUDIT_ACTION = "project.completion"


async def set_completion(
    store: Store, principal: Principal | None, project_id: str, completed_on: date | None, *, at: datetime
) -> None:
    """``principal`` None: the hub's own tools (an operator at the command line)."""
    async with store.write("set_completion") as conn:
        result = await conn.execute(
            update(projects).where(projects.c.id == project_id).values(completed_on=completed_on)
        )
        if not result.rowcount:
            raise NotFound(f"project {project_id}")
        detail = {"completed_on": completed_on.isoformat() if completed_on else None}
        await audit.record(
            conn, principal, AUDIT_ACTION, at=at, target=project_id, detail=detail, username="operator"
        )
