"""A small registry written straight in SQL (the registry API is not what these tests are about),
and passages through the ingest's own store path, so presence and attendance are derived as in
production.

Districts 330106 (西湖) and 330105 (拱墅), 330110 (余杭) with nothing in it. Project ``proj-a``
(西湖, registered): general contractor ``ent-gc1``, labour subcontractor ``ent-sub1`` (拱墅),
supervision ``ent-sup1``. ``proj-b`` (拱墅, registered, ``ent-gc2``), ``proj-c`` (西湖, not
registered). People on ``proj-a``: workers ``per-w1``, ``per-w2`` (ent-sub1), ``per-w3``
(ent-gc1), ``per-x`` (ent-gc1, left two days ago); managers ``per-m1`` (项目经理, ent-gc1) and
``per-m2`` (总监理工程师, ent-sup1). On ``proj-b``: ``per-b1``.

Two kinds of passages: on the fixed days :data:`DAY` and the day after (attendance, managers,
monthly, CSV) and relative to ``now`` (headcount).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hardware.emulators.identities import synthetic_identity
from hub.auth.principal import Principal, Role
from hub.derive.days import local_day
from hub.events.journal import store_events
from hub.store import Store
from hub.store.schema import (
    assignments,
    districts,
    enterprises,
    gates,
    persons,
    project_parties,
    projects,
)
from tests.hub.derive.lanes import Lanes
from tests.hub.factories import credential
from wire.clock import SITE_ZONE
from wire.models import AccessEvent, Direction

DAY = date(2025, 5, 5)
NEXT_DAY = DAY + timedelta(days=1)
CREATED = datetime(2025, 1, 1, tzinfo=UTC)
XIHU, GONGSHU, YUHANG = "330106", "330105", "330110"

PERSONS: dict[str, tuple[str, str, str, str | None, str]] = {
    # id: (name, category, employer, position, registered district)
    "per-w1": ("王伟", "worker", "ent-sub1", None, XIHU),
    "per-w2": ("李芳", "worker", "ent-sub1", None, XIHU),
    "per-w3": ("张敏", "worker", "ent-gc1", None, GONGSHU),
    "per-x": ("=1+2", "worker", "ent-gc1", None, XIHU),  # a name a spreadsheet would run
    "per-m1": ("刘静", "manager", "ent-gc1", "项目经理", XIHU),
    "per-m2": ("陈磊", "manager", "ent-sup1", "总监理工程师", XIHU),
    "per-b1": ("杨洋", "worker", "ent-gc2", None, GONGSHU),
}
ENTERPRISE_NAMES = {
    "ent-gc1": "西湖建工集团",
    "ent-sub1": "拱墅劳务有限公司",
    "ent-sup1": "钱塘监理公司",
    "ent-gc2": "运河建设公司",
}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SITE_ZONE)


def principal(role: Role, **scope: str) -> Principal:
    return Principal(1, f"test-{role.value}", role, **scope)


CITY = principal(Role.CITY)
OPERATOR = principal(Role.OPERATOR)
DISTRICT_XIHU = principal(Role.DISTRICT, district=XIHU)
DISTRICT_GONGSHU = principal(Role.DISTRICT, district=GONGSHU)
GC_A = principal(Role.GC_PROJECT, enterprise_id="ent-gc1", project_id="proj-a")
SUP_A = principal(Role.SUPERVISION_PROJECT, enterprise_id="ent-sup1", project_id="proj-a")
SUB_A = principal(Role.SUB_PROJECT, enterprise_id="ent-sub1", project_id="proj-a")
ENTERPRISE_SUB1 = principal(Role.ENTERPRISE, enterprise_id="ent-sub1")
ENTERPRISE_GC1 = principal(Role.ENTERPRISE, enterprise_id="ent-gc1")
GC_B = principal(Role.GC_PROJECT, enterprise_id="ent-gc2", project_id="proj-b")


@dataclass
class World:
    now: datetime
    events: list[AccessEvent] = field(default_factory=list)
    id_numbers: list[str] = field(default_factory=list)
    id_masked: list[str] = field(default_factory=list)


async def build(store: Store, now: datetime) -> World:
    world = World(now=now)
    await _registry(store, world)
    lanes = Lanes()

    def passage(person: str, when: datetime, direction: Direction, project: str = "proj-a") -> AccessEvent:
        return lanes.event(f"lane-{project[-1]}-{direction.value}", project, when, direction, person)

    IN, OUT = Direction.IN, Direction.OUT
    fixed = [
        passage("per-w1", at(DAY, 8), IN),
        passage("per-w1", at(DAY, 12), OUT),
        passage("per-w1", at(DAY, 13), IN),
        passage("per-w1", at(DAY, 17), OUT),
        passage("per-m1", at(DAY, 7, 30), IN),
        passage("per-m1", at(DAY, 18, 30), OUT),
        passage("per-w2", at(DAY, 9), IN),  # never swiped out: no time counted
        passage("per-w1", at(NEXT_DAY, 8), IN),
        passage("per-w1", at(NEXT_DAY, 16), OUT),
        passage("per-w1", at(DAY - timedelta(days=5), 23, 59), IN),  # 30 April: not May
        passage("per-b1", at(DAY, 8), IN, "proj-b"),
    ]
    hour = timedelta(hours=1)
    recent = [
        passage("per-w1", now - 2 * hour, IN),
        passage("per-w2", now - 3 * hour, IN),
        passage("per-w2", now - 1 * hour, OUT),
        passage("per-w3", now - 20 * hour, IN),  # stale: a swipe-out that was never recorded
        passage("per-m1", now - 1 * hour, IN),
        passage("per-m2", now - hour / 2, IN),
        passage("per-x", now - 1 * hour, IN),  # fresh, but the assignment has ended
        passage("per-b1", now - 1 * hour, IN, "proj-b"),
    ]
    world.events = fixed + recent
    await store_events(store, world.events)
    return world


async def _registry(store: Store, world: World) -> None:
    # Two days ago: even a headcount asked as of a few hours earlier sees it ended.
    ended = local_day(world.now) - timedelta(days=2)
    rng = random.Random(11)
    person_rows: list[dict[str, Any]] = []
    for n, (person_id, (name, category, employer, position, district)) in enumerate(PERSONS.items()):
        number = synthetic_identity(rng).id_number
        masked = number[:6] + "*" * (len(number) - 10) + number[-4:]
        world.id_numbers.append(number)
        world.id_masked.append(masked)
        person_rows.append(
            {
                "id": person_id,
                "id_index": f"index-{n}",
                "id_cipher": b"sealed",
                "id_masked": masked,
                "name": name,
                "card_kind": "resident",
                "enterprise_id": employer,
                "category": category,
                "position": position,
                "registered_district": district,
                "created_at": CREATED,
            }
        )

    serial = itertools.count(1000)

    def assignment(
        project: str, person: str, enterprise: str, role: str, exit_date: date | None = None
    ) -> Any:
        return {
            "project_id": project,
            "person_id": person,
            "enterprise_id": enterprise,
            "role": role,
            "entry_date": date(2025, 1, 1),
            "exit_date": exit_date,
            "credential_hash": credential(next(serial)),
            "created_at": CREATED,
        }

    async with store.write("test world") as conn:
        await conn.execute(
            districts.insert(),
            [
                {"code": XIHU, "name": "西湖区"},
                {"code": GONGSHU, "name": "拱墅区"},
                {"code": YUHANG, "name": "余杭区"},
            ],
        )
        await conn.execute(
            enterprises.insert(),
            [
                {
                    "id": eid,
                    "number": f"91330100MA{n:08d}",
                    "name": name,
                    "kind": kind,
                    "district": district,
                    "local": True,
                    "created_at": CREATED,
                }
                for n, (eid, name, kind, district) in enumerate(
                    [
                        ("ent-gc1", ENTERPRISE_NAMES["ent-gc1"], "general_contractor", XIHU),
                        ("ent-sub1", ENTERPRISE_NAMES["ent-sub1"], "labour_subcontractor", GONGSHU),
                        ("ent-sup1", ENTERPRISE_NAMES["ent-sup1"], "supervision", XIHU),
                        ("ent-gc2", ENTERPRISE_NAMES["ent-gc2"], "general_contractor", GONGSHU),
                    ]
                )
            ],
        )
        await conn.execute(
            projects.insert(),
            [
                {
                    "id": pid,
                    "permit_number": f"330100202501{n:04d}",
                    "name": f"测试工程 {pid}",
                    "district": district,
                    "address": "杭州市测试路 1 号",
                    "gc_enterprise_id": gc,
                    "permit_issued_on": date(2025, 1, 1),
                    "registered_at": CREATED if registered else None,
                    "site_key_cipher": b"sealed",
                    "created_at": CREATED,
                }
                for n, (pid, district, gc, registered) in enumerate(
                    [
                        ("proj-a", XIHU, "ent-gc1", True),
                        ("proj-b", GONGSHU, "ent-gc2", True),
                        ("proj-c", XIHU, "ent-gc1", False),
                    ]
                )
            ],
        )
        await conn.execute(
            project_parties.insert(),
            [
                {"project_id": p, "enterprise_id": e, "role": r, "joined_at": CREATED}
                for p, e, r in [
                    ("proj-a", "ent-gc1", "general_contractor"),
                    ("proj-a", "ent-sub1", "subcontractor"),
                    ("proj-a", "ent-sup1", "supervision"),
                    ("proj-b", "ent-gc2", "general_contractor"),
                    ("proj-c", "ent-gc1", "general_contractor"),
                ]
            ],
        )
        await conn.execute(persons.insert(), person_rows)
        await conn.execute(
            assignments.insert(),
            [
                assignment("proj-a", "per-w1", "ent-sub1", "worker"),
                assignment("proj-a", "per-w2", "ent-sub1", "worker"),
                assignment("proj-a", "per-w3", "ent-gc1", "worker"),
                assignment("proj-a", "per-x", "ent-gc1", "worker", exit_date=ended),
                assignment("proj-a", "per-m1", "ent-gc1", "manager"),
                assignment("proj-a", "per-m2", "ent-sup1", "manager"),
                assignment("proj-b", "per-b1", "ent-gc2", "worker"),
            ],
        )
        await conn.execute(
            gates.insert(),
            [
                {
                    "device_id": "lane-a-in",
                    "project_id": "proj-a",
                    "lane": "A1",
                    "direction": "in",
                    "name": "东门进",
                },
                {
                    "device_id": "lane-a-out",
                    "project_id": "proj-a",
                    "lane": "A1",
                    "direction": "out",
                    "name": "东门出",
                },
                {
                    "device_id": "lane-b-in",
                    "project_id": "proj-b",
                    "lane": "B1",
                    "direction": "in",
                    "name": "南门",
                },
            ],
        )
