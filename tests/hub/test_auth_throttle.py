"""hub.auth.throttle on a clock the test moves: the token bucket and the login throttle."""

from __future__ import annotations

from hub.auth.throttle import LoginThrottle, RateLimit, client_key


class Mono:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_rate_limit_allows_its_burst_then_refills_evenly() -> None:
    mono = Mono()
    limit = RateLimit(6, clock=mono)  # 6 a minute: one each 10 s
    assert [limit.take("a") for _ in range(6)] == [0.0] * 6
    assert limit.take("a") == 10.0
    assert limit.take("b") == 0.0  # keys apart
    mono.now += 10
    assert limit.take("a") == 0.0
    assert limit.take("a") > 0


def test_a_rate_limit_forgets_idle_keys_past_its_bound() -> None:
    mono = Mono()
    limit = RateLimit(60, max_keys=3, clock=mono)
    for key in "abcd":
        limit.take(key)
    mono.now += 60  # every bucket full again
    limit.take("e")
    assert len(limit._buckets) <= 3


def test_login_delays_grow_per_name_and_client_and_a_success_resets_them() -> None:
    mono = Mono()
    throttle = LoginThrottle(free=2, max_delay_s=5, per_client_per_minute=1000, clock=mono)
    for _ in range(2):
        assert throttle.wait("ann", "1.1.1.1") == 0
        throttle.failed("ann", "1.1.1.1")
    waits = []
    for _ in range(5):
        waits.append(throttle.wait("ann", "1.1.1.1"))
        mono.now += waits[-1]
        throttle.failed("ann", "1.1.1.1")
    assert waits == [1, 2, 4, 5, 5]  # capped at max_delay_s
    assert throttle.wait("ann", "2.2.2.2") == 0  # the owner, elsewhere
    assert throttle.wait("bob", "1.1.1.1") == 0  # another name, same client
    mono.now += 5
    throttle.succeeded("ann", "1.1.1.1")
    throttle.failed("ann", "1.1.1.1")
    assert throttle.wait("ann", "1.1.1.1") == 0  # counting from the start again


def test_login_failures_are_forgotten_after_a_quiet_while() -> None:
    mono = Mono()
    throttle = LoginThrottle(free=1, max_delay_s=5, per_client_per_minute=1000, clock=mono)
    throttle.failed("ann", "1.1.1.1")
    throttle.failed("ann", "1.1.1.1")
    mono.now += 21  # more than 4 x max_delay_s without a failure
    throttle.failed("ann", "1.1.1.1")
    assert throttle.wait("ann", "1.1.1.1") == 1  # the first delay again, not the third


def test_an_ipv6_client_is_its_64_and_an_ipv4_one_its_address() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert client_key("198.51.100.7") == "198.51.100.7"
    assert client_key("unknown") == "unknown"


def test_a_fresh_ipv6_address_per_try_is_still_one_client() -> None:
    mono = Mono()
    throttle = LoginThrottle(free=1, max_delay_s=60, per_client_per_minute=3, clock=mono)
    waits = [throttle.wait(f"name-{n}", f"2001:db8::{n:x}") for n in range(4)]
    assert waits[:3] == [0, 0, 0] and waits[3] > 0
