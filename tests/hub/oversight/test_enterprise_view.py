"""EnterpriseOversight: an enterprise's project departments in exact figures on the oversight world
(pinned at NOON), for the general contractor's enterprise and a subcontractor's, on both stores."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from hub.auth.principal import Role
from hub.derive.days import local_day
from hub.oversight.enterprise_view import Department, EnterpriseOversight, NotAnEnterprise
from hub.store import Store
from hub.store.schema import credit_deductions, devices, persons, rectification_orders
from tests.hub.clocked import NOON
from tests.hub.oversight import world as w
from tests.support.accounts import create_account

OFFLINE_AFTER = timedelta(minutes=15)


async def known_world(store: Store) -> None:
    """The oversight world, plus: its lanes enrolled (one heard a minute ago, one an hour ago),
    刘静 a 项目经理 (one of 四类人员), three orders to proj-a (open, overdue, closed), and
    deductions from ent-gc1 (on proj-a, with no project, last year's)."""
    now, today = NOON, local_day(NOON)
    await w.build(store, now)
    bureau = await create_account(store, role=Role.DISTRICT, username="xihu-ev", district=w.XIHU)
    enrolled = now - timedelta(days=30)
    order = {
        "district": w.XIHU, "project_id": "proj-a", "subject": "考勤", "requirements": "补录",
        "issued_at": now, "issuer_account_id": bureau.account_id, "issued_by": "xihu-ev",
    }  # fmt: skip
    deduction = {
        "district": w.XIHU, "enterprise_id": "ent-gc1", "reason": "未按期报备",
        "account_id": bureau.account_id, "deducted_by": "xihu-ev",
    }  # fmt: skip
    async with store.write("enterprise view world") as conn:
        await conn.execute(
            devices.insert(),
            [
                {
                    "device_id": "lane-a-in",
                    "enrolled_at": enrolled,
                    "last_seen_at": now - timedelta(minutes=1),
                },
                {
                    "device_id": "lane-a-out",
                    "enrolled_at": enrolled,
                    "last_seen_at": now - timedelta(hours=1),
                },
            ],
        )
        await conn.execute(update(persons).where(persons.c.id == "per-m1").values(position="project_manager"))
        await conn.execute(
            rectification_orders.insert(),
            [
                {**order, "deadline": today + timedelta(days=7), "status": "open"},
                {**order, "deadline": today - timedelta(days=1), "status": "open"},
                {**order, "deadline": today - timedelta(days=1), "status": "closed"},
            ],
        )
        last_year = datetime(today.year - 1, 12, 31, 23, 0, tzinfo=w.SITE_ZONE)
        await conn.execute(
            credit_deductions.insert(),
            [
                {**deduction, "project_id": "proj-a", "points": 2, "deducted_at": now},
                {**deduction, "project_id": None, "points": 3, "deducted_at": now},
                {**deduction, "project_id": "proj-a", "points": 5, "deducted_at": last_year},
            ],
        )


async def test_the_general_contractors_departments(store: Store) -> None:
    await known_world(store)
    view = await EnterpriseOversight(store, w.ENTERPRISE_GC1, gate_offline_after=OFFLINE_AFTER).departments(
        NOON
    )
    a, c = view.departments
    assert a == Department(
        "proj-a", "测试工程 proj-a", w.XIHU, "general_contractor", registered=True,
        lanes=2, lanes_enrolled=2, lanes_online=1, headcount=3, managers_registered=1, managers_present=1,
        open_orders=2, overdue_orders=1, deduction_points=2,
    )  # fmt: skip
    assert a.registration_complete
    assert c == Department("proj-c", "测试工程 proj-c", w.XIHU, "general_contractor", registered=False)
    assert not c.registration_complete
    assert view.unattached_points == 3


async def test_a_subcontractor_sees_its_own_people_only(store: Store) -> None:
    await known_world(store)
    view = await EnterpriseOversight(store, w.ENTERPRISE_SUB1, gate_offline_after=OFFLINE_AFTER).departments(
        NOON
    )
    (a,) = view.departments
    assert (a.project_id, a.party_role) == ("proj-a", "subcontractor")
    assert (a.headcount, a.managers_registered, a.managers_present) == (1, 0, 0)
    assert (a.lanes, a.lanes_online) == (2, 1)
    assert (a.open_orders, a.overdue_orders, a.deduction_points) == (2, 1, 0)
    assert view.unattached_points == 0


async def test_an_enterprise_with_no_projects_has_no_departments(store: Store) -> None:
    await w.build(store, NOON)
    lone = w.principal(Role.ENTERPRISE, enterprise_id="ent-none")
    view = await EnterpriseOversight(store, lone, gate_offline_after=OFFLINE_AFTER).departments(NOON)
    assert view.departments == ()


@pytest.mark.parametrize("who", [w.CITY, w.GC_A, w.OPERATOR], ids=lambda p: p.role.value)
def test_only_an_enterprise_account_has_this_view(store: Store, who: object) -> None:
    with pytest.raises(NotAnEnterprise):
        EnterpriseOversight(store, who, gate_offline_after=OFFLINE_AFTER)  # type: ignore[arg-type]
