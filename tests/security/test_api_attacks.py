"""Issue 13, part A: the API's attacks, each a named test against a real hub (the app on a real
store, both SQLite and PostgreSQL, over aiohttp's test server). What held before and is covered
elsewhere is referenced, not copied:

- IDOR: every read and write of every role against the scope matrix (tests/hub/test_scope_matrix.py
  with tests/hub/scope_matrix/);
- CSRF in the console: tests/console/test_console.py
  ``test_a_forged_form_without_the_session_token_is_refused`` (in a browser), and
  test_console_attacks.py here (``test_csrf_*``);
- XSS in the console: tests/console/test_charts.py (the charts), and test_console_attacks.py here
  (``test_xss_*``).

Login attacks are in test_login_attacks.py.

The HTTP server's limits (partial requests, slow headers, connection caps) are in
test_http_limits.py; the demo's in test_demo_hygiene.py.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update

from hub.api.keys import STORE
from hub.errors import StoreError
from hub.store.schema import audit_log, devices
from tests.hub.registry.conftest import Client, World, new_number
from tests.hub.registry.test_api import call, person_body
from tests.support.accounts import token_headers
from wire.models import Heartbeat, PresenceState, PresenceStatus

LOOKUP = "/api/v1/persons/lookup"


def _strict_json(text: str) -> Any:
    """json.loads as a strict parser reads: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


OUT_OF_RANGE = [
    ("/api/v1/access-events?since=9999-12-31T23:59:59-23:59", "since"),
    ("/api/v1/access-events?until=0001-01-01T00:00:00%2B23:59", "until"),
    ("/api/v1/lane-events?since=9999-12-31T23:59:59-23:59", "since"),
    ("/api/v1/summaries/projects?month=9999-12", "month"),
    ("/api/v1/summaries/districts?month=0001-01", "month"),
    (f"/api/v1/access-events?cursor={_cursor('v1', '9999-12-31T23:59:59-23:59', 5)}", "cursor"),
    (f"/api/v1/lane-events?cursor={_cursor('v1', '0001-01-01T00:00:00+23:59', 5)}", "cursor"),
]


@pytest.mark.parametrize(("path", "name"), OUT_OF_RANGE, ids=[p for p, _ in OUT_OF_RANGE])
async def test_an_out_of_range_parameter_is_a_400_naming_it(
    client: Client, http_world: World, path: str, name: str
) -> None:
    """Item 9: these were 500s (an overflow in Python's dates or the database's timestamps)."""
    body = await call(client, "GET", path, http_world.city, status=400)
    assert body["error"]["code"] in ("invalid_parameter", "invalid_cursor")
    assert repr(name) in body["error"]["message"]


HEARTBEAT: dict[str, Any] = {
    "device_id": "lane-a",
    "sent_at": "2026-05-01T08:00:00+00:00",
    "boot_id": "boot-0001",
    "uptime_s": 10.0,
    "cpu_temp_c": 48.5,
    "free_disk_mb": 900.0,
    "journal_backlog": 0,
    "roster_version": 1,
    "reader_status": {},
    "clock_synced": True,
    "software_version": "0.1.0",
}


def make_heartbeat(**changes: Any) -> Heartbeat:
    return Heartbeat.model_validate({**HEARTBEAT, **changes})


@pytest.mark.parametrize("field", ["cpu_temp_c", "uptime_s", "free_disk_mb"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_a_non_finite_heartbeat_is_refused_at_the_wire(field: str, value: float) -> None:
    """Item 6: a lane's NaN or Infinity never reaches the store (it was stored, and came back out
    of GET /api/v1/devices as a literal Infinity)."""
    make_heartbeat()  # the rest is valid
    with pytest.raises(ValidationError, match="finite"):
        make_heartbeat(**{field: value})


async def test_the_api_never_emits_nan(client: Client, http_world: World) -> None:
    """Item 6: a non-finite number stored before the wire refused them (written here straight into
    the table) never goes out as ``NaN``: what the API answers parses as strict JSON."""
    store = client.app[STORE]
    await store.record_heartbeat(make_heartbeat())
    beat = make_heartbeat().model_dump(mode="json")
    forged = update(devices).values(last_heartbeat={**beat, "cpu_temp_c": math.inf})
    if store.engine.dialect.name == "postgresql":  # JSONB itself refuses Infinity: nothing to emit
        with pytest.raises(StoreError, match="json"):
            async with store.write("test") as conn:
                await conn.execute(forged)
        return
    async with store.write("test") as conn:
        await conn.execute(forged)
    response = await client.get(
        "/api/v1/devices", headers=await token_headers(client.app[STORE], http_world.city)
    )
    _strict_json(await response.text())  # a 500 if it must be, never Infinity


async def test_a_huge_presence_generation_does_not_freeze_presence(client: Client) -> None:
    """Item 7: a lane's forged 2**63-1 (its own certificate) and its real ``offline`` after it."""
    store = client.app[STORE]
    at = "2026-05-01T08:00:00+00:00"

    def presence(state: PresenceState, generation: int) -> PresenceStatus:
        return PresenceStatus.model_validate(
            {"device_id": "lane-a", "state": state, "generation": generation, "at": at}
        )

    await store.record_presence(presence(PresenceState.ONLINE, 7))
    await store.record_presence(presence(PresenceState.ONLINE, 2**63 - 1))
    assert await store.record_presence(presence(PresenceState.OFFLINE, 7))
    async with store.read("test") as conn:
        state = await conn.scalar(select(devices.c.presence_state).where(devices.c.device_id == "lane-a"))
    assert state == "offline"


async def test_lookup_by_id_number_is_refused_to_roles_without_need(
    client: Client, http_world: World
) -> None:
    """Item 8: only roles that register or assign people look one up (hub.auth.permissions)."""
    number = http_world.numbers.get(http_world.worker.id) or new_number(http_world.rng)
    for who in (http_world.operator, http_world.supervision_project):
        await call(client, "POST", LOOKUP, who, {"id_number": number}, status=403)


async def test_lookup_by_id_number_is_audited_without_the_number(client: Client, http_world: World) -> None:
    """Item 8: each lookup an audit line: who, what was found, the number's keyed hash."""
    number = new_number(http_world.rng)
    person = await call(
        client, "POST", "/api/v1/persons", http_world.district, person_body(http_world, number), 201
    )
    found = await call(client, "POST", LOOKUP, http_world.gc_project, {"id_number": number})
    assert found == {"person_id": person["id"]}
    await call(
        client, "POST", LOOKUP, http_world.gc_project, {"id_number": new_number(http_world.rng)}, status=404
    )
    async with client.app[STORE].read("test") as conn:
        rows = (
            await conn.execute(select(audit_log).where(audit_log.c.action == "registry.person.lookup"))
        ).all()
    assert [(row.username, row.target, row.detail["found"]) for row in rows] == [
        (http_world.gc_project.username, person["id"], True),
        (http_world.gc_project.username, "-", False),
    ]
    assert all(len(row.detail["id_index"]) == 64 for row in rows)
    assert number not in str([tuple(row) for row in rows])


async def test_lookup_by_id_number_is_throttled_per_account(client: Client, http_world: World) -> None:
    """Item 8: about 320 lookups a second were answered; now 30 a minute per account, then 429."""
    headers = await token_headers(client.app[STORE], http_world.gc_project)
    statuses = []
    for _ in range(31):
        response = await client.post(LOOKUP, json={"id_number": new_number(http_world.rng)}, headers=headers)
        statuses.append(response.status)
    assert statuses == [404] * 30 + [429]
    assert response.headers["Retry-After"] == "2"
    # Another account is not held back by this one.
    await call(client, "POST", LOOKUP, http_world.city, {"id_number": new_number(http_world.rng)}, status=404)
