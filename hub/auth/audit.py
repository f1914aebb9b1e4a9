"""The audit log: every write through the API, with the account that made it, in the write's own
transaction (a write that rolls back leaves no audit line; one that commits always has one)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.principal import Principal
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
