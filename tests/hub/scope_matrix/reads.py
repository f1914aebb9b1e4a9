"""The scope matrix's reads: how an answer is read, and ``CASES``, one row per read (method, path,
the route it exercises, what each account let in gets)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from hub.api.keys import STORE
from hub.auth.principal import Principal
from hub.registry import IdVault, mask
from provisioning.registrar import Registrar
from tests.hub.factories import BASE_TIME
from tests.hub.scope_matrix.seen import (
    DEDUCTIONS_ON,
    DEDUCTIONS_SEEN,
    DEVICES_SEEN,
    DISTRICT_MONTH,
    ENTERPRISES_SEEN,
    FULL,
    INSPECTORS,
    LANE_EVENTS_SEEN,
    LOOKERS_UP,
    MASKED,
    MONTH,
    ORDERS_SEEN,
    OVERDUE,
    PARTIES_OF,
    PEOPLE_ON,
    PERSON_RECORDS,
    PROJECTS_SEEN,
    alerts_seen,
    allowed,
    command_list_on,
    commands_on,
    counts_of,
    gates_of,
    heartbeats_of,
    inspections_of,
    only,
    only_project,
    people_seen,
    per_project,
    person_shown,
    persons_shown,
    project_month,
    readers,
    worker_attendance,
)
from tests.hub.scope_world import (
    ACCESS,
    ACCOUNTS,
    D1,
    D2,
    ID_NUMBERS,
    LANE_EVENTS,
    LANE_GHOST,
    LANE_P1,
    LANE_P2,
    LANE_SPARE,
    MANAGERS,
    P1,
    P2,
    SEED_ACTION,
    SEEDED_COMMAND,
    STRANGER,
    UNREGISTERED_NUMBER,
    Seeded,
    WrittenCounts,
    username,
)

Client = TestClient[web.Request, web.Application]


@dataclass
class World:
    client: Client
    headers: dict[str, dict[str, str]]
    principals: dict[str, Principal]
    seeded: Seeded
    vault: IdVault
    registrar: Registrar
    written: WrittenCounts | None = None
    """The write world's count of rows written (:func:`tests.hub.scope_world.written_counts`)."""
    prepared: dict[int, dict[str, Any]] = field(default_factory=dict)
    """The write cells' own rows by slot, once made (tests.hub.scope_matrix.writes.prepared)."""

    @property
    def store(self) -> Any:
        return self.client.app[STORE]


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
    return frozenset((owner.get(row["idCardNumber"], "?"), FULL) for row in body["dataList"])


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


def unset_rules(body: Any, world: World) -> tuple[str, str | None]:
    return body["project_id"], body["updated_by"]


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
    # Site rules: never set in this world, so the defaults, to the writers, supervision and the authorities.
    *(
        Case(f"site-rules-{p}", "GET", f"/api/v1/projects/{p}/site-rules", f"{PROJECT}/site-rules", unset_rules,
             allowed(expect))
        for p, expect in (
            (P1, dict.fromkeys(("city", "district", "gc_project", "supervision_project", "operator"), (P1, None))),
            (P2, {"city": (P2, None), "district": 404, "gc_project": 404, "supervision_project": 404, "operator": (P2, None)}),
            ("P-0009", dict.fromkeys(("city", "district", "gc_project", "supervision_project", "operator"), 404)),
        )
    ),
    # Worker-platform settings (hub.platform): never set in this world, to their writers and the bureau.
    *(
        case
        for p, expect in (
            (P1, dict.fromkeys(("city", "district", "gc_project"), "unset")),
            (P2, {"city": "unset", "district": 404, "gc_project": 404}),
            ("P-0009", dict.fromkeys(("city", "district", "gc_project"), 404)),
        )
        for case in (
            Case(f"platform-{p}", "GET", f"/api/v1/projects/{p}/platform", f"{PROJECT}/platform",
                 lambda body, world: "unset" if body == {"settings": None} else body, allowed(expect)),
            Case(f"platform-uploads-{p}", "GET", f"/api/v1/projects/{p}/platform/uploads", f"{PROJECT}/platform/uploads",
                 lambda body, world, p=p: "unset" if (body["project_id"], body["configured"], body["queue"],
                                                      body["last_success_at"]) == (p, False, 0, None) else body,
                 allowed(expect)),
        )
    ),
    # Completion dates (竣工, hub.retention): never set in this world, to the authorities and the project's
    # GC and supervision departments.
    *(
        Case(f"completion-{p}", "GET", f"/api/v1/projects/{p}/completion", f"{PROJECT}/completion",
             lambda body, world, p=p: "under way" if body == {"project_id": p, "completed_on": None, "kept_until": None,
                                                              "retention_years": 3} else body,
             allowed(expect))
        for p, expect in (
            (P1, dict.fromkeys(("city", "district", "gc_project", "supervision_project"), "under way")),
            (P2, {"city": "under way", "district": 404, "gc_project": 404, "supervision_project": 404}),
            ("P-0009", dict.fromkeys(("city", "district", "gc_project", "supervision_project"), 404)),
        )
    ),
    # The workflows (hub/api/workflows.py).
    Case("orders", "GET", "/api/v1/rectification-orders", "/api/v1/rectification-orders", each("items", "subject"), ORDERS_SEEN_BY),
    Case("orders-overdue", "GET", "/api/v1/rectification-orders?overdue=true", "/api/v1/rectification-orders",
         each("items", "subject"), only(ORDERS_SEEN_BY, OVERDUE)),
    *(order_case(subject) for subject in ("o-p1", "o-p2", "o-sub")),
    # 通报 and sanctions: the world has none (the writes make and find them); every reader gets in.
    Case("bulletins", "GET", "/api/v1/bulletins", "/api/v1/bulletins", each("items", "number"), readers(lambda who: frozenset())),
    Case("bulletin-unknown", "GET", "/api/v1/bulletins/999999", "/api/v1/bulletins/{bulletin_id}", each("items", "number"),
         readers(lambda who: 404)),
    Case("sanctions-P1", "GET", f"/api/v1/sanctions?subject_kind=project&subject_id={P1}", "/api/v1/sanctions",
         each("items", "reason"), readers(lambda who: frozenset())),
    # The bureaus' contacts: the world has none (the writes make and find them); only the city and the bureau get in.
    Case("district-contacts", "GET", "/api/v1/district-contacts", "/api/v1/district-contacts", each("items", "phone"),
         allowed({"city": frozenset(), "district": frozenset()})),
    # Inspections by the authorities: read by whoever reads the project's (its scope).
    Case("inspections", "GET", "/api/v1/inspections", "/api/v1/inspections", each("items", "findings"),
         allowed({"city": frozenset({"i-p1", "i-p2"}), **dict.fromkeys(INSPECTORS[1:], frozenset({"i-p1"}))})),
    Case("inspection-unknown", "GET", "/api/v1/inspections/999999", "/api/v1/inspections/{inspection_id}",
         field_of("findings"), allowed(dict.fromkeys(INSPECTORS, 404))),
    Case("inspection-photo-unknown", "GET", "/api/v1/inspections/999999/photos/1",
         "/api/v1/inspections/{inspection_id}/photos/{photo_id}", field_of("findings"), allowed(dict.fromkeys(INSPECTORS, 404))),
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
    # Teams (班组): the world has none; every reader of the project gets the empty list.
    *(
        Case(f"teams-{p}", "GET", f"/api/v1/projects/{p}/teams", f"{PROJECT}/teams", field_of("items"),
             per_project(p, lambda who: []))
        for p in (P1, P2)
    ),
    Case("team-none", "GET", "/api/v1/teams/team-none", "/api/v1/teams/{team_id}", field_of("id"),
         per_project(P1, lambda who: 404)),
    # The office readers' card reads (hub/api/card_reads.py): the project departments that register
    # people, on their own project only (the world holds no read: what a read shows, and to whom, is
    # tests/hub/test_card_reads_api.py's and tests/integration/test_office_reader.py's).
    *(
        Case(f"card-reads-{p}", "GET", f"/api/v1/projects/{p}/card-reads?wait_s=0", f"{PROJECT}/card-reads",
             field_of("items"), allowed({w: [] if p == P1 else 404 for w in ("gc_project", "sub_project")}))
        for p in (P1, P2)
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
