"""A synthetic registry for the demo and the benches: the same ``seed`` makes the same world.

Everything goes through :class:`~hub.registry.Registry`, each write as the notice's account that
would make it (the city records districts, enterprises and permits; each general contractor
registers its projects (报备) and their parties; the project departments assign people), so a
seeded hub has the audit lines, accounts, sealed ID numbers and credential hashes a real one has.

The people are invented: names from short lists, ID numbers with valid GB 11643 check digits
built here from :mod:`wire.idnumber` (hardware's identity emulator would pull the controller
package into the hub). Some projects stay unregistered, some assignments have ended and two people
are watchlisted, so statistics and lanes have each case to show.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

from hub.auth.principal import Principal
from hub.refusals import DistrictExists
from hub.registry.models import (
    AccountIn,
    AssignmentIn,
    DistrictIn,
    EnterpriseIn,
    EnterpriseKind,
    GateDirection,
    GateIn,
    PartyIn,
    PartyRole,
    PersonCategory,
    PersonIn,
    Position,
    ProjectIn,
    RegistrationIn,
    WatchlistIn,
)
from hub.registry.records import Enterprise
from hub.registry.registry import RegistryDesk
from hub.registry.uscc import with_check_character
from wire.idnumber import with_check_digit

DISTRICTS: Final = {
    "330102": "上城区",
    "330105": "拱墅区",
    "330106": "西湖区",
    "330108": "滨江区",
    "330109": "萧山区",
    "330110": "余杭区",
}
SEED_PASSWORD: Final = "sitegate-seed-2026"  # noqa: S105 - synthetic worlds, printed for the demo
"""Every seeded account's password: the demo logs in with it. Synthetic worlds only."""

_SURNAMES: Final = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱")
_GIVEN: Final = ("伟", "芳", "敏", "静", "磊", "洋", "勇", "杰", "涛", "明", "建国", "秀英", "志强", "海峰")
_STREETS: Final = ("文三路", "古墩路", "丰潭路", "江南大道", "市心路", "文一西路", "秋涛路")
# (kind, local) of the enterprises every seed has; serials make their credit codes.
_ENTERPRISES: Final = (
    (EnterpriseKind.GENERAL_CONTRACTOR, True, "建设集团"),
    (EnterpriseKind.GENERAL_CONTRACTOR, True, "建工集团"),
    (EnterpriseKind.GENERAL_CONTRACTOR, False, "外地建设集团"),
    (EnterpriseKind.PROFESSIONAL_SUBCONTRACTOR, True, "幕墙工程公司"),
    (EnterpriseKind.PROFESSIONAL_SUBCONTRACTOR, True, "机电安装公司"),
    (EnterpriseKind.PROFESSIONAL_SUBCONTRACTOR, False, "外地钢结构公司"),
    (EnterpriseKind.LABOUR_SUBCONTRACTOR, True, "劳务有限公司"),
    (EnterpriseKind.LABOUR_SUBCONTRACTOR, True, "建筑劳务公司"),
    (EnterpriseKind.LABOUR_SUBCONTRACTOR, False, "外地劳务公司"),
    (EnterpriseKind.SUPERVISION, True, "工程监理公司"),
    (EnterpriseKind.SUPERVISION, False, "外地监理咨询公司"),
)
_MANAGER_POSITIONS: Final = {
    EnterpriseKind.GENERAL_CONTRACTOR: (
        Position.PROJECT_MANAGER,
        Position.TECHNICAL_LEAD,
        Position.SAFETY_OFFICER,
        Position.QUALITY_OFFICER,
        Position.CONSTRUCTION_WORKER_LEAD,
    ),
    EnterpriseKind.PROFESSIONAL_SUBCONTRACTOR: (Position.CONSTRUCTION_WORKER_LEAD, Position.SAFETY_OFFICER),
    EnterpriseKind.LABOUR_SUBCONTRACTOR: (Position.LABOUR_OFFICER,),
    EnterpriseKind.SUPERVISION: (Position.CHIEF_SUPERVISOR, Position.SUPERVISOR_ENGINEER),
}
_ASSIGNMENT_ROLE: Final = {EnterpriseKind.SUPERVISION: "supervisor"}
MIN_PROJECTS: Final = 4
WATCHLISTED: Final = 2


@dataclass(frozen=True, slots=True)
class SeededPerson:
    person_id: str
    id_number: str = field(repr=False)
    """Synthetic; for the demo's virtual cards."""
    name: str = field(repr=False)
    birth_date: date
    enterprise_id: str
    projects: tuple[str, ...]
    """The projects the person has an assignment on (ended ones included)."""
    watchlisted: bool


@dataclass(frozen=True, slots=True)
class SeedSummary:
    districts: tuple[str, ...]
    enterprises: tuple[str, ...]
    registered_projects: tuple[str, ...]
    unregistered_projects: tuple[str, ...]
    people: tuple[SeededPerson, ...]
    assignments: int
    gates: int
    accounts: Mapping[str, str]
    """username -> role of every account the seed made; each with :data:`SEED_PASSWORD`."""


async def seed_registry(
    registry: RegistryDesk,
    principal: Principal,
    *,
    people: int = 300,
    seed: int = 2026,
    gates: Mapping[str, Sequence[str]] | None = None,
    today: date = date(2026, 5, 1),
) -> SeedSummary:
    """A world for ``principal`` (a city account) to look after; ``gates`` names the projects
    (by the id their lanes are provisioned with) and the devices at their gates, which are always
    registered. ``today`` places assignment dates, so a seed is the same whenever it runs."""
    rng = random.Random(seed)
    planted = _Planter(registry, principal, rng, today)
    districts = await planted.districts()
    enterprises = await planted.enterprises()
    registered, unregistered = await planted.projects(dict(gates or {}))
    persons = await planted.people(people)
    await planted.watchlist(persons)
    placed = await planted.gates(dict(gates or {}))
    return SeedSummary(
        districts=districts,
        enterprises=tuple(e.id for e in enterprises),
        registered_projects=registered,
        unregistered_projects=unregistered,
        people=tuple(persons),
        assignments=planted.assignments,
        gates=placed,
        accounts=dict(planted.accounts),
    )


class _Planter:
    """The seed's steps, sharing one random stream (their order is part of the seed)."""

    def __init__(self, registry: RegistryDesk, city: Principal, rng: random.Random, today: date) -> None:
        self._registry = registry
        self._city = city
        self._rng = rng
        self._today = today
        self._enterprises: list[Enterprise] = []
        self._parties: dict[str, list[Enterprise]] = {}
        self._departments: dict[str, Principal] = {}
        self._numbers: set[str] = set()
        self.accounts: dict[str, str] = {}
        self.assignments = 0

    async def districts(self) -> tuple[str, ...]:
        for code, name in DISTRICTS.items():
            with contextlib.suppress(DistrictExists):  # a hub that already knows its districts
                await self._registry.acting_for(self._city).create_district(DistrictIn(code=code, name=name))
        return tuple(DISTRICTS)

    async def enterprises(self) -> list[Enterprise]:
        codes = sorted(DISTRICTS)
        for serial, (kind, local, suffix) in enumerate(_ENTERPRISES, start=1):
            district = self._rng.choice(codes)
            # 9 (industry and commerce) 1 (company), the division, "MA" and a serial: a plausible code.
            number = with_check_character(f"91{district}MA{self._rng.randrange(10**5):05d}{serial:02d}")
            name = f"{DISTRICTS[district].removesuffix('区')}{suffix}"
            data = EnterpriseIn(
                number=number, name=name, kind=kind, district=district, local=local, password=SEED_PASSWORD
            )
            self._enterprises.append(await self._registry.acting_for(self._city).create_enterprise(data))
            self.accounts[number] = "enterprise"
        return self._enterprises

    async def projects(self, gates: dict[str, Sequence[str]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The gated projects first (registered), then enough others for a third to stay unregistered."""
        ids = list(gates)
        total = max(MIN_PROJECTS, len(ids) + (len(ids) + 1) // 2)
        ids += [f"seed-p{n:02d}" for n in range(1, total - len(ids) + 1)]
        unregistered_from = max(len(gates), total - total // 3)
        contractors = self._of(EnterpriseKind.GENERAL_CONTRACTOR)
        registered: list[str] = []
        for n, project_id in enumerate(ids):
            gc = contractors[n % len(contractors)]
            district = self._rng.choice(sorted(DISTRICTS))
            street = f"{self._rng.choice(_STREETS)}{self._rng.randrange(1, 300)}号"
            issued = self._today - timedelta(days=self._rng.randrange(30, 400))
            data = ProjectIn(
                id=project_id,
                permit_number=f"{district}{issued:%Y%m%d}{n + 1:02d}01",
                name=f"{self._rng.choice(_STREETS)}{n + 1}号地块项目",
                district=district,
                address=f"浙江省杭州市{DISTRICTS[district]}{street}",
                gc_enterprise_id=gc.id,
                permit_issued_on=issued,
            )
            await self._registry.acting_for(self._city).create_project(data)
            if n < unregistered_from:
                await self._register(project_id, gc)
                registered.append(project_id)
        return tuple(registered), tuple(ids[len(registered) :])

    async def _register(self, project_id: str, gc: Enterprise) -> None:
        """报备 as the GC, then its department registers one subcontractor of each kind and a supervisor."""
        stem = project_id[:48]
        gc_account = await self._registry.account_principal(gc.number)
        await self._registry.acting_for(gc_account).register_project(
            project_id, RegistrationIn(account=self._account(f"{stem}-gc", "gc_project"))
        )
        department = await self._registry.account_principal(f"{stem}-gc")
        self._departments[project_id] = department
        parties = [gc]
        chosen = (
            (
                self._rng.choice(self._of(EnterpriseKind.LABOUR_SUBCONTRACTOR)),
                PartyRole.SUBCONTRACTOR,
                "labour",
                "sub_project",
            ),
            (
                self._rng.choice(self._of(EnterpriseKind.PROFESSIONAL_SUBCONTRACTOR)),
                PartyRole.SUBCONTRACTOR,
                "special",
                "sub_project",
            ),
            (
                self._rng.choice(self._of(EnterpriseKind.SUPERVISION)),
                PartyRole.SUPERVISION,
                "supervision",
                "supervision_project",
            ),
        )
        for enterprise, role, suffix, account_role in chosen:
            account = self._account(f"{stem}-{suffix}", account_role)
            await self._registry.acting_for(department).add_party(
                project_id, PartyIn(enterprise_id=enterprise.id, role=role, account=account)
            )
            parties.append(enterprise)
        self._parties[project_id] = parties

    async def people(self, count: int) -> list[SeededPerson]:
        """Workers of the subcontractors (85 %) and managers of every kind; most are put on a
        project where their enterprise is a party, some of those assignments already ended."""
        seeded = []
        for _ in range(count):
            enterprise = self._rng.choice(self._enterprises)
            kind = EnterpriseKind(enterprise.kind)
            manager = (
                kind in (EnterpriseKind.GENERAL_CONTRACTOR, EnterpriseKind.SUPERVISION)
                or self._rng.random() < 0.15
            )
            number, born = self._id_number()
            name = self._rng.choice(_SURNAMES) + self._rng.choice(_GIVEN)
            data = PersonIn(
                card_kind="resident",
                id_number=number,
                name=name,
                nation="汉",
                birth_date=born,
                enterprise_id=enterprise.id,
                category=PersonCategory.MANAGER if manager else PersonCategory.WORKER,
                position=self._rng.choice(_MANAGER_POSITIONS[kind]) if manager else None,
            )
            person = await self._registry.acting_for(self._city).register_person(data)
            projects = await self._assign(person.id, enterprise, "manager" if manager else "worker")
            seeded.append(
                SeededPerson(person.id, number, name, born, enterprise.id, projects, watchlisted=False)
            )
        return seeded

    async def _assign(self, person_id: str, enterprise: Enterprise, role: str) -> tuple[str, ...]:
        candidates = [p for p, parties in self._parties.items() if enterprise in parties]
        if not candidates or self._rng.random() < 0.1:
            return ()  # registered, not (yet) on any site
        project_id = self._rng.choice(sorted(candidates))
        entry = self._today - timedelta(days=self._rng.randrange(0, 200))
        ended = self._rng.random() < 0.15
        exit_date = entry + timedelta(days=self._rng.randrange(0, 60)) if ended else None
        data = AssignmentIn(
            person_id=person_id,
            enterprise_id=enterprise.id,
            role=_ASSIGNMENT_ROLE.get(EnterpriseKind(enterprise.kind), role),
            entry_date=entry,
            exit_date=exit_date,
        )
        await self._registry.acting_for(self._departments[project_id]).assign(project_id, data)
        self.assignments += 1
        return (project_id,)

    async def watchlist(self, persons: list[SeededPerson]) -> None:
        on_site = [i for i, p in enumerate(persons) if p.projects]
        for index in sorted(self._rng.sample(on_site, min(WATCHLISTED, len(on_site)))):
            person = persons[index]
            await self._registry.acting_for(self._city).set_watchlist(
                person.person_id, WatchlistIn(flag=True, reason="证件核查中（演示）")
            )
            persons[index] = dataclasses.replace(person, watchlisted=True)

    async def gates(self, gates: dict[str, Sequence[str]]) -> int:
        placed = 0
        for project_id, devices in gates.items():
            for n, device_id in enumerate(devices, start=1):
                direction = GateDirection.OUT if n % 2 == 0 else GateDirection.IN  # a lone lane: in
                data = GateIn(device_id=device_id, lane=f"lane-{n}", direction=direction, name=f"{n}号通道")
                await self._registry.acting_for(self._city).place_gate(project_id, data)
                placed += 1
        return placed

    def _of(self, kind: EnterpriseKind) -> list[Enterprise]:
        return [e for e in self._enterprises if e.kind == kind.value]

    def _account(self, username: str, role: str) -> AccountIn:
        self.accounts[username] = role
        return AccountIn(username=username, password=SEED_PASSWORD)

    def _id_number(self) -> tuple[str, date]:
        """A fresh synthetic GB 11643 number (Hangzhou district, 1965-2004 birth) and its birth date."""
        while True:
            born = date(1965, 1, 1) + timedelta(days=self._rng.randrange(40 * 365))
            region = self._rng.choice(sorted(DISTRICTS))
            number = with_check_digit(f"{region}{born:%Y%m%d}{self._rng.randrange(1, 1000):03d}")
            if number not in self._numbers:
                self._numbers.add(number)
                return number, born
