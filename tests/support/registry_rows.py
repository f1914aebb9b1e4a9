"""Registry rows written straight into the tables, for tests of what reads them (rosters,
enrolment) without going through the registry's own flows: one general contractor in one
district, its projects, and the gates on them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.schema import districts, enterprises, gates, projects

GC = "ent-gc"


async def contractor_with_projects(
    conn: AsyncConnection,
    project_ids: Iterable[str],
    *,
    district: str,
    district_name: str,
    gc_number: str,
    now: datetime,
    registered_at: datetime | None = None,
    address: str = "site",
) -> None:
    """The district, the contractor ``GC`` and its projects (site keys sealed as placeholders)."""
    await conn.execute(districts.insert().values(code=district, name=district_name))
    await conn.execute(
        enterprises.insert().values(
            id=GC,
            number=gc_number,
            name="GC",
            kind="general_contractor",
            district=district,
            local=True,
            created_at=now,
        )
    )
    for project_id in project_ids:
        await conn.execute(
            projects.insert().values(
                id=project_id,
                permit_number=f"permit-{project_id}",
                name=project_id,
                district=district,
                address=address,
                gc_enterprise_id=GC,
                registered_at=registered_at,
                site_key_cipher=b"sealed",
                created_at=now,
            )
        )


async def place_gates(conn: AsyncConnection, rows: Iterable[tuple[str, str, str, str, str]]) -> None:
    """(device_id, project_id, lane, direction, name) each."""
    await conn.execute(
        gates.insert(),
        [
            {"device_id": d, "project_id": p, "lane": lane, "direction": direction, "name": name}
            for d, p, lane, direction, name in rows
        ],
    )
