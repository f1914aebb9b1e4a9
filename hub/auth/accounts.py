"""Creating accounts: shared by the bootstrap (the city account), the registration flows (报备
creates project accounts) and the account API, so every account is made the same way."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.passwords import hash_password
from hub.auth.principal import Principal, Role
from hub.store.schema import accounts

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$")


class AccountExists(ValueError):
    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"an account named {username!r} already exists")


async def insert_account(
    conn: AsyncConnection,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    now: datetime,
    district: str | None = None,
    enterprise_id: str | None = None,
    project_id: str | None = None,
    fast_hash: bool = False,
) -> Principal:
    """Insert one account in the caller's transaction; the scope fields are checked by Principal.

    Raises ValueError (bad username, weak password, fields that do not fit the role) or
    :class:`AccountExists`.
    """
    if not USERNAME_PATTERN.match(username):
        raise ValueError(
            f"username {username!r}: 3 to 64 letters, digits or _.@- starting with a letter or digit"
        )
    # Validates role/scope before anything is written.
    Principal(0, username, role, district, enterprise_id, project_id)
    taken = await conn.scalar(select(accounts.c.id).where(accounts.c.username == username))
    if taken is not None:
        raise AccountExists(username)
    result = await conn.execute(
        accounts.insert().values(
            username=username,
            password_hash=hash_password(password, fast=fast_hash),
            role=role.value,
            district=district,
            enterprise_id=enterprise_id,
            project_id=project_id,
            display_name=display_name,
            failed_logins=0,
            disabled=False,
            created_at=now,
        )
    )
    account_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
    if account_id is None:
        raise RuntimeError("the database returned no id for the new account")
    return Principal(int(account_id), username, role, district, enterprise_id, project_id)
