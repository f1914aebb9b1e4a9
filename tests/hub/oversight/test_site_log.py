"""SiteLog, the project's record with names, on both stores: who is on site (names, enterprise, team,
gate, the counts), the access log and attendance with their filters (name, ID number by its blind
index, enterprise, direction, reason, days), pages both ways, ID numbers whole only for the roles
with the need, each account's scope."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hub.auth.audit import AuditLog
from hub.auth.principal import Principal
from hub.errors import NotFound
from hub.oversight.site_log import SiteLog
from hub.oversight.site_records import AttendanceQuery, Days, LogFilters, PersonFilter
from hub.registry.vault import IdVault
from hub.store import Store
from tests.hub.clocked import NOON
from tests.hub.oversight import world as w
from tests.hub.oversight.named_world import name_the_world
from wire.models import Direction, Reason

VAULT = IdVault(bytes(range(32)))
FIFTH = Days(w.DAY, w.DAY)
BOTH_DAYS = Days(w.DAY, w.NEXT_DAY)


@pytest.fixture
async def world(store: Store) -> w.World:
    """The oversight world, its ID numbers sealed and indexed under :data:`VAULT`, and a team
    (钢筋班 of ent-sub1) that per-w1 works in."""
    built = await w.build(store, NOON)
    await name_the_world(store, built, VAULT, seal=True)
    return built


def number_of(world: w.World, person_id: str) -> str:
    return world.id_numbers[list(w.PERSONS).index(person_id)]


async def test_on_site_by_name_enterprise_team_and_gate(store: Store, world: w.World) -> None:
    found = await SiteLog(store, w.GC_A, VAULT).on_site("proj-a", world.now)
    people = {p.name: (p.enterprise_name, p.team_name, p.role, p.gate) for p in found.people}
    # per-w3's in is stale, per-x's assignment ended, per-w2 left.
    assert people == {
        "王伟": ("拱墅劳务有限公司", "钢筋班", "worker", "东门进"),
        "刘静": ("西湖建工集团", None, "manager", "东门进"),
        "陈磊": ("钱塘监理公司", None, "manager", "东门进"),
    }
    assert {c.name: c.on_site for c in found.by_enterprise} == {
        "拱墅劳务有限公司": 1, "西湖建工集团": 1, "钱塘监理公司": 1,
    }  # fmt: skip
    assert {c.name: c.on_site for c in found.by_team} == {"钢筋班": 1, None: 2}
    assert {p.id_number for p in found.people} <= set(world.id_masked)  # a GC department: masked


async def test_on_site_search_narrows_but_the_counts_are_the_sites(store: Store, world: w.World) -> None:
    found = await SiteLog(store, w.SUP_A, VAULT).on_site("proj-a", world.now)
    by_number = PersonFilter(id_key=VAULT.blind_index(number_of(world, "per-m1").lower()))
    assert [p.name for p in found.narrowed(by_number)] == ["刘静"]
    assert [p.name for p in found.narrowed(PersonFilter(name="王"))] == ["王伟"]
    assert [p.name for p in found.narrowed(PersonFilter(enterprise_id="ent-sup1"))] == ["陈磊"]
    assert sum(c.on_site for c in found.by_enterprise) == 3


@pytest.mark.parametrize(
    ("who", "names"),
    [(w.SUB_A, {"王伟"}), (w.DISTRICT_XIHU, {"王伟", "刘静", "陈磊"})],
    ids=["subcontractor", "district"],
)
async def test_on_site_follows_the_accounts_scope(
    store: Store, world: w.World, who: Principal, names: set[str]
) -> None:
    found = await SiteLog(store, who, VAULT).on_site("proj-a", world.now)
    assert {p.name for p in found.people} == names
    if who is w.DISTRICT_XIHU:  # a bureau has the need: whole numbers
        assert {p.id_number for p in found.people} <= set(world.id_numbers)


async def test_a_project_out_of_scope_is_not_found(store: Store, world: w.World) -> None:
    with pytest.raises(NotFound):
        await SiteLog(store, w.GC_B, VAULT).on_site("proj-a", world.now)
    with pytest.raises(NotFound):
        await SiteLog(store, w.GC_B, VAULT).access_log(LogFilters("proj-a", FIFTH))


async def test_the_access_log_has_names_enterprise_team_and_gate(store: Store, world: w.World) -> None:
    page = await SiteLog(store, w.GC_A, VAULT).access_log(LogFilters("proj-a", FIFTH))
    assert len(page.items) == 7 and page.older is None and page.newer is None
    first = page.items[0]  # newest first: 刘静's exit at 18:30
    assert (first.name, first.enterprise_name, first.team_name, first.gate, first.direction) == (
        "刘静", "西湖建工集团", None, "东门出", "out",
    )  # fmt: skip
    assert first.id_number in world.id_masked
    rebar = {e.team_name for e in page.items if e.name == "王伟"}
    assert rebar == {"钢筋班"}


@pytest.mark.parametrize(
    ("narrow", "expected"),
    [
        ({"direction": Direction.OUT}, ["刘静", "王伟", "王伟"]),
        ({"who": PersonFilter(name="李")}, ["李芳"]),
        ({"who": PersonFilter(enterprise_id="ent-gc1")}, ["刘静", "刘静"]),
        ({"reason": Reason.WATCHLISTED}, []),
        ({"days": Days(w.NEXT_DAY, w.NEXT_DAY)}, ["王伟", "王伟"]),
    ],
    ids=["direction", "name", "enterprise", "reason", "days"],
)
async def test_the_access_log_filters_narrow(
    store: Store, world: w.World, narrow: dict[str, object], expected: list[str]
) -> None:
    given = dict(narrow)  # the parameter's own dict serves each store's run
    filters = LogFilters("proj-a", given.pop("days", FIFTH), **given)  # type: ignore[arg-type]
    page = await SiteLog(store, w.SUP_A, VAULT).access_log(filters)
    assert [e.name for e in page.items] == expected


async def test_the_access_log_finds_a_person_by_id_number(store: Store, world: w.World) -> None:
    key = VAULT.blind_index(number_of(world, "per-w2"))
    page = await SiteLog(store, w.GC_A, VAULT).access_log(
        LogFilters("proj-a", FIFTH, PersonFilter(id_key=key))
    )
    assert [e.name for e in page.items] == ["李芳"]
    unknown = PersonFilter(id_key=VAULT.blind_index("110101199003077777"))
    assert (await SiteLog(store, w.GC_A, VAULT).access_log(LogFilters("proj-a", FIFTH, unknown))).items == []


async def test_a_subcontractor_reads_its_own_people_only(store: Store, world: w.World) -> None:
    log = SiteLog(store, w.SUB_A, VAULT)
    page = await log.access_log(LogFilters("proj-a", FIFTH))
    assert {e.name for e in page.items} == {"王伟", "李芳"}
    assert [c.name for c in await log.enterprises("proj-a")] == ["拱墅劳务有限公司"]
    everyone = await SiteLog(store, w.GC_A, VAULT).enterprises("proj-a")
    assert {c.name: c.role for c in everyone} == {
        "拱墅劳务有限公司": "subcontractor", "西湖建工集团": "general_contractor", "钱塘监理公司": "supervision",
    }  # fmt: skip


async def test_pages_go_older_and_come_back_newer(store: Store, world: w.World) -> None:
    log, filters = SiteLog(store, w.GC_A, VAULT), LogFilters("proj-a", BOTH_DAYS)
    whole = (await log.access_log(filters, limit=100)).items
    assert len(whole) == 9
    pages, page = [], await log.access_log(filters, limit=2)
    assert page.newer is None
    while True:
        pages.append(page.items)
        if page.older is None:
            break
        page = await log.access_log(filters, older=page.older, limit=2)
    assert [e for items in pages for e in items] == whole
    back = []
    while page.newer is not None:
        page = await log.access_log(filters, newer=page.newer, limit=2)
        back.append(page.items)
    assert back == pages[-2::-1]


async def test_the_export_pages_hold_every_row(store: Store, world: w.World) -> None:
    log, filters = SiteLog(store, w.GC_A, VAULT), LogFilters("proj-a", BOTH_DAYS)
    pages = [items async for items in log.access_log_pages(filters, page_rows=4)]
    assert [len(items) for items in pages] == [4, 4, 1]
    assert [e for items in pages for e in items] == (await log.access_log(filters, limit=100)).items


async def test_attendance_with_names_filters_and_pages(store: Store, world: w.World) -> None:
    log = SiteLog(store, w.DISTRICT_XIHU, VAULT)
    page = await log.attendance(AttendanceQuery("proj-a", BOTH_DAYS))
    assert [(r.day, r.name, r.team_name) for r in page.items] == [
        (w.NEXT_DAY, "王伟", "钢筋班"),
        (w.DAY, "刘静", None),
        (w.DAY, "王伟", "钢筋班"),
        (w.DAY, "李芳", None),
    ]
    assert page.items[1].id_number == number_of(world, "per-m1")  # a bureau: whole
    assert page.items[1].enterprise_name == "西湖建工集团"
    only_sub = await log.attendance(
        AttendanceQuery("proj-a", BOTH_DAYS, PersonFilter(enterprise_id="ent-sub1"))
    )
    assert {r.name for r in only_sub.items} == {"王伟", "李芳"}
    first = await log.attendance(AttendanceQuery("proj-a", BOTH_DAYS), limit=3)
    second = await log.attendance(AttendanceQuery("proj-a", BOTH_DAYS), older=first.older, limit=3)
    assert first.items + second.items == page.items and second.older is None
    back = await log.attendance(AttendanceQuery("proj-a", BOTH_DAYS), newer=second.newer, limit=3)
    assert back.items == first.items and back.newer is None


async def test_attendance_days_bound_the_rows(store: Store, world: w.World) -> None:
    log = SiteLog(store, w.GC_A, VAULT)
    april = await log.attendance(AttendanceQuery("proj-a", Days(date(2025, 4, 30), date(2025, 4, 30))))
    assert [r.name for r in april.items] == ["王伟"]
    assert all(r.id_number in world.id_masked for r in april.items)
    none = await log.attendance(
        AttendanceQuery("proj-a", Days(w.DAY + timedelta(days=9), w.DAY + timedelta(days=9)))
    )
    assert none.items == [] and none.older is None and none.newer is None


async def test_a_search_by_id_number_leaves_an_audit_line_with_its_index_only(
    store: Store, world: w.World
) -> None:
    number = number_of(world, "per-w2")
    key = VAULT.blind_index(number)
    await SiteLog(store, w.SUP_A, VAULT).note_id_search("proj-a", key, at=world.now)
    lines = (await AuditLog(store, w.SUP_A).lines(action="site_log.id_search")).items
    assert [(line.username, line.target, line.detail) for line in lines] == [
        (w.SUP_A.username, "proj-a", {"id_index": key})
    ]
    assert number not in repr(lines)
    with pytest.raises(NotFound):  # nor may it be left against a project out of scope
        await SiteLog(store, w.GC_B, VAULT).note_id_search("proj-a", key, at=world.now)


async def test_a_month_by_name_enterprise_and_team(store: Store, world: w.World) -> None:
    log = SiteLog(store, w.GC_A, VAULT)
    may = await log.monthly("proj-a", date(2025, 5, 20))
    assert [(m.name, m.enterprise_name, m.team_name, m.days_present, m.passages) for m in may] == [
        ("王伟", "拱墅劳务有限公司", "钢筋班", 2, 6),
        ("李芳", "拱墅劳务有限公司", None, 1, 1),
        ("刘静", "西湖建工集团", None, 1, 2),
    ]
    assert all(m.month == date(2025, 5, 1) and m.id_number in world.id_masked for m in may)
    assert [m.name for m in await log.monthly("proj-a", w.DAY, PersonFilter(enterprise_id="ent-gc1"))] == [
        "刘静"
    ]
    by_number = PersonFilter(id_key=VAULT.blind_index(number_of(world, "per-w2")))
    assert [m.name for m in await log.monthly("proj-a", w.DAY, by_number)] == ["李芳"]
    assert [m.name for m in await SiteLog(store, w.SUB_A, VAULT).monthly("proj-a", w.DAY)] == ["王伟", "李芳"]
