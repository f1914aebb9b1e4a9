"""Retention on both stores with a moving clock (issue 17): records kept the period after their
project's completion, then purged (on PostgreSQL a past month whose rows are all expired dropped
whole), across a site-month boundary and a period begun on 29 February; persons with no assignment
left inside a period erased to a pseudonymous row; a purged record resent is not stored again."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from hub.events.journal import store_events
from hub.retention.completion import set_completion
from hub.retention.housekeeping import Housekeeping
from hub.retention.purge import AUDIT_ACTION, ERASED_INDEX_PREFIX
from hub.retention.settings import RetentionSettings
from hub.store import Store, partitions
from hub.store.schema import (
    access_events,
    assignments,
    audit_log,
    lane_events,
    persons,
    platform_uploads,
    platform_workers,
    teams,
)
from tests.hub.factories import make_event, make_lane_event
from tests.support.clock import FakeClock, site_time
from tests.support.registry_rows import contractor_with_projects

DONE, OPEN, LATE = "proj-done", "proj-open", "proj-late"
CREATED = datetime(2023, 1, 1, tzinfo=UTC)


async def _world(store: Store) -> None:
    """Three projects, four people (a: DONE only; b: DONE and OPEN; c: LATE only; d: unassigned)
    and their events: LATE's in December 2023, DONE's in January 2024 and at the first instant of
    February (Beijing), OPEN's in February."""
    async with store.write("test world") as conn:
        await contractor_with_projects(
            conn,
            [DONE, OPEN, LATE],
            district="330106",
            district_name="西湖区",
            gc_number="91330100GC",
            now=CREATED,
        )
        for person in "abcd":
            await conn.execute(
                persons.insert().values(
                    id=f"per-{person}",
                    id_index=f"index-{person}",
                    id_cipher=b"sealed-" + person.encode(),
                    id_masked="110101********0011",
                    name=f"Person {person}",
                    card_kind="resident",
                    category="worker",
                    created_at=CREATED,
                )
            )
        for person, project in (("a", DONE), ("b", DONE), ("b", OPEN), ("c", LATE)):
            await conn.execute(
                assignments.insert().values(
                    project_id=project,
                    person_id=f"per-{person}",
                    enterprise_id="ent-gc",
                    role="worker",
                    entry_date=date(2023, 1, 1),
                    credential_hash=f"hash-{person}",
                    created_at=CREATED,
                )
            )
        for project in (DONE, OPEN):  # what the platform client keeps of each worker and passage it sent
            await conn.execute(
                teams.insert().values(
                    id=f"team-{project}", project_id=project, enterprise_id="ent-gc", name="钢筋班组",
                    created_at=CREATED,
                )
            )  # fmt: skip
            await conn.execute(
                platform_workers.insert().values(
                    project_id=project, person_id="per-b", team_id=f"team-{project}", state="accepted",
                    updated_at=CREATED,
                )
            )  # fmt: skip
            await conn.execute(
                platform_uploads.insert().values(
                    device_id=f"lane-{project.removeprefix('proj-')}", seq=1, project_id=project,
                    person_id="per-b", team_id=f"team-{project}", event_time=site_time(2024, 2, 2, 8),
                    state="accepted", updated_at=CREATED,
                )
            )  # fmt: skip
        await partitions.ensure(conn, partitions.months_from(date(2023, 12, 1), date(2024, 3, 1)))
    await store_events(
        store,
        [
            make_event(1, device_id="lane-late", project_id=LATE, wall_time=site_time(2023, 12, 10, 8)),
            make_event(2, device_id="lane-late", project_id=LATE, wall_time=site_time(2023, 12, 10, 18)),
            make_lane_event(3, device_id="lane-late").model_copy(
                update={"project_id": LATE, "wall_time": site_time(2023, 12, 10, 18, 1)}
            ),
            make_event(1, device_id="lane-done", project_id=DONE, wall_time=site_time(2024, 1, 15, 8)),
            make_event(
                2, device_id="lane-done", project_id=DONE, wall_time=site_time(2024, 1, 31, 23, 59, 59)
            ),
            make_event(3, device_id="lane-done", project_id=DONE, wall_time=site_time(2024, 2, 1)),
            make_event(1, device_id="lane-open", project_id=OPEN, wall_time=site_time(2024, 2, 2, 8)),
        ],
    )


async def _count(store: Store, table: object, project_id: str) -> int:
    async with store.read("test") as conn:
        return int(await conn.scalar(select(func.count()).where(table.c.project_id == project_id)) or 0)  # type: ignore[attr-defined]


async def _persons(store: Store) -> dict[str, tuple[str, bytes, str, bool]]:
    p = persons.c
    async with store.read("test") as conn:
        rows = await conn.execute(select(p.id, p.id_index, p.id_cipher, p.name, p.erased_at))
        return {r.id: (r.id_index, bytes(r.id_cipher), r.name, r.erased_at is not None) for r in rows}


async def test_records_are_purged_past_their_period_and_persons_erased(store: Store) -> None:
    await _world(store)
    clock = FakeClock(site_time(2026, 12, 1))
    keeper = Housekeeping(store, RetentionSettings(years=3), clock=clock)
    await set_completion(store, None, DONE, date(2024, 2, 29), at=clock.wall())
    await set_completion(store, None, LATE, date(2024, 1, 31), at=clock.wall())
    postgres = store.dialect_name == "postgresql"

    first = await keeper.run_once()  # before any period has ended: nothing
    assert first is not None and not first.purged.anything

    clock.advance_to(site_time(2027, 1, 31))  # LATE's period ended today (completed 2024-01-31)
    late = await keeper.run_once()
    assert late is not None
    assert (late.purged.access_events, late.purged.lane_events, late.purged.persons_erased) == (2, 1, 1)
    assert late.purged.partitions_dropped == (
        ("access_events_p202312", "lane_events_p202312") if postgres else ()
    )
    assert await _count(store, access_events, DONE) == 3

    # 23:59:59 Beijing on 28 February 2027: DONE's period, begun on 29 February, runs until 1 March.
    clock.advance_to(site_time(2027, 2, 28, 23, 59, 59))
    still = await keeper.run_once()
    assert still is not None and not still.purged.anything
    clock.advance(1)  # 00:00 on 1 March in Beijing; still 28 February in UTC
    assert clock.wall().date() == date(2027, 2, 28)
    done = await keeper.run_once()
    assert done is not None
    assert (done.purged.access_events, done.purged.persons_erased) == (3, 1)
    assert (done.purged.platform_uploads, done.purged.platform_workers) == (1, 1)
    for table in (platform_uploads, platform_workers):  # OPEN's are kept
        assert (await _count(store, table, DONE), await _count(store, table, OPEN)) == (0, 1)
    # January 2024 held DONE's rows only: dropped whole. February also holds OPEN's: rows deleted.
    assert done.purged.partitions_dropped == (("access_events_p202401",) if postgres else ())
    assert (await _count(store, access_events, DONE), await _count(store, access_events, OPEN)) == (0, 1)
    assert await _count(store, lane_events, LATE) == 0

    people = await _persons(store)
    assert people["per-a"] == (ERASED_INDEX_PREFIX + "per-a", b"", "", True)
    assert people["per-c"] == (ERASED_INDEX_PREFIX + "per-c", b"", "", True)
    assert people["per-b"] == ("index-b", b"sealed-b", "Person b", False)  # OPEN keeps b inside a period
    assert people["per-d"] == ("index-d", b"sealed-d", "Person d", False)  # never assigned: not retention's

    again = await keeper.run_once()  # idempotent: nothing left, no audit line
    assert again is not None and not again.purged.anything
    async with store.read("test") as conn:
        lines = (
            await conn.execute(select(audit_log.c.detail).where(audit_log.c.action == AUDIT_ACTION))
        ).all()
    assert [(d["access_events"], d["projects"]) for (d,) in lines] == [(2, [LATE]), (3, [DONE, LATE])]
    assert keeper.report()["access_events_purged"] == 5
    assert keeper.report()["persons_erased"] == 2

    # A lane resending a purged record (its seq under the watermark): not stored again.
    resent = await store_events(
        store, [make_event(1, device_id="lane-done", project_id=DONE, wall_time=site_time(2024, 1, 15, 8))]
    )
    assert (resent.new, resent.duplicates) == (0, 1)
    assert await _count(store, access_events, DONE) == 0
