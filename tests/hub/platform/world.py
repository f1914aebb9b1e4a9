"""A project for the uploader, written straight in SQL, its passages through the store's own path.

``proj-u`` (西湖): general contractor ``ent-gc``, labour subcontractor ``ent-sub``. Teams: 钢筋班组
(ent-sub, its leader ``per-w1``), 木工班 (ent-sub), 项目管理组 (ent-gc: its manager) and 杂务组
(ent-sub: a name that names no trade). People: ``per-w1``..``per-w4`` in 钢筋班组, ``per-w5`` in 木工班,
``per-m1`` a manager in 项目管理组, ``per-odd`` in 杂务组, ``per-free`` with no team, ``per-v`` a
visitor. Passages on :data:`DAY`: :data:`PASSAGES_EACH` per worker in a team (in and out by turns,
across two lanes), and ones that are no one's attendance on the platform: a refusal, a
clock_suspect grant, the teamless and the visitor. ID numbers are synthetic, sealed by ``vault``.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta
from typing import Final

from sqlalchemy import update

from hardware.emulators.identities import synthetic_identity
from hub.events.journal import store_events
from hub.registry.vault import IdVault
from hub.store import Store
from hub.store.schema import (
    access_events,
    assignments,
    districts,
    enterprises,
    gates,
    persons,
    projects,
    teams,
)
from tests.hub.derive.lanes import Lanes
from tests.hub.factories import credential
from wire.clock import SITE_ZONE
from wire.models import AccessEvent, Direction

PROJECT: Final = "proj-u"
DAY: Final = date(2026, 5, 6)
NOW: Final = datetime(2026, 5, 6, 20, 0, tzinfo=SITE_ZONE)
CREATED: Final = datetime(2026, 1, 1, tzinfo=UTC)
PASSAGES_EACH: Final = 12
LANES: Final = {"lane-u-in": "东门进场闸", "lane-u-out": "东门出场闸"}
TEAMS: Final = {
    "team-rebar": ("钢筋班组", "ent-sub", "per-w1"),
    "team-wood": ("木工班", "ent-sub", None),
    "team-office": ("项目管理组", "ent-gc", None),
    "team-odd": ("杂务组", "ent-sub", None),
}
PEOPLE: Final = {
    # id: (category, employer, roster role, team)
    "per-w1": ("worker", "ent-sub", "worker", "team-rebar"),
    "per-w2": ("worker", "ent-sub", "worker", "team-rebar"),
    "per-w3": ("worker", "ent-sub", "worker", "team-rebar"),
    "per-w4": ("worker", "ent-sub", "worker", "team-rebar"),
    "per-w5": ("worker", "ent-sub", "worker", "team-wood"),
    "per-m1": ("manager", "ent-gc", "manager", "team-office"),
    "per-odd": ("worker", "ent-sub", "worker", "team-odd"),
    "per-free": ("worker", "ent-sub", "worker", None),
    "per-v": ("worker", "ent-sub", "visitor", None),
}
UPLOADED: Final = ("per-w1", "per-w2", "per-w3", "per-w4", "per-w5", "per-m1")
"""Whose passages reach the platform (per-odd's team names no trade: it waits, with a message)."""


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SITE_ZONE)


async def build(store: Store, vault: IdVault) -> dict[str, str]:
    """The registry and the passages; returns each person's ID number (synthetic)."""
    rng = random.Random(19)
    numbers = {person: synthetic_identity(rng).id_number for person in PEOPLE}
    serial = itertools.count(1)
    async with store.write("platform test world") as conn:
        await conn.execute(
            districts.insert(), [{"code": "330106", "name": "西湖区"}, {"code": "330105", "name": "拱墅区"}]
        )
        await conn.execute(
            enterprises.insert(),
            [
                {"id": eid, "number": f"91330106MA2B00000{n}", "name": name, "kind": kind, "district": "330106",
                 "local": True, "created_at": CREATED}
                for n, (eid, name, kind) in enumerate(
                    [("ent-gc", "西湖建工集团", "general_contractor"), ("ent-sub", "之江劳务有限公司", "labour_subcontractor")]
                )
            ],
        )  # fmt: skip
        await conn.execute(
            projects.insert().values(
                id=PROJECT, permit_number="330106202601010101", name="之江花园", district="330106",
                address="西湖区之江路 1 号", gc_enterprise_id="ent-gc", site_key_cipher=b"sealed", created_at=CREATED,
            )
        )  # fmt: skip
        await conn.execute(
            persons.insert(),
            [
                {"id": person, "id_index": f"index-{person}", "id_cipher": vault.seal_id(person, numbers[person]),
                 "id_masked": "masked", "name": f"工人{n}", "card_kind": "resident", "nation": "01",
                 "enterprise_id": employer, "category": category, "created_at": CREATED}
                for n, (person, (category, employer, _, _)) in enumerate(PEOPLE.items())
            ],
        )  # fmt: skip
        await conn.execute(
            teams.insert(),
            [
                {"id": tid, "project_id": PROJECT, "enterprise_id": ent, "name": name, "leader_person_id": leader,
                 "created_at": CREATED}
                for tid, (name, ent, leader) in TEAMS.items()
            ],
        )  # fmt: skip
        await conn.execute(
            assignments.insert(),
            [
                {"project_id": PROJECT, "person_id": person, "enterprise_id": employer, "role": role,
                 "entry_date": date(2026, 1, 1), "credential_hash": credential(next(serial)), "created_at": CREATED,
                 "team_id": team}
                for person, (_, employer, role, team) in PEOPLE.items()
            ],
        )  # fmt: skip
        await conn.execute(
            gates.insert(),
            [{"device_id": d, "project_id": PROJECT, "lane": d[7:], "direction": d[7:], "name": name}
             for d, name in LANES.items()],
        )  # fmt: skip
    await store_events(store, passages(), received_at=NOW)
    async with store.write("platform test world: a suspect clock") as conn:
        await conn.execute(
            update(access_events)
            .where(access_events.c.device_id == "lane-u-in", access_events.c.seq == 1)
            .values(clock_suspect=True)
        )
    return numbers


def passages() -> list[AccessEvent]:
    lanes = Lanes()
    events = [
        lanes.event("lane-u-in", PROJECT, at(6), Direction.IN, "per-w1"),  # seq 1: made clock_suspect
        lanes.event("lane-u-in", PROJECT, at(6, 1), Direction.IN, None, granted=False),
        lanes.event("lane-u-in", PROJECT, at(6, 2), Direction.IN, "per-free"),
        lanes.event("lane-u-in", PROJECT, at(6, 3), Direction.IN, "per-v"),
    ]
    for person in (*UPLOADED, "per-odd"):
        for n in range(PASSAGES_EACH):
            direction = Direction.IN if n % 2 == 0 else Direction.OUT
            device = "lane-u-in" if direction is Direction.IN else "lane-u-out"
            events.append(
                lanes.event(device, PROJECT, at(7 + n) + timedelta(seconds=len(events)), direction, person)
            )
    return events


def expected_keys(numbers: dict[str, str]) -> set[tuple[str, str]]:
    """(ID number, date) of every passage the platform should hold once."""
    return {
        (numbers[e.person_id], e.wall_time.astimezone(SITE_ZONE).strftime("%Y-%m-%d %H:%M:%S"))
        for e in passages()[4:]
        if e.person_id in UPLOADED
    }
