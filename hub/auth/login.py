"""Logging in and out, over the store: passwords, lockout, tokens, and an audit line for each try.

The rules:
- a wrong password and an unknown username give the same answer, after the same argon2 work
  (an unknown name is checked against a dummy hash), so neither the answer nor its timing says
  which names exist;
- ``max_failures`` wrong passwords in a row lock the account for ``lockout_s``; while it is locked
  the password is not even checked (a locked account cannot be guessed at); a success resets the
  count;
- a disabled account cannot log in (said only to someone who gave its right password);
- a hash made with older (or the tests' cheaper) parameters is replaced at the next login;
- every attempt leaves an audit line: success, wrong password, unknown name, locked, disabled.
  Never the password.

Argon2 runs in a worker thread: a login costs a core tens of milliseconds, which the event loop
(ingest, every other request) must not wait for. The default executor's few threads also bound
how much memory concurrent logins can take (19 MiB each).
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update

from hub.auth import audit, tokens
from hub.auth.passwords import WeakPassword, hash_password, needs_rehash, verify_password
from hub.auth.principal import Principal
from hub.auth.tokens import IssuedToken, Session
from hub.config import HubConfig
from hub.store import Store
from hub.store.schema import accounts
from wire.clock import Clock


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    token_lifetime_s: float = 8 * 3600
    max_failures: int = 5
    lockout_s: float = 15 * 60

    @classmethod
    def of(cls, config: HubConfig) -> LoginPolicy:
        return cls(config.token_lifetime_s, config.login_max_failures, config.login_lockout_s)


class LoginRefused(Exception):
    """Why a login did not issue a token."""


class InvalidCredentials(LoginRefused):
    def __init__(self) -> None:
        super().__init__("unknown username or wrong password")


class AccountLocked(LoginRefused):
    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(f"too many failed logins: the account is locked until {until.isoformat()}")


class AccountDisabled(LoginRefused):
    def __init__(self) -> None:
        super().__init__("the account is disabled")


@dataclass(frozen=True, slots=True)
class LoginResult:
    issued: IssuedToken
    principal: Principal
    display_name: str


@functools.cache
def _dummy_hash() -> str:
    """What an unknown username's password is checked against: same algorithm, same parameters."""
    return hash_password(secrets.token_urlsafe(24))


async def login(
    store: Store,
    username: str,
    password: str,
    *,
    policy: LoginPolicy,
    remote: str | None = None,
    clock: Clock,
) -> LoginResult:
    """A token for ``username`` if ``password`` is right and the account may log in; ``clock``
    (the app's) judges the lock and dates the token and the audit lines.

    Raises :class:`InvalidCredentials`, :class:`AccountLocked` or :class:`AccountDisabled`.
    """
    where: dict[str, object] = {"remote": remote} if remote else {}
    async with store.read("login") as conn:
        row = (await conn.execute(select(accounts).where(accounts.c.username == username))).first()

    async def audit_attempt(action: str, principal: Principal | None, **detail: object) -> None:
        """The audit line of an attempt that changes nothing else, in a transaction of its own."""
        async with store.write("login") as conn:
            await audit.record(
                conn, principal, action, at=clock.wall(), username=username, detail={**detail, **where}
            )

    if row is None:
        await asyncio.to_thread(verify_password, _dummy_hash(), password)
        await audit_attempt("auth.login_failed", None, reason="unknown_username")
        raise InvalidCredentials()
    account = row._mapping
    principal = tokens.principal_from_row(account)
    locked_until = account["locked_until"]
    if locked_until is not None and locked_until > clock.wall():
        await audit_attempt("auth.login_refused", principal, reason="locked", until=locked_until.isoformat())
        raise AccountLocked(locked_until)

    stored_hash = account["password_hash"]
    if not await asyncio.to_thread(verify_password, stored_hash, password):
        locked_until = await _count_failure(store, principal, policy, clock.wall(), where)
        if locked_until is not None:
            raise AccountLocked(locked_until)
        raise InvalidCredentials()

    if account["disabled"]:
        await audit_attempt("auth.login_refused", principal, reason="disabled")
        raise AccountDisabled()

    new_hash = None
    if needs_rehash(stored_hash):
        try:
            new_hash = await asyncio.to_thread(hash_password, password)
        except WeakPassword:  # set before today's rules; changing it is the account API's job
            new_hash = None
    now = clock.wall()
    values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
    if new_hash is not None:
        values["password_hash"] = new_hash
    async with store.write("login") as conn:
        # Disabled meanwhile (while argon2 ran): refused all the same.
        done = await conn.execute(
            update(accounts).where(accounts.c.id == principal.account_id, accounts.c.disabled.is_(False))
            .values(**values)
        )  # fmt: skip
        if not done.rowcount:
            raise AccountDisabled()
        issued = await tokens.issue(conn, principal.account_id, now=now, lifetime_s=policy.token_lifetime_s)
        detail = {"rehashed": new_hash is not None, **where}
        await audit.record(conn, principal, "auth.login", at=now, detail=detail)
    return LoginResult(issued, principal, account["display_name"])


async def _count_failure(
    store: Store, principal: Principal, policy: LoginPolicy, now: datetime, where: dict[str, object]
) -> datetime | None:
    """One more wrong password in a row; the one that reaches the limit locks the account (and
    starts the count afresh for after the lock). Returns the lock's end if this one set it."""
    a = accounts.c
    async with store.write("login_failed") as conn:
        await conn.execute(
            update(accounts).where(a.id == principal.account_id).values(failed_logins=a.failed_logins + 1)
        )
        failures = int(await conn.scalar(select(a.failed_logins).where(a.id == principal.account_id)) or 0)
        detail: dict[str, object] = {"reason": "wrong_password", "consecutive_failures": failures, **where}
        await audit.record(conn, principal, "auth.login_failed", at=now, detail=detail)
        if failures < policy.max_failures:
            return None
        until = now + timedelta(seconds=policy.lockout_s)
        await conn.execute(
            update(accounts).where(a.id == principal.account_id).values(failed_logins=0, locked_until=until)
        )
        await audit.record(
            conn, principal, "auth.account_locked", at=now, detail={"until": until.isoformat(), **where}
        )
        return until


async def authenticate(store: Store, token: str) -> Session | None:
    """The session behind a bearer token, in whatever state; None if the hub does not know it."""
    async with store.read("authenticate") as conn:
        return await tokens.lookup(conn, token)


async def logout(store: Store, session: Session, *, clock: Clock, remote: str | None = None) -> None:
    async with store.write("logout") as conn:
        await tokens.revoke(conn, session.token_sha256)
        detail = {"remote": remote} if remote else None
        await audit.record(conn, session.principal, "auth.logout", at=clock.wall(), detail=detail)


async def has_accounts(store: Store) -> bool:
    async with store.read("has_accounts") as conn:
        return bool(await conn.scalar(select(exists().where(accounts.c.id.is_not(None)))))
