"""A registry for enrolment tests: two projects of one contractor, and gates on them."""

from __future__ import annotations

from hub.store import Store
from hub.store.schema import districts, enterprises, gates, projects
from wire.models import utc_now

SITE_KEYS = {"P-0042": bytes(range(32)), "P-0099": bytes(range(1, 33))}


async def seed_registry(store: Store) -> None:
    """Two projects of one contractor, each with gates (one of them for both directions)."""
    now = utc_now()
    async with store.write("seed") as conn:
        await conn.execute(districts.insert().values(code="330106", name="西湖区"))
        await conn.execute(
            enterprises.insert().values(
                id="ent-gc",
                number="91330106MA2XXXXX0A",
                name="GC",
                kind="general_contractor",
                district="330106",
                local=True,
                created_at=now,
            )
        )
        for project_id in SITE_KEYS:
            await conn.execute(
                projects.insert().values(
                    id=project_id,
                    permit_number=f"permit-{project_id}",
                    name=project_id,
                    district="330106",
                    address="site",
                    gc_enterprise_id="ent-gc",
                    site_key_cipher=b"sealed",
                    created_at=now,
                )
            )
        for device_id, project_id, lane, direction in [
            ("lane-hz0042-a1", "P-0042", "A1", "in"),
            ("lane-hz0042-a9", "P-0042", "A9", "both"),
            ("lane-hz0099-a1", "P-0099", "A1", "in"),
        ]:
            await conn.execute(
                gates.insert().values(
                    device_id=device_id, project_id=project_id, lane=lane, direction=direction, name=lane
                )
            )
