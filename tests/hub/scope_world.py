"""The small world the scope matrix (test_scope_matrix.py) runs in, its rows written with SQL.

Two districts; a general contractor, a subcontractor and a supervision firm on project P1 (district
D1); an outside general contractor's project P2 (district D2), where the same subcontractor also
works; people assigned through each enterprise; a lane per project and a spare lane at no gate;
access events (one per person, one unregistered card per project), lane events, a dead letter, a
command per lane; an account of every role, and an audit line by each.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any

from hardware.emulators.identities import synthetic_identity
from hub.auth import audit
from hub.auth.principal import Principal, Role
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
from tests.hub.factories import BASE_TIME, credential, make_event, make_lane_event
from wire.commands import Action, Command
from wire.models import LaneEventType, PresenceState, PresenceStatus

D1, D2 = "330102", "330106"
P1, P2 = "P-0001", "P-0002"
LANE_P1, LANE_P2, LANE_SPARE, LANE_GHOST = "lane-p1", "lane-p2", "lane-spare", "lane-ghost"

ENTERPRISES = {  # id: (kind, district)
    "ent-gc": ("general_contractor", D1),
    "ent-sub": ("labour_subcontractor", D1),
    "ent-sup": ("supervision", D1),
    "ent-out": ("general_contractor", D2),
}
PARTIES = {  # project: {enterprise: party role}
    P1: {"ent-gc": "general_contractor", "ent-sub": "subcontractor", "ent-sup": "supervision"},
    P2: {"ent-out": "general_contractor", "ent-sub": "subcontractor"},
}
PEOPLE = {  # person: (employer, project, assigned through)
    "per-gc1": ("ent-gc", P1, "ent-gc"),
    "per-sub1": ("ent-sub", P1, "ent-sub"),
    "per-sup1": ("ent-sup", P1, "ent-sup"),
    "per-sub2": ("ent-sub", P2, "ent-sub"),
    "per-out1": ("ent-out", P2, "ent-out"),
}
# Access events: (lane, seq) -> label; the person is the label's, None for an unregistered card.
ACCESS = {
    (LANE_P1, 1): "per-gc1",
    (LANE_P1, 2): "per-sub1",
    (LANE_P1, 3): "per-sup1",
    (LANE_P1, 4): "anon-p1",
    (LANE_P2, 1): "per-sub2",
    (LANE_P2, 2): "per-out1",
    (LANE_P2, 3): "anon-p2",
}
LANE_EVENTS = {(LANE_P1, 5): "tamper-p1", (LANE_P2, 4): "tamper-p2"}
MANAGERS = frozenset({"per-gc1"})
"""Registered and assigned as managers (the rest are workers)."""
LANE_OF = {P1: LANE_P1, P2: LANE_P2}
SEEDED_COMMAND = {LANE_P1: "a1" * 16, LANE_P2: "b2" * 16, LANE_SPARE: "c3" * 16}

ACCOUNTS: dict[str, dict[str, Any]] = {  # name in the matrix: create_account's scope
    "city": {"role": Role.CITY},
    "operator": {"role": Role.OPERATOR},
    "district": {"role": Role.DISTRICT, "district": D1},
    "enterprise_gc": {"role": Role.ENTERPRISE, "enterprise_id": "ent-gc"},
    "enterprise_sub": {"role": Role.ENTERPRISE, "enterprise_id": "ent-sub"},
    "gc_project": {"role": Role.GC_PROJECT, "enterprise_id": "ent-gc", "project_id": P1},
    "sub_project": {"role": Role.SUB_PROJECT, "enterprise_id": "ent-sub", "project_id": P1},
    "supervision_project": {"role": Role.SUPERVISION_PROJECT, "enterprise_id": "ent-sup", "project_id": P1},
}
ANONYMOUS = "anonymous"
WHO = (*ACCOUNTS, ANONYMOUS)


def username(who: str) -> str:
    return f"m-{who}"


ALL_LANES = frozenset({LANE_P1, LANE_P2, LANE_SPARE})
SEED_ACTION = "matrix.seed"
"""The action of the audit line each account (and one stranger) left in the world."""
STRANGER = "stranger"


async def build(store: Store) -> list[str]:
    """The world's rows, written with SQL (and the store's own writes for events, presence,
    commands and a dead letter); returns the ID numbers its people were given."""
    now = datetime(2026, 4, 1, tzinfo=UTC)
    rng = random.Random(7)
    id_numbers = []
    async with store.write("matrix world") as conn:
        await conn.execute(
            districts.insert(), [{"code": D1, "name": "Shangcheng"}, {"code": D2, "name": "Xihu"}]
        )
        await conn.execute(
            enterprises.insert(),
            [
                {
                    "id": e,
                    "number": f"9133{n:014d}",
                    "name": e,
                    "kind": kind,
                    "district": d,
                    "local": True,
                    "created_at": now,
                }
                for n, (e, (kind, d)) in enumerate(ENTERPRISES.items())
            ],
        )
        await conn.execute(
            projects.insert(),
            [
                {
                    "id": p,
                    "permit_number": f"permit-{p}",
                    "name": p,
                    "district": d,
                    "address": "somewhere",
                    "gc_enterprise_id": gc,
                    "site_key_cipher": b"sealed",
                    "created_at": now,
                    "registered_at": now,
                }
                for p, d, gc in ((P1, D1, "ent-gc"), (P2, D2, "ent-out"))
            ],
        )
        await conn.execute(
            project_parties.insert(),
            [
                {"project_id": p, "enterprise_id": e, "role": r, "joined_at": now}
                for p, ps in PARTIES.items()
                for e, r in ps.items()
            ],
        )
        for n, (person, (employer, project, through)) in enumerate(PEOPLE.items()):
            id_number = synthetic_identity(rng).id_number
            id_numbers.append(id_number)
            await conn.execute(
                persons.insert().values(
                    id=person,
                    id_index=f"index-{n}",
                    id_cipher=b"sealed",
                    id_masked=id_number[:6] + "********" + id_number[-4:],
                    name=f"Worker {n}",
                    card_kind="resident",
                    enterprise_id=employer,
                    category="manager" if person in MANAGERS else "worker",
                    position="project manager" if person in MANAGERS else None,
                    registered_district=ENTERPRISES[employer][1],
                    created_at=now,
                )
            )
            await conn.execute(
                assignments.insert().values(
                    project_id=project,
                    person_id=person,
                    enterprise_id=through,
                    role="manager" if person in MANAGERS else "worker",
                    entry_date=date(2026, 1, 1),
                    credential_hash=credential(100 + n),
                    created_at=now,
                )
            )
        await conn.execute(
            gates.insert(),
            [{"device_id": LANE_OF[p], "project_id": p, "lane": "A1", "direction": "in", "name": "gate"} for p in (P1, P2)],
        )  # fmt: skip
    records = [
        make_event(
            seq, device_id=lane, project_id=P1 if lane == LANE_P1 else P2,
            granted=not label.startswith("anon"), person_id=None if label.startswith("anon") else label,
        )
        for (lane, seq), label in ACCESS.items()
    ]  # fmt: skip
    records += [
        make_lane_event(seq, LaneEventType.TAMPER, device_id=lane, project_id=P1 if lane == LANE_P1 else P2)
        for lane, seq in LANE_EVENTS
    ]
    await store.store_events(records)
    for device in sorted(ALL_LANES):
        await store.record_presence(
            PresenceStatus(device_id=device, state=PresenceState.ONLINE, generation=1, at=BASE_TIME)
        )
        await store.record_command(
            Command(
                command_id=SEEDED_COMMAND[device], device_id=device, action=Action.RESYNC,
                operator="m-operator", issued_at=BASE_TIME, expires_at=BASE_TIME.replace(hour=9),
            )
        )  # fmt: skip
    await store.dead_letter("sitegate/v1/up/lane-p1/event", "invalid AccessEvent", b"{}")
    return id_numbers


async def seed_audit(store: Store, principals: dict[str, Principal]) -> None:
    """One line by each account (target: its name in ACCOUNTS) and one by nobody logged in."""
    async with store.write("matrix audit") as conn:
        for who, principal in principals.items():
            await audit.record(conn, principal, SEED_ACTION, at=BASE_TIME, target=who)
        await audit.record(conn, None, SEED_ACTION, at=BASE_TIME, target=STRANGER, username=STRANGER)
