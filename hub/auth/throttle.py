"""How often one may try: a token bucket per key (:class:`RateLimit`) and the login throttle
(:class:`LoginThrottle`), in memory (per hub instance: a restart forgets them, and two instances
behind one proxy each count their own share, which is still a bound).

The login throttle replaces the account lock (issue 13): five wrong passwords from anyone locked
an account for its owner too, and only real accounts could be locked, so the lock told which
names exist. Here the delay is per (typed name, client): a stranger's wrong passwords slow that
stranger only, and a name that exists and one that does not are slowed alike.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass

MonoClock = Callable[[], float]


class RateLimit:
    """``per_minute`` tries per key, in bursts of up to ``per_minute``, refilled evenly.

    Memory is bounded: past ``max_keys`` the buckets that are full again (idle keys) are dropped,
    and if none is, the oldest. ``clock``: monotonic seconds (a test moves it)."""

    def __init__(
        self, per_minute: int, *, max_keys: int = 100_000, clock: MonoClock = time.monotonic
    ) -> None:
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        """0 if ``key`` may go now (and one try is spent), else the seconds until it may."""
        now = self._clock()
        tokens, then = self._buckets.pop(key, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - then) * self._rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            self._forget_some(now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self._rate

    def _forget_some(self, now: float) -> None:
        if len(self._buckets) <= self._max_keys:
            return
        full = [
            key
            for key, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * self._rate >= self._capacity
        ]
        for key in full or [next(iter(self._buckets))]:
            del self._buckets[key]


def client_key(address: str) -> str:
    """What tries are counted by for one client: its IPv4 address, or its IPv6 /64 (one host
    is handed a whole /64 and could take a fresh address for every try)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


@dataclass(slots=True)
class _Failures:
    count: int
    not_before: float
    last: float


class LoginThrottle:
    """Per (typed name, client): ``free`` wrong passwords in a row are answered at once; after
    them each try must wait 1 s, 2 s, 4 s ... at most ``max_delay_s`` after the previous failure.
    A success, or ``max_delay_s`` x 4 without a failure, starts afresh. Besides, one client may try
    ``per_client_per_minute`` logins a minute whatever the names (:class:`RateLimit`). A client
    is its :func:`client_key`."""

    def __init__(
        self,
        *,
        free: int,
        max_delay_s: float,
        per_client_per_minute: int,
        max_keys: int = 100_000,
        clock: MonoClock = time.monotonic,
    ) -> None:
        self._free = free
        self._max_delay_s = max_delay_s
        self._clients = RateLimit(per_client_per_minute, max_keys=max_keys, clock=clock)
        self._max_keys = max_keys
        self._clock = clock
        self._failures: dict[tuple[str, str], _Failures] = {}

    def wait(self, username: str, client: str) -> float:
        """0 if this try may check a password now (spending one of the client's tries), else the
        seconds to wait; a try told to wait costs no argon2 work and leaves the count as it is."""
        client = client_key(client)
        entry = self._failures.get((username, client))
        now = self._clock()
        if entry is not None and entry.not_before > now:
            return entry.not_before - now
        return self._clients.take(client)

    def failed(self, username: str, client: str) -> None:
        now = self._clock()
        key = (username, client_key(client))
        entry = self._failures.pop(key, None)
        if entry is None or now - entry.last > 4 * self._max_delay_s:
            entry = _Failures(0, now, now)
        entry.count += 1
        entry.last = now
        beyond = entry.count - self._free  # 0 at the last free failure: the next try waits 1 s
        entry.not_before = now + (min(self._max_delay_s, 2.0**beyond) if beyond >= 0 else 0.0)
        self._failures[key] = entry
        if len(self._failures) > self._max_keys:
            del self._failures[next(iter(self._failures))]  # the least recently failed

    def succeeded(self, username: str, client: str) -> None:
        self._failures.pop((username, client_key(client)), None)
