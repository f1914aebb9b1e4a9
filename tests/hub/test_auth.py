"""Logging in and out over HTTP: tokens, throttling, disabled accounts, the audit trail of each try.

The app runs on a FakeClock: a throttle's delay runs out and a token expires because the test
moves the clock."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import argon2
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from hub.api.keys import STORE
from hub.api.limits import LOGIN_THROTTLE as THROTTLE
from hub.app import create_app
from hub.auth import login
from hub.auth.passwords import Argon2Cost
from hub.auth.principal import Role
from hub.config import HubConfig
from hub.store import Store
from hub.store.schema import accounts, audit_log, auth_tokens
from sitegate.netutil import free_port
from tests.hub.clocked import NOON
from tests.support.accounts import TEST_PASSWORD, bearer, create_account
from tests.support.clock import FakeClock

Client = TestClient[web.Request, web.Application]
LOGIN = "/api/v1/auth/login"
WRONG = "not the password at all"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOON)


@pytest.fixture
async def client(database_url: str, clock: FakeClock) -> AsyncIterator[Client]:
    config = HubConfig(database_url=database_url, mqtt_port=free_port(), login_lockout_s=600)
    async with TestClient(TestServer(create_app(config, clock=clock))) as test_client:
        await create_account(test_client.app[STORE], role=Role.CITY, username="city-1")
        yield test_client


def store_of(client: Client) -> Store:
    return client.app[STORE]


async def post_login(client: Client, username: str, password: str) -> tuple[int, dict[str, Any]]:
    response = await client.post(LOGIN, json={"username": username, "password": password})
    return response.status, await response.json()


async def audit_lines(client: Client) -> list[dict[str, Any]]:
    async with store_of(client).read("test") as conn:
        rows = (await conn.execute(select(audit_log).order_by(audit_log.c.id))).all()
    return [dict(row._mapping) for row in rows]


async def set_account(client: Client, username: str, **values: Any) -> None:
    async with store_of(client).write("test") as conn:
        await conn.execute(update(accounts).where(accounts.c.username == username).values(**values))


async def test_login_issues_a_token_that_me_and_logout_use(client: Client) -> None:
    response = await client.post(LOGIN, json={"username": "city-1", "password": TEST_PASSWORD})
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert set(body) == {"token", "expires_at", "account"}
    assert body["account"] == {
        "username": "city-1",
        "role": "city",
        "district": None,
        "enterprise_id": None,
        "project_id": None,
        "display_name": "city-1",
    }
    headers = {"Authorization": f"Bearer {body['token']}"}
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.status == 200
    assert (await me.json())["account"]["username"] == "city-1"
    assert (await client.get("/api/v1/access-events", headers=headers)).status == 200

    assert (await client.post("/api/v1/auth/logout", headers=headers)).status == 204
    after = await client.get("/api/v1/auth/me", headers=headers)
    assert after.status == 401
    assert (await after.json())["error"]["code"] == "unauthenticated"
    actions = [line["action"] for line in await audit_lines(client)]
    assert actions == ["auth.login", "auth.logout"]


async def test_the_token_is_stored_only_as_its_sha256_and_lives_as_configured(client: Client) -> None:
    status, body = await post_login(client, "city-1", TEST_PASSWORD)
    assert status == 200
    async with store_of(client).read("test") as conn:
        [row] = (await conn.execute(select(auth_tokens))).all()
    assert row.token_sha256 == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in str(tuple(row))
    lifetime = row.expires_at - row.issued_at
    assert lifetime == timedelta(hours=8)
    assert body["expires_at"] == row.expires_at.isoformat()


async def test_wrong_password_and_unknown_user_get_the_same_answer(client: Client) -> None:
    wrong = await post_login(client, "city-1", WRONG)
    unknown = await post_login(client, "nobody-here", WRONG)
    assert wrong == unknown == (401, wrong[1])
    assert wrong[1]["error"]["code"] == "invalid_credentials"
    lines = await audit_lines(client)
    assert [(line["username"], line["action"], line["detail"]["reason"]) for line in lines] == [
        ("city-1", "auth.login_failed", "wrong_password"),
        ("<unknown account>", "auth.login_failed", "unknown_username"),  # never the typed name
    ]
    assert all("nobody-here" not in str(line) for line in lines)
    assert lines[1]["account_id"] is None
    assert all(WRONG not in str(line) and TEST_PASSWORD not in str(line) for line in lines)


async def test_an_unknown_username_costs_the_same_argon2_work(
    standard_argon2: Argon2Cost, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing must not say which names exist: an unknown name is checked against a dummy hash with
    the production parameters. The work is counted, not timed (a loaded machine makes timings
    noise): one argon2 verification each, against hashes of the same cost."""
    assert (await post_login(client, "city-1", TEST_PASSWORD))[0] == 200  # rehashed to full cost
    verified: list[argon2.Parameters] = []
    real_verify = login.verify_password

    def counting_verify(stored: str, password: str) -> bool:
        verified.append(argon2.extract_parameters(stored))
        return real_verify(stored, password)

    monkeypatch.setattr(login, "verify_password", counting_verify)
    assert (await post_login(client, "city-1", WRONG))[0] == 401
    known = list(verified)
    verified.clear()
    assert (await post_login(client, "nobody-here", WRONG))[0] == 401
    assert len(known) == len(verified) == 1
    assert verified == known
    assert known[0].memory_cost == 19 * 1024 and known[0].time_cost == 2  # the production cost


async def test_wrong_passwords_slow_their_typist_down_and_lock_nobody(
    client: Client, clock: FakeClock
) -> None:
    """Five wrong passwords are answered at once; the sixth waits 1 s, then 2 s, 4 s... (429 with
    Retry-After, before any argon2 work); the owner logging in from elsewhere, and the owner's
    live token, are never refused (issue 13: the old lock was a weapon for strangers)."""
    headers = await bearer(client, "city-1")
    for _ in range(5):
        assert (await post_login(client, "city-1", WRONG))[0] == 401
    for delay in (1, 2, 4):
        response = await client.post(LOGIN, json={"username": "city-1", "password": TEST_PASSWORD})
        assert response.status == 429
        assert response.headers["Retry-After"] == str(delay)
        body = await response.json()
        assert body["error"]["code"] == "too_many_requests"
        assert body["error"]["message"].startswith("请求过于频繁")
        clock.advance(timedelta(seconds=delay))
        assert (await post_login(client, "city-1", WRONG))[0] == 401
    assert (await client.get("/api/v1/auth/me", headers=headers)).status == 200
    async with store_of(client).read("test") as conn:
        assert await conn.scalar(select(accounts.c.locked_until)) is None
    # The owner, from another client (a test client's address is fixed: another throttle entry
    # stands for it), logs in at once.
    client.app[THROTTLE].succeeded("city-1", "127.0.0.1")
    assert (await post_login(client, "city-1", TEST_PASSWORD))[0] == 200


async def test_an_unknown_name_is_throttled_as_a_known_one(client: Client) -> None:
    answers = [await post_login(client, name, WRONG) for name in ("city-1", "nobody-here") for _ in range(6)]
    assert [status for status, _ in answers] == [*[401] * 5, 429] * 2
    assert answers[5][1] == answers[11][1]


async def test_one_client_may_try_so_many_logins_a_minute(database_url: str, clock: FakeClock) -> None:
    config = HubConfig(
        database_url=database_url, mqtt_port=free_port(), http={"logins_per_client_per_min": 3}
    )
    async with TestClient(TestServer(create_app(config, clock=clock))) as test_client:
        statuses = [(await post_login(test_client, f"name-{n}", WRONG))[0] for n in range(4)]
        assert statuses == [401, 401, 401, 429]
        clock.advance(timedelta(seconds=20))  # one try back
        assert (await post_login(test_client, "name-9", WRONG))[0] == 401


async def test_a_success_resets_the_count_of_failures(client: Client) -> None:
    for _ in range(4):
        assert (await post_login(client, "city-1", WRONG))[0] == 401
    assert (await post_login(client, "city-1", TEST_PASSWORD))[0] == 200
    for _ in range(4):
        assert (await post_login(client, "city-1", WRONG))[0] == 401
    assert (await post_login(client, "city-1", TEST_PASSWORD))[0] == 200


async def test_a_disabled_account_cannot_use_its_tokens(client: Client, clock: FakeClock) -> None:
    headers = await bearer(client, "city-1")
    # A lock an older hub set does not refuse a live token (no lock any more).
    await set_account(client, "city-1", locked_until=clock.wall() + timedelta(minutes=5))
    assert (await client.get("/api/v1/auth/me", headers=headers)).status == 200

    await set_account(client, "city-1", locked_until=None, disabled=True)
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert (response.status, (await response.json())["error"]["code"]) == (401, "account_disabled")
    status, body = await post_login(client, "city-1", TEST_PASSWORD)
    assert (status, body["error"]["code"]) == (403, "account_disabled")
    # Someone without the password learns nothing about the account being disabled.
    assert (await post_login(client, "city-1", WRONG))[1]["error"]["code"] == "invalid_credentials"


async def test_an_expired_token_is_told_so(client: Client, clock: FakeClock) -> None:
    headers = await bearer(client, "city-1")
    clock.advance(timedelta(hours=8) - timedelta(seconds=1))  # the token's last second
    assert (await client.get("/api/v1/access-events", headers=headers)).status == 200
    clock.advance(timedelta(seconds=1))
    response = await client.get("/api/v1/access-events", headers=headers)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "token_expired"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_login_rehashes_a_hash_made_with_cheaper_parameters(
    standard_argon2: Argon2Cost, client: Client
) -> None:
    async with store_of(client).read("test") as conn:
        before = await conn.scalar(select(accounts.c.password_hash))
    assert (await post_login(client, "city-1", TEST_PASSWORD))[0] == 200
    async with store_of(client).read("test") as conn:
        after = await conn.scalar(select(accounts.c.password_hash))
    assert "m=1024" in before
    assert after != before
    assert "m=19456" in after
    assert (await post_login(client, "city-1", TEST_PASSWORD))[0] == 200


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (b"{", "not JSON"),
        (b"[]", "body"),
        (b'{"username": "city-1"}', "password"),
        (b'{"username": "city-1", "password": 5}', "password"),
        (b'{"username": "", "password": "x"}', "username"),
        (b'{"username": "city-1", "password": "x", "remember": true}', "remember"),
        (b"\xff\xfe", "not JSON"),
        (b"[" * 2000 + b"]" * 2000, "nested too deeply"),
    ],
)
async def test_a_malformed_login_is_a_400_naming_the_problem(client: Client, body: bytes, names: str) -> None:
    response = await client.post(LOGIN, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "invalid_body"
    assert names in error["message"]


async def test_a_huge_login_body_is_refused(client: Client) -> None:
    response = await client.post(LOGIN, data=b"x" * 10_000)
    assert response.status == 413


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic Y2l0eS0xOnB3", "Bearer", "Bearer not-a-token", "Bearer " + "x" * 500],
)
async def test_requests_without_a_valid_token_are_401(client: Client, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for path in ("/api/v1/access-events", "/api/v1/devices", "/api/v1/no-such-endpoint"):
        response = await client.get(path, headers=headers)
        assert response.status == 401, path
        assert (await response.json())["error"]["code"] == "unauthenticated"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_what_stays_open(client: Client) -> None:
    assert (await client.get("/healthz")).status == 503  # open; the broker is not there
    assert (await client.get("/no-such-page")).status == 404
    assert (await client.get(LOGIN)).status == 405
    headers = await bearer(client, "city-1")
    lower = {"Authorization": headers["Authorization"].replace("Bearer", "bearer")}
    assert (await client.get("/api/v1/no-such-endpoint", headers=lower)).status == 404


async def test_the_hub_warns_at_start_while_no_account_exists(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = HubConfig(database_url=database_url, mqtt_port=free_port())
    async with TestClient(TestServer(create_app(config))):
        pass
    assert "sitegate hub account create --role city" in caplog.text
