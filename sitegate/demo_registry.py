"""The demo's hub registry: a synthetic city and the scripted shift's people, written through the
hub's own :class:`~hub.registry.Registry` into the hub's database before the hub starts.

The city comes from :func:`hub.registry.seed.seed_registry`: districts, enterprises of every kind
(local and from outside the city), projects with and without 报备, a few hundred people, and the
demo's project, registered, with its parties and its lanes at its gates. Then, as the notice's
accounts would: the city registers the shift's people (managers of the project's general
contractor, workers of its labour subcontractor, visitors from its specialist subcontractor), the
project department assigns each with the dates or the pass window of its case, and the city puts
one on the watchlist. Each registered project's department sets its site rules (hub.site_rules):
the defaults, and on the demo's project hard anti-passback with the workers' hours laid around the
demo's clock. The hub, started next on the same database and data key, compiles each project's
roster from these rows with its rules, signs it and pushes it to the lanes; nothing here touches a
lane, and no lane's configuration holds a policy of the demo's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

from hub.auth.principal import Principal
from hub.registry import IdVault, Page, RegistryDesk, load_data_key
from hub.registry.models import (
    AssignmentIn,
    EnterpriseKind,
    GateIn,
    PersonCategory,
    PersonIn,
    Position,
    WatchlistIn,
)
from hub.registry.records import Enterprise
from hub.registry.seed import seed_registry
from hub.registry.team_models import AssignmentTeamIn, TeamIn
from hub.rosters.registry_source import RegistrySource
from hub.site_rules import DEFAULT_RULES, SiteRulesIn
from hub.store import Store
from sitegate.demo_script import Shift, ShiftPerson
from wire.roles import RosterRole

T = TypeVar("T")
WATCHLIST_REASON = "证件核查中（演示）"
_KINDS = {
    EnterpriseKind.GENERAL_CONTRACTOR: "general contractors",
    EnterpriseKind.PROFESSIONAL_SUBCONTRACTOR: "professional subcontractors",
    EnterpriseKind.LABOUR_SUBCONTRACTOR: "labour subcontractors",
    EnterpriseKind.SUPERVISION: "supervision firms",
}
_EMPLOYER = {
    "manager": EnterpriseKind.GENERAL_CONTRACTOR,
    "worker": EnterpriseKind.LABOUR_SUBCONTRACTOR,
    "visitor": EnterpriseKind.PROFESSIONAL_SUBCONTRACTOR,
}
_TEAMS = {"worker": "钢筋班组", "manager": "项目管理班组"}
"""The shift's teams: the workers' named for their trade (the platform's 工种 is read off it)."""
_POSITIONS = (Position.PROJECT_MANAGER, Position.SAFETY_OFFICER, Position.TECHNICAL_LEAD)


@dataclass(frozen=True, slots=True)
class Populated:
    accounts: Mapping[str, str]
    """username -> role of every account the seed made (each with ``SEED_PASSWORD``)."""
    department: str
    """The demo project's general-contractor department account: it asks for enrolment tokens."""
    summary: tuple[str, ...]
    """What the registry holds, read back as the city, for the demo's printout."""


async def populate(
    database_url: str,
    data_key: Path,
    city_account: str,
    shift: Shift,
    gates: Sequence[GateIn],
    *,
    seed: int,
    people: int,
    today: date,
    worker_hours: str | None = None,
    fast_hash: bool = False,
) -> Populated:
    """The world, the shift's people and the project's gates, as ``city_account`` (a city station
    account that already exists) and the accounts the seed hands out; every registered project's
    site rules, the demo's with ``worker_hours`` (the default hours when not given).

    ``fast_hash``: the seed's accounts hashed with argon2's cheap parameters, for tests' worlds
    (the demo keeps production's, below; a hub rehashes an account at its first login)."""
    async with await Store.open(database_url) as store:
        # Production argon2 parameters from the start (issue 13): a cheap hash until first login
        # made those accounts answer a wrong password faster than others, telling them apart.
        registry = RegistryDesk(store, IdVault(load_data_key(data_key)), fast_hash=fast_hash)
        city = await registry.account_principal(city_account)
        devices = {shift.project_id: [gate.device_id for gate in gates]}
        seeded = await seed_registry(registry, city, people=people, seed=seed, gates=devices, today=today)
        for gate in gates:  # the seed numbers its lanes; the demo's have their own names
            await registry.acting_for(city).place_gate(shift.project_id, gate)
        department = await _register_shift(registry, city, shift)
        await _set_site_rules(registry, city, shift.project_id, worker_hours)
        summary = await _summary(registry, store, city, shift.project_id, gates)
    return Populated(seeded.accounts, department.username, summary)


async def _register_shift(registry: RegistryDesk, city: Principal, shift: Shift) -> Principal:
    """Each person registered by the city and assigned by the project department; the department."""
    parties = await registry.acting_for(city).parties(shift.project_id)
    firms: dict[str, Enterprise] = {}
    department: Principal | None = None
    for party in parties:
        enterprise = await registry.acting_for(city).enterprise(party.enterprise_id)
        firms.setdefault(enterprise.kind, enterprise)
        if party.role == EnterpriseKind.GENERAL_CONTRACTOR and party.account is not None:
            department = await registry.account_principal(party.account)
    if department is None:
        raise RuntimeError(f"project {shift.project_id} has no general contractor's department account")
    managers = 0
    teams: dict[str, str] = {}
    for person in shift.people:
        employer = firms[_EMPLOYER[person.role]]
        position = None
        if person.role == "manager":
            position, managers = _POSITIONS[managers % len(_POSITIONS)], managers + 1
        registered = await registry.acting_for(city).register_person(_person_in(person, employer, position))
        assignment = AssignmentIn(
            person_id=registered.id,
            enterprise_id=employer.id,
            role=person.role,
            entry_date=person.entry_date,
            exit_date=person.exit_date,
            pass_from=person.pass_from,
            pass_until=person.pass_until,
        )
        assigned = await registry.acting_for(department).assign(shift.project_id, assignment)
        if person.role in _TEAMS:  # 班组: what the worker platform registers people in (hub.platform)
            if person.role not in teams:
                team_in = TeamIn(enterprise_id=employer.id, name=_TEAMS[person.role])
                teams[person.role] = (
                    await registry.acting_for(department).create_team(shift.project_id, team_in)
                ).id
            await registry.acting_for(department).put_in_team(
                assigned.id, AssignmentTeamIn(team_id=teams[person.role])
            )
        if person.watchlisted:
            await registry.acting_for(city).set_watchlist(
                registered.id, WatchlistIn(flag=True, reason=WATCHLIST_REASON)
            )
    return department


async def _set_site_rules(
    registry: RegistryDesk, city: Principal, demo_project: str, worker_hours: str | None
) -> None:
    """Each registered project's rules, set by its general contractor's department as in the console."""
    for project in await registry.acting_for(city).projects(registered=True):
        rules = DEFAULT_RULES
        if project.id == demo_project and worker_hours is not None:
            hours = {RosterRole.WORKER: worker_hours}
            rules = SiteRulesIn.model_validate({**DEFAULT_RULES.model_dump(), "working_hours": hours})
        for party in await registry.acting_for(city).parties(project.id):
            if party.role == EnterpriseKind.GENERAL_CONTRACTOR and party.account is not None:
                department = await registry.account_principal(party.account)
                await registry.acting_for(department).set_site_rules(project.id, rules)


def _person_in(person: ShiftPerson, employer: Enterprise, position: Position | None) -> PersonIn:
    card = person.card
    return PersonIn(
        card_kind=card.kind.value,
        id_number=card.id_number,
        name=card.name,
        nation=card.nation or None,
        birth_date=card.birth_date,
        enterprise_id=employer.id,
        category=PersonCategory.MANAGER if position is not None else PersonCategory.WORKER,
        position=position,
    )


async def _every(read: Callable[[str | None], Awaitable[Page[T]]]) -> list[T]:
    found: list[T] = []
    cursor: str | None = None
    while True:
        page = await read(cursor)
        found += page.items
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


async def _summary(
    registry: RegistryDesk, store: Store, city: Principal, project_id: str, gates: Sequence[GateIn]
) -> tuple[str, ...]:
    districts = await registry.acting_for(city).districts()
    firms = await _every(lambda cursor: registry.acting_for(city).enterprises(cursor=cursor, limit=100))
    kinds = Counter(EnterpriseKind(firm.kind) for firm in firms)
    outside = sum(not firm.local for firm in firms)
    registered = await registry.acting_for(city).projects(registered=True)
    unregistered = await registry.acting_for(city).projects(registered=False)
    people = await _every(lambda cursor: registry.acting_for(city).persons(cursor=cursor, limit=100))
    categories = Counter(person.category for person in people)
    watchlisted = sum(person.watchlisted for person in people)
    source = RegistrySource(store)
    entries, listed = await source.entries(project_id), await source.watchlist(project_id)
    by_kind = ", ".join(f"{kinds[kind]} {label}" for kind, label in _KINDS.items())
    lanes = ", ".join(f"{g.device_id} ({g.lane}, {g.direction or g.kind})" for g in gates)
    return (
        f"{len(districts)} districts; {len(firms)} enterprises: {by_kind} ({outside} from outside the city)",
        f"{len(registered) + len(unregistered)} projects: {len(registered)} registered (报备), "
        f"{len(unregistered)} not; {len(people)} people: {categories['worker']} workers, "
        f"{categories['manager']} managers, {watchlisted} watchlisted",
        f"project {project_id}: {len(entries)} on its roster ({len(listed)} watchlisted); lanes {lanes}",
    )
