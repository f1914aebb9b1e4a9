"""Issue 13, item 5: login that cannot be used against its owner, against a real hub (the app on
a real store). The rules themselves are tested in tests/hub/test_auth.py; here each attack the
issue tried, by name. That an unknown name costs the same argon2 work as a known one (a timing
oracle otherwise) is counted there: ``test_an_unknown_username_costs_the_same_argon2_work``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.api.keys import STORE
from hub.store.schema import accounts, audit_log
from tests.hub.registry.conftest import PASSWORD, Client, World
from tests.support.accounts import bearer

LOGIN = "/api/v1/auth/login"
WRONG = "guessed-password-1"


async def _login(client: Client, username: str, password: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = await client.post(LOGIN, json={"username": username, "password": password})
    return response.status, await response.json(), dict(response.headers)


async def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(
    client: Client, http_world: World
) -> None:
    """Five wrong passwords used to lock any account, its live token refused with 423 too."""
    owner = http_world.gc_project.username
    headers = await bearer(client, owner, PASSWORD)
    answers = [await _login(client, owner, WRONG) for _ in range(8)]
    assert [status for status, _, _ in answers] == [401] * 5 + [429] * 3
    assert answers[5][2]["Retry-After"] == "1"
    assert (await client.get("/api/v1/auth/me", headers=headers)).status == 200
    async with client.app[STORE].read("test") as conn:
        assert await conn.scalar(select(accounts.c.locked_until).where(accounts.c.username == owner)) is None


async def test_the_throttle_does_not_tell_which_names_exist(client: Client, http_world: World) -> None:
    """Unknown names never got 423 while real ones did; now both are slowed alike."""
    real = [await _login(client, http_world.gc_project.username, WRONG) for _ in range(6)]
    made_up = [await _login(client, "hz-0042-gc", WRONG) for _ in range(6)]
    assert [(s, b) for s, b, _ in real] == [(s, b) for s, b, _ in made_up]


async def test_typed_unknown_names_are_not_written_to_the_audit_log(
    client: Client, http_world: World
) -> None:
    """A password typed into the name field would have been kept in the clear."""
    typed = "my-Secret-passw0rd"
    await _login(client, typed, WRONG)
    async with client.app[STORE].read("test") as conn:
        lines = (await conn.execute(select(audit_log))).all()
    assert lines and all(typed not in str(tuple(line)) for line in lines)
    assert any(line.username == "<unknown account>" for line in lines)


async def test_one_client_cannot_spend_the_hubs_argon2_work_unbounded(
    client: Client, http_world: World
) -> None:
    """Logins cost argon2 work: one client, any names, 30 a minute, then 429 before any work."""
    statuses = [(await _login(client, f"name-{n}", WRONG))[0] for n in range(31)]
    assert statuses == [401] * 30 + [429]
