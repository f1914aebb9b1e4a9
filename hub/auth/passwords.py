"""Password hashing with argon2id (argon2-cffi): memory-hard, so a stolen accounts table costs an
attacker memory per guess, not only time; the parameters travel inside each hash, so raising them
later rehashes accounts as they next log in."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


@dataclass(frozen=True, slots=True)
class Argon2Cost:
    """argon2id's work per hash: passes over ``memory_kib`` of memory (one lane of parallelism)."""

    time_cost: int
    memory_kib: int


# RFC 9106's second recommended option (64 MiB, 3 passes) would make each login cost ~0.1 s of a
# core; 19 MiB x 2 is OWASP's argon2id minimum and keeps a hub handling logins from many users.
STANDARD = Argon2Cost(time_cost=2, memory_kib=19 * 1024)
# Tests and the demo mint hundreds of accounts: the same algorithm, cheaper parameters.
CHEAP = Argon2Cost(time_cost=1, memory_kib=1024)

_held_to = STANDARD


@functools.cache
def _hasher(cost: Argon2Cost) -> PasswordHasher:
    return PasswordHasher(time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=1)


def hold_accounts_to(cost: Argon2Cost) -> Argon2Cost:
    """The cost this process's hashes are made at and a login rehashes weaker ones to; the one
    held before. Only a test process holds accounts to anything but :data:`STANDARD`: its
    in-process hubs log in accounts made at :data:`CHEAP` hundreds of times, and each first login
    rehashed at the standard cost and each later one verified at it (~25 ms of a core each, about
    10 CPU-s of make test). Nothing a hub reads (its configuration, a request) can lower it."""
    global _held_to
    before, _held_to = _held_to, cost
    return before


def held_cost() -> Argon2Cost:
    return _held_to


class WeakPassword(ValueError):
    pass


def check_strength(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            f"a password needs {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters, got {len(password)}"
        )
    if len(set(password)) < 4:
        raise WeakPassword("a password needs at least 4 different characters")


def hash_password(password: str, *, fast: bool = False) -> str:
    check_strength(password)
    return _hasher(CHEAP if fast else _held_to).hash(password)


def verify_password(stored: str, password: str) -> bool:
    """False for a wrong password or a hash that is not argon2 (never an exception to the caller)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher(_held_to).verify(stored, password)  # the hash's own parameters are used
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def dummy_hash() -> str:
    """A hash of no one's password at the held cost: what an unknown username's password is checked
    against, so that it costs the work a known one's does (the answer's timing names no account)."""
    return _dummy_hash_at(_held_to)


@functools.cache
def _dummy_hash_at(cost: Argon2Cost) -> str:
    return _hasher(cost).hash(secrets.token_urlsafe(24))


def needs_rehash(stored: str) -> bool:
    try:
        return _hasher(_held_to).check_needs_rehash(stored)
    except InvalidHashError:
        return True
