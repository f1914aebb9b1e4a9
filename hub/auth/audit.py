"""The audit log: every write through the API, with the account that made it, in the write's own
transaction (a write that rolls back leaves no audit line; one that commits always has one).

Read back newest first, a keyset page at a time (like the event listings), by :class:`AuditLog`
built for an account: the city station reads every line, any other account its own
(:func:`hub.auth.scope.audit_clause`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.principal import Principal
from hub.auth.scope import audit_clause
from hub.store import Store
from hub.store.cursor import decode_cursor, encode_cursor
from hub.store.schema import audit_log

# Fields whose values are personal and never go into the audit line's detail.
_REDACTED = frozenset({"id_number", "password", "new_password", "token"})


def redacted(detail: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ("<redacted>" if k in _REDACTED else v) for k, v in detail.items()}


async def record(
    conn: AsyncConnection,
    principal: Principal | None,
    action: str,
    *,
    at: datetime,
    target: str | None = None,
    detail: Mapping[str, Any] | None = None,
    username: str | None = None,
) -> None:
    """``principal`` None with ``username``: an attempt by someone not (yet) logged in."""
    await conn.execute(
        audit_log.insert().values(
            at=at,
            account_id=principal.account_id if principal else None,
            username=principal.username if principal else (username or "<anonymous>")[:64],
            action=action,
            target=target[:128] if target else None,
            detail=redacted(detail) if detail else None,
        )
    )


@dataclass(frozen=True, slots=True)
class AuditLine:
    row_id: int
    at: datetime
    username: str
    action: str
    target: str | None
    detail: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: list[AuditLine]
    next_cursor: str | None


class AuditLog:
    """The audit log as ``principal`` may read it (the clause is chosen here, from its role)."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self._store = store
        self._principal = principal

    async def lines(
        self,
        *,
        username: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> AuditPage:
        """Newest first by (at, id); ``next_cursor`` is None on the last page."""
        t = audit_log.c
        clauses = [audit_clause(self._principal)]
        if username is not None:
            clauses.append(t.username == username)
        if action is not None:
            clauses.append(t.action == action)
        if since is not None:
            clauses.append(t.at >= since)
        if until is not None:
            clauses.append(t.at < until)
        if cursor is not None:
            after_at, after_id = decode_cursor(cursor)
            clauses.append(or_(t.at < after_at, and_(t.at == after_at, t.id < after_id)))
        query = (
            select(t.id, t.at, t.username, t.action, t.target, t.detail)
            .where(*clauses)
            .order_by(t.at.desc(), t.id.desc())
            .limit(limit + 1)
        )
        async with self._store.read("audit") as conn:
            rows = (await conn.execute(query)).all()
        items = [
            AuditLine(row_id=row.id, **{k: v for k, v in row._mapping.items() if k != "id"}) for row in rows
        ]
        page, more = items[:limit], len(items) > limit
        next_cursor = encode_cursor(page[-1].at, page[-1].row_id) if more and page else None
        return AuditPage(items=page, next_cursor=next_cursor)
