"""The small world the scope matrix (test_scope_matrix.py) runs in, its rows written with SQL.

Two districts; a general contractor, a subcontractor and a supervision firm (registered in the
other district) on project P1 (district D1); an outside general contractor's project P2 (district
D2), where the same subcontractor also works; people assigned through each enterprise, a manager
on each project; a lane per project and a spare lane at no gate; access events (one per person,
one unregistered card per project, a recent watchlist hit), lane events, a dead letter, a command
per lane, heartbeats; an account of every role, and an audit line by each; inspections,
rectification orders and credit deductions inside and outside each account's scope.

ID numbers are sealed under the app's own data key, and the projects' site keys too: the city
and district read ID numbers whole, and an assignment made over the API hashes under the site key.

The write half of the matrix gets fresh targets per request from the ``fresh_*`` helpers (an order
to answer, an assignment to end, a gate to remove...), and :func:`fingerprint` to show that a
refused write changed nothing.

The world is built as of :data:`NOW`, and the matrix's hub runs on a FakeClock at that instant:
what is "recent" (a watchlist hit, heartbeats), "overdue" or "today" is the same at any hour.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Table, text

from hardware.emulators.identities import synthetic_identity
from hub.auth import audit
from hub.auth.principal import Principal, Role
from hub.devices import command_log
from hub.events.journal import store_events
from hub.registry.vault import IdVault, mask
from hub.store import Store
from hub.store.schema import (
    accounts,
    assignments,
    audit_log,
    credit_deductions,
    device_commands,
    district_contacts,
    districts,
    enterprises,
    gates,
    heartbeat_history,
    inspections,
    order_actions,
    persons,
    project_parties,
    projects,
    rectification_orders,
    teams,
)
from provisioning.ca import generate_key, make_csr
from provisioning.enrolment import EnrolledGate, EnrolmentRequest
from provisioning.ledger import LEDGER_NAME
from provisioning.registrar import Registrar
from tests.hub.factories import BASE_TIME, credential, make_event, make_lane_event
from tests.support.clock import site_time
from wire.commands import Action, Command
from wire.models import (
    AccessEvent,
    CardKind,
    Decision,
    Direction,
    LaneEventType,
    PresenceState,
    PresenceStatus,
    Reason,
)

NOW = site_time(2026, 6, 1, 10, 0, 0)
"""The world's instant, and its hub's: a month after the world's day (BASE_TIME), past PAST."""
D1, D2 = "330102", "330106"
P1, P2 = "P-0001", "P-0002"
LANE_P1, LANE_P2, LANE_SPARE, LANE_GHOST = "lane-p1", "lane-p2", "lane-spare", "lane-ghost"

ENTERPRISES = {  # id: (kind, district)
    "ent-gc": ("general_contractor", D1),
    "ent-sub": ("labour_subcontractor", D1),
    "ent-sup": ("supervision", D2),  # registered in D2, works on D1's project
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
REGISTERED_IN = {person: ENTERPRISES[employer][1] for person, (employer, _, _) in PEOPLE.items()}
_numbers = random.Random(7)
ID_NUMBERS = {person: synthetic_identity(_numbers).id_number for person in PEOPLE}
"""Each person's (synthetic) ID number, known before the world is built: a lookup's body names one."""
UNREGISTERED_NUMBER = synthetic_identity(random.Random(99)).id_number
WATCHLISTED = frozenset({"per-sub2"})
# Access events: (lane, seq) -> label; the person is the label's, None for an unregistered card.
ACCESS = {
    (LANE_P1, 1): "per-gc1",
    (LANE_P1, 2): "per-sub1",
    (LANE_P1, 3): "per-sup1",
    (LANE_P1, 4): "anon-p1",
    (LANE_P2, 1): "per-sub2",
    (LANE_P2, 2): "per-out1",
    (LANE_P2, 3): "anon-p2",
    (LANE_P2, 5): "per-sub2",  # refused an hour before the world was built: a watchlist hit
}
WATCHLIST_HIT = (LANE_P2, 5)
LANE_EVENTS = {(LANE_P1, 5): "tamper-p1", (LANE_P2, 4): "tamper-p2"}
MANAGERS = frozenset({"per-gc1", "per-out1"})
"""Registered and assigned as managers (the rest are workers)."""
LANE_OF = {P1: LANE_P1, P2: LANE_P2}
SEEDED_COMMAND = {LANE_P1: "a1" * 16, LANE_P2: "b2" * 16, LANE_SPARE: "c3" * 16}
HEARTBEATS = {LANE_P1: 3, LANE_P2: 2, LANE_SPARE: 1}
"""Points of each lane's heartbeat history, in the last minutes before the world was built."""

FAR, PAST = date(2099, 12, 31), date(2026, 5, 10)
ORDERS: dict[str, tuple[str | None, str | None, str, date]] = {
    # subject: (project, enterprise, overseeing district, deadline); all issued on the world's day
    "o-p1": (P1, None, D1, FAR),
    "o-p2": (P2, None, D2, PAST),  # open past its deadline: overdue
    "o-sub": (None, "ent-sub", D1, PAST),  # overdue too
    "o-out": (None, "ent-out", D2, FAR),
}
DEDUCTIONS: dict[str, tuple[str | None, str | None, str | None, str]] = {
    # reason: (enterprise, person, project, district); all on the world's day
    "d-sub": ("ent-sub", None, None, D1),
    "d-sub-p1": ("ent-sub", None, P1, D1),
    "d-sub-p2": ("ent-sub", None, P2, D2),
    "d-gc1": (None, "per-gc1", P1, D1),
    "d-out1": (None, "per-out1", P2, D2),
}
INSPECTIONS = {"i-p1": (P1, "supervision_project"), "i-p2": (P2, "city")}
"""findings: (project, the account that filed it)."""

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


async def build(store: Store, vault: IdVault | None = None) -> None:
    """The world's rows, written with SQL (and the store's own writes for events, presence,
    commands and a dead letter). ``vault``: the app's, when the app is to open what is sealed."""
    vault = vault or IdVault(bytes(32))
    now = datetime(2026, 4, 1, tzinfo=UTC)
    async with store.write("matrix world") as conn:
        await conn.execute(
            districts.insert(), [{"code": D1, "name": "Shangcheng"}, {"code": D2, "name": "Xihu"}]
        )
        for n, (e, (kind, d)) in enumerate(ENTERPRISES.items()):
            await insert_enterprise(conn, e, kind, d, number=f"9133{n:014d}", at=now)
        for p, d, gc in ((P1, D1, "ent-gc"), (P2, D2, "ent-out")):
            await insert_project(conn, vault, p, d, gc, at=now, registered=True)
        await conn.execute(
            project_parties.insert(),
            [
                {"project_id": p, "enterprise_id": e, "role": r, "joined_at": now}
                for p, ps in PARTIES.items()
                for e, r in ps.items()
                if r != "general_contractor"  # insert_project made those
            ],
        )
        for n, (person, (employer, project, through)) in enumerate(PEOPLE.items()):
            id_number = ID_NUMBERS[person]
            await conn.execute(
                persons.insert().values(
                    id=person,
                    id_index=vault.blind_index(id_number),
                    id_cipher=vault.seal_id(person, id_number),
                    id_masked=mask(id_number),
                    name=f"Worker {n}",
                    card_kind="resident",
                    enterprise_id=employer,
                    category="manager" if person in MANAGERS else "worker",
                    position="project_manager" if person in MANAGERS else None,
                    registered_district=REGISTERED_IN[person],
                    watchlisted=person in WATCHLISTED,
                    watchlist_reason="matrix" if person in WATCHLISTED else None,
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
        for p in (P1, P2):
            await insert_gate(conn, LANE_OF[p], p)
    await store_events(store, _events())
    for device in sorted(ALL_LANES):
        online = PresenceStatus(device_id=device, state=PresenceState.ONLINE, generation=1, at=BASE_TIME)
        await store.record_presence(online, received_at=BASE_TIME)  # long silent: gates offline
        async with store.write("seed a command") as conn:  # as CommandDesk.issue records one
            await command_log.record(conn, Command(
                command_id=SEEDED_COMMAND[device], device_id=device, action=Action.RESYNC,
                operator="m-operator", issued_at=BASE_TIME, expires_at=BASE_TIME.replace(hour=9),
            ))  # fmt: skip
    await store.dead_letter("sitegate/v1/up/lane-p1/event", "invalid AccessEvent", b"{}")


def _events() -> list[Any]:
    project_of = {LANE_P1: P1, LANE_P2: P2}
    records: list[Any] = [
        make_event(
            seq, device_id=lane, project_id=project_of[lane],
            granted=not label.startswith("anon"), person_id=None if label.startswith("anon") else label,
        )
        for (lane, seq), label in ACCESS.items()
        if (lane, seq) != WATCHLIST_HIT
    ]  # fmt: skip
    lane, seq = WATCHLIST_HIT
    hit = make_event(seq, device_id=lane, project_id=project_of[lane], wall_time=NOW - timedelta(hours=1))
    records.append(
        AccessEvent.model_validate(
            hit.model_dump()
            | {"decision": Decision.DENIED, "reason": Reason.WATCHLISTED, "person_id": ACCESS[WATCHLIST_HIT]}
        )
    )
    records += [
        make_lane_event(seq, LaneEventType.TAMPER, device_id=lane, project_id=project_of[lane])
        for lane, seq in LANE_EVENTS
    ]
    return records


@dataclass(frozen=True)
class Seeded:
    """What the world's records were given by the database: the orders' ids by subject."""

    orders: dict[str, int]


async def seed_records(store: Store, principals: dict[str, Principal]) -> Seeded:
    """Once the accounts exist: an audit line by each account (target: its name in ACCOUNTS) and
    one by nobody logged in; inspections, orders, deductions; the lanes' recent heartbeats."""
    city = principals["city"]
    async with store.write("matrix records") as conn:
        for who, principal in principals.items():
            await audit.record(conn, principal, SEED_ACTION, at=BASE_TIME, target=who)
        await audit.record(conn, None, SEED_ACTION, at=BASE_TIME, target=STRANGER, username=STRANGER)
        for findings, (project, who) in INSPECTIONS.items():
            await conn.execute(
                inspections.insert().values(
                    project_id=project, account_id=principals[who].account_id,
                    inspected_on=BASE_TIME.date(), findings=findings, created_at=BASE_TIME,
                )
            )  # fmt: skip
        orders = {
            subject: await insert_order(conn, city, subject, project, enterprise, district, deadline)
            for subject, (project, enterprise, district, deadline) in ORDERS.items()
        }
        for reason, (enterprise, person, project, district) in DEDUCTIONS.items():
            await conn.execute(
                credit_deductions.insert().values(
                    district=district, enterprise_id=enterprise, person_id=person, project_id=project,
                    points=2, reason=reason, deducted_at=BASE_TIME, account_id=city.account_id,
                    deducted_by=city.username,
                )
            )  # fmt: skip
        minute = NOW.replace(second=0, microsecond=0)
        await conn.execute(
            heartbeat_history.insert(),
            [
                {
                    "device_id": device, "minute": minute - timedelta(minutes=5 + k), "received_at": minute,
                    "journal_backlog": 0, "roster_version": 1, "clock_synced": True, "clock_skew_s": 0.0,
                    "readers_ok": True, "cpu_temp_c": None, "free_disk_mb": 100.0,
                }
                for device, points in HEARTBEATS.items()
                for k in range(points)
            ],
        )  # fmt: skip
    return Seeded(orders)


# -- rows, for the world and for the write cells' fresh targets ---------------------------------------


async def insert_enterprise(
    conn: Any, enterprise_id: str, kind: str, district: str, *, number: str, at: datetime
) -> None:
    await conn.execute(
        enterprises.insert().values(
            id=enterprise_id, number=number, name=enterprise_id, kind=kind, district=district,
            local=True, created_at=at,
        )
    )  # fmt: skip


async def insert_project(
    conn: Any, vault: IdVault, project_id: str, district: str, gc: str, *, at: datetime, registered: bool
) -> None:
    """As the registry makes one: a sealed site key, the general contractor a party from the start."""
    await conn.execute(
        projects.insert().values(
            id=project_id, permit_number=f"permit-{project_id}", name=project_id, district=district,
            address="somewhere", gc_enterprise_id=gc,
            site_key_cipher=vault.seal_site_key(project_id, vault.new_site_key()),
            created_at=at, registered_at=at if registered else None,
        )
    )  # fmt: skip
    await conn.execute(
        project_parties.insert().values(
            project_id=project_id, enterprise_id=gc, role="general_contractor", joined_at=at
        )
    )


async def insert_gate(conn: Any, device_id: str, project_id: str) -> None:
    await conn.execute(
        gates.insert().values(
            device_id=device_id, project_id=project_id, lane="A1", direction="in", name="gate"
        )
    )


async def insert_order(
    conn: Any,
    issuer: Principal,
    subject: str,
    project: str | None,
    enterprise: str | None,
    district: str,
    deadline: date,
    *,
    responded: bool = False,
) -> int:
    result = await conn.execute(
        rectification_orders.insert().values(
            district=district, project_id=project, enterprise_id=enterprise, subject=subject,
            requirements="put it right", deadline=deadline, status="responded" if responded else "open",
            issued_at=BASE_TIME, issuer_account_id=issuer.account_id, issued_by=issuer.username,
            responded_at=BASE_TIME if responded else None,
        )
    )  # fmt: skip
    return int(result.inserted_primary_key[0])


# The write cells' own targets, inserted on the caller's connection (tests.hub.scope_matrix.writes
# makes every cell of a write's at once, in one transaction).


async def fresh_enterprise(conn: Any, enterprise_id: str, kind: str, district: str) -> None:
    await insert_enterprise(
        conn, enterprise_id, kind, district, number=f"fresh-{enterprise_id}", at=BASE_TIME
    )


async def fresh_project(conn: Any, vault: IdVault, project_id: str, district: str, gc: str) -> None:
    """A permit's project, not yet registered (报备) by its general contractor."""
    await insert_project(conn, vault, project_id, district, gc, at=BASE_TIME, registered=False)


async def fresh_assignment(conn: Any, project: str, person: str, through: str, day: date) -> int:
    """One day on ``project``: a day no other assignment of the person there covers."""
    result = await conn.execute(
        assignments.insert().values(
            project_id=project, person_id=person, enterprise_id=through, role="worker",
            entry_date=day, exit_date=day, credential_hash=credential(9), created_at=BASE_TIME,
        )
    )  # fmt: skip
    return int(result.inserted_primary_key[0])


async def fresh_team(conn: Any, team_id: str, project: str, enterprise: str) -> str:
    """A team (班组) of ``enterprise`` on ``project``, with no leader and no members."""
    await conn.execute(
        teams.insert().values(
            id=team_id, project_id=project, enterprise_id=enterprise, name=team_id, created_at=BASE_TIME
        )
    )
    return team_id


async def fresh_order(
    conn: Any, issuer: Principal, subject: str, project: str | None, enterprise: str | None, district: str,
    *, responded: bool = False,
) -> int:  # fmt: skip
    return await insert_order(conn, issuer, subject, project, enterprise, district, FAR, responded=responded)


def enrolled(registrar: Registrar, device_id: str, project_id: str) -> int:
    """The serial of ``device_id``'s one live certificate: the one it holds, else a new one, as its
    enrolment would leave it. (Enrolling again would only supersede a live one, leaving the same
    shape, at the cost of a key, a CSR, a signature and the broker's CRL and ACL rewritten.)"""
    live = [
        c.serial for c in registrar.ledger.certificates() if c.device_id == device_id and c.revoked_at is None
    ]
    if live:
        [serial] = live
        return serial
    gate = EnrolledGate(device_id, project_id, "A1", Direction.IN)
    issued = registrar.issue_token(gate, issued_by="matrix", now=NOW)
    csr = make_csr(device_id, generate_key()).decode()
    registrar.enrol(EnrolmentRequest(token=issued.token, csr=csr), site_key=bytes(32), now=NOW)
    return max(
        c.serial for c in registrar.ledger.certificates() if c.device_id == device_id and c.revoked_at is None
    )


def fresh_number(slot: int) -> str:
    """An ID number nobody in the world has, one per write cell."""
    number = synthetic_identity(random.Random(f"matrix-{slot}"), kind=CardKind.RESIDENT).id_number
    assert number not in ID_NUMBERS.values() and number != UNREGISTERED_NUMBER
    return number


# -- what a refused write must leave alone ---------------------------------------------------------

WRITTEN_BY_THE_API: tuple[Table, ...] = (
    districts, enterprises, persons, projects, project_parties, assignments, gates, accounts,
    audit_log, inspections, rectification_orders, order_actions, credit_deductions, device_commands, teams,
    district_contacts,
)  # fmt: skip
"""Every table an API write changes (the roster tables are left out: the roster publisher writes
them in the background after an allowed write, whenever it gets to it)."""


WRITES_LOG = "matrix_writes"
"""A table of the test's own in the write world: a row per row any statement inserts, updates or
deletes in :data:`WRITTEN_BY_THE_API`, written by triggers in the writing transaction (so a write
rolled back leaves none)."""


def _watch_statements(dialect: str) -> list[str]:
    """The DDL that makes the database log every row written to the watched tables: row-level
    triggers (a cascade's rows too; a TRUNCATE too on PostgreSQL)."""
    if dialect == "postgresql":
        return [
            f"CREATE TABLE {WRITES_LOG} (id bigserial PRIMARY KEY, table_name text NOT NULL)",
            f"CREATE FUNCTION {WRITES_LOG}_row() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN INSERT INTO {WRITES_LOG} (table_name) VALUES (TG_TABLE_NAME); RETURN NULL; END $$",
            *(
                statement
                for table in WRITTEN_BY_THE_API
                for statement in (
                    f"CREATE TRIGGER {WRITES_LOG}_rows AFTER INSERT OR UPDATE OR DELETE ON {table.name}"
                    f" FOR EACH ROW EXECUTE FUNCTION {WRITES_LOG}_row()",
                    f"CREATE TRIGGER {WRITES_LOG}_truncate AFTER TRUNCATE ON {table.name}"
                    f" FOR EACH STATEMENT EXECUTE FUNCTION {WRITES_LOG}_row()",
                )
            ),
            f"CREATE INDEX {WRITES_LOG}_by_table ON {WRITES_LOG} (table_name)",
        ]
    return [
        f"CREATE TABLE {WRITES_LOG} (id INTEGER PRIMARY KEY AUTOINCREMENT, table_name TEXT NOT NULL)",
        *(
            f"CREATE TRIGGER {WRITES_LOG}_{table.name}_{op.lower()} AFTER {op} ON {table.name}"
            f" BEGIN INSERT INTO {WRITES_LOG} (table_name) VALUES ('{table.name}'); END"
            for table in WRITTEN_BY_THE_API
            for op in ("INSERT", "UPDATE", "DELETE")
        ),
        f"CREATE INDEX {WRITES_LOG}_by_table ON {WRITES_LOG} (table_name)",
    ]


async def watch_writes(store: Store) -> None:
    """From now on every row written to :data:`WRITTEN_BY_THE_API` is logged (:func:`fingerprint`)."""
    async with store.write("matrix: watch writes") as conn:
        for statement in _watch_statements(store.dialect_name):
            await conn.execute(text(statement))


_WRITES_BY_TABLE = f"SELECT table_name, count(*) FROM {WRITES_LOG} GROUP BY table_name"

WrittenCounts = Callable[[], Awaitable[dict[str, int]]]
"""How many rows of each watched table were ever written, by table name (tables never written: absent)."""


@contextlib.asynccontextmanager
async def written_counts(store: Store) -> AsyncIterator[WrittenCounts]:
    """:data:`WrittenCounts` of the world's database, asked over a connection of the test's own,
    opened once: one round trip each (through the hub's store each was a pooled connection, a BEGIN,
    the SELECT and a ROLLBACK, every step of it a hand-off to aiosqlite's thread; on SQLite a
    synchronous query on the stdlib's driver now). Autocommit: it sees what was committed, no
    snapshot held between two counts, as the store's reads saw."""
    url = store.engine.url
    if store.dialect_name == "postgresql":
        pg = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))

        async def from_postgres() -> dict[str, int]:
            return {str(name): int(count) for name, count in await pg.fetch(_WRITES_BY_TABLE)}

        try:
            yield from_postgres
        finally:
            await pg.close()
        return
    lite = sqlite3.connect(str(url.database), isolation_level=None, check_same_thread=False)

    async def from_sqlite() -> dict[str, int]:
        return {str(name): int(count) for name, count in lite.execute(_WRITES_BY_TABLE)}

    try:
        yield from_sqlite
    finally:
        lite.close()


async def fingerprint(written: WrittenCounts, ca_directory: Path) -> dict[str, Any]:
    """How many rows of each of :data:`WRITTEN_BY_THE_API` were ever written (once
    :func:`watch_writes` runs: one small query, where comparing every row's text made the
    matrix's writes cost a scan of every table twice), and the enrolment ledger's bytes. Equal
    before and after a request: no row of those tables was inserted, updated or deleted (a stricter
    test than the rows reading the same)."""
    counts = await written()
    ledger = ca_directory / LEDGER_NAME
    return {table.name: counts.get(table.name, 0) for table in WRITTEN_BY_THE_API} | {
        "enrolment ledger": ledger.read_bytes() if ledger.exists() else None
    }
