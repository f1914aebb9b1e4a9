"""Every endpoint × every role × inside and outside its scope, on both stores.

Two small worlds per store, built once per module (tests/hub/scope_world.py: two districts, the
parties of two projects, people assigned through each enterprise, lanes, events, orders,
deductions, inspections, an account of every role): one for the reads, one for the writes, so no
write can change what a read expects.

Each row of ``CASES`` is one read; its ``expect`` says, for every account the route table lets
through the door, the status code or (for a 200 or 202) exactly what comes back. Each row of
``WRITES`` is one write; its ``expect`` says the status for those accounts, a refused write must
leave every table (and the enrolment ledger) as it was, and an allowed one is then looked for by
every account, found only by those in its ``seen_by``. The door is the route table's
(hub/api/routes.py): 401 without a token, 403 for a role its row does not name; the matrix adds
those answers itself (:func:`expected`), and ``test_the_oracle_and_the_table_agree_on_who_gets_in``
holds the accounts each row's ``expect`` names by hand to the row's roles, both ways. Adding an
endpoint means adding its rows here: ``test_every_row_of_the_route_table_is_in_the_matrix`` fails
until they are. No answer carries an ID number but where the oracle says so: the city's and the
district's views of a person, and the national platform's attendance upload for its uploaders.

The oracle is written out by hand from the notice's rules, not computed with hub.auth.scope.
The console's pages (the table's console rows) are held by tests/console.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from hub.api.enrolment import EnrolmentDesk, configure
from hub.api.keys import INGEST, STORE
from hub.api.route import Route
from hub.api.routes import API_ROUTES, ROUTES, public_paths
from hub.app import create_app
from hub.auth.principal import Principal
from hub.config import HubConfig
from hub.registry import IdVault, load_data_key, mask
from hub.registry.uscc import with_check_character
from hub.store.schema import projects
from provisioning.ca import CertificateAuthority
from provisioning.enrolment import BrokerAddress
from provisioning.registrar import Registrar
from sitegate.mosquitto import Mosquitto
from tests.hub.clocked import token_headers_at
from tests.hub.factories import BASE_TIME
from tests.hub.scope_world import (
    ACCESS,
    ACCOUNTS,
    ALL_LANES,
    ANONYMOUS,
    D1,
    D2,
    HEARTBEATS,
    ID_NUMBERS,
    LANE_EVENTS,
    LANE_GHOST,
    LANE_OF,
    LANE_P1,
    LANE_P2,
    LANE_SPARE,
    MANAGERS,
    NOW,
    P1,
    P2,
    SEED_ACTION,
    SEEDED_COMMAND,
    STRANGER,
    UNREGISTERED_NUMBER,
    WATCHLIST_HIT,
    WHO,
    Seeded,
    build,
    enrol,
    fingerprint,
    fresh_assignment,
    fresh_enterprise,
    fresh_gate,
    fresh_number,
    fresh_order,
    fresh_project,
    seed_records,
    username,
)
from tests.support.accounts import TEST_PASSWORD, create_account
from tests.support.clock import FakeClock
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.broker
on_the_world = pytest.mark.asyncio(loop_scope="module")
"""The async tests share the module's event loop, where the worlds' apps run."""

Client = TestClient[web.Request, web.Application]

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


# ---------------------------------------------------------------------------------------------
# Reading answers
# ---------------------------------------------------------------------------------------------


def access_labels(body: Any, world: World) -> frozenset[str]:
    return frozenset(ACCESS[(i["device_id"], i["seq"])] for i in body["items"])


def lane_event_labels(body: Any, world: World) -> frozenset[str]:
    return frozenset(LANE_EVENTS[(i["device_id"], i["seq"])] for i in body["items"])


def count_rows(body: Any, world: World) -> Counter[tuple[str, str, str]]:
    return Counter({(c["device_id"], c["decision"], c["reason"]): c["count"] for c in body["counts"]})


def device_ids(body: Any, world: World) -> frozenset[str]:
    return frozenset(d["device_id"] for d in body["devices"])


def dead_letter_topics(body: Any, world: World) -> frozenset[str]:
    return frozenset(d["topic"] for d in body["items"])


def issued(body: Any, world: World) -> tuple[str, str]:
    command = body["command"]
    return command["device_id"], command["operator"]


def listed(body: Any, world: World) -> tuple[str, bool]:
    """(the device, whether the world's command is there and every command is that device's)."""
    commands = body["commands"]
    [device] = {c["device_id"] for c in commands}
    return device, SEEDED_COMMAND[device] in {c["command_id"] for c in commands}


def project_of(body: Any, world: World) -> str:
    return str(body["project_id"])


def field_of(key: str) -> Callable[[Any, World], Any]:
    def read(body: Any, world: World) -> Any:
        return body[key]

    return read


def each(key: str, *fields: str) -> Callable[[Any, World], frozenset[Any]]:
    """The set of ``fields`` (one: the value, several: a tuple) of each item under ``key``."""

    def read(body: Any, world: World) -> frozenset[Any]:
        if len(fields) == 1:
            return frozenset(row[fields[0]] for row in body[key])
        return frozenset(tuple(row[f] for f in fields) for row in body[key])

    return read


def person_ids(key: str) -> Callable[[Any, World], frozenset[str]]:
    return each(key, "person_id")


def csv_labels(text: Any, world: World) -> frozenset[str]:
    """The export's rows as the world's labels: the person, or the project's unregistered card."""
    rows = list(csv.DictReader(io.StringIO(str(text).lstrip("\ufeff"))))
    return frozenset(r["person_id"] or f"anon-{'p1' if r['project_id'] == P1 else 'p2'}" for r in rows)


def whoami(body: Any, world: World) -> str:
    return str(body["account"]["username"])


def shown_as(person: dict[str, Any]) -> tuple[str, str]:
    """(the person, how the answer shows the ID number: FULL or MASKED, else 'wrong')."""
    number = ID_NUMBERS[person["id"]]
    form = {(False, number): FULL, (True, mask(number)): MASKED}.get(
        (person["id_number_masked"], person["id_number"]), "wrong"
    )
    return person["id"], form


def persons_read(body: Any, world: World) -> frozenset[tuple[str, str]]:
    return frozenset(shown_as(person) for person in body["items"])


def person_read(body: Any, world: World) -> tuple[str, str]:
    return shown_as(body)


def alerts_read(body: Any, world: World) -> frozenset[tuple[str, str]]:
    orders = {f"order:{order_id}": subject for subject, order_id in world.seeded.orders.items()}
    return frozenset((a["kind"], orders.get(a["subject"], a["subject"])) for a in body["items"])


def heartbeats_read(body: Any, world: World) -> tuple[str, int]:
    return body["device_id"], len(body["points"])


def upload_read(body: Any, world: World) -> frozenset[tuple[str, str]]:
    owner = {number: person for person, number in ID_NUMBERS.items()}
    return frozenset((owner.get(row["id_card_number"], "?"), FULL) for row in body["datalist"])


PROJECT_FIGURES = (
    "persons_assigned", "persons_attended", "managers_assigned", "orders_issued", "orders_open_overdue",
    "deductions",
)  # fmt: skip
DISTRICT_FIGURES = ("orders_issued", "orders_open_overdue", "deductions", "person_days")


def figures(key: str, names: tuple[str, ...]) -> Callable[[Any, World], dict[str, tuple[int, ...]]]:
    """A summary's figures by project or district, from its JSON or its CSV."""

    def read(answer: Any, world: World) -> dict[str, tuple[int, ...]]:
        if isinstance(answer, str):
            rows: list[Any] = list(csv.DictReader(io.StringIO(answer.lstrip("\ufeff"))))
        else:
            rows = answer["items"]
        return {row[key]: tuple(int(row[name]) for name in names) for row in rows}

    return read


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    """As requested (``{o-p1}`` and the like: a world order's id); ``route`` is the pattern it exercises."""
    route: str
    read: Callable[[Any, World], Any]
    expect: dict[str, Any]
    """Per account: an int status, or what ``read`` makes of the 200/202 answer. The whole ID numbers
    an answer may (and must) carry are those of the persons it shows as FULL."""
    body: dict[str, Any] | None = None


EVENTS = "/api/v1/access-events"
COUNTS = "/api/v1/access-events/counts"
LANE = "/api/v1/lane-events"
COMMANDS = "/api/v1/devices/{device_id}/commands"
REMOTE_OPEN = {"action": "remote_open", "wait_s": 0}
PROJECT = "/api/v1/projects/{project_id}"
PERSON = "/api/v1/persons/{person_id}"
ORDER = "/api/v1/rectification-orders/{order_id}"
DAY = BASE_TIME.date().isoformat()  # the world's events are on this day (Shanghai time too)
ORDERS_SEEN_BY = readers(lambda who: ORDERS_SEEN[who])
DEDUCTIONS_SEEN_BY = readers(lambda who: DEDUCTIONS_SEEN[who])


def order_case(subject: str) -> Case:
    expect = readers(lambda who: subject if subject in ORDERS_SEEN[who] else 404)
    return Case(
        f"order-{subject}",
        "GET",
        f"/api/v1/rectification-orders/{{{subject}}}",
        ORDER,
        field_of("subject"),
        expect,
    )


CASES = [
    Case("events", "GET", f"{EVENTS}?limit=500", EVENTS, access_labels, PERSON_RECORDS),
    Case("events-P1", "GET", f"{EVENTS}?project_id={P1}", EVENTS, access_labels, only_project(PERSON_RECORDS, P1)),
    Case("events-P2", "GET", f"{EVENTS}?project_id={P2}", EVENTS, access_labels, only_project(PERSON_RECORDS, P2)),
    Case("events-out1", "GET", f"{EVENTS}?person_id=per-out1", EVENTS, access_labels, only(PERSON_RECORDS, frozenset({"per-out1"}))),
    Case("events-sub1", "GET", f"{EVENTS}?person_id=per-sub1", EVENTS, access_labels, only(PERSON_RECORDS, frozenset({"per-sub1"}))),
    Case("events-via-ent-sub", "GET", f"{EVENTS}?enterprise_id=ent-sub", EVENTS, access_labels,
         only(PERSON_RECORDS, frozenset({"per-sub1", "per-sub2"}))),
    Case("counts", "GET", COUNTS, COUNTS, count_rows, counts_of(PERSON_RECORDS)),
    Case("counts-P2", "GET", f"{COUNTS}?project_id={P2}", COUNTS, count_rows, counts_of(only_project(PERSON_RECORDS, P2))),
    Case("lane-events", "GET", LANE, LANE, lane_event_labels, LANE_EVENTS_SEEN),
    Case("lane-events-P2", "GET", f"{LANE}?project_id={P2}", LANE, lane_event_labels, only(LANE_EVENTS_SEEN, frozenset({"tamper-p2"}))),
    Case("devices", "GET", "/api/v1/devices", "/api/v1/devices", device_ids, DEVICES_SEEN),
    Case("ingest", "GET", "/api/v1/ingest", "/api/v1/ingest", device_ids,
         {"city": frozenset({LANE_P1, LANE_P2}), "operator": frozenset({LANE_P1, LANE_P2})}),
    Case("dead-letters", "GET", "/api/v1/dead-letters", "/api/v1/dead-letters", dead_letter_topics,
         {"city": frozenset({"sitegate/v1/up/lane-p1/event"}), "operator": frozenset({"sitegate/v1/up/lane-p1/event"})}),
    *(
        Case(f"command-{device}", "POST", COMMANDS.format(device_id=device), COMMANDS, issued, commands_on(device), REMOTE_OPEN)
        for device in (LANE_P1, LANE_P2, LANE_SPARE, LANE_GHOST)
    ),
    *(
        Case(f"commands-of-{device}", "GET", COMMANDS.format(device_id=device), COMMANDS, listed, command_list_on(device))
        for device in (LANE_P1, LANE_P2, LANE_SPARE)
    ),
    Case("audit", "GET", f"/api/v1/audit?action={SEED_ACTION}", "/api/v1/audit", each("items", "target"),
         {"city": frozenset({*ACCOUNTS, STRANGER})} | {w: frozenset({w}) for w in ACCOUNTS if w != "city"}),
    # The oversight views (hub/api/oversight.py): one project at a time, or scoped listings.
    *(
        Case(f"headcount-{p}", "GET", f"/api/v1/projects/{p}/headcount", f"{PROJECT}/headcount", project_of,
             per_project(p, lambda who, p=p: p))
        for p in (P1, P2)
    ),
    *(
        Case(f"managers-{p}", "GET", f"/api/v1/projects/{p}/managers-on-duty?date={DAY}", f"{PROJECT}/managers-on-duty",
             person_ids("managers"), per_project(p, lambda who, p=p: people_seen(who, MANAGERS & PEOPLE_ON[p])))
        for p in (P1, P2)
    ),
    *(
        Case(f"monthly-{p}", "GET", f"/api/v1/projects/{p}/attendance/monthly?month={MONTH}", f"{PROJECT}/attendance/monthly",
             person_ids("persons"), per_project(p, lambda who, p=p: people_seen(who, PEOPLE_ON[p])))
        for p in (P1, P2)
    ),
    Case("attendance", "GET", f"/api/v1/attendance?from={DAY}&to={DAY}", "/api/v1/attendance", person_ids("items"),
         readers(lambda who: people_seen(who, PEOPLE_ON[P1] | PEOPLE_ON[P2]))),
    Case("attendance-P2", "GET", f"/api/v1/attendance?from={DAY}&to={DAY}&project_id={P2}", "/api/v1/attendance",
         person_ids("items"), per_project(P2, lambda who: people_seen(who, PEOPLE_ON[P2]))),
    Case("registration-statistics", "GET", "/api/v1/statistics/registration", "/api/v1/statistics/registration",
         each("districts", "district"), {"city": frozenset({D1, D2}), "district": frozenset({D1})}),
    Case("registration-statistics-D2", "GET", f"/api/v1/statistics/registration?district={D2}",
         "/api/v1/statistics/registration", each("districts", "district"), {"city": frozenset({D2}), "district": 403}),
    Case("export", "GET", f"/api/v1/access-events/export.csv?since={DAY}T00:00:00Z&until={DAY}T23:59:59Z",
         "/api/v1/access-events/export.csv", csv_labels, PERSON_RECORDS),
    Case("me", "GET", "/api/v1/auth/me", "/api/v1/auth/me", whoami, {w: username(w) for w in ACCOUNTS}),
    # The registry (hub/api/registry.py).
    Case("districts", "GET", "/api/v1/districts", "/api/v1/districts", each("items", "code"), readers(lambda who: frozenset({D1, D2}))),
    Case("enterprises", "GET", "/api/v1/enterprises?limit=500", "/api/v1/enterprises", each("items", "id"),
         readers(lambda who: ENTERPRISES_SEEN[who])),
    *(
        Case(f"enterprise-{e}", "GET", f"/api/v1/enterprises/{e}", "/api/v1/enterprises/{enterprise_id}", field_of("id"),
             readers(lambda who, e=e: e if e in ENTERPRISES_SEEN[who] else 404))
        for e in ("ent-sub", "ent-out")
    ),
    Case("persons", "GET", "/api/v1/persons?limit=500", "/api/v1/persons", persons_read, persons_shown()),
    Case("persons-watchlisted", "GET", "/api/v1/persons?watchlisted=true", "/api/v1/persons", persons_read,
         persons_shown(frozenset({"per-sub2"}))),
    Case("persons-of-ent-sub", "GET", "/api/v1/persons?enterprise_id=ent-sub", "/api/v1/persons", persons_read,
         persons_shown(frozenset({"per-sub1", "per-sub2"}))),
    *(
        Case(f"person-{p}", "GET", f"/api/v1/persons/{p}", PERSON, person_read, person_shown(p))
        for p in ("per-sub1", "per-sub2", "per-sup1", "per-out1")
    ),
    *(
        Case(f"lookup-{p}", "POST", "/api/v1/persons/lookup", "/api/v1/persons/lookup", field_of("person_id"),
             allowed(dict.fromkeys(LOOKERS_UP, p)), {"id_number": ID_NUMBERS[p]})
        for p in ("per-gc1", "per-out1")
    ),
    Case("lookup-nobody", "POST", "/api/v1/persons/lookup", "/api/v1/persons/lookup", field_of("person_id"),
         allowed(dict.fromkeys(LOOKERS_UP, 404)), {"id_number": UNREGISTERED_NUMBER}),
    Case("projects", "GET", "/api/v1/projects", "/api/v1/projects", each("items", "id"), readers(lambda who: frozenset(PROJECTS_SEEN[who]))),
    Case("projects-in-D2", "GET", f"/api/v1/projects?district={D2}", "/api/v1/projects", each("items", "id"),
         readers(lambda who: frozenset(PROJECTS_SEEN[who] & {P2}))),
    *(
        Case(f"project-{p}", "GET", f"/api/v1/projects/{p}", PROJECT, field_of("id"), per_project(p, lambda who, p=p: p))
        for p in (P1, P2)
    ),
    *(
        Case(f"parties-{p}", "GET", f"/api/v1/projects/{p}/parties", f"{PROJECT}/parties",
             each("items", "enterprise_id", "role", "account"), per_project(p, lambda who, p=p: PARTIES_OF[p]))
        for p in (P1, P2)
    ),
    *(
        Case(f"assignments-{p}", "GET", f"/api/v1/projects/{p}/assignments", f"{PROJECT}/assignments", person_ids("items"),
             per_project(p, lambda who, p=p: people_seen(who, PEOPLE_ON[p])))
        for p in (P1, P2)
    ),
    *(
        Case(f"gates-{p}", "GET", f"/api/v1/projects/{p}/gates", f"{PROJECT}/gates", each("items", "device_id"), gates_of(p))
        for p in (P1, P2)
    ),
    Case("gates-of-no-project", "GET", "/api/v1/projects/P-0009/gates", f"{PROJECT}/gates", each("items", "device_id"),
         allowed({}, default=404)),
    *(
        Case(f"inspections-{p}", "GET", f"/api/v1/projects/{p}/inspections", f"{PROJECT}/inspections",
             each("items", "findings"), inspections_of(p))
        for p in (P1, P2)
    ),
    # The workflows (hub/api/workflows.py).
    Case("orders", "GET", "/api/v1/rectification-orders", "/api/v1/rectification-orders", each("items", "subject"), ORDERS_SEEN_BY),
    Case("orders-overdue", "GET", "/api/v1/rectification-orders?overdue=true", "/api/v1/rectification-orders",
         each("items", "subject"), only(ORDERS_SEEN_BY, OVERDUE)),
    *(order_case(subject) for subject in ("o-p1", "o-p2", "o-sub")),
    Case("deductions", "GET", "/api/v1/credit-deductions?limit=500", "/api/v1/credit-deductions", each("items", "reason"),
         DEDUCTIONS_SEEN_BY),
    Case("deductions-P2", "GET", f"/api/v1/credit-deductions?project_id={P2}", "/api/v1/credit-deductions",
         each("items", "reason"), only(DEDUCTIONS_SEEN_BY, DEDUCTIONS_ON[P2])),
    *(
        Case(f"project-summaries{ext}", "GET", f"/api/v1/summaries/projects{ext}?month={MONTH}", f"/api/v1/summaries/projects{ext}",
             figures("project_id", PROJECT_FIGURES), readers(project_month))
        for ext in ("", ".csv")
    ),
    *(
        Case(f"district-summaries{ext}", "GET", f"/api/v1/summaries/districts{ext}?month={MONTH}", f"/api/v1/summaries/districts{ext}",
             figures("district", DISTRICT_FIGURES), allowed({"city": DISTRICT_MONTH, "district": {D1: DISTRICT_MONTH[D1]}}))
        for ext in ("", ".csv")
    ),
    Case("district-summaries-D2", "GET", f"/api/v1/summaries/districts?month={MONTH}&district={D2}", "/api/v1/summaries/districts",
         figures("district", DISTRICT_FIGURES), allowed({"city": {D2: DISTRICT_MONTH[D2]}})),
    *(
        Case(f"worker-attendance-{p}", "GET", f"/api/v1/projects/{p}/worker-attendance?from={DAY}&to={DAY}",
             f"{PROJECT}/worker-attendance", upload_read, worker_attendance(p))
        for p in (P1, P2)
    ),
    Case("alerts", "GET", "/api/v1/alerts", "/api/v1/alerts", alerts_read, alerts_seen()),
    Case("alerts-P2", "GET", f"/api/v1/alerts?project_id={P2}", "/api/v1/alerts", alerts_read, alerts_seen(P2)),
    *(
        Case(f"heartbeats-{d}", "GET", f"/api/v1/devices/{d}/heartbeats", "/api/v1/devices/{device_id}/heartbeats",
             heartbeats_read, heartbeats_of(d) if d != LANE_GHOST else allowed({}, default=404))
        for d in (LANE_P1, LANE_P2, LANE_SPARE, LANE_GHOST)
    ),
]  # fmt: skip

COVERED_ELSEWHERE = {
    ("POST", "/api/v1/auth/login"): "open; tests/hub/test_auth.py",
    ("POST", "/api/v1/auth/logout"): "every role may; tests/hub/test_auth.py (it ends the session)",
}


def full_numbers(expected: Any) -> frozenset[str]:
    """The persons whose whole ID numbers an answer read as ``expected`` carries."""
    if isinstance(expected, tuple) and expected[1:] == (FULL,):
        return frozenset({expected[0]})
    if isinstance(expected, frozenset):
        return frozenset(v[0] for v in expected if isinstance(v, tuple) and v[1:] == (FULL,))
    return frozenset()


def numbers_in(text: str) -> frozenset[str]:
    return frozenset(person for person, number in ID_NUMBERS.items() if number in text)


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
    prepare: Prepare | None = None
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


def _unregistered(district: str, gc: str) -> Prepare:
    async def prepare(world: World, cell: Cell) -> dict[str, Any]:
        await fresh_project(world.store, world.vault, f"P-R{cell.slot}", district, gc)
        return {"project": f"P-R{cell.slot}"}

    return prepare


async def _new_subcontractor(world: World, cell: Cell) -> dict[str, Any]:
    await fresh_enterprise(world.store, f"ent-w{cell.slot}", "labour_subcontractor", D1)
    return {"enterprise": f"ent-w{cell.slot}"}


def _account(cell: Cell) -> dict[str, str]:
    return {"username": f"w-{cell.slot}", "password": TEST_PASSWORD}


def _assign(person: str, through: str) -> Callable[[Cell], dict[str, Any]]:
    return lambda c: {
        "person_id": person, "enterprise_id": through, "role": "worker", "entry_date": c.day, "exit_date": c.day,
    }  # fmt: skip


def _assignment_seen(project: str, person: str, *who: str) -> Seen:
    probe = f"/api/v1/projects/{project}/assignments?person_id={person}&limit=500"
    return Seen(lambda a, c: probe, is_in("items", "id", the("id")), seers(*who))


def _holding(project: str, person: str, through: str) -> Prepare:
    """A one-day assignment to end, on a day (2040 on) no other assignment of the person covers."""

    async def prepare(world: World, cell: Cell) -> dict[str, Any]:
        day = date(2040, 1, 1) + timedelta(days=cell.slot)
        return {
            "assignment": await fresh_assignment(world.store, project, person, through, day),
            "day": day.isoformat(),
        }

    return prepare


def _gate(cell: Cell) -> dict[str, Any]:
    return {"device_id": f"lane-w{cell.slot}", "lane": f"W{cell.slot}", "direction": "in", "name": "matrix"}


def _gate_seen(project: str, *who: str) -> Seen:
    return Seen(
        lambda a, c: f"/api/v1/projects/{project}/gates",
        is_in("items", "device_id", the("device_id")),
        seers(*who),
    )


def _placed(project: str) -> Prepare:
    async def prepare(world: World, cell: Cell) -> dict[str, Any]:
        await fresh_gate(world.store, f"lane-x{cell.slot}", project)
        return {"device": f"lane-x{cell.slot}"}

    return prepare


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
) -> Prepare:
    async def prepare(world: World, cell: Cell) -> dict[str, Any]:
        issuer = world.principals["city"]
        subject = f"w-{cell.slot}"
        return {
            "order": await fresh_order(
                world.store, issuer, subject, project, enterprise, district, responded=responded
            )
        }

    return prepare


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


async def _hidden_order(world: World, cell: Cell) -> dict[str, Any]:
    return {"order_id": world.seeded.orders["o-p2"]}


def _enrolled(device: str, project: str) -> Prepare:
    async def prepare(world: World, cell: Cell) -> dict[str, Any]:
        return {"serial": str(enrol(world.registrar, device, project))}

    return prepare


def _revoked(device: str) -> Callable[[Any, Cell], None]:
    def made(answer: Any, cell: Cell) -> None:
        assert answer == {"device_id": device, "revoked_serials": [cell.values["serial"]]}

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
]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The worlds
# ---------------------------------------------------------------------------------------------


@dataclass
class World:
    client: Client
    headers: dict[str, dict[str, str]]
    principals: dict[str, Principal]
    seeded: Seeded
    vault: IdVault
    registrar: Registrar

    @property
    def store(self) -> Any:
        return self.client.app[STORE]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextlib.asynccontextmanager
async def open_world(
    kind: str, name: str, request: pytest.FixtureRequest, directory: Path
) -> AsyncIterator[World]:
    """A hub over a world of its own: its database, broker, data key and certificate authority."""
    if kind == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.url(await server.database(f"{request.module.__name__}.{name}"))
    else:
        url = f"sqlite+aiosqlite:///{directory / 'hub.db'}"
    with Mosquitto() as broker:
        config = HubConfig(
            database_url=url, mqtt_host=broker.host, mqtt_port=broker.port,
            data_key_file=directory / "data.key", roster_signing_key_file=directory / "roster.key",
            alert_manager_due_by=time(0, 0),  # every manager not in today is late, whenever the test runs
        )  # fmt: skip
        vault = IdVault(load_data_key(config.data_key_path()))
        ca = CertificateAuthority.create(directory / "enrolment-ca")  # not <state dir>/ca: the app's own
        registrar = Registrar(
            ca,
            broker=BrokerAddress(host=broker.host, port=broker.port),
            roster_public_key="A" * 43 + "=",
        )
        clock = FakeClock(NOW)
        app = create_app(config, clock=clock)

        async def site_key(project_id: str) -> bytes:
            async with app[STORE].read("matrix: site key") as conn:
                sealed = await conn.scalar(
                    select(projects.c.site_key_cipher).where(projects.c.id == project_id)
                )
            return vault.open_site_key(project_id, sealed)

        configure(app, EnrolmentDesk(registrar, site_key, clock.wall))
        async with TestClient(TestServer(app)) as client:
            store = client.app[STORE]
            await client.app[INGEST].wait_connected()
            await build(store, vault)
            principals = {
                who: await create_account(store, username=username(who), **scope)
                for who, scope in ACCOUNTS.items()
            }
            seeded = await seed_records(store, principals)
            headers = {
                who: await token_headers_at(store, principal, clock) for who, principal in principals.items()
            }
            yield World(client, headers, principals, seeded, vault, registrar)


def _world_fixture(name: str, purpose: str) -> Any:
    async def fixture(
        store_kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[World]:
        async with open_world(store_kind, purpose, request, tmp_path_factory.mktemp(purpose)) as opened:
            yield opened

    return pytest_asyncio.fixture(fixture, scope="module", loop_scope="module", name=name)


world = _world_fixture("world", "reads")
write_world = _world_fixture("write_world", "writes")


# ---------------------------------------------------------------------------------------------
# The door: the route table's answer before a handler runs
# ---------------------------------------------------------------------------------------------

ROW: dict[tuple[str, str], Route] = {(route.method, route.path): route for route in API_ROUTES}


def let_in(method: str, route: str) -> frozenset[str]:
    """The accounts whose role the route table's row names (public rows: every account)."""
    roles = ROW[(method, route)].roles
    return frozenset(
        who for who, scope in ACCOUNTS.items() if row_is_open(method, route) or scope["role"] in roles
    )


def row_is_open(method: str, route: str) -> bool:
    return ROW[(method, route)].public


def expected(row: Case | Write, who: str) -> Any:
    """What ``who`` gets: the oracle's word for those let in, the door's (401, 403) for the others."""
    if who == ANONYMOUS and not row_is_open(row.method, row.route):
        return 401
    if who not in let_in(row.method, row.route):
        return 403
    return row.expect[who]


# ---------------------------------------------------------------------------------------------
# The matrix
# ---------------------------------------------------------------------------------------------


@on_the_world
@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_matrix(world: World, case: Case, who: str) -> None:
    headers = world.headers.get(who, {})
    path = case.path.format_map(world.seeded.orders) if "{" in case.path else case.path
    response = await world.client.request(case.method, path, headers=headers, json=case.body)
    text = await response.text()
    expect = expected(case, who)
    assert numbers_in(text) == full_numbers(expect), "whole ID numbers in an answer that must not carry them"
    if isinstance(expect, int):
        assert response.status == expect, text
        return
    assert response.status in (200, 202), text
    answer = await response.json() if response.content_type == "application/json" else text
    assert case.read(answer, world) == expect


@on_the_world
@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
async def test_write(write_world: World, write: Write, who: str) -> None:
    """The status; a refusal leaves every table and the enrolment ledger as they were; an allowed
    write is found by exactly the accounts that should see it."""
    world = write_world
    cell = Cell(who, WRITES.index(write) * len(WHO) + WHO.index(who), world)
    if write.prepare is not None:
        cell.values.update(await write.prepare(world, cell))
    before = await fingerprint(world.store, world.registrar.ca.directory)
    body = write.body(cell) if write.body is not None else None
    response = await world.client.request(
        write.method, write.path.format_map(cell.values), headers=world.headers.get(who, {}), json=body
    )
    text = await response.text()
    status = expected(write, who)
    assert response.status == status, text
    numbers = write.numbers if who in WHOLE_NUMBERS and status < 400 else frozenset()
    assert numbers_in(text) == numbers, "whole ID numbers in an answer that must not carry them"
    if status >= 400:
        after = await fingerprint(world.store, world.registrar.ca.directory)
        changed = [name for name in before if before[name] != after[name]]
        assert not changed, f"a refused write changed {changed}"
        return
    answer = await response.json() if text else None
    if write.made is not None:
        write.made(answer, cell)
    if write.seen is not None:
        await _look_for(world, write.seen, answer, cell)


async def _look_for(world: World, seen: Seen, answer: Any, cell: Cell) -> None:
    path, expected = seen.probe(answer, cell), seen.by(cell.who)
    for viewer in ACCOUNTS:
        response = await world.client.get(path, headers=world.headers[viewer])
        assert response.status in (200, 403, 404), await response.text()
        found = seen.found(await response.json(), answer, cell) if response.status == 200 else None
        assert found == expected.get(viewer), f"{viewer} looking at {path}"


# ---------------------------------------------------------------------------------------------
# The matrix against the route table
# ---------------------------------------------------------------------------------------------


def uncovered(routes: tuple[Route, ...], rows: list[Case | Write]) -> list[tuple[str, str]]:
    """The rows of ``routes`` that need an account and have no row in the matrix."""
    covered = {(row.method, row.route) for row in rows} | set(COVERED_ELSEWHERE)
    return sorted({(r.method, r.path) for r in routes if not r.public and not r.console} - covered)


def test_every_row_of_the_route_table_is_in_the_matrix() -> None:
    """A new endpoint needs its rows in CASES or WRITES (or a line in COVERED_ELSEWHERE saying where)."""
    rows: list[Case | Write] = [*CASES, *WRITES]
    missing = uncovered(ROUTES, rows)
    assert not missing, f"add rows for these routes to {__file__}: {missing}"
    stray = {(row.method, row.route) for row in rows} | set(COVERED_ELSEWHERE)
    assert not stray - set(ROW), "rows for routes that are not in the route table"
    assert len({c.name for c in CASES}) == len(CASES) and len({w.name for w in WRITES}) == len(WRITES)


def test_a_route_without_matrix_rows_is_found() -> None:
    """The check above is not empty: a row added to the table without matrix rows is named."""
    extra = Route("GET", "/api/v1/unmatrixed", ROW[("GET", EVENTS)].handler, ROW[("GET", EVENTS)].roles)
    assert uncovered((*ROUTES, extra), [*CASES, *WRITES]) == [("GET", "/api/v1/unmatrixed")]


@pytest.mark.parametrize("row", [*CASES, *WRITES], ids=[r.name for r in [*CASES, *WRITES]])
def test_the_oracle_and_the_table_agree_on_who_gets_in(row: Case | Write) -> None:
    """Every account the row's roles let in has the oracle's word (written by hand); one the oracle
    names but the table turns away, the oracle must expect to be refused (403); without a token, the
    door answers, not the oracle."""
    inside = let_in(row.method, row.route)
    assert not inside - set(row.expect), (
        f"the table lets {sorted(inside - set(row.expect))} in: say what they get"
    )
    wrongly = {who: row.expect[who] for who in set(row.expect) - inside if row.expect[who] != 403}
    assert not wrongly, f"the oracle expects {wrongly}, the table refuses them (403)"
    assert ANONYMOUS not in row.expect, "401 without a token is the door's answer"


@on_the_world
async def test_without_a_token_every_api_route_is_401(world: World) -> None:
    """The middleware's promise, for every route there is, whoever added it."""
    for route in world.client.app.router.routes():
        resource = route.resource
        if resource is None or route.method == "HEAD" or not resource.canonical.startswith("/api/"):
            continue
        if resource.canonical in public_paths(ROUTES):
            continue
        path = resource.canonical.replace("{", "").replace("}", "")  # any value: 401 comes first
        response = await world.client.request(route.method, path)
        assert response.status == 401, (route.method, resource.canonical)
