import random

import pytest

from sitegate.backoff import backoff_delays


def test_full_jitter_stays_within_the_capped_ceiling() -> None:
    delay = backoff_delays(random.Random(7), 5.0, 60.0)
    samples = [delay(attempt) for attempt in range(20)]
    assert all(0 <= s <= min(60.0, 5.0 * 2**n) for n, s in enumerate(samples))
    assert len(set(samples)) == len(samples)
    assert max(samples[6:]) > 30  # the cap is reached, not a constant


@pytest.mark.parametrize("attempt", [0, 3, 10, 40])
def test_equal_jitter_waits_at_least_half_the_ceiling(attempt: int) -> None:
    delay = backoff_delays(random.Random(attempt), 0.2, 30.0, floor_share=0.5)
    ceiling = min(30.0, 0.2 * 2**attempt)
    assert all(ceiling / 2 <= delay(attempt) <= ceiling for _ in range(50))


def test_the_same_seed_gives_the_same_delays() -> None:
    first = backoff_delays(random.Random(3), 0.2, 30.0, floor_share=0.5)
    again = backoff_delays(random.Random(3), 0.2, 30.0, floor_share=0.5)
    assert [first(n) for n in range(8)] == [again(n) for n in range(8)]
