"""The scope matrix's oracle of the reads: what each account of the world sees, written out by hand
from the notice's rules (tests/hub/scope_world.py holds the world itself), and the expectations
made from it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.hub.factories import BASE_TIME
from tests.hub.scope_world import (
    ACCESS,
    ACCOUNTS,
    ALL_LANES,
    D1,
    D2,
    HEARTBEATS,
    ID_NUMBERS,
    LANE_GHOST,
    LANE_OF,
    LANE_P1,
    LANE_P2,
    MANAGERS,
    P1,
    P2,
    WATCHLIST_HIT,
    username,
)

# ---------------------------------------------------------------------------------------------
# The oracle of the reads
# ---------------------------------------------------------------------------------------------

P1_EVENTS = frozenset(label for (lane, _), label in ACCESS.items() if lane == LANE_P1)
P2_EVENTS = frozenset(label for (lane, _), label in ACCESS.items() if lane == LANE_P2)
EVENTS_SEEN = {  # what each account reads of the access events, the rules of the notice
    "city": P1_EVENTS | P2_EVENTS,
    "district": P1_EVENTS,  # its district's project
    "enterprise_gc": P1_EVENTS,  # the general contractor: the whole record of its project
    "enterprise_sub": frozenset({"per-sub1", "per-sub2"}),  # its own people, on either project
    "gc_project": P1_EVENTS,
    "sub_project": frozenset({"per-sub1"}),  # its own people on its own project
    "supervision_project": P1_EVENTS,  # supervision reads the project's whole record
}
PERSON_RECORDS = EVENTS_SEEN  # the operator reads no personal data at all (the table: 403)
LANE_EVENTS_SEEN = {
    "city": frozenset({"tamper-p1", "tamper-p2"}),
    "district": frozenset({"tamper-p1"}),
    "enterprise_gc": frozenset({"tamper-p1"}),
    "enterprise_sub": frozenset({"tamper-p1", "tamper-p2"}),  # a party to both projects
    "gc_project": frozenset({"tamper-p1"}),
    "sub_project": frozenset({"tamper-p1"}),
    "supervision_project": frozenset({"tamper-p1"}),
}
DEVICES_SEEN: dict[str, frozenset[str] | int] = {
    "city": ALL_LANES,
    "operator": ALL_LANES,  # device health is the operator's job
    "district": frozenset({LANE_P1}),
    "enterprise_gc": frozenset({LANE_P1}),
    "enterprise_sub": frozenset({LANE_P1, LANE_P2}),
    "gc_project": frozenset({LANE_P1}),
    "sub_project": frozenset({LANE_P1}),
    "supervision_project": frozenset({LANE_P1}),
}
COMMANDERS = ("city", "operator", "district", "gc_project")


def only_project(seen: dict[str, Any], project: str) -> dict[str, Any]:
    """The same expectations with a ``project_id`` filter: the filter narrows, never widens."""
    mine = P1_EVENTS if project == P1 else P2_EVENTS
    return {who: s & mine if isinstance(s, frozenset) else s for who, s in seen.items()}


def only(seen: dict[str, Any], among: frozenset[Any]) -> dict[str, Any]:
    """The same expectations narrowed to ``among`` (a filter narrows, never widens)."""
    return {who: s & among if isinstance(s, frozenset) else s for who, s in seen.items()}


def counts_of(seen: dict[str, Any]) -> dict[str, Any]:
    """Counts by (device, decision, reason) of the events each account sees."""

    def count(labels: frozenset[str]) -> Counter[tuple[str, str, str]]:
        rows: Counter[tuple[str, str, str]] = Counter()
        for (lane, seq), label in ACCESS.items():
            if label in labels:
                rows[(lane, *DECISION[(lane, seq)])] += 1
        return rows

    return {who: count(s) if isinstance(s, frozenset) else s for who, s in seen.items()}


DECISION = {
    key: ("denied", "watchlisted") if key == WATCHLIST_HIT
    else ("denied", "not_registered") if label.startswith("anon") else ("granted", "granted")
    for key, label in ACCESS.items()
}  # fmt: skip


def commands_on(device: str) -> dict[str, Any]:
    """POST a command: who may (202, journaled with its own name; the others are refused at the
    door), and a device outside the account's scope is a 404 like one that does not exist."""
    expect: dict[str, Any] = {}
    for who in COMMANDERS:
        if device != LANE_GHOST and device in _devices(who):
            expect[who] = (device, username(who))
        else:
            expect[who] = 404
    return expect


def command_list_on(device: str) -> dict[str, Any]:
    """GET the commands: any account that sees the lane; 404 otherwise."""
    return {who: (device, True) if device in _devices(who) else 404 for who in ACCOUNTS}


def _devices(who: str) -> frozenset[str]:
    seen = DEVICES_SEEN[who]
    assert isinstance(seen, frozenset)
    return seen


PROJECTS_SEEN = {  # the projects each account may open (404 for the others, as for no project)
    "city": {P1, P2},
    "district": {P1},
    "enterprise_gc": {P1},
    "enterprise_sub": {P1, P2},  # a party to both
    "gc_project": {P1},
    "sub_project": {P1},
    "supervision_project": {P1},
}
PEOPLE_ON = {P1: P1_EVENTS - {"anon-p1"}, P2: P2_EVENTS - {"anon-p2"}}


def per_project(project: str, value: Callable[[str], Any]) -> dict[str, Any]:
    """An endpoint about one project: personal data, so not the operator's; 404 outside scope."""
    expect: dict[str, Any] = {}
    for who in PROJECTS_SEEN:
        expect[who] = value(who) if project in PROJECTS_SEEN[who] else 404
    return expect


def people_seen(who: str, among: frozenset[str]) -> frozenset[str]:
    seen = EVENTS_SEEN[who]
    return frozenset(among & seen)


def readers(value: Callable[[str], Any]) -> dict[str, Any]:
    """Every account that reads personal data gets ``value(who)`` (the operator is not let in)."""
    return {who: value(who) for who in PROJECTS_SEEN}


def allowed(expect: dict[str, Any], default: int = 403) -> dict[str, Any]:
    """``expect`` for the accounts it names, ``default`` for the others."""
    return {who: expect.get(who, default) for who in ACCOUNTS}


# The registry. An ID number is shown whole to the registering authorities, masked to the rest.
FULL, MASKED = "full", "masked"
WHOLE_NUMBERS = frozenset({"city", "district"})
PERSONS_SEEN = {
    "city": frozenset(ID_NUMBERS),
    "district": frozenset({"per-gc1", "per-sub1", "per-sub2", "per-sup1"}),  # registered or working in D1
    "enterprise_gc": frozenset({"per-gc1", "per-sub1", "per-sup1"}),  # its staff, its whole project
    "enterprise_sub": frozenset({"per-sub1", "per-sub2"}),  # its own people
    "gc_project": frozenset({"per-gc1", "per-sub1", "per-sup1"}),
    "sub_project": frozenset({"per-sub1"}),
    "supervision_project": frozenset({"per-gc1", "per-sub1", "per-sup1"}),
}


def persons_shown(among: frozenset[str] = frozenset(ID_NUMBERS)) -> dict[str, Any]:
    def shown(who: str) -> frozenset[tuple[str, str]]:
        form = FULL if who in WHOLE_NUMBERS else MASKED
        return frozenset((person, form) for person in PERSONS_SEEN[who] & among)

    return readers(shown)


def person_shown(person: str) -> dict[str, Any]:
    def shown(who: str) -> Any:
        if person not in PERSONS_SEEN[who]:
            return 404
        return person, FULL if who in WHOLE_NUMBERS else MASKED

    return readers(shown)


LOOKERS_UP = ("city", "district", "enterprise_gc", "enterprise_sub", "gc_project", "sub_project")
"""Who registers or assigns people finds a registered one by ID number, whoever's it is (the record
itself stays behind each account's scope)."""
ENTERPRISES_SEEN = {
    "city": frozenset({"ent-gc", "ent-sub", "ent-sup", "ent-out"}),
    "district": frozenset({"ent-gc", "ent-sub", "ent-sup", "ent-out"}),  # a bureau registers any
    "enterprise_gc": frozenset({"ent-gc"}),
    "enterprise_sub": frozenset({"ent-sub"}),
    "gc_project": frozenset({"ent-gc", "ent-sub", "ent-sup"}),  # the parties to its project
    "sub_project": frozenset({"ent-gc", "ent-sub", "ent-sup"}),
    "supervision_project": frozenset({"ent-gc", "ent-sub", "ent-sup"}),
}
PARTIES_OF = {
    P1: frozenset({
        ("ent-gc", "general_contractor", username("gc_project")),
        ("ent-sub", "subcontractor", username("sub_project")),
        ("ent-sup", "supervision", username("supervision_project")),
    }),
    P2: frozenset({("ent-out", "general_contractor", None), ("ent-sub", "subcontractor", None)}),
}  # fmt: skip
INSPECTORS = ("city", "district", "gc_project", "supervision_project")
"""Who reads a project's inspections (the enterprises and a subcontractor's department do not)."""
INSPECTIONS_OF = {P1: frozenset({"i-p1"}), P2: frozenset({"i-p2"})}


def inspections_of(project: str) -> dict[str, Any]:
    return allowed(
        {who: INSPECTIONS_OF[project] if project in PROJECTS_SEEN[who] else 404 for who in INSPECTORS}
    )


def gates_of(project: str) -> dict[str, Any]:
    """Gates are devices: the operator sees every project's (the people behind them, never)."""
    lanes = frozenset({LANE_OF[project]})
    return per_project(project, lambda who: lanes) | {"operator": lanes}


# The workflows. Orders and deductions by subject/reason (tests/hub/scope_world.py).
ORDERS_SEEN = {
    "city": frozenset({"o-p1", "o-p2", "o-sub", "o-out"}),
    "district": frozenset({"o-p1", "o-sub"}),  # the orders its bureau oversees
    "enterprise_gc": frozenset({"o-p1"}),  # to a project it is a party to
    "enterprise_sub": frozenset({"o-p1", "o-p2", "o-sub"}),  # to its projects, and to itself
    "gc_project": frozenset({"o-p1"}),
    "sub_project": frozenset(),  # an order to the project is the general contractor's to answer
    "supervision_project": frozenset({"o-p1"}),
}
ORDERS_TO = {P1: frozenset({"o-p1"}), P2: frozenset({"o-p2"})}
OVERDUE = frozenset({"o-p2", "o-sub"})
DEDUCTIONS_SEEN = {
    "city": frozenset({"d-sub", "d-sub-p1", "d-sub-p2", "d-gc1", "d-out1"}),
    "district": frozenset({"d-sub", "d-sub-p1", "d-gc1"}),
    "enterprise_gc": frozenset({"d-gc1"}),  # against itself or its staff
    "enterprise_sub": frozenset({"d-sub", "d-sub-p1", "d-sub-p2"}),
    "gc_project": frozenset({"d-sub-p1", "d-gc1"}),  # those naming its project
    "sub_project": frozenset({"d-sub-p1"}),  # its own, on its project
    "supervision_project": frozenset({"d-sub-p1", "d-gc1"}),
}
DEDUCTIONS_ON = {P1: frozenset({"d-sub-p1", "d-gc1"}), P2: frozenset({"d-sub-p2", "d-out1"})}
MONTH = BASE_TIME.strftime("%Y-%m")


def project_month(who: str) -> dict[str, tuple[int, ...]]:
    """(persons assigned, attended, managers, orders issued, overdue, deductions) per project."""
    figures = {}
    for p in PROJECTS_SEEN[who]:
        people = people_seen(who, PEOPLE_ON[p])
        orders = ORDERS_SEEN[who] & ORDERS_TO[p]
        figures[p] = (
            len(people), len(people), len(people & MANAGERS), len(orders), len(orders & OVERDUE),
            len(DEDUCTIONS_SEEN[who] & DEDUCTIONS_ON[p]),
        )  # fmt: skip
    return figures


DISTRICT_MONTH = {D1: (2, 1, 3, 3), D2: (2, 1, 2, 2)}
"""(orders issued, overdue, deductions, person-days) of each district in the world's month."""
UPLOADERS = ("city", "district", "gc_project")


def worker_attendance(project: str) -> dict[str, Any]:
    """Whole ID numbers, so only for those who read them anyway and the project's GC department."""
    people = frozenset((person, FULL) for person in PEOPLE_ON[project])
    return allowed({who: people if project in PROJECTS_SEEN[who] else 404 for who in UPLOADERS})


def alerts_seen(project: str | None = None) -> dict[str, Any]:
    """Managers not in (time 00:00 is past), watchlist hits, gates silent, overdue orders: each
    through the account's scope; the operator's are the gates'."""
    project_of = {
        "per-gc1": P1, "per-out1": P2, "per-sub2": P2, LANE_P1: P1, LANE_P2: P2,
        "o-p2": P2, "o-sub": None,
    }  # fmt: skip

    def seen(who: str) -> frozenset[tuple[str, str]]:
        found = {("gate_offline", lane) for lane in {LANE_P1, LANE_P2} & _devices(who)}
        if who != "operator":
            found |= {("manager_absent", m) for m in MANAGERS & EVENTS_SEEN[who]}
            found |= {("watchlist_hit", p) for p in {"per-sub2"} & EVENTS_SEEN[who]}
            found |= {("order_overdue", o) for o in OVERDUE & ORDERS_SEEN[who]}
        return frozenset(a for a in found if project is None or project_of[a[1]] == project)

    return {who: seen(who) for who in ACCOUNTS}


def heartbeats_of(device: str) -> dict[str, Any]:
    def seen(who: str) -> Any:
        return (device, HEARTBEATS[device]) if device in _devices(who) else 404

    return {who: seen(who) for who in ACCOUNTS}
