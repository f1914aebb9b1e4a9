"""Accounts for tests: made straight in the store (cheap argon2 parameters), logged in over HTTP.

``create_account`` is how a test gets a principal of any role without the registration flows;
``bearer`` logs it in through POST /api/v1/auth/login, as any client would; ``token_headers``
issues a token straight in the store (no HTTP, no argon2), for many accounts at once, and
``headers_for_new_account`` does both before the app is serving.
"""

from __future__ import annotations

from typing import Any

from hub.auth import tokens
from hub.auth.accounts import insert_account
from hub.auth.principal import Principal, Role
from hub.store import Store
from wire.models import utc_now

TEST_PASSWORD = "correct horse battery staple"


async def create_account(
    store: Store,
    *,
    role: Role,
    username: str,
    password: str = TEST_PASSWORD,
    district: str | None = None,
    enterprise_id: str | None = None,
    project_id: str | None = None,
) -> Principal:
    async with store.write("test account") as conn:
        return await insert_account(
            conn,
            username=username,
            password=password,
            role=role,
            display_name=username,
            now=utc_now(),
            district=district,
            enterprise_id=enterprise_id,
            project_id=project_id,
            fast_hash=True,
        )


async def bearer(client: Any, username: str, password: str = TEST_PASSWORD) -> dict[str, str]:
    """Headers carrying a fresh token for ``username`` (an aiohttp TestClient as ``client``)."""
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    body = await response.json()
    assert response.status == 200, body
    return {"Authorization": f"Bearer {body['token']}"}


async def token_headers(store: Store, principal: Principal, *, lifetime_s: float = 3600) -> dict[str, str]:
    """Headers carrying a token issued in the store for ``principal``, as a login would."""
    async with store.write("test token") as conn:
        issued = await tokens.issue(conn, principal.account_id, now=utc_now(), lifetime_s=lifetime_s)
    return {"Authorization": f"Bearer {issued.token}"}


async def headers_for_new_account(
    database_url: str, *, role: Role = Role.CITY, username: str = "city-test"
) -> dict[str, str]:
    """An account made (and a token issued) in the database before the app opens it: for fixtures
    whose client should carry the headers on every request (``TestClient(..., headers=...)``)."""
    async with await Store.open(database_url) as store:
        return await token_headers(store, await create_account(store, role=role, username=username))
