"""The few reads only the console needs, scoped like every other (hub.auth.scope in the SQL)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.principal import Principal
from hub.auth.scope import person_record_clause
from hub.derive.days import SITE_TIMEZONE
from hub.store.schema import access_events


async def entries_per_hour(
    conn: AsyncConnection, principal: Principal, project_id: str, day: date
) -> list[int]:
    """Granted ``in`` passages per site-local hour of ``day`` (24 values) that the account may see."""
    a = access_events.c
    start = datetime.combine(day, time(0), tzinfo=SITE_TIMEZONE)
    rows = await conn.execute(
        select(a.wall_time).where(
            a.project_id == project_id,
            a.direction == "in",
            a.decision == "granted",
            a.wall_time >= start,
            a.wall_time < start + timedelta(days=1),
            person_record_clause(principal, a.project_id, a.person_id),
        )
    )
    hours = Counter(row.wall_time.astimezone(SITE_TIMEZONE).hour for row in rows)
    return [hours.get(hour, 0) for hour in range(24)]
