"""A registry for enrolment tests: two projects of one contractor, and gates on them."""

from __future__ import annotations

from hub.store import Store
from tests.support.registry_rows import contractor_with_projects, place_gates
from wire.models import utc_now

SITE_KEYS = {"P-0042": bytes(range(32)), "P-0099": bytes(range(1, 33))}


async def seed_registry(store: Store) -> None:
    """Two projects of one contractor, each with gates (one of them for both directions)."""
    async with store.write("seed") as conn:
        await contractor_with_projects(
            conn,
            SITE_KEYS,
            district="330106",
            district_name="西湖区",
            gc_number="91330106MA2XXXXX0A",
            now=utc_now(),
        )
        await place_gates(
            conn,
            [
                ("lane-hz0042-a1", "P-0042", "A1", "in", "A1"),
                ("lane-hz0042-a9", "P-0042", "A9", "both", "A9"),
                ("lane-hz0099-a1", "P-0099", "A1", "in", "A1"),
            ],
        )
