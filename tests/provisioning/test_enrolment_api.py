"""Enrolment over the hub's API, on both stores: tokens by the project's account, enrolment by
token alone, revocation; every action audited, every refusal a specific JSON error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from hub.api.enrolment import EnrolmentDesk, configure, desk_from_config
from hub.api.keys import STORE
from hub.app import create_app
from hub.auth.principal import Role
from hub.config import HubConfig
from hub.registry import IdVault
from hub.store import Store
from hub.store.schema import audit_log, projects
from provisioning.ca import CertificateAuthority, generate_key, make_csr
from provisioning.enrolment import BrokerAddress, EnrolledGate, EnrolmentRequest
from provisioning.registrar import BrokerFiles, Registrar
from sitegate.netutil import free_port
from tests.provisioning.registry import SITE_KEYS, seed_registry
from tests.support.accounts import bearer, create_account
from wire.models import Direction, utc_now

Client = TestClient[web.Request, web.Application]


async def site_key(project_id: str) -> bytes:
    return SITE_KEYS[project_id]


@pytest.fixture
async def client(database_url: str, tmp_path: Path) -> AsyncIterator[Client]:
    config = HubConfig(database_url=database_url, mqtt_port=free_port())
    app = create_app(config)
    registrar = Registrar(
        CertificateAuthority.create(tmp_path / "test-ca"),
        broker=BrokerAddress(host="127.0.0.1", port=8883),
        roster_public_key="A" * 43 + "=",
        broker_files=BrokerFiles(crl_file=tmp_path / "ca.crl", acl_file=tmp_path / "acl"),
    )
    configure(app, EnrolmentDesk(registrar, site_key))
    async with TestClient(TestServer(app)) as test_client:
        store = test_client.app[STORE]
        await seed_registry(store)
        await create_account(
            store, role=Role.GC_PROJECT, username="gc-0042", enterprise_id="ent-gc", project_id="P-0042"
        )
        await create_account(store, role=Role.OPERATOR, username="ops")
        yield test_client


async def post(
    client: Client, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    response = await client.post(path, json=body, headers=headers or {})
    return response.status, await response.json()


async def new_token(client: Client, device_id: str = "lane-hz0042-a1") -> str:
    status, body = await post(
        client, "/api/v1/enrolment-tokens", {"device_id": device_id}, await bearer(client, "gc-0042")
    )
    assert status == 201, body
    return str(body["token"])


def csr(device_id: str = "lane-hz0042-a1") -> str:
    return make_csr(device_id, generate_key()).decode()


async def audit_actions(client: Client) -> list[tuple[str, str, str | None]]:
    async with client.app[STORE].read("test") as conn:
        rows = (await conn.execute(select(audit_log).order_by(audit_log.c.id))).all()
    return [(r.username, r.action, r.target) for r in rows if r.action != "auth.login"]


async def test_a_project_account_gets_a_token_and_the_lane_enrols_with_it(client: Client) -> None:
    token = await new_token(client)
    status, bundle = await post(client, "/api/v1/enrolments", {"token": token, "csr": csr()})
    assert status == 201, bundle
    assert bundle["lane"] == {
        "device_id": "lane-hz0042-a1",
        "project_id": "P-0042",
        "lane": "A1",
        "direction": "in",
    }
    assert bundle["site_key"] == SITE_KEYS["P-0042"].hex()
    assert bundle["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert await audit_actions(client) == [
        ("gc-0042", "enrolment_token.issue", "lane-hz0042-a1"),
        ("device:lane-hz0042-a1", "device.enrol", "lane-hz0042-a1"),
    ]


async def test_reused_and_forged_tokens_are_refused_with_a_clear_message(client: Client) -> None:
    token = await new_token(client)
    assert (await post(client, "/api/v1/enrolments", {"token": token, "csr": csr()}))[0] == 201
    status, body = await post(client, "/api/v1/enrolments", {"token": token, "csr": csr()})
    assert status == 409
    assert body["error"]["code"] == "token_used"
    assert "already enrolled lane-hz0042-a1" in body["error"]["message"]
    forged = token.split(".")[0] + "." + "A" * 43
    status, body = await post(client, "/api/v1/enrolments", {"token": forged, "csr": csr()})
    assert (status, body["error"]["code"]) == (403, "token_unknown")
    status, body = await post(client, "/api/v1/enrolments", {"token": "nonsense", "csr": csr()})
    assert (status, body["error"]["code"]) == (400, "token_malformed")
    status, body = await post(client, "/api/v1/enrolments", {"token": token})
    assert (status, body["error"]["code"]) == (400, "invalid_body")
    assert "csr: Field required" in body["error"]["message"]
    assert [a for _, a, _ in await audit_actions(client)].count("device.enrol") == 1


async def test_a_bad_csr_is_a_400_and_spends_nothing(client: Client) -> None:
    token = await new_token(client)
    status, body = await post(client, "/api/v1/enrolments", {"token": token, "csr": csr("lane-hz0042-a2")})
    assert (status, body["error"]["code"]) == (400, "csr_refused")
    assert "not for device 'lane-hz0042-a1'" in body["error"]["message"]
    assert [a for _, a, _ in await audit_actions(client)] == ["enrolment_token.issue"]
    assert (await post(client, "/api/v1/enrolments", {"token": token, "csr": csr()}))[0] == 201


async def test_tokens_only_for_the_accounts_own_gates(client: Client) -> None:
    headers = await bearer(client, "gc-0042")
    status, body = await post(client, "/api/v1/enrolment-tokens", {"device_id": "lane-hz0099-a1"}, headers)
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await post(client, "/api/v1/enrolment-tokens", {"device_id": "lane-hz0042-a9"}, headers)
    assert (status, body["error"]["code"]) == (409, "gate_direction")
    ops = await bearer(client, "ops")
    status, body = await post(client, "/api/v1/enrolment-tokens", {"device_id": "lane-hz0042-a1"}, ops)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = await post(client, "/api/v1/enrolment-tokens", {"device_id": "lane-hz0042-a1"})
    assert status == 401


async def test_gates_placed_in_and_out_over_the_api_enrol(client: Client) -> None:
    """A gate is placed with one direction (``both`` is refused up front, tests/hub/registry);
    each of an ``in`` and an ``out`` gate then enrols its lane with that direction. The ``both``
    row above (lane-hz0042-a9) stands for an old database: refused at enrolment, as before."""
    async with client.app[STORE].write("test: 报备") as conn:
        await conn.execute(projects.update().where(projects.c.id == "P-0042").values(registered_at=utc_now()))
    ops = await bearer(client, "ops")
    for device_id, direction in (("lane-hz0042-b1", "in"), ("lane-hz0042-b2", "out")):
        gate = {
            "device_id": device_id,
            "lane": device_id[-2:].upper(),
            "direction": direction,
            "name": "东门",
        }
        status, body = await post(client, "/api/v1/projects/P-0042/gates", gate, ops)
        assert status == 201, body
        token = await new_token(client, device_id)
        status, bundle = await post(client, "/api/v1/enrolments", {"token": token, "csr": csr(device_id)})
        assert status == 201, bundle
        assert (bundle["lane"]["device_id"], bundle["lane"]["direction"]) == (device_id, direction)


async def test_revocation_by_the_operator_is_audited(client: Client) -> None:
    token = await new_token(client)
    await post(client, "/api/v1/enrolments", {"token": token, "csr": csr()})
    ops = await bearer(client, "ops")
    status, body = await post(client, "/api/v1/devices/lane-hz0042-a1/revocation", {}, ops)
    assert status == 200, body
    assert len(body["revoked_serials"]) == 1
    status, body = await post(client, "/api/v1/devices/lane-hz0099-a1/revocation", {}, ops)
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert ("ops", "device.revoke", "lane-hz0042-a1") in await audit_actions(client)


async def test_without_a_ca_enrolment_is_unavailable(database_url: str, tmp_path: Path) -> None:
    config = HubConfig(database_url=database_url, mqtt_port=free_port())
    async with TestClient(TestServer(create_app(config))) as client:
        status, body = await post(
            client, "/api/v1/enrolments", {"token": "lane-hz0042-a1." + "A" * 43, "csr": "y"}
        )
    assert (status, body["error"]["code"]) == (503, "enrolment_unavailable")


async def test_a_hub_with_a_ca_in_its_state_directory_serves_enrolments(
    database_url: str, tmp_path: Path
) -> None:
    """The desk as the app factory builds it: the CA in the state directory, the broker files in
    ``broker_files_dir``, the site key opened from the registry's sealed column with the hub's vault."""
    vault = IdVault(bytes(range(32)))
    state = tmp_path / "state"
    ca = CertificateAuthority.create(state / "ca")
    (state / "broker").mkdir()
    config = HubConfig(
        database_url=database_url,
        mqtt_port=free_port(),
        roster_signing_key_file=tmp_path / "roster.key",
        broker_files_dir=state / "broker",
    )
    async with await Store.open(database_url) as store:
        assert desk_from_config(config, store, vault.open_site_key, state_dir=tmp_path / "nothing") is None
        desk = desk_from_config(config, store, vault.open_site_key, state_dir=state)
        assert desk is not None
        await seed_registry(store)
        async with store.write("seal") as conn:
            sealed = vault.seal_site_key("P-0042", SITE_KEYS["P-0042"])
            await conn.execute(
                projects.update().where(projects.c.id == "P-0042").values(site_key_cipher=sealed)
            )
        assert await desk.site_key("P-0042") == SITE_KEYS["P-0042"]
        issued = desk.registrar.issue_token(
            EnrolledGate("lane-hz0042-a1", "P-0042", "A1", Direction.IN), issued_by="gc", now=utc_now()
        )
        desk.registrar.enrol(
            EnrolmentRequest(token=issued.token, csr=csr()), site_key=SITE_KEYS["P-0042"], now=utc_now()
        )
        desk.registrar.revoke("lane-hz0042-a1", utc_now())
    assert desk.registrar.ca.cert_pem == ca.cert_pem
    assert "user lane-hz0042-a1\ntopic deny #" in (state / "broker" / "acl").read_text()
    assert (state / "broker" / "ca.crl").is_file()
