"""The city of bench/city.py as rows: districts, general contractors, projects with their sealed
site keys, gates and enrolled devices, people with sealed ID numbers, assignments with their
credential hashes, and the enterprise accounts that make the rush's registry changes.

Loaded straight into PostgreSQL with COPY (asyncpg), the hub's own sealing (hub.registry.vault)
and hashing (wire.credential) applied to each row: 600,000 people through the API would take
hours, and the API's registration path is proven by the other benches and the tests. Only the
writes made *during* the rush go through the hub's API, since those are what is measured.

Everything is a pure function of the sizes and the index: a lane process computes the people of
its project (ID numbers, credential hashes) from :class:`City` alone, without a copy of the rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import NormalDist
from typing import Any

import asyncpg

from hub.auth.passwords import hash_password
from hub.registry.uscc import with_check_character
from hub.registry.vault import IdVault, mask
from wire.credential import credential_hash
from wire.idnumber import with_check_digit

DISTRICTS = 13
SIGMA_SHARE = 1 / 6
"""The rush's arrivals: a normal curve centred mid-rush, σ a sixth of it (15 of 90 minutes)."""
PASSWORD = "city-bench-password-01"
"""Every bench account's password (synthetic world)."""
ENTRY_DAYS_AGO = 30


@dataclass(frozen=True)
class City:
    """The sizes; every name and number below follows from them and an index."""

    lanes: int
    projects: int
    people: int
    assigned: int

    def district(self, n: int) -> str:
        return f"3301{n + 10:02d}"

    def gc_id(self, district: int) -> str:
        return f"ent-gc-{district:02d}"

    def gc_number(self, district: int) -> str:
        return with_check_character(f"91330100MA2C{district:05d}")

    def project_id(self, p: int) -> str:
        return f"P-CITY-{p:05d}"

    def project_district(self, p: int) -> int:
        return p % DISTRICTS

    def site_key(self, p: int) -> bytes:
        """Deterministic so the lanes can compute their roster's hashes (a synthetic world only)."""
        return hashlib.sha256(f"city-bench-site-key-{p}".encode()).digest()

    def device_id(self, n: int) -> str:
        return f"lane-c{n:05d}"

    def lane_project(self, n: int) -> int:
        return n % self.projects

    def lanes_of(self, p: int) -> list[int]:
        return list(range(p, self.lanes, self.projects))

    def person_id(self, i: int) -> str:
        return f"per-{i:07d}"

    def id_number(self, i: int) -> str:
        born = date(1960, 1, 1) + timedelta(days=i // 900)
        return with_check_digit(f"330106{born:%Y%m%d}{i % 900 + 100:03d}")

    def person_project(self, i: int) -> int:
        """The project of an assigned person (``i < assigned``); the unassigned ones are assigned
        during the rush to a project of their district (:meth:`person_district`)."""
        return i % self.projects

    def person_district(self, i: int) -> int:
        return self.project_district(self.person_project(i)) if i < self.assigned else i % DISTRICTS

    def digest(self, i: int, p: int) -> str:
        return credential_hash(self.site_key(p), self.id_number(i))

    def assigned_to(self, p: int) -> range:
        """The people assigned to project ``p`` before the rush."""
        return range(p, self.assigned, self.projects)


def arrival_share(i: int) -> float:
    """Where in the rush (0..1) person ``i`` enters, by a fixed quantile of the index (no state
    shared between processes)."""
    u = (((i * 2654435761) % 2**32) + 0.5) / 2**32
    return min(1.0, max(0.0, 0.5 + SIGMA_SHARE * NormalDist().inv_cdf(u)))


def _rows_persons(city: City, vault: IdVault, now: datetime) -> Iterator[tuple[Any, ...]]:
    for i in range(city.people):
        number, pid = city.id_number(i), city.person_id(i)
        yield (
            pid,
            vault.blind_index(number),
            vault.seal_id(pid, number),
            mask(number),
            f"工人{i}",
            "resident",
            city.gc_id(city.person_district(i)),
            "worker",
            now,
        )


async def load(dsn: str, city: City, data_key: bytes) -> None:
    """Every row of the city, in one transaction (the schema is the hub's, already migrated)."""
    vault = IdVault(data_key)
    now = datetime.now(UTC)
    entry = now.date() - timedelta(days=ENTRY_DAYS_AGO)
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "districts",
                records=[(city.district(d), f"区{d}") for d in range(DISTRICTS)],
                columns=["code", "name"],
            )
            await conn.copy_records_to_table(
                "enterprises",
                records=[
                    (
                        city.gc_id(d),
                        city.gc_number(d),
                        f"总包{d}",
                        "general_contractor",
                        city.district(d),
                        True,
                        now,
                    )
                    for d in range(DISTRICTS)
                ],
                columns=["id", "number", "name", "kind", "district", "local", "created_at"],
            )
            await conn.copy_records_to_table(
                "projects",
                records=[
                    (
                        city.project_id(p),
                        f"3301{p:010d}",
                        f"工地{p}",
                        city.district(city.project_district(p)),
                        f"{p} 路",
                        city.gc_id(city.project_district(p)),
                        now,
                        vault.seal_site_key(city.project_id(p), city.site_key(p)),
                        now,
                    )
                    for p in range(city.projects)
                ],
                columns=[
                    "id",
                    "permit_number",
                    "name",
                    "district",
                    "address",
                    "gc_enterprise_id",
                    "registered_at",
                    "site_key_cipher",
                    "created_at",
                ],
            )
            await conn.copy_records_to_table(
                "project_parties",
                records=[
                    (city.project_id(p), city.gc_id(city.project_district(p)), "general_contractor", now)
                    for p in range(city.projects)
                ],
                columns=["project_id", "enterprise_id", "role", "joined_at"],
            )
            await conn.copy_records_to_table(
                "gates",
                records=[
                    (city.device_id(n), city.project_id(city.lane_project(n)), f"L{n}", "both", f"闸机{n}")
                    for n in range(city.lanes)
                ],
                columns=["device_id", "project_id", "lane", "direction", "name"],
            )
            await conn.copy_records_to_table(
                "devices",
                records=[(city.device_id(n), now - timedelta(days=1)) for n in range(city.lanes)],
                columns=["device_id", "enrolled_at"],
            )
            await conn.copy_records_to_table(
                "persons",
                records=_rows_persons(city, vault, now),
                columns=[
                    "id",
                    "id_index",
                    "id_cipher",
                    "id_masked",
                    "name",
                    "card_kind",
                    "enterprise_id",
                    "category",
                    "created_at",
                ],
            )
            await conn.copy_records_to_table(
                "assignments",
                records=(
                    (
                        i + 1,
                        city.project_id(city.person_project(i)),
                        city.person_id(i),
                        city.gc_id(city.person_district(i)),
                        "worker",
                        entry,
                        city.digest(i, city.person_project(i)),
                        now,
                    )
                    for i in range(city.assigned)
                ),
                columns=[
                    "id",
                    "project_id",
                    "person_id",
                    "enterprise_id",
                    "role",
                    "entry_date",
                    "credential_hash",
                    "created_at",
                ],
            )
            await conn.execute(
                "SELECT setval(pg_get_serial_sequence('assignments', 'id'),"
                " (SELECT max(id) FROM assignments))"
            )
            hashed = hash_password(PASSWORD)
            await conn.copy_records_to_table(
                "accounts",
                records=[
                    (city.gc_number(d), hashed, "enterprise", city.gc_id(d), f"总包{d}", now)
                    for d in range(DISTRICTS)
                ],
                columns=["username", "password_hash", "role", "enterprise_id", "display_name", "created_at"],
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
