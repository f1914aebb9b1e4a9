"""Oversight, the oversight reads, in exact numbers on a small world, each under several accounts' scopes."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from hub.auth.principal import Principal
from hub.errors import InvalidQuery, NotFound
from hub.events.records import EventFilters
from hub.oversight import export
from hub.oversight.oversight import Oversight
from hub.oversight.records import AttendanceFilters, Headcount
from hub.store import Store
from tests.hub.clocked import NOON
from tests.hub.oversight import world as w


@pytest.fixture
async def small_world(store: Store) -> w.World:
    """Built at a fixed instant: the reads below are asked as of ``small_world.now``."""
    return await w.build(store, NOON)


def groups(result: Headcount) -> tuple[int, dict[str, int], dict[str, int]]:
    return (
        result.on_site,
        {c.key: c.on_site for c in result.by_enterprise},
        {c.key: c.on_site for c in result.by_role},
    )


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # per-w3's in is stale, per-x's assignment ended, per-w2 left: w1, m1, m2 remain.
        (w.CITY, (3, {"ent-gc1": 1, "ent-sub1": 1, "ent-sup1": 1}, {"manager": 2, "worker": 1})),
        (w.DISTRICT_XIHU, (3, {"ent-gc1": 1, "ent-sub1": 1, "ent-sup1": 1}, {"manager": 2, "worker": 1})),
        (w.SUP_A, (3, {"ent-gc1": 1, "ent-sub1": 1, "ent-sup1": 1}, {"manager": 2, "worker": 1})),
        (w.SUB_A, (1, {"ent-sub1": 1}, {"worker": 1})),
        (w.ENTERPRISE_SUB1, (1, {"ent-sub1": 1}, {"worker": 1})),
    ],
    ids=lambda value: value.role.value if isinstance(value, Principal) else "",
)
async def test_headcount_by_enterprise_and_role(
    store: Store, small_world: w.World, who: Principal, expected: tuple[int, dict[str, int], dict[str, int]]
) -> None:
    oversight = Oversight(store, who)
    assert await oversight.project_visible("proj-a")
    result = await oversight.headcount("proj-a", small_world.now)
    assert groups(result) == expected
    names = {c.key: c.name for c in result.by_enterprise}
    assert names.get("ent-sub1") == w.ENTERPRISE_NAMES["ent-sub1"]


async def test_an_in_turns_stale_after_18_hours(store: Store, small_world: w.World) -> None:
    """Presence is what the latest passages say; ``now`` moves only the staleness line."""
    city = Oversight(store, w.CITY)
    # 3 h earlier, per-w3's in (20 h old now) was 17 h old: still counted then.
    earlier = await city.headcount("proj-a", small_world.now - timedelta(hours=3))
    later = await city.headcount("proj-a", small_world.now + timedelta(hours=17, minutes=45))
    assert groups(earlier) == (4, {"ent-gc1": 2, "ent-sub1": 1, "ent-sup1": 1}, {"manager": 2, "worker": 2})
    assert later.on_site == 0


@pytest.mark.parametrize("who", [w.GC_B, w.DISTRICT_GONGSHU, w.OPERATOR])
async def test_projects_outside_scope_are_not_visible(
    store: Store, small_world: w.World, who: Principal
) -> None:
    oversight = Oversight(store, who)
    assert not await oversight.project_visible("proj-a")
    assert not await Oversight(store, w.CITY).project_visible("proj-nope")
    with pytest.raises(NotFound):
        await oversight.headcount("proj-a", small_world.now)
    # and were the check skipped, the scope in the statement still hides every row
    async with store.read("test") as conn:
        result = await oversight._headcount(conn, "proj-a", small_world.now)
    assert result.on_site == 0


async def test_managers_on_duty(store: Store, small_world: w.World) -> None:
    managers = await Oversight(store, w.CITY).managers_on_duty("proj-a", w.DAY)
    for_sub = await Oversight(store, w.SUB_A).managers_on_duty("proj-a", w.DAY)
    before_entry = await Oversight(store, w.CITY).managers_on_duty("proj-a", date(2024, 12, 31))
    assert [
        (m.person_id, m.position, m.enterprise_name, m.present, m.first_in, m.last_out) for m in managers
    ] == [
        ("per-m2", "总监理工程师", "钱塘监理公司", False, None, None),
        ("per-m1", "项目经理", "西湖建工集团", True, w.at(w.DAY, 7, 30), w.at(w.DAY, 18, 30)),
    ]
    assert managers[1].seconds_on_site == 11 * 3600
    assert for_sub == []
    assert before_entry == []


async def test_attendance_pages_by_day_project_person(store: Store, small_world: w.World) -> None:
    filters = AttendanceFilters(since=w.DAY, until=w.NEXT_DAY, project_id="proj-a")
    seen, after = [], None
    while True:
        page = await Oversight(store, w.CITY).attendance(filters, after, 2)
        seen += page.items
        after = page.next_cursor
        if after is None:
            break
    days = [row.record for row in seen]
    assert [(r.day, r.person_id, r.seconds_on_site, r.passages) for r in days] == [
        (w.DAY, "per-m1", 11 * 3600, 2),
        (w.DAY, "per-w1", 8 * 3600, 4),
        (w.DAY, "per-w2", 0, 1),
        (w.NEXT_DAY, "per-w1", 8 * 3600, 2),
    ]
    assert seen[1].name == "王伟"
    assert days[1].first_in == w.at(w.DAY, 8)
    assert days[1].last_out == w.at(w.DAY, 17)


@pytest.mark.parametrize(
    ("who", "filters", "people"),
    [
        (w.SUB_A, {}, ["per-w1", "per-w2", "per-w1"]),
        (w.GC_A, {"enterprise_id": "ent-sub1"}, ["per-w1", "per-w2", "per-w1"]),
        (w.GC_A, {"person_id": "per-m1"}, ["per-m1"]),
        (w.GC_B, {"project_id": "proj-a"}, []),
        (w.DISTRICT_GONGSHU, {}, ["per-b1"]),
    ],
)
async def test_attendance_is_scoped_and_filtered(
    store: Store, small_world: w.World, who: Principal, filters: dict[str, str], people: list[str]
) -> None:
    query = AttendanceFilters(since=w.DAY, until=w.NEXT_DAY, **filters)
    async with store.read("test") as conn:  # unchecked: GC_B's proj-a is "not found" through attendance()
        page = await Oversight(store, who)._attendance_page(conn, query, None, 100)
    assert [row.record.person_id for row in page.items] == people


async def test_monthly_attendance(store: Store, small_world: w.World) -> None:
    report = await Oversight(store, w.CITY).monthly("proj-a", date(2025, 5, 1))
    april = await Oversight(store, w.CITY).monthly("proj-a", date(2025, 4, 1))
    for_sub = await Oversight(store, w.SUB_A).monthly("proj-a", date(2025, 5, 1))
    assert [
        (p.person_id, p.name, p.enterprise_id, p.days_present, p.seconds_on_site, p.passages)
        for p in report.persons
    ] == [
        ("per-m1", "刘静", "ent-gc1", 1, 11 * 3600, 2),
        ("per-w1", "王伟", "ent-sub1", 2, 16 * 3600, 6),
        ("per-w2", "李芳", "ent-sub1", 1, 0, 1),
    ]
    assert (report.person_days, report.seconds_on_site) == (4, 27 * 3600)
    assert [(p.person_id, p.days_present) for p in april.persons] == [("per-w1", 1)]
    assert [p.person_id for p in for_sub.persons] == ["per-w1", "per-w2"]


async def test_registration_statistics_per_district(store: Store, small_world: w.World) -> None:
    city = Oversight(store, w.CITY)
    every = await city.registration()
    one = await city.registration(w.GONGSHU)
    unknown = await city.registration("999999")
    figures = {
        f.district: (
            f.projects_with_permit,
            f.projects_registered,
            f.workers_registered,
            f.managers_registered,
            f.enterprises,
        )
        for f in every
    }
    assert figures == {
        w.GONGSHU: (1, 1, 2, 0, 2),
        w.XIHU: (2, 1, 3, 2, 2),
        w.YUHANG: (0, 0, 0, 0, 0),
    }
    assert [(f.district, f.name, f.workers_registered) for f in one] == [(w.GONGSHU, "拱墅区", 2)]
    assert unknown == []
    # A bureau's figures are its own district's, whichever it asks for (or none).
    bureau = Oversight(store, w.DISTRICT_GONGSHU)
    assert [f.district for f in await bureau.registration(w.XIHU)] == [w.GONGSHU]
    assert [f.district for f in await bureau.registration()] == [w.GONGSHU]


async def read_export(store: Store, who: Principal, page_rows: int) -> tuple[list[str], list[list[str]]]:
    filters = EventFilters(since=w.at(w.DAY, 0), until=w.at(w.NEXT_DAY + timedelta(days=1), 0))
    chunks = [chunk async for chunk in Oversight(store, who).export_pages(filters, page_rows=page_rows)]
    text = "".join(chunks)
    assert text.startswith(export.BOM)
    rows = list(csv.reader(io.StringIO(text[1:])))
    return chunks, rows


async def test_export_pages_are_the_same_rows_as_one_page(store: Store, small_world: w.World) -> None:
    chunks, rows = await read_export(store, w.CITY, page_rows=3)
    single_chunks, single_rows = await read_export(store, w.CITY, page_rows=1000)
    assert len(chunks) == 4  # 10 rows, 3 a page
    assert len(single_chunks) == 1
    assert rows == single_rows
    header, body = rows[0], rows[1:]
    assert tuple(header) == export.HEADER
    assert len(body) == 10
    first = dict(zip(header, body[-1], strict=True))  # oldest last
    assert first == {
        "time": "2025-05-05T07:30:00+08:00",
        "project_id": "proj-a",
        "device_id": "lane-a-in",
        "gate": "东门进",
        "lane": "A1",
        "direction": "in",
        "decision": "granted",
        "reason": "granted",
        "warnings": "",
        "person_id": "per-m1",
        "person_name": "刘静",
        "enterprise_name": "西湖建工集团",
        "clock_synced": "true",
    }
    assert [row[0] for row in body] == sorted((row[0] for row in body), reverse=True)


async def test_export_is_scoped(store: Store, small_world: w.World) -> None:
    _, rows = await read_export(store, w.SUB_A, page_rows=1000)
    assert {row[9] for row in rows[1:]} == {"per-w1", "per-w2"}
    assert {row[11] for row in rows[1:]} == {w.ENTERPRISE_NAMES["ent-sub1"]}
    _, nothing = await read_export(store, w.OPERATOR, page_rows=1000)
    assert nothing == [list(export.HEADER)]


async def test_export_holds_no_id_numbers_no_credentials_and_defuses_formulas(
    store: Store, small_world: w.World
) -> None:
    filters = EventFilters(since=small_world.now - timedelta(days=1), until=small_world.now)
    text = "".join([chunk async for chunk in Oversight(store, w.CITY).export_pages(filters)])
    assert "'=1+2" in text
    for secret in [
        *small_world.id_numbers,
        *small_world.id_masked,
        *(e.credential_hash for e in small_world.events),
    ]:
        assert secret not in text


@pytest.mark.parametrize(
    ("since", "until", "parameter"),
    [
        (None, w.at(w.DAY, 0), "since"),
        (w.at(w.DAY, 0), None, "until"),
        (w.at(w.DAY, 0), w.at(w.DAY + timedelta(days=31), 0, 1), "until"),
    ],
)
def test_export_needs_a_bounded_window(since: object, until: object, parameter: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        export.window(EventFilters(since=since, until=until))  # type: ignore[arg-type]
    assert caught.value.parameter == parameter
