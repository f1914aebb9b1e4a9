"""Every endpoint × every role × inside and outside its scope, on both stores.

Two small worlds per store, built once per module (tests/hub/scope_world.py: two districts, the
parties of two projects, people assigned through each enterprise, lanes, events, orders,
deductions, inspections, an account of every role): one for the reads, one for the writes, so no
write can change what a read expects.

The oracle lives in tests/hub/scope_matrix/: what each account sees (``seen``), the reads
(``reads``) and the writes (``writes``). Each row of ``CASES`` is one read; its ``expect`` says, for every account the route table lets
through the door, the status code or (for a 200 or 202) exactly what comes back. Each row of
``WRITES`` is one write; its ``expect`` says the status for those accounts, a refused write must
write no row of any table the API writes (and leave the enrolment ledger as it was), and an allowed one is then looked for by
every account, found only by those in its ``seen_by``. The door is the route table's
(hub/api/routes.py): 401 without a token, 403 for a role its row does not name; the matrix adds
those answers itself (:func:`expected`), and ``test_the_oracle_and_the_table_agree_on_who_gets_in``
holds the accounts each row's ``expect`` names by hand to the row's roles, both ways. Adding an
endpoint means adding its rows there: ``test_every_row_of_the_route_table_is_in_the_matrix`` fails
until they are. No answer carries an ID number but where the oracle says so: the city's and the
district's views of a person, and the national platform's attendance upload for its uploaders.

The oracle is written out by hand from the notice's rules, not computed with hub.auth.scope.
The console's pages (the table's console rows) are held by tests/console.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from datetime import time
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from hub.api.enrolment import EnrolmentDesk, configure
from hub.api.keys import INGEST, STORE
from hub.api.route import Route
from hub.api.routes import API_ROUTES, ROUTES, public_paths
from hub.app import create_app
from hub.config import HubConfig
from hub.registry import IdVault, load_data_key
from hub.store.schema import enterprises, projects
from provisioning.ca import CertificateAuthority
from provisioning.enrolment import BrokerAddress
from provisioning.registrar import BrokerFiles, Registrar
from sitegate.mosquitto import Mosquitto
from tests.hub.clocked import token_headers_at
from tests.hub.scope_matrix.reads import (
    CASES,
    COVERED_ELSEWHERE,
    EVENTS,
    Case,
    World,
    full_numbers,
    numbers_in,
)
from tests.hub.scope_matrix.seen import WHOLE_NUMBERS
from tests.hub.scope_matrix.writes import WRITES, Cell, Seen, Write, cell_of, prepared
from tests.hub.scope_world import (
    ACCOUNTS,
    ANONYMOUS,
    D1,
    LANE_P1,
    NOW,
    P1,
    WHO,
    build,
    fingerprint,
    fresh_enterprise,
    seed_records,
    username,
    watch_writes,
    written_counts,
)
from tests.support.accounts import create_account
from tests.support.clock import FakeClock
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.broker
on_the_world = pytest.mark.asyncio(loop_scope="module")
"""The async tests share the module's event loop, where the worlds' apps run."""


# ---------------------------------------------------------------------------------------------
# The worlds
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextlib.asynccontextmanager
async def open_world(
    kind: str, name: str, request: pytest.FixtureRequest, directory: Path, *, watched: bool
) -> AsyncIterator[World]:
    """A hub over a world of its own: its database, broker, data key and certificate authority;
    ``watched``, every row written to its tables logged (:func:`watch_writes`)."""
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
            broker_files=BrokerFiles.in_directory(directory),  # a revocation answers 200 once written
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
        async with TestClient(TestServer(app)) as client, contextlib.AsyncExitStack() as stack:
            store = client.app[STORE]
            await client.app[INGEST].wait_connected()
            await build(store, vault)
            principals = {
                who: await create_account(store, username=username(who), **scope)
                for who, scope in ACCOUNTS.items()
            }
            seeded = await seed_records(store, principals)
            written = None
            if watched:
                await watch_writes(store)
                written = await stack.enter_async_context(written_counts(store))
            headers = {
                who: await token_headers_at(store, principal, clock) for who, principal in principals.items()
            }
            yield World(client, headers, principals, seeded, vault, registrar, written)


def _world_fixture(name: str, purpose: str, *, watched: bool = False) -> Any:
    async def fixture(
        store_kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[World]:
        directory = tmp_path_factory.mktemp(purpose)
        async with open_world(store_kind, purpose, request, directory, watched=watched) as opened:
            yield opened

    return pytest_asyncio.fixture(fixture, scope="module", loop_scope="module", name=name)


world = _world_fixture("world", "reads")
write_world = _world_fixture("write_world", "writes", watched=True)


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
    """The status; a refusal writes no row and leaves the enrolment ledger as it was; an allowed
    write is found by exactly the accounts that should see it."""
    world = write_world
    cell = cell_of(write, who, world)
    cell.values.update(await prepared(write, cell))
    before = await _fingerprint(world)
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
        after = await _fingerprint(world)
        changed = [name for name in before if before[name] != after[name]]
        assert not changed, f"a refused write changed {changed}"
        return
    answer = await response.json() if text else None
    if write.made is not None:
        write.made(answer, cell)
    if write.seen is not None:
        await _look_for(world, write.seen, answer, cell)


@on_the_world
async def test_the_fingerprint_shows_every_row_written(write_world: World) -> None:
    """The refusals' check is not empty: an insert, an update (even to the value already there)
    and a delete each change the fingerprint, naming the table."""
    store = write_world.store
    taken = [await _fingerprint(write_world)]
    async with store.write("matrix: fingerprint check") as conn:
        await fresh_enterprise(conn, "ent-fingerprint", "labour_subcontractor", D1)
    taken.append(await _fingerprint(write_world))
    the_row = enterprises.c.id == "ent-fingerprint"
    for statement in (
        enterprises.update().where(the_row).values(local=True),
        enterprises.delete().where(the_row),
    ):
        async with store.write("matrix: fingerprint check") as conn:
            await conn.execute(statement)
        taken.append(await _fingerprint(write_world))
    for before, after in itertools.pairwise(taken):
        assert [name for name in before if before[name] != after[name]] == ["enterprises"]


async def _fingerprint(world: World) -> dict[str, Any]:
    assert world.written is not None, "the write world counts what is written"
    return await fingerprint(world.written, world.registrar.ca.directory)


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


PATH_VALUES = {
    "project_id": P1,
    "device_id": LANE_P1,
    "person_id": "per-sub1",
    "order_id": "1",
    "assignment_id": "1",
    "enterprise_id": "ent-sub",
    "team_id": "team-any",  # the body is refused before the team is looked for
    "district": D1,
    "role": "daily_contact",
}


@on_the_world
@pytest.mark.parametrize(
    "row", [r for r in API_ROUTES if r.body is not None], ids=lambda r: f"{r.method} {r.path}"
)
async def test_the_documented_body_is_the_one_the_handler_validates(write_world: World, row: Route) -> None:
    """An empty object to each row with a body, by an account the row lets in: refused naming
    exactly the fields the document marks required (the row's model, which the document shows)."""
    assert row.body is not None
    who = next((w for w in ACCOUNTS if w in let_in(row.method, row.path)), None)
    headers = {} if row.public or who is None else write_world.headers[who]
    path = row.path.format_map(PATH_VALUES)
    response = await write_world.client.request(row.method, path, headers=headers, json={})
    answer = await response.json()
    assert response.status in (400, 422), answer
    named = {
        problem.split(":")[0]
        for problem in answer["error"]["message"].split("; ")
        if "Field required" in problem
    }
    assert named == set(row.body.model_json_schema().get("required", [])), answer
