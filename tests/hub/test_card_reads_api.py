"""GET /api/v1/projects/{project_id}/card-reads: who gets an office reader's read, and what it says.

The reads are put straight into the app's :class:`~hub.registration_reads.CardReads` (the ingest's
side is tests/hub/test_registration_reads.py, the whole path tests/integration/test_office_reader.py).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from controller.registration import office_read
from hardware.emulators.identities import synthetic_identity
from hub.api.card_reads import CARD_READS
from hub.api.keys import STORE
from hub.api.workflows import VAULT
from hub.app import create_app
from hub.auth.principal import Role
from hub.config import HubConfig
from hub.registration_reads import KEEP_S
from hub.store.schema import assignments, audit_log, persons
from sitegate.mosquitto import Mosquitto
from tests.hub.clocked import token_headers_at
from tests.support.accounts import create_account
from tests.support.clock import FakeClock
from tests.support.placed import make_office_readers, place_at_gates
from wire.models import OfficeCardRead, Reason

pytestmark = pytest.mark.broker

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
READS = "/api/v1/projects/{}/card-reads"


@dataclass
class Desk:
    client: TestClient
    clock: FakeClock
    headers: dict[str, dict[str, str]]


@pytest.fixture
async def desk(broker: Mosquitto, tmp_path: Path) -> AsyncIterator[Desk]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    clock = FakeClock(NOW)
    config = HubConfig(
        database_url=url, mqtt_host=broker.host, mqtt_port=broker.port,
        data_key_file=tmp_path / "data.key", roster_signing_key_file=tmp_path / "roster.key",
    )  # fmt: skip
    async with TestClient(TestServer(create_app(config, clock=clock))) as client:
        store = client.app[STORE]
        await place_at_gates(store, [("office-1", "P1", "O1", "in"), ("office-2", "P2", "O1", "in")])
        await make_office_readers(store, ["office-1", "office-2"])
        accounts = {
            "gc_p1": (Role.GC_PROJECT, "P1"),
            "sub_p1": (Role.SUB_PROJECT, "P1"),
            "gc_p2": (Role.GC_PROJECT, "P2"),
            "supervision_p1": (Role.SUPERVISION_PROJECT, "P1"),
            "city": (Role.CITY, None),
        }
        headers = {}
        for who, (role, project) in accounts.items():
            principal = await create_account(
                store, role=role, username=who, project_id=project,
                enterprise_id="ent-gc" if project else None,
            )  # fmt: skip
            headers[who] = await token_headers_at(store, principal, clock)
        yield Desk(client, clock, headers)


def a_read(device_id: str, seed: int, **fields: object) -> OfficeCardRead:
    """A synthetic card as an office reader sends it (controller.registration), ``fields`` changed."""
    card = synthetic_identity(random.Random(seed))
    read = office_read(card, device_id=device_id, read_id=f"{seed:032x}", now=NOW, synced=True)
    return read.model_copy(update=fields)


async def get(desk: Desk, who: str, project: str, **params: object) -> tuple[int, dict]:
    query = {"wait_s": "0", **{k: str(v) for k, v in params.items()}}
    response = await desk.client.get(READS.format(project), params=query, headers=desk.headers[who])
    return response.status, await response.json()


async def test_the_project_departments_see_their_projects_read_whole(desk: Desk) -> None:
    read = a_read("office-1", 1)
    desk.client.app[CARD_READS].hold(read, project_id="P1", lane="O1")
    for who in ("gc_p1", "sub_p1"):
        status, body = await get(desk, who, "P1")
        assert status == 200, body
        [item] = body["items"]
        assert (item["id_number"], item["name"], item["device_id"], item["lane"]) == (
            read.id_number, read.name, "office-1", "O1",
        )  # fmt: skip
        assert (item["person_id"], item["on_project"], item["problem"]) == (None, False, None)
        assert body["last"] == item["number"]
        assert (await get(desk, who, "P1", after=body["last"]))[1]["items"] == []
    assert (await get(desk, "gc_p2", "P1"))[0] == 404  # another project's department: not there
    assert (await get(desk, "gc_p2", "P2"))[1]["items"] == []  # and its own project shows nothing of it
    for who in ("supervision_p1", "city"):
        assert (await get(desk, who, "P1"))[0] == 403
    async with desk.client.app[STORE].read("test") as conn:
        lines = (await conn.execute(select(audit_log).where(audit_log.c.action == "card_read.view"))).all()
    assert sorted(line.username for line in lines) == ["gc_p1", "sub_p1"]
    assert all(read.id_number not in str(line.detail) and line.target == "office-1" for line in lines)


async def test_a_read_says_whether_its_person_is_registered_and_assigned_here(desk: Desk) -> None:
    registered, assigned = a_read("office-1", 2), a_read("office-1", 3, problem=Reason.CARD_EXPIRED)
    vault = desk.client.app[VAULT]
    async with desk.client.app[STORE].write("people") as conn:
        for person_id, read in (("per-2", registered), ("per-3", assigned)):
            await conn.execute(persons.insert().values(
                id=person_id, id_index=vault.blind_index(read.id_number), id_cipher=b"x", id_masked="x",
                name=read.name, card_kind="resident", category="worker", created_at=NOW,
            ))  # fmt: skip
        await conn.execute(assignments.insert().values(
            project_id="P1", person_id="per-3", enterprise_id="ent-gc", role="worker",
            entry_date=date(2026, 11, 1), credential_hash="0" * 64, created_at=NOW,
        ))  # fmt: skip
    reads = desk.client.app[CARD_READS]
    reads.hold(registered, project_id="P1", lane="O1")
    status, body = await get(desk, "gc_p1", "P1")
    assert status == 200 and [(i["person_id"], i["on_project"]) for i in body["items"]] == [("per-2", False)]
    reads.hold(assigned, project_id="P1", lane="O1")  # the reader's next card replaces the last
    [item] = (await get(desk, "gc_p1", "P1"))[1]["items"]
    assert (item["person_id"], item["on_project"], item["problem"]) == ("per-3", True, "card_expired")
    assert isinstance(item["assignment_id"], int)


async def test_a_read_expires(desk: Desk) -> None:
    desk.client.app[CARD_READS].hold(a_read("office-1", 4), project_id="P1", lane="O1")
    desk.clock.advance(timedelta(seconds=KEEP_S + 1))
    assert (await get(desk, "gc_p1", "P1"))[1]["items"] == []


async def test_the_long_poll_answers_at_the_read(desk: Desk) -> None:
    poll = asyncio.create_task(get(desk, "gc_p1", "P1", wait_s=10))
    await asyncio.sleep(0.2)
    assert not poll.done()
    started = time.monotonic()
    desk.client.app[CARD_READS].hold(a_read("office-1", 5), project_id="P1", lane="O1")
    status, body = await asyncio.wait_for(poll, 5)
    assert status == 200 and len(body["items"]) == 1
    assert time.monotonic() - started < 5
