"""Logging in and out, over the store: passwords, throttling, tokens, and an audit line for each try.

The rules:
- a wrong password and an unknown username give the same answer, after the same argon2 work
  (an unknown name is checked against a dummy hash), so neither the answer nor its timing says
  which names exist;
- no account is ever locked by wrong passwords (issue 13: any stranger could lock any account,
  a live token then refused too, and only existing names could be locked, which told them
  apart): wrong passwords slow down the (typed name, client) that typed them, and a client's logins
  are rate limited (:class:`hub.auth.throttle.LoginThrottle`); a try told to wait is refused
  before any argon2 work, for a name that exists and one that does not alike;
- a disabled account cannot log in (said only to someone who gave its right password);
- a hash made with older (or the tests' cheaper) parameters is replaced at the next login;
- every attempt that checks a password leaves an audit line: success, wrong password, unknown
  name, disabled. Never the password, and never a typed name that is no account's (a mistyped
  password in the name field would be kept in the clear): that line says ``<unknown account>``.

Argon2 runs in a worker thread: a login costs a core tens of milliseconds, which the event loop
(ingest, every other request) must not wait for. The default executor's few threads also bound
how much memory concurrent logins can take (19 MiB each).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

from sqlalchemy import exists, select, update

from hub.auth import audit, tokens
from hub.auth.passwords import WeakPassword, dummy_hash, hash_password, needs_rehash, verify_password
from hub.auth.principal import Principal
from hub.auth.throttle import LoginThrottle
from hub.auth.tokens import IssuedToken, Session
from hub.config import HubConfig
from hub.store import Store
from hub.store.schema import accounts
from wire.clock import Clock

UNKNOWN_ACCOUNT = "<unknown account>"
"""The audit line's username for a try at a name that is no account's (never the typed name)."""


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    token_lifetime_s: float = 8 * 3600
    free_failures: int = 5
    max_delay_s: float = 15 * 60

    @classmethod
    def of(cls, config: HubConfig) -> LoginPolicy:
        return cls(config.token_lifetime_s, config.login_max_failures, config.login_lockout_s)

    def throttle(self, per_client_per_minute: int, clock: Clock) -> LoginThrottle:
        """The throttle these rules make, on ``clock``'s monotonic time."""
        return LoginThrottle(
            free=self.free_failures,
            max_delay_s=self.max_delay_s,
            per_client_per_minute=per_client_per_minute,
            clock=lambda: clock.mono_ns() / 1e9,
        )


class LoginRefused(Exception):
    """Why a login did not issue a token."""


class InvalidCredentials(LoginRefused):
    def __init__(self) -> None:
        super().__init__("unknown username or wrong password")


class TooManyTries(LoginRefused):
    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        seconds = max(1, math.ceil(retry_after_s))
        super().__init__(
            f"登录尝试过于频繁，请 {seconds} 秒后再试 (too many login attempts: try again in {seconds} s)"
        )


class AccountDisabled(LoginRefused):
    def __init__(self) -> None:
        super().__init__("the account is disabled")


@dataclass(frozen=True, slots=True)
class LoginResult:
    issued: IssuedToken
    principal: Principal
    display_name: str


async def login(
    store: Store,
    username: str,
    password: str,
    *,
    policy: LoginPolicy,
    throttle: LoginThrottle,
    remote: str | None = None,
    clock: Clock,
) -> LoginResult:
    """A token for ``username`` if ``password`` is right and the account may log in; ``clock``
    (the app's) dates the token and the audit lines; ``remote``, the client's address, is what
    ``throttle`` counts tries by (with the typed name).

    Raises :class:`TooManyTries`, :class:`InvalidCredentials` or :class:`AccountDisabled`.
    """
    client = remote or "unknown"
    wait = throttle.wait(username, client)
    if wait > 0:
        raise TooManyTries(wait)
    where: dict[str, object] = {"remote": remote} if remote else {}
    async with store.read("login") as conn:
        row = (await conn.execute(select(accounts).where(accounts.c.username == username))).first()

    async def audit_attempt(action: str, principal: Principal | None, **detail: object) -> None:
        """The audit line of an attempt that changes nothing else, in a transaction of its own."""
        async with store.write("login") as conn:
            await audit.record(
                conn, principal, action, at=clock.wall(), username=UNKNOWN_ACCOUNT, detail={**detail, **where}
            )

    if row is None:
        await asyncio.to_thread(verify_password, dummy_hash(), password)
        throttle.failed(username, client)
        await audit_attempt("auth.login_failed", None, reason="unknown_username")
        raise InvalidCredentials()
    account = row._mapping
    principal = tokens.principal_from_row(account)

    stored_hash = account["password_hash"]
    if not await asyncio.to_thread(verify_password, stored_hash, password):
        throttle.failed(username, client)
        await audit_attempt("auth.login_failed", principal, reason="wrong_password")
        raise InvalidCredentials()
    throttle.succeeded(username, client)

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
    # failed_logins and locked_until are no longer set (no lock): cleared for accounts that an
    # older hub locked.
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
