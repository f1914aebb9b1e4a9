"""Bearer tokens: opaque random strings handed out at login, stored only as their SHA-256.

A token says nothing by itself (no claims to forge, nothing to decode): the hub looks its digest
up on every request, so logging out or disabling an account takes effect at once on
every hub instance. A leaked ``auth_tokens`` table logs nobody in: 256 random bits need no slow
hash, only one that cannot be reversed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.principal import Principal, Role
from hub.store.schema import accounts, auth_tokens

TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 128


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    """Shown once, to the client that logged in; the hub keeps only its digest."""
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    """What a token stands for: the account (as a Principal), and the state a request must check."""

    principal: Principal
    token_sha256: str
    expires_at: datetime
    display_name: str
    disabled: bool
    locale: str | None = None
    """The account's console language (``accounts.locale``); None: from the browser's."""


async def issue(conn: AsyncConnection, account_id: int, *, now: datetime, lifetime_s: float) -> IssuedToken:
    """A fresh token for the account, in the caller's transaction; the account's expired tokens go."""
    await conn.execute(
        delete(auth_tokens).where(auth_tokens.c.account_id == account_id, auth_tokens.c.expires_at <= now)
    )
    token = new_token()
    expires_at = now + timedelta(seconds=lifetime_s)
    await conn.execute(
        auth_tokens.insert().values(
            token_sha256=digest(token), account_id=account_id, issued_at=now, expires_at=expires_at
        )
    )
    return IssuedToken(token, expires_at)


async def revoke(conn: AsyncConnection, token_sha256: str) -> bool:
    result = await conn.execute(delete(auth_tokens).where(auth_tokens.c.token_sha256 == token_sha256))
    return bool(result.rowcount)


_t, _a = auth_tokens.c, accounts.c
_LOOKUP = (
    select(
        _t.token_sha256,
        _t.expires_at,
        _a.id,
        _a.username,
        _a.role,
        _a.district,
        _a.enterprise_id,
        _a.project_id,
        _a.display_name,
        _a.disabled,
        _a.locale,
    )
    .select_from(auth_tokens.join(accounts, _a.id == _t.account_id))
    .where(_t.token_sha256 == bindparam("token_sha256"))
)
"""Built once: every request with a token runs it, and building the select cost about as much
as running it (a third of :func:`lookup`'s Python time in the scope matrix's profile)."""


async def lookup(conn: AsyncConnection, token: str) -> Session | None:
    """The session behind ``token`` whatever its state (expired, account disabled: the caller
    decides what each means); None for a token the hub never issued or has revoked."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = (await conn.execute(_LOOKUP, {"token_sha256": digest(token)})).first()
    if row is None:
        return None
    return Session(
        principal=principal_from_row(row._mapping),
        token_sha256=row.token_sha256,
        expires_at=row.expires_at,
        display_name=row.display_name,
        disabled=bool(row.disabled),
        locale=row.locale,
    )


def principal_from_row(row: Mapping[Any, Any]) -> Principal:
    """A Principal from a mapping with the accounts table's id, username, role and scope columns."""
    return Principal(
        account_id=int(row["id"]),
        username=row["username"],
        role=Role(row["role"]),
        district=row["district"],
        enterprise_id=row["enterprise_id"],
        project_id=row["project_id"],
    )
