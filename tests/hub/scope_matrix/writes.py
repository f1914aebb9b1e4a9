"""The scope matrix's writes: ``WRITES``, one row per write (what each account let in gets, what a
write made, and who finds it afterwards)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from hub.registry import mask
from hub.registry.uscc import with_check_character
from tests.hub.scope_matrix.reads import DAY, ORDER, PERSON, PROJECT, World
from tests.hub.scope_matrix.seen import FULL, INSPECTORS, MASKED, WHOLE_NUMBERS, allowed
from tests.hub.scope_world import (
    D1,
    D2,
    ID_NUMBERS,
    LANE_GHOST,
    LANE_P1,
    LANE_P2,
    LANE_SPARE,
    NOW,
    P1,
    P2,
    WHO,
    enrolled,
    fresh_assignment,
    fresh_enterprise,
    fresh_number,
    fresh_order,
    fresh_project,
    fresh_team,
    insert_gate,
    username,
)
from tests.support.accounts import TEST_PASSWORD

# ---------------------------------------------------------------------------------------------
# The oracle of the writes
# ---------------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One write by one account: ``slot`` makes what it writes its own (a fresh code, number,
    device, day), ``values`` what its ``prepare`` made for it (an order to answer...)."""

    who: str
    slot: int
    world: World
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def day(self) -> str:
        return (date(2030, 1, 1) + timedelta(days=self.slot)).isoformat()


Prepare = Callable[["World", Cell], Awaitable[dict[str, Any]]]
"""What a cell needs before its write, made when the cell runs (the enrolment ledger's live
certificate: an earlier cell's revocation changes it)."""


@dataclass(frozen=True)
class Rows:
    """What a cell needs before its write that is only rows of the cell's own (a project, an
    enterprise, a gate, an assignment, a team, an order): inserted on the connection given, for
    every cell of the write at once, in one transaction, when the first of them runs
    (:func:`prepared`; a transaction per cell cost three times the inserts)."""

    insert: Callable[[Any, World, Cell], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Seen:
    """Where to look for what a write made, and what each account should find there."""

    probe: Callable[[Any, Cell], str]
    """The GET, from the write's answer."""
    found: Callable[[Any, Any, Cell], Any]
    """What the probe's answer shows of it (None: not there); from (that answer, the write's answer)."""
    by: Callable[[str], dict[str, Any]]
    """Per writer: the accounts that find it, and what they find; the others find nothing."""


@dataclass(frozen=True)
class Write:
    name: str
    method: str
    path: str
    """Formatted with the cell's ``values``."""
    route: str
    expect: dict[str, int]
    body: Callable[[Cell], dict[str, Any]] | None = None
    prepare: Prepare | Rows | None = None
    made: Callable[[Any, Cell], None] | None = None
    """Asserts on the answer to an allowed write."""
    seen: Seen | None = None
    numbers: frozenset[str] = frozenset()
    """World persons whose whole ID numbers the city's and the district's answers carry."""


def fixed(body: dict[str, Any]) -> Callable[[Cell], dict[str, Any]]:
    return lambda cell: body


def by_everyone(found: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
    return lambda who: found


def seers(*who: str) -> Callable[[str], dict[str, Any]]:
    return by_everyone(dict.fromkeys(who, True))


def is_in(listing: str, key: str, made: Callable[[Any, Cell], Any]) -> Callable[[Any, Any, Cell], Any]:
    """True when a listing's items hold the record (its ``key`` equal to ``made(answer, cell)``)."""
    return lambda body, answer, cell: (made(answer, cell) in {i[key] for i in body[listing]}) or None


def the(key: str) -> Callable[[Any, Cell], Any]:
    return lambda answer, cell: answer[key]


P1_READERS = (
    "city",
    "district",
    "enterprise_gc",
    "enterprise_sub",
    "gc_project",
    "sub_project",
    "supervision_project",
)
DEADLINE = (NOW.date() + timedelta(days=30)).isoformat()


def _enterprise(district: str) -> Callable[[Cell], dict[str, Any]]:
    return lambda c: {
        "number": with_check_character(f"91{district}MA{c.slot:07d}"), "name": f"e{c.slot}",
        "kind": "labour_subcontractor", "district": district, "local": True, "password": TEST_PASSWORD,
    }  # fmt: skip


def _person(enterprise: str, category: str = "worker") -> Callable[[Cell], dict[str, Any]]:
    return lambda c: {
        "card_kind": "resident", "id_number": fresh_number(c.slot), "name": f"p{c.slot}",
        "enterprise_id": enterprise, "category": category,
        **({"position": "safety_officer"} if category == "manager" else {}),
    }  # fmt: skip


def _registered(answer: Any, cell: Cell) -> None:
    number = fresh_number(cell.slot)
    whole = cell.who in WHOLE_NUMBERS
    assert (answer["id_number"], answer["id_number_masked"]) == (
        (number, False) if whole else (mask(number), True)
    )


def _person_found(body: Any, answer: Any, cell: Cell) -> Any:
    number = fresh_number(cell.slot)
    return {(number, False): FULL, (mask(number), True): MASKED}.get(
        (body["id_number"], body["id_number_masked"])
    )


PERSON_SEEN = Seen(lambda a, c: f"/api/v1/persons/{a['id']}", _person_found, lambda who: {})


def _seen_person(**found: str) -> Seen:
    return Seen(PERSON_SEEN.probe, PERSON_SEEN.found, by_everyone(found))


def _project(district: str, gc: str) -> Callable[[Cell], dict[str, Any]]:
    return lambda c: {
        "id": f"P-W{c.slot}", "permit_number": f"permit-w{c.slot}", "name": f"w{c.slot}", "district": district,
        "address": "somewhere", "gc_enterprise_id": gc, "permit_issued_on": DAY,
    }  # fmt: skip


def _project_seen(*who: str) -> Seen:
    return Seen(lambda a, c: f"/api/v1/projects/{a['id']}", lambda b, a, c: True, seers(*who))


def _district(answer: Any, cell: Cell) -> None:
    assert answer == {"code": f"39{cell.slot:04d}", "name": "matrix"}


def _registration(answer: Any, cell: Cell) -> None:
    assert answer["id"] == cell.values["project"] and answer["registered_at"] is not None


def _ended(answer: Any, cell: Cell) -> None:
    assert (answer["id"], answer["exit_date"]) == (cell.values["assignment"], cell.values["day"])


def _overseen_by_the_issuer(answer: Any, cell: Cell) -> None:
    """An order to an enterprise is the issuing bureau's to oversee; the city's, the enterprise's own."""
    assert answer["district"] == {"city": D2, "district": D1}[cell.who]


def _unregistered(district: str, gc: str) -> Rows:
    async def insert(conn: Any, world: World, cell: Cell) -> dict[str, Any]:
        await fresh_project(conn, world.vault, f"P-R{cell.slot}", district, gc)
        return {"project": f"P-R{cell.slot}"}

    return Rows(insert)


async def _subcontractor(conn: Any, world: World, cell: Cell) -> dict[str, Any]:
    await fresh_enterprise(conn, f"ent-w{cell.slot}", "labour_subcontractor", D1)
    return {"enterprise": f"ent-w{cell.slot}"}


_new_subcontractor = Rows(_subcontractor)


def _account(cell: Cell) -> dict[str, str]:
    return {"username": f"w-{cell.slot}", "password": TEST_PASSWORD}


def _assign(person: str, through: str) -> Callable[[Cell], dict[str, Any]]:
    return lambda c: {
        "person_id": person, "enterprise_id": through, "role": "worker", "entry_date": c.day, "exit_date": c.day,
    }  # fmt: skip


def _assignment_seen(project: str, person: str, *who: str) -> Seen:
    probe = f"/api/v1/projects/{project}/assignments?person_id={person}&limit=500"
    return Seen(lambda a, c: probe, is_in("items", "id", the("id")), seers(*who))


def _holding(project: str, person: str, through: str) -> Rows:
    """A one-day assignment to end, on a day (2040 on) no other assignment of the person covers."""

    async def insert(conn: Any, world: World, cell: Cell) -> dict[str, Any]:
        day = date(2040, 1, 1) + timedelta(days=cell.slot)
        return {
            "assignment": await fresh_assignment(conn, project, person, through, day),
            "day": day.isoformat(),
        }

    return Rows(insert)


def _gate(cell: Cell) -> dict[str, Any]:
    return {"device_id": f"lane-w{cell.slot}", "lane": f"W{cell.slot}", "direction": "in", "name": "matrix"}


def _gate_seen(project: str, *who: str) -> Seen:
    return Seen(
        lambda a, c: f"/api/v1/projects/{project}/gates",
        is_in("items", "device_id", the("device_id")),
        seers(*who),
    )


def _placed(project: str) -> Rows:
    async def insert(conn: Any, world: World, cell: Cell) -> dict[str, Any]:
        await insert_gate(conn, f"lane-x{cell.slot}", project)
        return {"device": f"lane-x{cell.slot}"}

    return Rows(insert)


def _gone(project: str) -> Seen:
    """After a removal, nobody finds the gate."""
    found = is_in("items", "device_id", lambda answer, cell: cell.values["device"])
    return Seen(lambda a, c: f"/api/v1/projects/{project}/gates", found, by_everyone({}))


def _order(**target: str) -> Callable[[Cell], dict[str, Any]]:
    return lambda c: {
        **target,
        "subject": f"w-{c.slot}",
        "requirements": "put it right",
        "deadline": DEADLINE,
    }


def _order_seen(by: Callable[[str], dict[str, Any]]) -> Seen:
    return Seen(
        lambda a, c: f"/api/v1/rectification-orders/{a['id']}",
        lambda b, a, c: b["subject"] == a["subject"],
        by,
    )


def _open_order(
    project: str | None, enterprise: str | None, district: str, *, responded: bool = False
) -> Rows:
    async def insert(conn: Any, world: World, cell: Cell) -> dict[str, Any]:
        issuer = world.principals["city"]
        subject = f"w-{cell.slot}"
        return {
            "order": await fresh_order(
                conn, issuer, subject, project, enterprise, district, responded=responded
            )
        }

    return Rows(insert)


def _status(status: str) -> Callable[[Any, Cell], None]:
    def made(answer: Any, cell: Cell) -> None:
        assert (answer["id"], answer["status"]) == (cell.values["order"], status)

    return made


def _deduct(**target: Any) -> Callable[[Cell], dict[str, Any]]:
    return lambda c: {**target, **c.values, "points": 1, "reason": f"w-{c.slot}"}


def _deduction_seen(*who: str) -> Seen:
    return Seen(
        lambda a, c: "/api/v1/credit-deductions?limit=500", is_in("items", "id", the("id")), seers(*who)
    )


def _bulletin(kind: str, party: str) -> Callable[[Cell], dict[str, Any]]:
    return lambda c: {
        "kind": "criticism", "title": f"w-{c.slot}", "body": "x", "parties": [{"kind": kind, "id": party}],
    }  # fmt: skip


def _bulletin_seen(by: Callable[[str], dict[str, Any]]) -> Seen:
    """Found by opening the 通报 itself (404 for an account outside it)."""
    return Seen(
        lambda a, c: f"/api/v1/bulletins/{a['id']}", lambda body, a, c: body["id"] == a["id"] or None, by
    )


def _sanction(subject: str) -> Callable[[Cell], dict[str, Any]]:
    return lambda c: {
        "subject_kind": "project", "subject_id": subject, "reason": f"w-{c.slot}", "starts_on": c.day, "ends_on": c.day,
    }  # fmt: skip


def _sanction_seen(subject: str, *who: str) -> Seen:
    return Seen(
        lambda a, c: f"/api/v1/sanctions?subject_kind=project&subject_id={subject}&date={c.day}",
        is_in("items", "id", the("id")),
        seers(*who),
    )


def _inspection(project: str, kind: str) -> Callable[[Cell], dict[str, Any]]:
    items = ("network", "filing", "card_reads", "attendance", "managers_present", "employment")
    return lambda c: {
        "project_id": project, "kind": kind, "inspected_on": DAY, "findings": f"w-{c.slot}",
        "checklist": {item: {"ok": True} for item in items},
    }  # fmt: skip


def _inspection_seen(*who: str) -> Seen:
    """Found by opening the inspection (404 outside the project's scope)."""
    return Seen(
        lambda a, c: f"/api/v1/inspections/{a['id']}",
        lambda body, a, c: body["id"] == a["id"] or None,
        seers(*who),
    )


async def _hidden_order(world: World, cell: Cell) -> dict[str, Any]:
    return {"order_id": world.seeded.orders["o-p2"]}


def _enrolled(device: str, project: str) -> Prepare:
    async def prepare(world: World, cell: Cell) -> dict[str, Any]:
        return {"serial": str(enrolled(world.registrar, device, project))}

    return prepare


def _revoked(device: str) -> Callable[[Any, Cell], None]:
    def made(answer: Any, cell: Cell) -> None:
        assert (answer["device_id"], answer["revoked_serials"]) == (device, [cell.values["serial"]])
        assert answer["hub_refuses"] is True
        assert answer["broker"].startswith("CRL and ACL written")  # 200 only once the broker was told

    return made


def _token_for(device: str) -> Callable[[Any, Cell], None]:
    """The token shown once is the ledger's, for the gate of the account's own project."""

    def made(answer: Any, cell: Cell) -> None:
        record = cell.world.registrar.check(answer["token"], NOW)
        assert (answer["device_id"], record.gate.device_id, record.gate.project_id) == (device, device, P1)

    return made


def _answer_is(**expected: Any) -> Callable[[Any, Cell], None]:
    def made(answer: Any, cell: Cell) -> None:
        assert {k: answer[k] for k in expected} == expected

    return made


REVOCATION = "/api/v1/devices/{device_id}/revocation"
CONTACTS = "/api/v1/district-contacts/{district}/{role}"


def _contact(cell: Cell) -> dict[str, Any]:
    """The cell's own phone number: what the readers look for."""
    return {"name": f"联系人{cell.slot}", "title": "科员", "phone": f"0571-{cell.slot:08d}"}


SITE_RULES = f"{PROJECT}/site-rules"


def _site_rules(cell: Cell) -> dict[str, Any]:
    """The cell's own permit number: what the readers look for."""
    night = {"permit": f"NW-{cell.slot}", "first_date": DAY, "last_date": DAY, "hours": "22:00-06:00"}
    return {"anti_passback": "soft", "accept_uid_only": False, "working_hours": {}, "night_work": [night]}


def _rules_by(answer: Any, cell: Cell) -> None:
    assert (answer["updated_by"], datetime.fromisoformat(answer["updated_at"])) == (username(cell.who), NOW)


def _permit_found(body: Any, answer: Any, cell: Cell) -> Any:
    return [night["permit"] for night in body["night_work"]] == [f"NW-{cell.slot}"] or None


def _platform(cell: Cell) -> dict[str, Any]:
    """The cell's own project code: what the readers look for."""
    return {"variant": "national", "endpoint": "http://127.0.0.1:9/api", "project_code": f"PC-{cell.slot}",
            "appid": "app", "appsecret": "0123456789abcdef0123456789abcdef", "enabled": False}  # fmt: skip


def _platform_by(answer: Any, cell: Cell) -> None:
    shown = answer["settings"]
    assert (shown["updated_by"], shown["appsecret_set"]) == (username(cell.who), True)
    assert "appsecret" not in shown  # write-only


def _code_found(body: Any, answer: Any, cell: Cell) -> Any:
    return (body["settings"] or {}).get("project_code") == f"PC-{cell.slot}" or None


def _completed_on(cell: Cell) -> str:
    """A day of the cell's own, not after the world's today (the hub's clock)."""
    return (NOW.date() - timedelta(days=cell.slot)).isoformat()


def _completion(cell: Cell) -> dict[str, Any]:
    return {"completed_on": _completed_on(cell)}


def _completion_found(body: Any, answer: Any, cell: Cell) -> Any:
    return (
        body["completed_on"] == _completed_on(cell) and body["kept_until"] == answer["kept_until"]
    ) or None


def _team_of(project: str, enterprise: str) -> Rows:
    async def insert(conn: Any, world: World, cell: Cell) -> dict[str, Any]:
        return {"team": await fresh_team(conn, f"team-w{cell.slot}", project, enterprise)}

    return Rows(insert)


def _teamed(project: str, person: str, through: str, team_enterprise: str) -> Rows:
    """A one-day assignment (as :func:`_holding`) and a team for it, of ``team_enterprise``."""
    held, team = _holding(project, person, through), _team_of(project, team_enterprise)

    async def insert(conn: Any, world: World, cell: Cell) -> dict[str, Any]:
        return {**await held.insert(conn, world, cell), **await team.insert(conn, world, cell)}

    return Rows(insert)


def _team_seen(project: str, *who: str) -> Seen:
    return Seen(
        lambda a, c: f"/api/v1/projects/{project}/teams", is_in("items", "id", the("id")), seers(*who)
    )


def _renamed(answer: Any, cell: Cell) -> None:
    assert (answer["id"], answer["name"]) == (cell.values["team"], f"r{cell.slot}")


def _in_team(answer: Any, cell: Cell) -> None:
    assert (answer["id"], answer["team_id"]) == (cell.values["assignment"], cell.values["team"])


TEAM, TEAMS = "/api/v1/teams/{team_id}", f"{PROJECT}/teams"
TEAMERS = ("gc_project", "sub_project")
ASSIGNERS = ("gc_project", "sub_project", "enterprise_sub")
PLACERS = ("city", "operator", "district", "gc_project")
GATES_P1 = (*P1_READERS, "operator")
ORDER_P1_READERS = (
    "city",
    "district",
    "enterprise_gc",
    "enterprise_sub",
    "gc_project",
    "supervision_project",
)

WRITES = [
    # The registry: districts (the city), enterprises (the city, a bureau in its district).
    Write("district", "POST", "/api/v1/districts", "/api/v1/districts", allowed({"city": 201}),
          lambda c: {"code": f"39{c.slot:04d}", "name": "matrix"}, made=_district),
    Write("district-taken", "POST", "/api/v1/districts", "/api/v1/districts", allowed({"city": 409}), fixed({"code": D1, "name": "x"})),
    Write("enterprise-in-D1", "POST", "/api/v1/enterprises", "/api/v1/enterprises", allowed({"city": 201, "district": 201}),
          _enterprise(D1), seen=Seen(lambda a, c: f"/api/v1/enterprises/{a['id']}", lambda b, a, c: True, seers("city", "district"))),
    Write("enterprise-in-D2", "POST", "/api/v1/enterprises", "/api/v1/enterprises", allowed({"city": 201, "district": 403}),
          _enterprise(D2), seen=Seen(lambda a, c: f"/api/v1/enterprises/{a['id']}", lambda b, a, c: True, seers("city", "district"))),
    # Persons: workers by the city or the employer's bureau; managers also by their own enterprise.
    Write("worker-of-ent-sub", "POST", "/api/v1/persons", "/api/v1/persons", allowed({"city": 201, "district": 201}),
          _person("ent-sub"), made=_registered, seen=_seen_person(city=FULL, district=FULL, enterprise_sub=MASKED)),
    Write("worker-of-ent-out", "POST", "/api/v1/persons", "/api/v1/persons", allowed({"city": 201, "district": 403}),
          _person("ent-out"), made=_registered, seen=_seen_person(city=FULL)),
    Write("manager-of-ent-gc", "POST", "/api/v1/persons", "/api/v1/persons",
          allowed({"city": 201, "district": 201, "enterprise_gc": 201}), _person("ent-gc", "manager"), made=_registered,
          seen=_seen_person(city=FULL, district=FULL, enterprise_gc=MASKED)),
    Write("person-registered-before", "POST", "/api/v1/persons", "/api/v1/persons", allowed({"city": 409, "district": 409}),
          fixed({"card_kind": "resident", "id_number": ID_NUMBERS["per-sub1"], "name": "x", "enterprise_id": "ent-sub", "category": "worker"})),
    *(
        Write(f"watchlist-{p}", "PUT", f"/api/v1/persons/{p}/watchlist", f"{PERSON}/watchlist", allowed(expect),
              fixed({"flag": True, "reason": "matrix"}), made=_answer_is(id=p, watchlisted=True, id_number_masked=False),
              numbers=frozenset({p}))
        for p, expect in (("per-sub1", {"city": 200, "district": 200}), ("per-out1", {"city": 200, "district": 404}))
    ),
    # Projects: a permit's project by the city or its district's bureau; 报备 by its general contractor.
    Write("project-in-D1", "POST", "/api/v1/projects", "/api/v1/projects", allowed({"city": 201, "district": 201}),
          _project(D1, "ent-gc"), seen=_project_seen("city", "district", "enterprise_gc")),
    Write("project-in-D2", "POST", "/api/v1/projects", "/api/v1/projects", allowed({"city": 201, "district": 403}),
          _project(D2, "ent-out"), seen=_project_seen("city")),
    Write("registration-by-its-gc", "POST", "/api/v1/projects/{project}/registration", f"{PROJECT}/registration",
          allowed({"enterprise_gc": 200}), lambda c: {"account": _account(c)}, _unregistered(D1, "ent-gc"),
          made=_registration),
    Write("registration-by-another", "POST", "/api/v1/projects/{project}/registration", f"{PROJECT}/registration",
          allowed({}), lambda c: {"account": _account(c)}, _unregistered(D2, "ent-out")),
    Write("registration-again", "POST", f"/api/v1/projects/{P1}/registration", f"{PROJECT}/registration",
          allowed({"enterprise_gc": 409}), lambda c: {"account": _account(c)}),
    # Parties: the general contractor's department, on its own project.
    *(
        Write(f"party-on-{p}", "POST", f"/api/v1/projects/{p}/parties", f"{PROJECT}/parties", allowed(expect),
              lambda c: {"enterprise_id": c.values["enterprise"], "role": "subcontractor", "account": _account(c)},
              _new_subcontractor,
              seen=Seen(lambda a, c: f"/api/v1/projects/{P1}/parties", is_in("items", "enterprise_id", the("enterprise_id")),
                        seers(*P1_READERS)))
        for p, expect in ((P1, {"gc_project": 201}), (P2, {}))
    ),
    Write("party-already", "POST", f"/api/v1/projects/{P1}/parties", f"{PROJECT}/parties", allowed({"gc_project": 409}),
          lambda c: {"enterprise_id": "ent-sub", "role": "subcontractor", "account": _account(c)}),
    # Assignments: the GC's department anyone through a party; a subcontractor its own staff through itself.
    Write("assign-on-P1-via-ent-sub", "POST", f"/api/v1/projects/{P1}/assignments", f"{PROJECT}/assignments",
          allowed(dict.fromkeys(ASSIGNERS, 201)), _assign("per-sub2", "ent-sub"), seen=_assignment_seen(P1, "per-sub2", *P1_READERS)),
    Write("assign-on-P2-via-ent-sub", "POST", f"/api/v1/projects/{P2}/assignments", f"{PROJECT}/assignments",
          allowed({"enterprise_sub": 201}), _assign("per-sub1", "ent-sub"), seen=_assignment_seen(P2, "per-sub1", "city", "enterprise_sub")),
    Write("assign-on-P1-via-ent-gc", "POST", f"/api/v1/projects/{P1}/assignments", f"{PROJECT}/assignments",
          allowed({"gc_project": 201}), _assign("per-out1", "ent-gc"),  # not ent-gc's staff: only the department may
          seen=_assignment_seen(P1, "per-out1", "city", "district", "enterprise_gc", "gc_project", "supervision_project")),
    Write("assign-via-no-party", "POST", f"/api/v1/projects/{P1}/assignments", f"{PROJECT}/assignments",
          allowed({"gc_project": 422}), _assign("per-out1", "ent-out")),
    *(
        Write(f"end-on-{p}-via-{via}", "PATCH", "/api/v1/assignments/{assignment}", "/api/v1/assignments/{assignment_id}",
              allowed(expect), lambda c: {"exit_date": c.values["day"]}, _holding(p, person, via),
              made=_ended)
        for p, person, via, expect in (
            (P1, "per-sub2", "ent-sub", {**dict.fromkeys(ASSIGNERS, 200)}),  # ent-gc sees it, but it is not its own
            (P1, "per-out1", "ent-gc", {"gc_project": 200, "enterprise_gc": 200, "sub_project": 404, "enterprise_sub": 404}),
            (P2, "per-sub1", "ent-sub", {"enterprise_sub": 200, "gc_project": 404, "sub_project": 404, "enterprise_gc": 404}),
            (P2, "per-gc1", "ent-out", {"enterprise_sub": 404, "gc_project": 404, "sub_project": 404, "enterprise_gc": 404}),
        )
    ),
    # Gates: the city, the operator, a bureau in its district, the GC's department on its project.
    Write("gate-on-P1", "POST", f"/api/v1/projects/{P1}/gates", f"{PROJECT}/gates", allowed(dict.fromkeys(PLACERS, 201)),
          _gate, seen=_gate_seen(P1, *GATES_P1)),
    Write("gate-on-P2", "POST", f"/api/v1/projects/{P2}/gates", f"{PROJECT}/gates",
          allowed({"city": 201, "operator": 201, "district": 403, "gc_project": 403}), _gate,
          seen=_gate_seen(P2, "city", "operator", "enterprise_sub")),
    Write("gate-placed-elsewhere", "POST", f"/api/v1/projects/{P1}/gates", f"{PROJECT}/gates", allowed(dict.fromkeys(PLACERS, 409)),
          fixed({"device_id": LANE_P2, "lane": "A2", "direction": "in", "name": "x"})),
    Write("ungate-on-P1", "DELETE", f"/api/v1/projects/{P1}/gates/{{device}}", f"{PROJECT}/gates/{{device_id}}",
          allowed(dict.fromkeys(PLACERS, 204)), prepare=_placed(P1), seen=_gone(P1)),
    Write("ungate-on-P2", "DELETE", f"/api/v1/projects/{P2}/gates/{{device}}", f"{PROJECT}/gates/{{device_id}}",
          allowed({"city": 204, "operator": 204, "district": 403, "gc_project": 403}), prepare=_placed(P2), seen=_gone(P2)),
    Write("ungate-elsewhere", "DELETE", f"/api/v1/projects/{P1}/gates/{LANE_P2}", f"{PROJECT}/gates/{{device_id}}",
          allowed(dict.fromkeys(PLACERS, 404))),
    # Inspections: the supervision firm's department, on its own project.
    *(
        Write(f"inspection-of-{p}", "POST", f"/api/v1/projects/{p}/inspections", f"{PROJECT}/inspections", allowed(expect),
              lambda c: {"inspected_on": DAY, "findings": f"w-{c.slot}"},
              seen=Seen(lambda a, c: f"/api/v1/projects/{P1}/inspections", is_in("items", "id", the("id")), seers(*INSPECTORS)))
        for p, expect in ((P1, {"supervision_project": 201}), (P2, {}))
    ),
    # Inspections by the authorities: a bureau in its district, the city anywhere, supervision routine ones on its own.
    Write("special-inspection-of-P1", "POST", "/api/v1/inspections", "/api/v1/inspections",
          allowed({"city": 201, "district": 201}), _inspection(P1, "special"), seen=_inspection_seen(*INSPECTORS)),
    Write("routine-inspection-of-P1", "POST", "/api/v1/inspections", "/api/v1/inspections",
          allowed({"city": 201, "district": 201, "supervision_project": 201}), _inspection(P1, "routine"),
          seen=_inspection_seen(*INSPECTORS)),
    Write("routine-inspection-of-P2", "POST", "/api/v1/inspections", "/api/v1/inspections",
          allowed({"city": 201}), _inspection(P2, "routine"), seen=_inspection_seen("city")),
    # Rectification orders: issued by the city or a bureau (in its district), answered by the recipient.
    Write("order-to-P1", "POST", "/api/v1/rectification-orders", "/api/v1/rectification-orders",
          allowed({"city": 201, "district": 201}), _order(project_id=P1), seen=_order_seen(seers(*ORDER_P1_READERS))),
    Write("order-to-P2", "POST", "/api/v1/rectification-orders", "/api/v1/rectification-orders",
          allowed({"city": 201, "district": 403}), _order(project_id=P2), seen=_order_seen(seers("city", "enterprise_sub"))),
    Write("order-to-ent-sup", "POST", "/api/v1/rectification-orders", "/api/v1/rectification-orders",
          allowed({"city": 201, "district": 201}), _order(enterprise_id="ent-sup"),  # registered in D2, works in D1
          made=_overseen_by_the_issuer,
          seen=_order_seen(lambda who: {"city": {"city": True}, "district": {"city": True, "district": True}}[who])),
    Write("order-to-ent-out", "POST", "/api/v1/rectification-orders", "/api/v1/rectification-orders",
          allowed({"city": 201, "district": 403}), _order(enterprise_id="ent-out"), seen=_order_seen(seers("city"))),
    *(
        Write(f"response-{name}", "POST", "/api/v1/rectification-orders/{order}/response", f"{ORDER}/response",
              allowed(expect), fixed({"response": "done"}), prepare, made=_status("responded"))
        for name, prepare, expect in (
            ("for-P1", _open_order(P1, None, D1), {"enterprise_gc": 200, "gc_project": 200}),  # ent-sub sees it: 403
            ("for-P2", _open_order(P2, None, D2), {"enterprise_gc": 404, "gc_project": 404}),
            ("for-ent-sub", _open_order(None, "ent-sub", D1), {"enterprise_sub": 200, "enterprise_gc": 404, "gc_project": 404}),
            ("twice", _open_order(P1, None, D1, responded=True), {"enterprise_gc": 409, "gc_project": 409}),
        )
    ),
    *(
        Write(f"review-{name}", "POST", "/api/v1/rectification-orders/{order}/review", f"{ORDER}/review",
              allowed(expect), fixed({"accept": True}), prepare, made=_status("closed"))
        for name, prepare, expect in (
            ("in-D1", _open_order(P1, None, D1, responded=True), {"city": 200, "district": 200}),
            ("in-D2", _open_order(P2, None, D2, responded=True), {"city": 200, "district": 404}),
            ("unanswered", _open_order(P1, None, D1), {"city": 409, "district": 409}),
        )
    ),
    # Credit deductions: by the city or a bureau, against an enterprise or a project leader it oversees.
    Write("deduction-from-ent-sub", "POST", "/api/v1/credit-deductions", "/api/v1/credit-deductions",
          allowed({"city": 201, "district": 201}), _deduct(enterprise_id="ent-sub"),
          seen=_deduction_seen("city", "district", "enterprise_sub")),
    Write("deduction-from-ent-out", "POST", "/api/v1/credit-deductions", "/api/v1/credit-deductions",
          allowed({"city": 201, "district": 403}), _deduct(enterprise_id="ent-out"), seen=_deduction_seen("city")),
    Write("deduction-from-a-leader-on-P1", "POST", "/api/v1/credit-deductions", "/api/v1/credit-deductions",
          allowed({"city": 201, "district": 201}), _deduct(person_id="per-gc1", project_id=P1),
          seen=_deduction_seen("city", "district", "enterprise_gc", "gc_project", "supervision_project")),
    Write("deduction-from-a-leader-on-P2", "POST", "/api/v1/credit-deductions", "/api/v1/credit-deductions",
          allowed({"city": 201, "district": 403}), _deduct(person_id="per-out1", project_id=P2), seen=_deduction_seen("city")),
    Write("deduction-on-a-D2-order", "POST", "/api/v1/credit-deductions", "/api/v1/credit-deductions",
          allowed({"city": 201, "district": 422}), _deduct(enterprise_id="ent-sub"), _hidden_order,  # the bureau cannot see the order
          seen=_deduction_seen("city", "district", "enterprise_sub")),  # ent-sub's own district oversees it
    # 通报: by the city or a bureau about what it oversees; read by the issuer and the parties named.
    Write("bulletin-about-P1", "POST", "/api/v1/bulletins", "/api/v1/bulletins", allowed({"city": 201, "district": 201}),
          _bulletin("project", P1), seen=_bulletin_seen(seers("city", "district", "gc_project", "sub_project", "supervision_project"))),
    Write("bulletin-about-P2", "POST", "/api/v1/bulletins", "/api/v1/bulletins", allowed({"city": 201, "district": 403}),
          _bulletin("project", P2), seen=_bulletin_seen(seers("city"))),
    Write("bulletin-about-ent-sub", "POST", "/api/v1/bulletins", "/api/v1/bulletins", allowed({"city": 201, "district": 201}),
          _bulletin("enterprise", "ent-sub"),  # a bureau reads the 通报 it issued, not the city's about an enterprise
          seen=_bulletin_seen(lambda writer: {"city": True, "enterprise_sub": True} | ({"district": True} if writer == "district" else {}))),
    # Sanctions: recorded like a 通报; asked about by every reader (about what its pages show).
    Write("sanction-on-P1", "POST", "/api/v1/sanctions", "/api/v1/sanctions", allowed({"city": 201, "district": 201}),
          _sanction(P1), seen=_sanction_seen(P1, *P1_READERS)),
    Write("sanction-on-P2", "POST", "/api/v1/sanctions", "/api/v1/sanctions", allowed({"city": 201, "district": 403}),
          _sanction(P2), seen=_sanction_seen(P2, *P1_READERS)),
    # The bureaus' contacts (the notice's annex): a bureau its own district's, the city any; read by the city and that bureau.
    *(
        Write(f"contacts-of-{d}", "PUT", f"/api/v1/district-contacts/{d}/daily_contact", CONTACTS, allowed(expect),
              _contact, seen=Seen(lambda a, c: "/api/v1/district-contacts", is_in("items", "phone", the("phone")), seers(*who)))
        for d, expect, who in ((D1, {"city": 200, "district": 200}, ("city", "district")), (D2, {"city": 200, "district": 403}, ("city",)))
    ),
    # Enrolment: tokens by the GC's department for its own gates; revocation by the operator, the city, that department.
    *(
        Write(f"token-for-{d}", "POST", "/api/v1/enrolment-tokens", "/api/v1/enrolment-tokens", allowed(expect),
              fixed({"device_id": d}), made=_token_for(d))
        for d, expect in ((LANE_P1, {"gc_project": 201}), (LANE_P2, {"gc_project": 404}), (LANE_SPARE, {"gc_project": 404}))
    ),
    *(
        Write(f"revoke-{d}", "POST", REVOCATION.format(device_id=d), REVOCATION, allowed(expect), fixed({}),
              _enrolled(d, P2 if d == LANE_P2 else P1), made=_revoked(d))
        for d, expect in (
            (LANE_P1, {"city": 200, "operator": 200, "gc_project": 200}),
            (LANE_P2, {"city": 200, "operator": 200, "gc_project": 404}),
            (LANE_SPARE, {"city": 200, "operator": 200, "gc_project": 404}),  # taken off its gate, still revocable
        )
    ),
    Write(f"revoke-{LANE_GHOST}", "POST", REVOCATION.format(device_id=LANE_GHOST), REVOCATION,  # unknown: 404, not 503
          allowed({"city": 404, "operator": 404, "gc_project": 404}), fixed({})),
    # Site rules: the GC's department on its own project, the operator on any; signed to the lanes with the roster.
    *(
        Write(f"site-rules-on-{p}", "PUT", f"/api/v1/projects/{p}/site-rules", SITE_RULES, allowed(expect), _site_rules,
              made=_rules_by, seen=Seen(lambda a, c, p=p: f"/api/v1/projects/{p}/site-rules", _permit_found, seers(*who)))
        for p, expect, who in (
            (P1, {"gc_project": 200, "operator": 200}, ("city", "district", "gc_project", "supervision_project", "operator")),
            (P2, {"gc_project": 403, "operator": 200}, ("city", "operator")),
        )
    ),
    Write("site-rules-of-no-project", "PUT", "/api/v1/projects/P-0009/site-rules", SITE_RULES,
          allowed({"gc_project": 403, "operator": 404}), _site_rules),
    # Worker-platform settings: the GC's department on its own project, the city on any (disabled: no
    # upload runs in the matrix's world).
    *(
        Write(f"platform-on-{p}", "PUT", f"/api/v1/projects/{p}/platform", f"{PROJECT}/platform", allowed(expect),
              _platform, made=_platform_by, seen=Seen(lambda a, c, p=p: f"/api/v1/projects/{p}/platform", _code_found, seers(*who)))
        for p, expect, who in (
            (P1, {"gc_project": 200, "city": 200}, ("city", "district", "gc_project")),
            (P2, {"gc_project": 403, "city": 200}, ("city",)),
        )
    ),
    Write("platform-of-no-project", "PUT", "/api/v1/projects/P-0009/platform", f"{PROJECT}/platform",
          allowed({"gc_project": 403, "city": 404}), _platform),
    # Completion dates (竣工): the city on any project, a bureau on its district's; never a day after the hub's today.
    *(
        Write(f"completion-on-{p}", "PUT", f"/api/v1/projects/{p}/completion", f"{PROJECT}/completion", allowed(expect),
              _completion, seen=Seen(lambda a, c, p=p: f"/api/v1/projects/{p}/completion", _completion_found, seers(*who)))
        for p, expect, who in (
            (P1, {"city": 200, "district": 200}, ("city", "district", "gc_project", "supervision_project")),
            (P2, {"city": 200, "district": 403}, ("city",)),
        )
    ),
    Write("completion-in-the-future", "PUT", f"/api/v1/projects/{P1}/completion", f"{PROJECT}/completion",
          allowed({"city": 400, "district": 400}), fixed({"completed_on": (NOW.date() + timedelta(days=1)).isoformat()})),
    Write("completion-of-no-project", "PUT", "/api/v1/projects/P-0009/completion", f"{PROJECT}/completion",
          allowed({"city": 404, "district": 404}), _completion),
    # Teams (班组): the GC's department for a contractor of its project, a subcontractor's for its own.
    Write("team-on-P1-of-ent-sub", "POST", f"/api/v1/projects/{P1}/teams", TEAMS, allowed(dict.fromkeys(TEAMERS, 201)),
          lambda c: {"enterprise_id": "ent-sub", "name": f"t{c.slot}"}, seen=_team_seen(P1, *P1_READERS)),
    Write("team-on-P1-of-ent-gc", "POST", f"/api/v1/projects/{P1}/teams", TEAMS, allowed({"gc_project": 201, "sub_project": 403}),
          lambda c: {"enterprise_id": "ent-gc", "name": f"t{c.slot}"},
          seen=_team_seen(P1, "city", "district", "enterprise_gc", "gc_project", "supervision_project")),
    Write("team-on-P1-of-ent-sup", "POST", f"/api/v1/projects/{P1}/teams", TEAMS, allowed({"gc_project": 422, "sub_project": 403}),
          lambda c: {"enterprise_id": "ent-sup", "name": f"t{c.slot}"}),  # supervision has no teams
    Write("team-on-P2", "POST", f"/api/v1/projects/{P2}/teams", TEAMS, allowed(dict.fromkeys(TEAMERS, 403)),
          lambda c: {"enterprise_id": "ent-sub", "name": f"t{c.slot}"}),
    *(
        Write(f"team-rename-of-{e}", "PATCH", "/api/v1/teams/{team}", TEAM, allowed(expect), lambda c: {"name": f"r{c.slot}"},
              _team_of(P1, e), made=_renamed)
        for e, expect in (("ent-sub", dict.fromkeys(TEAMERS, 200)), ("ent-gc", {"gc_project": 200, "sub_project": 404}))
    ),
    Write("team-delete", "DELETE", "/api/v1/teams/{team}", TEAM, allowed(dict.fromkeys(TEAMERS, 204)),
          prepare=_team_of(P1, "ent-sub")),
    Write("team-delete-on-P2", "DELETE", "/api/v1/teams/{team}", TEAM, allowed(dict.fromkeys(TEAMERS, 404)),
          prepare=_team_of(P2, "ent-sub")),
    *(
        Write(f"team-leader-{p}", "PUT", "/api/v1/teams/{team}/leader", f"{TEAM}/leader", allowed(expect),
              fixed({"person_id": p}), _team_of(P1, "ent-sub"), made=_answer_is(leader_person_id=p))
        for p, expect in (("per-sub1", dict.fromkeys(TEAMERS, 200)), ("per-gc1", dict.fromkeys(TEAMERS, 422)))
    ),
    *(
        Write(f"team-of-assignment-{e}", "PUT", "/api/v1/assignments/{assignment}/team", "/api/v1/assignments/{assignment_id}/team",
              allowed(expect), lambda c: {"team_id": c.values["team"]}, _teamed(P1, "per-sub1", "ent-sub", e), made=_in_team)
        for e, expect in (("ent-sub", dict.fromkeys(TEAMERS, 200)), ("ent-gc", dict.fromkeys(TEAMERS, 422)))
    ),
]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The cells
# ---------------------------------------------------------------------------------------------

SLOT = {write.name: n * len(WHO) for n, write in enumerate(WRITES)}


def cell_of(write: Write, who: str, world: World) -> Cell:
    """``who``'s cell of ``write``: a slot of its own in the module (what it writes is its own)."""
    return Cell(who, SLOT[write.name] + WHO.index(who), world)


async def prepared(write: Write, cell: Cell) -> dict[str, Any]:
    """What ``cell`` needs before its write (:attr:`Write.prepare`). :class:`Rows` are made for
    every cell of the write the first time one of them asks, in one transaction, and kept in the
    world; each cell's are its own, made before its write whichever cell runs first."""
    world, prepare = cell.world, write.prepare
    if prepare is None:
        return {}
    if not isinstance(prepare, Rows):
        return await prepare(world, cell)
    if cell.slot not in world.prepared:
        async with world.store.write("matrix: the cells' own rows") as conn:
            for who in WHO:
                each = cell_of(write, who, world)
                world.prepared[each.slot] = await prepare.insert(conn, world, each)
    return world.prepared[cell.slot]
