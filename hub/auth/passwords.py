"""Password hashing with argon2id (argon2-cffi): memory-hard, so a stolen accounts table costs an
attacker memory per guess, not only time; the parameters travel inside each hash, so raising them
later rehashes accounts as they next log in."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256

# RFC 9106's second recommended option (64 MiB, 3 passes) would make each login cost ~0.1 s of a
# core; 19 MiB x 2 is OWASP's argon2id minimum and keeps a hub handling logins from many users.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Tests and the demo mint hundreds of accounts: the same algorithm, cheaper parameters.
_FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


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
    return (_FAST_HASHER if fast else _HASHER).hash(password)


def verify_password(stored: str, password: str) -> bool:
    """False for a wrong password or a hash that is not argon2 (never an exception to the caller)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True
